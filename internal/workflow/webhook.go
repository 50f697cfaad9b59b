package workflow

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/pricing"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
)

// webhookAnswer is the body of every webhook answer: providers only read the status.
type webhookAnswer struct {
	Received  bool   `json:"received"`
	Duplicate bool   `json:"duplicate,omitempty"`
	Outcome   string `json:"outcome,omitempty"`
	Note      string `json:"note,omitempty"`
}

// Webhook answers POST /webhooks/{provider} (docs/spec.md#provider-notifications). In
// this order, so that nothing changes before the message is proved authentic and about
// this order:
//  1. verify the signature with the provider's Verifier (401/400, nothing stored);
//  2. check transaction, amount and currency against the order (400, traced);
//  3. record the notification with a conditional put: a duplicate, however many race,
//     answers 200 and changes nothing (unless the delivery that recorded it died
//     before acting: see NotificationLease);
//  4. move the order and complete the payment wait. A wait that no longer exists (the
//     workflow moved on) is traced and answered 200: the notification is recorded.
func (s *Webhooks) Webhook(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	const op = "webhook.receive"
	provider := r.PathParameters["provider"]
	v, ok := s.Verifiers[provider]
	if !ok {
		return httpapi.Response{}, checkout.Errorf(op, checkout.ENOTFOUND, "no payment provider %q", provider)
	}
	body, err := httpapi.Body(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	n, err := v.Verify(ctx, payment.Webhook{Header: httpHeader(r.Headers), Body: body, Now: s.now()})
	if err != nil {
		s.log().Warn("webhook refused", "provider", provider, "err", err)
		return httpapi.Response{}, verifyError(op, err)
	}
	if provider == checkout.PaymodeTest {
		// The simulated provider pays nothing: only a shop in test mode may listen to it.
		shop, _, err := s.Shops.Get(ctx)
		if err != nil {
			return httpapi.Response{}, err
		}
		if !shop.TestMode {
			return httpapi.Response{}, checkout.Errorf(op, checkout.EFORBIDDEN, "this shop is not in test mode: simulated payments are refused")
		}
	}
	if n.Outcome == payment.Ignored {
		return httpapi.JSON(http.StatusOK, webhookAnswer{Received: true, Outcome: n.Outcome.String()}), nil
	}
	tr := s.tracer(trace.SourceWebhook)
	o, err := s.Store.GetOrder(ctx, n.TxID, "")
	if checkout.KindOf(err) == checkout.ENOTFOUND {
		return httpapi.Response{}, checkout.Errorf(op, checkout.EINVALID, "notification %s is about no known order", n.EventID)
	}
	if err != nil {
		return httpapi.Response{}, err
	}
	// A payment is checked against the order after it is stored (see receive): an
	// amount or currency that differs flags the order, it does not lose the money.
	expect := o.Totals.Final
	if n.Outcome == payment.Paid {
		expect = n.Amount
	}
	if err := n.Check(o.TxID, expect, currencyOr(n.Currency, o.Currency, n.Outcome)); err != nil {
		tr.Printf(ctx, o.TxID, "REJECTED %s notification %s (%s): %v", provider, n.EventID, n.Outcome, err)
		return httpapi.Response{}, checkout.Errorf(op, checkout.EINVALID, "notification does not match the order: %v", err)
	}
	first, err := s.Store.RecordNotification(ctx, o.TxID, provider, n.EventID, n.Raw)
	if err != nil {
		return httpapi.Response{}, err
	}
	if !first {
		// A delivery of a notification whose first processing died before acting on
		// it (recorded, never settled, lease expired) takes it over; any other is a
		// duplicate and changes nothing.
		takeover, err := s.Store.ClaimUnsettledNotification(ctx, o.TxID, provider, n.EventID, NotificationLease)
		if err != nil {
			return httpapi.Response{}, err
		}
		if !takeover {
			return httpapi.JSON(http.StatusOK, webhookAnswer{Received: true, Duplicate: true, Outcome: n.Outcome.String()}), nil
		}
		tr.Printf(ctx, o.TxID, "%s notification %s was recorded but never acted upon: acting now", provider, n.EventID)
	}
	tr.Printf(ctx, o.TxID, "%s notification %s: %s %s", provider, n.EventID, n.Outcome, pricing.FormatPlain(n.Amount, n.Currency))
	note, err := s.settle(ctx, o, provider, n)
	if err != nil {
		// Not settled for a reason that may pass: forget the record so the provider's
		// next delivery is processed rather than taken for a duplicate.
		if ferr := s.Store.ForgetNotification(ctx, o.TxID, provider, n.EventID); ferr != nil {
			s.log().Error("forget notification", "txid", o.TxID, "event", n.EventID, "err", ferr)
		}
		return httpapi.Response{}, err
	}
	if err := s.Store.SettleNotification(ctx, o.TxID, provider, n.EventID); err != nil {
		// Harmless: a later delivery may act again, and acting is idempotent.
		s.log().Warn("mark notification settled", "txid", o.TxID, "event", n.EventID, "err", err)
	}
	return httpapi.JSON(http.StatusOK, webhookAnswer{Received: true, Outcome: n.Outcome.String(), Note: note}), nil
}

// currencyOr is the currency a notification is checked against: its own for a payment
// (checked against the order later, when stored), the order's otherwise.
func currencyOr(own, order string, o payment.Outcome) string {
	if o == payment.Paid {
		return own
	}
	return order
}

// NotificationLease is how long a recorded notification belongs to the delivery that
// recorded it. Past it, unsettled, the processing is taken for dead and a later
// delivery acts on it; providers redeliver after minutes, well past the lease, while a
// Lambda finishes (or dies) within its timeout, well within it.
const NotificationLease = 30 * time.Second

// verifyError maps a verifier's error to the answer docs/spec.md gives: a forged signature
// is 401, a stale, malformed or foreign message 400, anything else (the provider's
// verification endpoint is down) 503 so the provider delivers again.
func verifyError(op string, err error) error {
	switch {
	case errors.Is(err, payment.ErrSignature):
		return &checkout.Error{Op: op, Kind: checkout.EUNAUTHORIZED, Message: "notification signature invalid", Err: err}
	case errors.Is(err, payment.ErrStale), errors.Is(err, payment.ErrMalformed), errors.Is(err, payment.ErrMismatch):
		return &checkout.Error{Op: op, Kind: checkout.EINVALID, Message: "notification refused: " + err.Error(), Err: err}
	}
	return &checkout.Error{Op: op, Kind: checkout.EUNAVAILABLE, Message: "notification could not be verified; deliver it again", Err: err}
}

// settle applies a verified, first-seen notification: moves the order and completes
// the payment wait. It returns a note for the answer when there was nothing to do.
func (s *Webhooks) settle(ctx context.Context, o *checkout.Order, provider string, n payment.Notification) (string, error) {
	tr := s.tracer(trace.SourceWebhook)
	var to checkout.Status
	switch n.Outcome {
	case payment.Paid:
		to = checkout.SoldOut
	case payment.Failed:
		to = checkout.Failed
	case payment.Refused:
		to = checkout.Refused
	case payment.Pending:
		to = checkout.Pending
	default:
		return "ignored", nil
	}
	pay := &checkout.Payment{Mode: provider, Outcome: n.Outcome.String(), Amount: n.Amount, EventID: n.EventID, Reference: n.Reference, At: s.now()}
	if n.Currency != "" && n.Currency != o.Currency {
		pay.Currency = n.Currency
	}
	var moved *checkout.Order
	var err error
	if n.Outcome == payment.Paid {
		// Money is stored whatever the order's status; what cannot move the order
		// forward is flagged for an operator.
		r, rerr := s.receive(ctx, o, trace.SourceWebhook, *pay)
		if rerr != nil {
			return "", rerr
		}
		if r.Flag != nil {
			return "payment recorded and flagged for an operator: " + r.Flag.Reason, nil
		}
		moved = r.Order
	} else {
		// Only the moved order's status and mode are used: its head answers.
		moved, err = s.Store.Move(ctx, o.TxID, to, store.Change{Payment: pay}, store.HeadOnly)
	}
	if checkout.KindOf(err) == checkout.ECONFLICT {
		// e.g. a failure notice after the order was paid, or a payment after it was
		// cancelled: recorded and traced for an operator, the order is left alone.
		tr.Printf(ctx, o.TxID, "notification %s recorded, order not moved: %v", n.EventID, err)
		return "order not moved: " + string(o.Status), nil
	}
	if err != nil {
		return "", err
	}
	token, state, err := s.Store.TaskToken(ctx, o.TxID)
	if err != nil {
		return "", err
	}
	if token == "" {
		tr.Printf(ctx, o.TxID, "order %s; the workflow is not waiting", moved.Status)
		return "workflow not waiting", nil
	}
	switch {
	case n.Outcome == payment.Paid && state == statePayment:
		err = s.Tokens.Succeed(ctx, token, map[string]string{"mode": provider, "outcome": "paid", "event": n.EventID})
	case n.Outcome == payment.Paid && state == stateRetry:
		// Paid while waiting for a retry: go round to Payment, which sees the order paid.
		shop, _, serr := s.Shops.Get(ctx)
		if serr != nil {
			return "", serr
		}
		err = s.Tokens.Succeed(ctx, token, checkout.PlanFor(shop, moved.Paymode))
	case n.Outcome == payment.Failed && state == statePayment:
		err = s.Tokens.Fail(ctx, token, ErrPaymentFailed, provider+" notification "+n.EventID+": payment failed")
	case n.Outcome == payment.Refused && state == statePayment:
		err = s.Tokens.Fail(ctx, token, ErrPaymentRefused, provider+" notification "+n.EventID+": payment refused")
	default:
		tr.Printf(ctx, o.TxID, "order %s; the workflow waits for %s, nothing to complete", moved.Status, state)
		return "", nil
	}
	if checkout.KindOf(err) == checkout.ECONFLICT {
		tr.Printf(ctx, o.TxID, "order %s; the workflow was no longer waiting: %v", moved.Status, err)
		return "workflow no longer waiting", nil
	}
	if err != nil {
		return "", err
	}
	tr.Printf(ctx, o.TxID, "order %s; workflow resumed", moved.Status)
	return "", nil
}
