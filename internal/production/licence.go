package production

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// licence is the generic registered product: each unit gets a licence key
// drawn from crypto/rand. Params: product (optional label shown to the buyer).
type licence struct {
	base
	// random fills b with secure random bytes; tests may replace it.
	random func(b []byte) (int, error)
}

func (*licence) ValidateParams(map[string]string) error { return nil }

// keyAlphabet is Crockford's base 32: no I, L, O, U to misread.
const keyAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newKey returns 25 random characters in 5 groups (125 bits).
func (h *licence) newKey() (string, error) {
	b := make([]byte, 25)
	if _, err := h.random(b); err != nil {
		return "", fmt.Errorf("random source: %w", err)
	}
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%5 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(keyAlphabet[c&31]) // 256 is a multiple of 32: no bias
	}
	return sb.String(), nil
}

const pinKey = "key"

func (h *licence) Postpay(ctx context.Context, j Job) (Result, error) {
	j, err := h.prepare(j)
	if err != nil {
		return Result{}, err
	}
	product := strings.TrimSpace(j.Params["product"])
	if product == "" {
		product = j.ItemName
	}
	var res Result
	var fb feedbackBuilder
	for i := 0; i < j.Quantity; i++ {
		// The key is pinned before the instance is committed, so concurrent or
		// repeated runs of this unit hand out the same key.
		decide := func(context.Context, time.Time) (map[string]string, error) {
			k, err := h.newKey()
			return map[string]string{pinKey: k}, err
		}
		inst, err := h.deliver(ctx, j, i, decide, func(_ context.Context, now time.Time, pinned map[string]string) (draft, error) {
			return draft{inst: Instance{Context: product, Start: now, Data: map[string]string{"key": pinned[pinKey]}}}, nil
		})
		if err != nil {
			return Result{}, err
		}
		res.Instances = append(res.Instances, inst)
		fb.add("", fmt.Sprintf("%s licence key: %s", product, inst.Data["key"]),
			fmt.Sprintf("licence %s: key issued to %s [%s]", j.ItemCode, j.Customer.Email, inst.Reference))
	}
	fb.public = []string{fmt.Sprintf("%d licence key(s) for %s have been issued; see the e-mail sent to you.", j.Quantity, product)}
	res.Feedback = fb.feedback()
	return res, nil
}
