package workflow

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/pricing"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
)

// Why a stored payment could not move its order forward.
const (
	ReasonLate         = "late"         // the order was cancelled (or paid back) before it came
	ReasonDuplicate    = "duplicate"    // the order was already paid, by another payment
	ReasonUnderpayment = "underpayment" // less than the order's total
	ReasonOverpayment  = "overpayment"  // more than the order's total
	ReasonCurrency     = "currency"     // not in the order's currency
)

// Settlement actions.
const (
	SettleDeliver = "deliver"
	SettleRefund  = "refund"
)

// Starter starts a workflow execution under a name (internal/stepfn).
type Starter interface {
	Start(ctx context.Context, name string, input any) (string, error)
}

// received is what became of a confirmed payment.
type received struct {
	Order     *checkout.Order
	Moved     bool        // the payment moved the order to SOLDOUT
	Flag      *store.Flag // the payment needs an operator
	Duplicate bool        // this very payment (mode and reference) was stored before
}

// flagReason says why p cannot pay o as it is, "" when it can.
func flagReason(o *checkout.Order, p checkout.Payment) string {
	cur := p.Currency
	if cur == "" {
		cur = o.Currency
	}
	switch {
	case o.Status == checkout.Cancelled || o.Status == checkout.Payback:
		return ReasonLate
	case paid(o.Status):
		return ReasonDuplicate
	case cur != o.Currency:
		return ReasonCurrency
	case p.Amount < o.Totals.Final:
		return ReasonUnderpayment
	case p.Amount > o.Totals.Final:
		return ReasonOverpayment
	}
	return ""
}

// receive accounts for one confirmed payment (a provider's, an operator's) to held, the
// order as its caller read it (whole: its lines are the answer's): it is stored on the
// order once per mode and reference whatever the order's status; then either it moves
// the order to SOLDOUT, or the order is flagged for an operator with the reason and the
// sales managers are e-mailed. Every step is idempotent, so a retried delivery finishes
// what an earlier one started.
func (s *mailing) receive(ctx context.Context, held *checkout.Order, source string, p checkout.Payment) (received, error) {
	tr := s.tracer(source)
	txid := held.TxID
	o, first, err := s.Store.RecordPayment(ctx, txid, p, store.BodyFrom(held))
	if err != nil {
		return received{}, err
	}
	if !first {
		// Stored before: finish what that delivery may have left undone.
		flags, err := s.Store.OrderFlags(ctx, txid)
		if err != nil {
			return received{}, err
		}
		for i := range flags {
			if flags[i].Key == checkout.PaymentKey(p) {
				return received{Order: o, Flag: &flags[i], Duplicate: true}, nil
			}
		}
		if paid(o.Status) && !paidByAnother(o, p) {
			return received{Order: o, Duplicate: true}, nil // it is what paid the order
		}
	} else {
		tr.Printf(ctx, txid, "payment stored: %s by %s, reference %s", pricing.FormatPlain(p.Amount, currencyOf(o, p)), p.Mode, refOf(p))
	}
	if reason := flagReason(o, p); reason == "" {
		moved, err := s.Store.Move(ctx, txid, checkout.SoldOut, store.Change{}, store.BodyFrom(o))
		if err == nil {
			return received{Order: moved, Moved: true, Duplicate: !first}, nil
		}
		if checkout.KindOf(err) != checkout.ECONFLICT {
			return received{}, err
		}
		// The order moved meanwhile (cancelled by the timeout, paid another way).
		if o, err = s.Store.GetOrder(ctx, txid, ""); err != nil {
			return received{}, err
		}
		if flagReason(o, p) == "" {
			return received{}, checkout.Errorf("payment.receive", checkout.EUNAVAILABLE, "order %s changed while the payment was recorded; retry", txid)
		}
	}
	f, err := s.flag(ctx, o, p, source)
	if err != nil {
		return received{}, err
	}
	return received{Order: o, Flag: f, Duplicate: !first}, nil
}

// paidByAnother reports whether o holds a payment that brought money other than p.
func paidByAnother(o *checkout.Order, p checkout.Payment) bool {
	for _, q := range o.Payments {
		if q.Outcome == payment.Paid.String() && checkout.PaymentKey(q) != checkout.PaymentKey(p) {
			return true
		}
	}
	return false
}

func currencyOf(o *checkout.Order, p checkout.Payment) string {
	if p.Currency != "" {
		return p.Currency
	}
	return o.Currency
}

func refOf(p checkout.Payment) string {
	if p.Reference != "" {
		return p.Reference
	}
	return p.EventID
}

