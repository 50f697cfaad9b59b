package workflow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/pricing"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
)

// OutcomeRefunded is the outcome of a refund on an order's payments.
const OutcomeRefunded = "refunded"

// RefundRequest is POST /admin/orders/{txid}/refund.
type RefundRequest struct {
	// Key names the payment to refund (its checkout.PaymentKey); it may be left out
	// when one payment paid the order.
	Key string `json:"key"`
	// Reference of a refund the operator made (the cheque returned, the transfer sent,
	// a refund in the provider's dashboard); required for cheques and transfers. Left
	// out, a mode with a refund API (Stripe, the test mode) refunds through it.
	Reference string `json:"reference"`
	Note      string `json:"note"`
}

// RefundAnswer is what a refund did: the order as it now is, its credit note (when it
// had an invoice), and the products withdrawn or left for the operator.
type RefundAnswer struct {
	Order      *checkout.Order  `json:"order"`
	Refund     checkout.Payment `json:"refund"`
	CreditNote string           `json:"creditNote,omitempty"`
	Withdrawn  []string         `json:"withdrawn"`
	// ToWithdraw lists the products whose handler cannot take them back: the operator
	// does it in the LMS (or decides to leave them).
	ToWithdraw []string `json:"toWithdraw"`
}

// adminRefund refunds a paid order with one action (docs/spec.md#refunds, and
// docs/spec.md#credit-notes for an invoiced one): the provider refunds the payment
// (Stripe, PayPal; the test mode) under an idempotency key derived from the order and the
// payment, or the operator gives the reference of the refund made (cheque, transfer);
// the refund is recorded on the order's payments once, the order is CANCELLED, an
// invoiced order gets its credit note, the products are withdrawn where their handler
// can, and the buyer is e-mailed. Each step is idempotent: a retry after a crash
// finishes the job without a second refund or a second number.
func (s *Backoffice) adminRefund(ctx context.Context, r *httpapi.Request, txid string) (httpapi.Response, error) {
	const op = "admin.refund"
	var in RefundRequest
	if err := httpapi.Decode(r, &in); err != nil {
		return httpapi.Response{}, err
	}
	by := operator(ctx)
	tr := s.tracer(trace.SourceBackOffice)
	o, err := s.Store.GetOrder(ctx, txid, "")
	if err != nil {
		return httpapi.Response{}, err
	}
	shop, _, err := s.Shops.Get(ctx)
	if err != nil {
		return httpapi.Response{}, err
	}
	flags, err := s.Store.OrderFlags(ctx, txid)
	if err != nil {
		return httpapi.Response{}, err
	}
	p, refund, err := refundTarget(o, flags, in.Key)
	if err != nil {
		tr.Printf(ctx, txid, "%s: refund REFUSED: %v", by, err)
		return httpapi.Response{}, err
	}
	if refund == nil {
		// Not recorded yet: the money goes back first, then it is recorded.
		if !slices.Contains(checkout.Refundable, o.Status) {
			err := checkout.Errorf(op, checkout.ECONFLICT, "order %s is %s: only a paid order (or one marked PAYBACK) is refunded", txid, o.Status)
			tr.Printf(ctx, txid, "%s: refund REFUSED: %v", by, err)
			return httpapi.Response{}, err
		}
		rp, err := s.giveBack(ctx, shop, o, p, in.Reference)
		if err != nil {
			tr.Printf(ctx, txid, "%s: refund of %s REFUSED: %v", by, checkout.PaymentKey(p), err)
			return httpapi.Response{}, err
		}
		rp.By = by
		shopID := o.ShopID
		if shopID == "" {
			shopID = shop.ID
		}
		after, first, err := s.Store.RefundOrder(ctx, store.Refund{TxID: txid, Payment: rp, ShopID: shopID, Year: s.now().Year()})
		if err != nil {
			tr.Printf(ctx, txid, "%s: refund %s made but NOT recorded: %v", by, rp.Reference, err)
			return httpapi.Response{}, err
		}
		o = after
		if first {
			msg := fmt.Sprintf("%s refunded %s by %s, reference %s (payment %s); order CANCELLED", by, pricing.FormatPlain(rp.Amount, currencyOf(o, rp)), rp.Mode, rp.Reference, rp.Refunds)
			if o.CreditNoteNumber != "" {
				msg += fmt.Sprintf("; credit note %s issued for invoice %s", o.CreditNoteNumber, o.InvoiceNumber)
			} else {
				msg += "; not invoiced: no credit note"
			}
			if note := trace.Sanitize(in.Note); note != "" {
				msg += "; note: " + note
			}
			tr.Printf(ctx, txid, "%s", msg)
		}
		for i := range o.Payments {
			if o.Payments[i].Outcome == OutcomeRefunded && o.Payments[i].Refunds == checkout.PaymentKey(p) {
				refund = &o.Payments[i]
			}
		}
		if refund == nil {
			return httpapi.Response{}, checkout.Errorf(op, checkout.EINTERNAL, "refund of %s recorded but not found on order %s", checkout.PaymentKey(p), txid)
		}
	}
	// Recorded (now, or by an earlier try that stopped half-way): finish the job. No
	// workflow waits on a refundable order (its payment wait ended when it was paid or
	// moved to PREPROD), so there is none to resume; production and billing refuse an
	// order that is no longer paid.
	ans := RefundAnswer{Order: o, Refund: *refund, CreditNote: o.CreditNoteNumber}
	if ans.Withdrawn, ans.ToWithdraw, err = s.withdraw(ctx, o, *refund); err != nil {
		return httpapi.Response{}, err
	}
	e := mailEvent(notify.Refunded, shop, o)
	e.Links.Order = s.orderLink(o)
	e.Refund = &notify.Refund{Amount: refund.Amount, Currency: currencyOf(o, *refund), Mode: refund.Mode, Reference: refund.Reference,
		CreditNote: o.CreditNoteNumber, Invoice: o.InvoiceNumber}
	if o.CreditNoteNumber != "" {
		e.Links.Bill = s.creditNoteLink(o)
	}
	if err := s.sendOnce(ctx, "Refunded#"+refund.Refunds, e); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, ans), nil
}

