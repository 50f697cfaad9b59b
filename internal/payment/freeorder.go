package payment

import (
	"context"
	"fmt"

	"github.com/lmsshop/checkout/internal/checkout"
)

// FreeOrder is the "freeorder" mode: an order whose total is zero is settled
// at once. It refuses any other amount so that a misrouted paying order can
// never be delivered for free.
type FreeOrder struct{}

var _ Mode = FreeOrder{}

// Name implements Mode.
func (FreeOrder) Name() string { return checkout.PaymodeFreeOrder }

// Kind implements Mode.
func (FreeOrder) Kind() Kind { return KindInstant }

// Start implements Mode.
func (FreeOrder) Start(_ context.Context, r Request) (Instructions, error) {
	if err := r.validate(); err != nil {
		return Instructions{}, err
	}
	if r.Amount != 0 {
		return Instructions{}, fmt.Errorf("payment: freeorder refuses a non-zero amount (%d %s)", r.Amount, r.Currency)
	}
	return Instructions{Kind: InstructionsInstant}, nil
}