// flag records that p needs an operator, once, and e-mails the sales managers.
func (s *mailing) flag(ctx context.Context, o *checkout.Order, p checkout.Payment, source string) (*store.Flag, error) {
	f := store.Flag{TxID: o.TxID, Key: checkout.PaymentKey(p), Reason: flagReason(o, p), Mode: p.Mode, Reference: refOf(p),
		Amount: p.Amount, Currency: currencyOf(o, p), Status: o.Status, At: s.now()}
	first, err := s.Store.PutFlag(ctx, f)
	if err != nil {
		return nil, err
	}
	if first {
		s.tracer(source).Printf(ctx, o.TxID, "FLAGGED for an operator: %s payment %s by %s, reference %s (order %s, total %s)",
			f.Reason, pricing.FormatPlain(f.Amount, f.Currency), f.Mode, f.Reference, o.Status, pricing.FormatPlain(o.Totals.Final, o.Currency))
		s.log().Warn("payment flagged", "txid", o.TxID, "reason", f.Reason, "key", f.Key)
	}
	shop, _, err := s.Shops.Get(ctx)
	if err != nil {
		return nil, err
	}
	e := mailEvent(notify.PaymentFlagged, shop, o)
	e.Lang = "en"
	e.Flag = &notify.Flag{Reason: f.Reason, Amount: f.Amount, Currency: f.Currency, Mode: f.Mode, Reference: f.Reference}
	s.mailQuietly(ctx, "PaymentFlagged#"+f.Key, e)
	return &f, nil
}

// --- Back office: listing and settling flags ---------------------------------------------

func (s *Backoffice) adminFlags(ctx context.Context) (httpapi.Response, error) {
	flags, err := s.Store.OpenFlags(ctx, 100)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"flags": flags}), nil
}

// SettleRequest is POST /admin/orders/{txid}/settle.
type SettleRequest struct {
	Action string `json:"action"` // deliver | refund
	// Key names the flagged payment (its "key"); it may be left out when the order has
	// one open flag.
	Key string `json:"key"`
	// Reference of the refund made (cheque returned, transfer sent, provider refund ID).
	Reference string `json:"reference"`
	Note      string `json:"note"`
}

