package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
)

// ReasonStuck flags an order (not a payment) that stayed in a non-final status longer
// than the workflow keeps it there: an operator must move it on. Reconciliation raises
// it and closes it once the order has moved; it is not settled by deliver or refund.
const ReasonStuck = "stuck"

// Flag settlement of a stuck order's flag, by reconciliation.
const (
	settledResolved = "resolved"
	byReconcile     = "reconciliation"
)

// reportTx names the partition the daily report's e-mail claim is kept in: it is
// about no order, and no transaction ID (16 characters) can be this.
const reportTx = "RECONCILIATION"

// Reconcile compares what the online providers received with the orders, once a day
// (docs/payments.md, Reconciliation):
//
//   - each provider that can list its payments (payment.Listers) is asked for those of
//     the last Days days; a payment whose reference an order does not hold is
//     accounted for exactly as a webhook would (receive: stored once per
//     reference, then it moves the order or flags it), so a payment the webhook never
//     delivered is not lost, and one it delivered since changes nothing;
//   - the orders Watch counts as waiting for an operator are flagged (ReasonStuck),
//     once per order and status, and their flags are closed once the order has moved;
//   - the sales managers get the report, once a day.
//
// Every step is idempotent: a second run finds the payments known, the flags raised
// and the day's e-mail sent, and changes nothing.
//
// Build it with NewReconcile.
type Reconcile struct {
	waits
	// Watch selects the stuck orders: the same rule as the operator-wait metric.
	Watch   *Watch
	Listers map[string]payment.Lister
	// Days is the window: the providers' payments of the last Days days.
	Days int
}

// Run reconciles once (docs/spec.md#reconciliation) and returns what it found. A
// provider that cannot be read does not stop the others nor the report (which says so);
// the run then fails, so the function's error alarm rings and the retry of the failed
// run reads it again.
func (r *Reconcile) Run(ctx context.Context) (notify.Report, error) {
	const op = "reconcile.run"
	s := r
	now := s.now()
	if r.Days < 1 {
		return notify.Report{}, checkout.Errorf(op, checkout.EINTERNAL, "the reconciliation window must be at least one day, not %d", r.Days)
	}
	rep := notify.Report{At: now, Days: r.Days, Providers: []notify.ReportProvider{}, Recorded: []notify.ReportPayment{},
		Mismatched: []notify.ReportPayment{}, Foreign: []notify.ReportPayment{}, Stuck: []notify.ReportOrder{}}
	var errs []error
	names := make([]string, 0, len(r.Listers))
	for name := range r.Listers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		got, err := r.Listers[name].ListPayments(ctx, now.Add(-time.Duration(r.Days)*24*time.Hour))
		pr := notify.ReportProvider{Name: name, Payments: len(got)}
		if err != nil {
			pr.Error = err.Error()
			errs = append(errs, err)
			s.log().Error("reconcile: provider not read", "provider", name, "err", err)
		}
		for _, p := range got {
			known, err := r.compare(ctx, p, &rep)
			if err != nil {
				errs = append(errs, err)
				s.log().Error("reconcile: payment not compared", "provider", name, "reference", p.Reference, "txid", p.TxID, "err", err)
				continue
			}
			if known {
				pr.Known++
			}
		}
		rep.Providers = append(rep.Providers, pr)
	}
	if err := r.stuck(ctx, now, &rep); err != nil {
		errs = append(errs, err)
	}
	if err := r.mail(ctx, rep); err != nil {
		errs = append(errs, err)
	}
	return rep, errors.Join(errs...)
}

