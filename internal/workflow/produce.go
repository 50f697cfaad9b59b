package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
)

// Produced is a production phase's answer. Products are the references of the
// product instances the order's units have (delivered by this run or an earlier one),
// which the state machine gives billing so that it need not look them up; null when
// there are more than maxToldProducts, to keep the state small.
type Produced struct {
	Done     bool     `json:"done"`
	Products []string `json:"products"`
}

// maxToldProducts bounds the references a phase's answer carries (about 20 bytes
// each): the state's data stays far below Step Functions' 256 KB with the order.
const maxToldProducts = 500

// ProduceTask runs the Produce function's tasks: prepay, postpay, fault.
func (s *Production) ProduceTask(ctx context.Context, t Task) (any, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	switch t.Action {
	case production.PhasePrepay, production.PhasePostpay:
		products, err := s.produce(ctx, t, t.Action)
		if err != nil {
			return nil, err
		}
		return Produced{Done: true, Products: products}, nil
	case "fault":
		return s.fault(ctx, trace.SourceProduction, t)
	}
	return nil, &TaskError{Name: ErrTaskFailed, Msg: fmt.Sprintf("produce: unknown action %q", t.Action)}
}

// produce runs every line's production handler for one phase. Handlers deliver each
// unit at most once (internal/production), so a retried phase redoes nothing; the
// feedback of the phase is stored for the delivery e-mails.
//
// With the execution input's copy of the order, postpay does not read the order: the
// state machine reaches it only once the payment was settled, each unit's claim checks
// that the order is still paid (store.Claim), and a refund landing after a claim closes
// it, which the unit's commit then tells (production.Refunded).
func (s *Production) produce(ctx context.Context, t Task, phase string) ([]string, error) {
	txid := t.TxID
	o, copied, err := s.order(ctx, t)
	if err != nil {
		return nil, err
	}
	tr := s.tracer(trace.SourceProduction)
	switch {
	case phase == production.PhasePostpay && copied:
		tr.Printf(ctx, txid, "Full production starting ...")
	case phase == production.PhasePostpay:
		if !paid(o.Status) {
			tr.Printf(ctx, txid, "full production refused: order is %s, not paid", o.Status)
			return nil, &TaskError{Name: ErrTaskFailed, Msg: fmt.Sprintf("order %s is %s: production needs a paid order", txid, o.Status)}
		}
		tr.Printf(ctx, txid, "Full production starting from %s ...", o.Status)
	default:
		tr.Printf(ctx, txid, "Prepay production starting from %s ...", o.Status)
	}
	now := s.now()
	products := []string{} // not null: "none" differs from "not told" for billing
	var feedback []store.Feedback
	accountCreated := false
	for _, l := range o.Deliveries() {
		h, ok := s.Producers[l.Handler]
		if !ok {
			tr.Printf(ctx, txid, "line %s (%s): no production handler %q", l.ID, l.Code, l.Handler)
			return nil, &TaskError{Name: ErrTaskFailed, Msg: fmt.Sprintf("line %s (%s): no production handler %q", l.ID, l.Code, l.Handler)}
		}
		job := jobOf(o, l, now)
		run := h.Postpay
		if phase == production.PhasePrepay {
			run = h.Prepay
		}
		res, err := run(ctx, job)
		if refunded := (*production.Refunded)(nil); errors.As(err, &refunded) {
			if werr := s.takeBackRefunded(ctx, l, refunded); werr != nil {
				// Retried: the next run finds the unit committed after the refund and
				// withdraws it again.
				return nil, &TaskError{Name: ErrTransient, Msg: "production failed", Err: werr}
			}
		}
		if errors.Is(err, production.ErrNotPaid) {
			tr.Printf(ctx, txid, "full production refused: the order is no longer paid")
			return nil, productionError(err)
		}
		if err != nil {
			tr.Printf(ctx, txid, "line %s (%s × %d, %s) %s FAILED: %v", l.ID, l.Code, l.Quantity, l.Handler, phase, err)
			return nil, productionError(err)
		}
		var refs []string
		for _, in := range res.Instances {
			refs = append(refs, in.Reference)
		}
		products = append(products, refs...)
		tr.Printf(ctx, txid, "line %s (%s × %d, %s) %s done: %d product(s) %s", l.ID, l.Code, l.Quantity, l.Handler, phase, len(res.Instances), strings.Join(refs, " "))
		fb := res.Feedback
		accountCreated = accountCreated || fb.AccountCreated
		if fb.Public != "" || fb.Private != "" || fb.SalesAdmin != "" {
			feedback = append(feedback, store.Feedback{Line: l.ID, Item: l.Name, Public: fb.Public, Private: fb.Private, SalesAdmin: fb.SalesAdmin})
		}
	}
	// The phase's lines ride on the feedback's write; its last one is stored if and only
	// if the feedback is.
	done := tr.Line(txid, "%s production complete (%d line(s))", phase, len(o.Lines))
	if err := s.Store.SaveFeedback(ctx, txid, phase, feedback, done); err != nil {
		return nil, err
	}
	if accountCreated {
		if copied {
			// The e-mail's link is signed with the order's token hash, which the
			// execution input does not carry.
			if o, err = s.Store.GetOrder(ctx, txid, ""); err != nil {
				s.log().Warn("AccountCreated e-mail not sent", "txid", txid, "err", err)
				return products, nil
			}
		}
		if shop, _, err := s.Shops.Get(ctx); err == nil {
			e := mailEvent(notify.AccountCreated, shop, o)
			e.Links.Order = s.orderLink(o)
			s.mailQuietly(ctx, "AccountCreated", e)
		}
	}
	if len(products) > maxToldProducts {
		products = nil // billing finds them itself
	}
	return products, nil
}

