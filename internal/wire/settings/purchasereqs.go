package settings

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lmsshop/checkout/internal/trace"
	"github.com/lmsshop/checkout/internal/wire"
)

// PurchaseReqs builds the function of the PURCHASEREQUIS step: purchase.Purchase'
// RegisterRequirements, getCart and putRequirements (internal/purchase/purchase.go), with
// the handlers' own check. Rules: docs/spec.md#purchaserequis.
func PurchaseReqs(d *wire.Deps) (lambda.Handler, error) {
	s := wire.Purchase(d, trace.SourceRequirements)
	check, err := RequiredDataCheck(d)
	if err != nil {
		return nil, err
	}
	s.Check = check
	return wire.Router(d, s.RegisterRequirements), nil
}
