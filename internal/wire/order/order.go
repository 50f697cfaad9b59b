// Package order is the composition root of the ORDER step's function: placement
// starts the workflow, so it alone among the API steps imports the Step Functions
// client (SFN, which the post-placement functions' root uses too).
package order

import (
	"errors"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/stepfn"
	"github.com/lmsshop/checkout/internal/trace"
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/settings"
)

// Order builds the function of the ORDER step: review and placement, purchase.Purchase'
// RegisterOrder, review and place (internal/purchase/order.go). Rules:
// docs/spec.md#order.
func Order(d *wire.Deps) (lambda.Handler, error) {
	if d.Cfg.StateMachineARN == "" {
		return nil, errors.New("order: the ORDER function starts the workflow: STATE_MACHINE_ARN must name the state machine")
	}
	s := wire.Purchase(d, trace.SourceOrder)
	check, err := settings.RequiredDataCheck(d)
	if err != nil {
		return nil, err
	}
	s.Check = check
	if s.Unmet, err = settings.DeliveryCheck(d); err != nil {
		return nil, err
	}
	s.Workflow = &stepfn.Workflow{API: SFN(d), StateMachineARN: d.Cfg.StateMachineARN}
	pm, err := settings.PaymentModes(d)
	if err != nil {
		return nil, err // a half-configured provider fails at start-up, not in front of a buyer
	}
	s.Offer = func(shop *checkout.Shop, final int64) []string { return payment.Offered(shop, final, pm.Modes) }
	return wire.Router(d, s.RegisterOrder), nil
}

// SFN is the Step Functions client of d's function, built once, its endpoint resolved
// once (wire.ResolveOnce).
func SFN(d *wire.Deps) *sfn.Client {
	c, _ := d.Once("sfn", func() (any, error) { return sfn.NewFromConfig(d.AWS, fixedSFN), nil })
	return c.(*sfn.Client)
}

func fixedSFN(o *sfn.Options) {
	wire.ResolveOnce(sfn.NewDefaultEndpointResolverV2(),
		sfn.EndpointParameters{Region: aws.String(o.Region), Endpoint: o.BaseEndpoint}.WithDefaults(),
		func(f *wire.FixedEndpoint[sfn.EndpointParameters]) { o.EndpointResolverV2 = f })
}