// refundTarget finds the payment to refund: the one named by key, or the one payment
// that paid the order. A payment whose flag is still open is settled through its flag
// (POST …/settle), not here. The refund is returned too when it was recorded before.
func refundTarget(o *checkout.Order, flags []store.Flag, key string) (checkout.Payment, *checkout.Payment, error) {
	const op = "admin.refund"
	open := map[string]bool{}
	for _, f := range flags {
		if f.Settled == "" {
			open[f.Key] = true
		}
	}
	refunds := map[string]*checkout.Payment{}
	for i, p := range o.Payments {
		if p.Outcome == OutcomeRefunded && p.Refunds != "" {
			refunds[p.Refunds] = &o.Payments[i]
		}
	}
	var candidates, done []checkout.Payment
	var keys []string
	for _, p := range o.Payments {
		k := checkout.PaymentKey(p)
		if p.Outcome != payment.Paid.String() || open[k] {
			continue
		}
		if k == key {
			return p, refunds[k], nil
		}
		if refunds[k] == nil {
			candidates = append(candidates, p)
			keys = append(keys, k)
		} else {
			done = append(done, p)
		}
	}
	switch {
	case key != "":
		return checkout.Payment{}, nil, checkout.Invalid(op, "no such payment to refund", checkout.FieldError{Field: "key", Message: fmt.Sprintf("must be one of %v", keys)})
	case len(candidates) == 1:
		return candidates[0], nil, nil
	case len(candidates) > 1:
		return checkout.Payment{}, nil, checkout.Invalid(op, "several payments to refund", checkout.FieldError{Field: "key", Message: fmt.Sprintf("name one of %v", keys)})
	case len(done) == 1:
		// The order's one payment is refunded already: a retry, which finishes what an
		// earlier try left undone (withdrawal, e-mail) and refunds nothing more.
		k := checkout.PaymentKey(done[0])
		return done[0], refunds[k], nil
	case len(done) > 1:
		return checkout.Payment{}, nil, checkout.Errorf(op, checkout.ECONFLICT, "order %s is refunded already", o.TxID)
	case len(open) > 0:
		return checkout.Payment{}, nil, checkout.Errorf(op, checkout.ECONFLICT, "order %s has only flagged payments: settle them (deliver or refund)", o.TxID)
	}
	return checkout.Payment{}, nil, checkout.Errorf(op, checkout.ECONFLICT, "order %s has no payment to refund", o.TxID)
}

// giveBack returns p's money: as the operator did it, when they give its reference (a
// cheque returned, a transfer sent, a refund made in the provider's dashboard), else
// through the provider's refund API when the mode has one (the reference is then the
// provider's refund ID); an offline mode needs the reference. A refusal or a failure of the provider returns an
// error and records nothing; a retry uses the same idempotency key, so the provider
// never refunds twice.
func (s *Backoffice) giveBack(ctx context.Context, shop *checkout.Shop, o *checkout.Order, p checkout.Payment, reference string) (checkout.Payment, error) {
	const op = "admin.refund"
	rp := checkout.Payment{Mode: p.Mode, Outcome: OutcomeRefunded, Amount: p.Amount, Currency: p.Currency,
		Refunds: checkout.PaymentKey(p), At: s.now()}
	reference = strings.TrimSpace(trace.Sanitize(reference))
	if reference != "" {
		// Made by the operator: a cheque returned, a transfer sent, or a refund made in
		// the provider's dashboard.
		rp.Reference = reference
		return rp, nil
	}
	needReference := checkout.Invalid(op, "refund not recorded", checkout.FieldError{Field: "reference",
		Message: fmt.Sprintf("is required: %s payments are refunded by the operator (cheque returned, transfer sent, refund made at the provider); give its reference", p.Mode)})
	m, _ := payment.ModeFor(shop, p.Mode, s.Modes)
	rf, ok := m.(payment.Refunder)
	if !ok {
		return rp, needReference
	}
	res, err := rf.Refund(ctx, payment.RefundRequest{
		TxID: o.TxID, Reference: refOf(p), Amount: p.Amount, Currency: currencyOf(o, p),
		IdempotencyKey: "refund-" + o.TxID + "-" + checkout.PaymentKey(p),
	})
	switch {
	case errors.Is(err, payment.ErrNoRefundAPI):
		return rp, needReference
	case errors.Is(err, payment.ErrRefundRefused):
		return rp, checkout.Errorf(op, checkout.ECONFLICT, "the provider refused the refund; nothing was refunded or recorded: %v", err)
	case err != nil:
		s.log().Warn("refund: provider unavailable", "txid", o.TxID, "err", err)
		return rp, checkout.Errorf(op, checkout.EUNAVAILABLE, "the provider could not be reached; nothing was recorded; retry (the provider will not refund twice)")
	}
	rp.Reference = res.ID
	return rp, nil
}