// adminSettle settles one flag with one action: deliver (the order goes to SOLDOUT and
// its workflow goes on to production and billing) or refund (the refund is recorded on
// the order; the order keeps its status).
func (s *Backoffice) adminSettle(ctx context.Context, r *httpapi.Request, txid string) (httpapi.Response, error) {
	const op = "admin.settle"
	var in SettleRequest
	if err := httpapi.Decode(r, &in); err != nil {
		return httpapi.Response{}, err
	}
	var fields checkout.Fields
	if in.Action != SettleDeliver && in.Action != SettleRefund {
		fields.Add("action", "must be %s or %s", SettleDeliver, SettleRefund)
	}
	if err := fields.Err(op, "not settled"); err != nil {
		return httpapi.Response{}, err
	}
	o, err := s.Store.GetOrder(ctx, txid, "")
	if err != nil {
		return httpapi.Response{}, err
	}
	flags, err := s.Store.OrderFlags(ctx, txid)
	if err != nil {
		return httpapi.Response{}, err
	}
	var f *store.Flag
	var open []string
	for i := range flags {
		if flags[i].Settled != "" || flags[i].Reason == ReasonStuck {
			continue // a stuck order is moved on, not settled; reconciliation closes its flag
		}
		open = append(open, flags[i].Key)
		if flags[i].Key == in.Key || (in.Key == "" && f == nil) {
			f = &flags[i]
		}
	}
	switch {
	case len(open) == 0:
		return httpapi.Response{}, checkout.Errorf(op, checkout.ECONFLICT, "order %s has no payment to settle", txid)
	case in.Key == "" && len(open) > 1:
		return httpapi.Response{}, checkout.Invalid(op, "several payments to settle", checkout.FieldError{Field: "key", Message: fmt.Sprintf("name one of %v", open)})
	case f == nil:
		return httpapi.Response{}, checkout.Invalid(op, "no such flagged payment", checkout.FieldError{Field: "key", Message: fmt.Sprintf("must be one of %v", open)})
	}
	by := operator(ctx)
	se := store.Settlement{TxID: txid, Key: f.Key, Action: in.Action, By: by, Note: trace.Sanitize(in.Note)}
	tr := s.tracer(trace.SourceBackOffice)
	switch in.Action {
	case SettleDeliver:
		switch {
		case slices.Contains(checkout.LateDelivery, o.Status):
			se.MoveFrom = checkout.LateDelivery
			se.Earlier = earlierDocuments(o)
		case !paid(o.Status) && o.Status != checkout.Payback:
			// An under- or over-payment accepted as it is.
			se.MoveFrom = checkout.Sources(checkout.SoldOut)
		default:
			return httpapi.Response{}, checkout.Errorf(op, checkout.ECONFLICT, "order %s is %s: there is nothing more to deliver; refund the %s payment", txid, o.Status, f.Reason)
		}
	case SettleRefund:
		// The flagged payment's money goes back: as the operator says they did it, or
		// through the provider's refund API (idempotent: a retry never refunds twice).
		shop, _, err := s.Shops.Get(ctx)
		if err != nil {
			return httpapi.Response{}, err
		}
		p := checkout.Payment{Mode: f.Mode, Outcome: payment.Paid.String(), Amount: f.Amount, Currency: f.Currency, Reference: f.Reference}
		if p.Currency == o.Currency {
			p.Currency = ""
		}
		rp, err := s.giveBack(ctx, shop, o, p, in.Reference)
		if err != nil {
			tr.Printf(ctx, txid, "%s: settling %s payment %s REFUSED: %v", by, f.Reason, f.Key, err)
			return httpapi.Response{}, err
		}
		rp.By = by
		se.Refund = &rp
	}
	if err := s.Store.Settle(ctx, se); err != nil {
		tr.Printf(ctx, txid, "%s: settling %s payment %s REFUSED: %v", by, f.Reason, f.Key, err)
		return httpapi.Response{}, err
	}
	switch in.Action {
	case SettleDeliver:
		msg := fmt.Sprintf("%s settled the %s payment %s: deliver (order SOLDOUT)", by, f.Reason, f.Key)
		if e := se.Earlier; e != nil {
			msg += fmt.Sprintf("; invoice %s and its credit note %s kept as issued, the delivery to be invoiced anew", e.InvoiceNumber, e.CreditNoteNumber)
		}
		tr.Printf(ctx, txid, "%s", msg)
		if err := s.deliverSettled(ctx, txid, o.Status); err != nil {
			return httpapi.Response{}, err
		}
	case SettleRefund:
		tr.Printf(ctx, txid, "%s settled the %s payment %s: refunded %s, reference %s", by, f.Reason, f.Key, pricing.FormatPlain(f.Amount, f.Currency), se.Refund.Reference)
	}
	after, err := s.Store.GetOrder(ctx, txid, "")
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, after), nil
}

// earlierDocuments are the invoice of a cancelled order and its credit note, when it
// was refunded after billing: the delivery of a late payment is then invoiced under a
// new number (docs/spec.md#credit-notes), the first invoice and its credit note staying
// as issued. Nil for an order never invoiced.
func earlierDocuments(o *checkout.Order) *checkout.Documents {
	if o.InvoiceNumber == "" || o.CreditNoteNumber == "" || o.InvoicedAt == nil || o.CreditedAt == nil {
		return nil
	}
	return &checkout.Documents{InvoiceNumber: o.InvoiceNumber, InvoicedAt: o.InvoicedAt.UTC(),
		CreditNoteNumber: o.CreditNoteNumber, CreditedAt: o.CreditedAt.UTC()}
}

// deliverSettled takes a delivered order on to production and billing: a workflow
// still waiting for the payment is resumed; one that has ended (the order had been
// cancelled) is started again under a name of its own, and its Payment state, finding
// the order paid, goes straight on to PRODUCE → BILL. Production and billing are
// idempotent, so nothing done before is done twice.
func (s *Backoffice) deliverSettled(ctx context.Context, txid string, was checkout.Status) error {
	o, err := s.Store.GetOrder(ctx, txid, "")
	if err != nil {
		return err
	}
	if was != checkout.Cancelled {
		return s.resume(ctx, o)
	}
	if s.Starter == nil {
		return checkout.Errorf("admin.settle", checkout.EUNAVAILABLE, "this function cannot start workflows")
	}
	shop, _, err := s.Shops.Get(ctx)
	if err != nil {
		return err
	}
	arn, err := s.Starter.Start(ctx, txid+"-deliver", checkout.NewExecutionInput(shop, o))
	if checkout.KindOf(err) == checkout.ECONFLICT {
		return nil // started by an earlier try
	}
	if err != nil {
		return err
	}
	s.tracer(trace.SourceBackOffice).Printf(ctx, txid, "workflow started again for delivery: %s", arn)
	return nil
}