// takeBackRefunded withdraws a unit whose order was refunded while it was being
// delivered, as the refund withdraws the others (the refund, which did not see it,
// closed its claim): its effect is in the LMS, and this run is the one that knows it.
// A handler that cannot take it back, or fails to, leaves it to the operator, as the
// refund does; a failure to record the withdrawal is returned, for the task's retry.
func (s *Production) takeBackRefunded(ctx context.Context, l checkout.OrderLine, r *production.Refunded) error {
	in := r.Instance
	tr := s.tracer(trace.SourceProduction)
	done, left, err := s.takeBack(ctx, s.Producers, in, r.Refund, r.At)
	switch {
	case err != nil:
		tr.Printf(ctx, in.TxID, "line %s (%s) unit %d delivered as %s while the order was refunded (%s); withdrawal NOT recorded, retried: %v", l.ID, l.Code, in.Unit, in.Reference, r.Refund, err)
	case left != "":
		tr.Printf(ctx, in.TxID, "line %s (%s) unit %d delivered as %s while the order was refunded (%s); left for the operator: %s", l.ID, l.Code, in.Unit, in.Reference, r.Refund, left)
	default:
		tr.Printf(ctx, in.TxID, "line %s (%s) unit %d delivered while the order was refunded (%s): withdrawn: %s", l.ID, l.Code, in.Unit, r.Refund, done)
	}
	return err
}

// productionError names a handler's failure for the state machine: a missing LMS
// object, a beneficiary who may not receive the product (a certificate without the
// enrolment), a bad parameter or an order refunded meanwhile will not change by
// retrying; anything else (the LMS or the table unreachable, a lost race) is worth the
// Retry's backoff.
func productionError(err error) error {
	if errors.Is(err, production.ErrNotFound) || errors.Is(err, production.ErrIneligible) || errors.Is(err, production.ErrNotPaid) || strings.Contains(err.Error(), "parameter ") {
		return &TaskError{Name: ErrTaskFailed, Msg: "production failed", Err: err}
	}
	return &TaskError{Name: ErrTransient, Msg: "production failed", Err: err}
}

// jobOf turns an order line into a production job: the frozen customer, the seats of
// the line with their participants, and the buyer's answers per unit.
func jobOf(o *checkout.Order, l checkout.OrderLine, now time.Time) production.Job {
	c := o.Customer
	j := production.Job{
		TxID: o.TxID, LineID: l.ID, ItemCode: l.Code, ItemName: l.Name, Handler: l.Handler, Params: l.Params,
		Quantity: l.Quantity, Required: o.Required[l.Code], Now: now, Round: o.Redelivered,
		Customer: production.Customer{Email: c.Email, FirstName: c.FirstName, LastName: c.LastName, Organisation: c.Organisation, Lang: c.Lang},
	}
	people := map[string]checkout.Participant{}
	for _, p := range o.Participants {
		people[checkout.NormaliseEmail(p.Email)] = p
	}
	for _, a := range o.Seats {
		if a.Code != l.Code {
			continue
		}
		p, ok := people[checkout.NormaliseEmail(a.Email)]
		if !ok {
			p = checkout.Participant{Email: a.Email}
		}
		j.Seats = append(j.Seats, production.Seat{
			Participant: production.Participant{Email: p.Email, FirstName: p.FirstName, LastName: p.LastName}, Role: a.Role,
		})
	}
	return j
}