// withdraw takes back the products the order delivered, each once (takeBack); it lists
// the others for the operator. A unit whose delivery is in flight is not delivered yet:
// its claim is closed first (store.CloseClaims), so that the production run delivering
// it, whose commit is then refused, takes it back itself.
func (s *Backoffice) withdraw(ctx context.Context, o *checkout.Order, refund checkout.Payment) (done, left []string, err error) {
	done, left = []string{}, []string{}
	closed, err := s.Store.CloseClaims(ctx, o.TxID, refund.Reference, refund.At)
	if err != nil {
		return nil, nil, checkout.Wrap("admin.refund.withdraw", err)
	}
	insts, err := s.Store.CustomerInstances(ctx, o.Customer.Email)
	if err != nil {
		return nil, nil, checkout.Wrap("admin.refund.withdraw", err)
	}
	first, err := s.Store.Once(ctx, o.TxID, "withdraw#"+refund.Refunds)
	if err != nil {
		return nil, nil, err
	}
	tr := s.tracer(trace.SourceProduction)
	for _, in := range insts {
		if in.TxID != o.TxID || in.Round < o.Redelivered {
			// Another order's, or an earlier delivery's, which the refund of that
			// delivery took back or listed.
			continue
		}
		what, why, err := s.takeBack(ctx, s.Producers, in, refund.Reference, refund.At)
		if err != nil {
			return nil, nil, err
		}
		if why != "" {
			left = append(left, why)
		} else {
			done = append(done, what)
		}
	}
	if first {
		msg := fmt.Sprintf("refund %s: %d product(s) withdrawn%s; %d left for the operator%s",
			refund.Reference, len(done), listed(done), len(left), listed(left))
		if len(closed) > 0 {
			var units []string
			for _, k := range closed {
				units = append(units, k.LineID+" unit "+strconv.Itoa(k.Unit))
			}
			msg += fmt.Sprintf("; %d being delivered, which production takes back itself%s", len(closed), listed(units))
		}
		tr.Printf(ctx, o.TxID, "%s", msg)
	}
	return done, left, nil
}

// takeBack withdraws one delivered unit after the refund ref made at: through its
// handler where it can (production.Withdrawer), then records the withdrawn status and
// event, stamped with the refund's time so that a retry, or the refund and production
// both, write the same event once. It answers what it did, or why the operator must do
// it instead (the handler cannot take it back, or failed: the money is back already,
// and the operator finishes by hand); err is a failure to record it.
func (c core) takeBack(ctx context.Context, producers map[string]production.Handler, in production.Instance, ref string, at time.Time) (done, left string, err error) {
	label := in.Reference + " " + in.ItemCode + " (" + in.Handler + ")"
	w, ok := producers[in.Handler].(production.Withdrawer)
	if !ok {
		return "", label + ": the handler cannot take it back", nil
	}
	what, err := w.Withdraw(ctx, in, at)
	if err != nil {
		c.log().Warn("refund: withdraw failed", "txid", in.TxID, "reference", in.Reference, "err", err)
		return "", label + ": " + err.Error(), nil
	}
	ev := production.Event{Type: production.EventWithdrawn, At: at, Data: map[string]string{"refund": ref, "what": what}}
	if err := c.Store.Withdrawn(ctx, in, ev); err != nil {
		return "", "", checkout.Wrap("refund.withdraw", err)
	}
	return label + ": " + what, "", nil
}

func listed(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return " (" + strings.Join(items, "; ") + ")"
}

// creditNoteLink is the printable credit note for the buyer, opened with a read-only
// link token: the bill route of the API the order was placed through.
func (s *mailing) creditNoteLink(o *checkout.Order) string {
	if o.APIURL == "" {
		return s.billLink(o) // an order placed before orders kept their API's URL
	}
	return fmt.Sprintf("%s/orders/%s/bill?document=creditnote&format=html&token=%s", o.APIURL, o.TxID, url.QueryEscape(s.linkToken(o)))
}
