package production

import (
	"context"
	"fmt"
	"time"
)

// BalanceCredits is the customer-account counter topped up by the credits handler.
const BalanceCredits = "credits"

// credits tops up the buyer's training-credit balance by credits × quantity.
// The addition is an atomic ADD committed with the production marker, so it
// happens exactly once. Params: credits (required, per unit).
type credits struct{ base }

func (*credits) ValidateParams(p map[string]string) error {
	if _, err := positiveInt(p, "credits"); err != nil {
		return fmt.Errorf("credits: %w", err)
	}
	return nil
}

func (h *credits) Postpay(ctx context.Context, j Job) (Result, error) {
	j, err := h.prepare(j)
	if err != nil {
		return Result{}, err
	}
	per, err := positiveInt(j.Params, "credits")
	if err != nil {
		return Result{}, fmt.Errorf("credits %s: %w", j.ItemCode, err)
	}
	total := int64(per) * int64(j.Quantity)
	inst, err := h.deliver(ctx, j, 0, nil, func(_ context.Context, now time.Time, _ map[string]string) (draft, error) {
		return draft{
			inst:     Instance{Context: "account", Start: now, Data: map[string]string{"credits": fmt.Sprint(total)}},
			balances: map[string]int64{BalanceCredits: total},
		}, nil
	})
	if err != nil {
		return Result{}, err
	}
	return Result{Instances: []Instance{inst}, Feedback: Feedback{
		Public:     fmt.Sprintf("%d training credits have been added to your account.", total),
		SalesAdmin: fmt.Sprintf("credits %s: +%d for %s [%s]", j.ItemCode, total, j.Customer.Email, inst.Reference),
	}}, nil
}