// compare accounts for one provider payment: known (an order holds its reference),
// recorded now, or foreign (it names no order here). It reports whether it was known.
func (r *Reconcile) compare(ctx context.Context, p payment.Received, rep *notify.Report) (bool, error) {
	s := r
	line := notify.ReportPayment{TxID: p.TxID, Provider: p.Provider, Reference: p.Reference, Amount: p.Amount, Currency: p.Currency}
	if !trace.ValidTxID(p.TxID) {
		// None, or not one of ours (another integration on the same account).
		rep.Foreign = append(rep.Foreign, line)
		return false, nil
	}
	o, err := s.Store.GetOrder(ctx, p.TxID, "")
	if checkout.KindOf(err) == checkout.ENOTFOUND {
		rep.Foreign = append(rep.Foreign, line)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	pay := checkout.Payment{Mode: p.Provider, Outcome: payment.Paid.String(), Amount: p.Amount, Reference: p.Reference, At: s.now()}
	if p.Currency != "" && p.Currency != o.Currency {
		pay.Currency = p.Currency
	}
	if q, ok := heldPayment(o, pay); ok {
		if q.Amount != pay.Amount || currencyOf(o, q) != currencyOf(o, pay) {
			rep.Mismatched = append(rep.Mismatched, line)
		}
		if !slices.Contains(checkout.Sources(checkout.SoldOut), o.Status) {
			return true, nil
		}
		// Stored, yet the order still waits for a payment: whatever stored it stopped
		// before acting on it. receive finishes it (moves the order, or finds or raises
		// its flag), as a redelivered notification would.
		res, err := s.receive(ctx, o, trace.SourceReconcile, q)
		if err != nil {
			return true, err
		}
		if res.Moved {
			s.tracer(trace.SourceReconcile).Printf(ctx, o.TxID, "%s payment %s was stored but had not moved the order: moved now", p.Provider, p.Reference)
			return true, s.resumeBy(ctx, res.Order, byReconcile, trace.SourceReconcile)
		}
		return true, nil
	}
	res, err := s.receive(ctx, o, trace.SourceReconcile, pay)
	if err != nil {
		return false, err
	}
	if res.Duplicate {
		return true, nil // the webhook stored it meanwhile
	}
	s.tracer(trace.SourceReconcile).Printf(ctx, o.TxID, "%s payment %s found in the provider's payments, never notified to the checkout", p.Provider, p.Reference)
	switch {
	case res.Flag != nil:
		line.Outcome = res.Flag.Reason
	case res.Moved:
		line.Outcome = payment.Paid.String()
		if err := s.resumeBy(ctx, res.Order, byReconcile, trace.SourceReconcile); err != nil {
			return false, err
		}
	}
	rep.Recorded = append(rep.Recorded, line)
	return false, nil
}

// heldPayment finds the payment o holds under p's key.
func heldPayment(o *checkout.Order, p checkout.Payment) (checkout.Payment, bool) {
	k := checkout.PaymentKey(p)
	for _, q := range o.Payments {
		if checkout.PaymentKey(q) == k {
			return q, true
		}
	}
	return checkout.Payment{}, false
}

// stuckKey names a stuck order's flag: one per order, status and last change, so a
// second run raises nothing new, and an order that moves and sticks again is flagged
// again.
func stuckKey(o store.OrderAge) string {
	return ReasonStuck + "#" + string(o.Status) + "#" + o.UpdatedAt.UTC().Format(time.RFC3339Nano)
}

// stuck flags the orders waiting for an operator and closes the stuck flags of orders
// that have moved since.
func (r *Reconcile) stuck(ctx context.Context, now time.Time, rep *notify.Report) error {
	s := r
	waiting, err := r.Watch.Waiting(ctx, now)
	if err != nil {
		return err
	}
	current := map[string]bool{}
	for _, w := range waiting {
		current[w.TxID+"/"+stuckKey(w)] = true
		o, err := s.Store.GetOrder(ctx, w.TxID, "")
		if err != nil {
			return err
		}
		f := store.Flag{TxID: w.TxID, Key: stuckKey(w), Reason: ReasonStuck, Mode: o.Paymode, Amount: o.Totals.Final,
			Currency: o.Currency, Status: w.Status, At: now}
		first, err := s.Store.PutFlag(ctx, f)
		if err != nil {
			return err
		}
		if first {
			s.tracer(trace.SourceReconcile).Printf(ctx, w.TxID, "FLAGGED for an operator: stuck in %s since %s, longer than the workflow keeps an order there",
				w.Status, w.UpdatedAt.UTC().Format(time.RFC3339))
		}
		rep.Stuck = append(rep.Stuck, notify.ReportOrder{TxID: w.TxID, Status: string(w.Status), Since: w.UpdatedAt})
	}
	open, err := s.Store.OpenFlags(ctx, 1000)
	if err != nil {
		return err
	}
	for _, f := range open {
		if f.Reason != ReasonStuck || current[f.TxID+"/"+f.Key] {
			continue
		}
		note := fmt.Sprintf("the order is no longer stuck in %s", f.Status)
		closed, err := s.Store.CloseFlag(ctx, f.TxID, f.Key, settledResolved, byReconcile, note)
		if err != nil {
			return err
		}
		if closed {
			s.tracer(trace.SourceReconcile).Printf(ctx, f.TxID, "stuck flag closed: %s", note)
		}
	}
	return nil
}

// mail sends the day's report to the sales managers, once a day whatever the runs.
func (r *Reconcile) mail(ctx context.Context, rep notify.Report) error {
	s := r
	claim := "mail#" + string(notify.ReconciliationReport) + "#" + rep.At.UTC().Format(time.DateOnly)
	first, err := s.Store.Once(ctx, reportTx, claim)
	if err != nil || !first {
		return err
	}
	release := func(ctx context.Context) error { return s.Store.Release(ctx, reportTx, claim) }
	shop, _, err := s.Shops.Get(ctx)
	if err != nil {
		return errors.Join(err, s.giveBack(ctx, release))
	}
	e := notify.Event{Kind: notify.ReconciliationReport, Lang: "en", Report: &rep,
		Shop: notify.Shop{Name: shop.Name, SellerEmail: shop.SellerEmail, SalesManagers: shop.SalesManagers, Currency: shop.Currency}}
	if e.Shop.Name == "" {
		e.Shop.Name = shop.ID
	}
	mails, err := notify.Render(e)
	if err != nil {
		return errors.Join(fmt.Errorf("reconcile: render the report: %w", err), s.giveBack(ctx, release))
	}
	// As sendClaimed does: the send leaves time to give the claim back.
	sendCtx, cancel := beforeDeadline(ctx, releaseReserve)
	defer cancel()
	for _, m := range mails {
		id, err := s.Mail.Send(sendCtx, s.SenderEmail, m)
		if err != nil {
			// Given back, so the retry sends it.
			return errors.Join(&checkout.Error{Op: "reconcile.mail", Kind: checkout.EUNAVAILABLE, Message: "could not send the reconciliation report", Err: err},
				s.giveBack(ctx, release))
		}
		s.log().Info("reconciliation report sent", "to", m.To, "message", id)
	}
	return nil
}

// Handler is the scheduled function: the event (EventBridge's) carries nothing it
// needs. Its answer is the report.
func (r *Reconcile) Handler() lambda.Handler {
	return lambda.NewHandler(func(ctx context.Context, _ json.RawMessage) (notify.Report, error) {
		rep, err := r.Run(ctx)
		if err != nil {
			r.log().Error("reconciliation incomplete", "err", err)
			return notify.Report{}, fmt.Errorf("reconcile: %w", err)
		}
		return rep, nil
	})
}
