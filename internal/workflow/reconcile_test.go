package workflow_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/payment/providertest"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/workflow"
)

func (e *env) reconciler() *workflow.Reconcile {
	return workflow.NewReconcile(e.common, e.mailing, e.tokens,
		&workflow.Watch{Store: e.st, ShopID: e.shop.ID, Threshold: time.Hour},
		payment.Listers(e.providers.Modes), 3)
}

// stripeSession starts the Stripe payment of txid as the payment task does and returns
// the Checkout Session the fake created for it.
func (e *env) stripeSession(txid string) string {
	e.t.Helper()
	e.startPayment(txid, "T-"+txid)
	for _, s := range e.stripe.Sessions() {
		if s.Form.Get("client_reference_id") == txid {
			return s.ID
		}
	}
	e.t.Fatalf("no Stripe session for %s", txid)
	return ""
}

// stripeWebhook delivers checkout.session.completed for session id of txid.
func (e *env) stripeWebhook(txid, id string, amount int64) {
	e.t.Helper()
	body := providertest.StripeEvent("evt_"+id, "checkout.session.completed", map[string]any{
		"id": id, "object": "checkout.session", "amount_total": amount, "currency": "eur",
		"client_reference_id": txid, "payment_status": "paid", "metadata": map[string]string{"txid": txid}})
	if code, resp, _ := e.http(e.webhook, webhookReq("stripe", body, stripeHeaders(body, time.Now(), stripeWebhook))); code != http.StatusOK {
		e.t.Fatalf("webhook: %d %s", code, resp)
	}
}

// TestReconcileComparesProviderPaymentsWithOrders: what Stripe received is compared
// with the orders; a payment the checkout never heard of is accounted for as its
// webhook would have been.
func TestReconcileComparesProviderPaymentsWithOrders(t *testing.T) {
	tests := []struct {
		name string
		// setup places the order and makes the provider hold a payment; it returns the
		// order's transaction ID (or a foreign one) and the payment's reference.
		setup        func(e *env) (string, string)
		wantStatus   checkout.Status // "" for a foreign payment
		wantPaid     int             // paid payments stored on the order
		wantFlag     string
		wantRecorded string // the report's outcome; "" when not recorded
		wantKnown    int
		wantForeign  int
		wantResumed  bool // the workflow's payment wait was completed
	}{
		{
			name: "known: the webhook came",
			setup: func(e *env) (string, string) {
				tx, _ := e.place("stripe", 12000)
				id := e.stripeSession(tx)
				e.stripe.Pay(id)
				e.stripeWebhook(tx, id, 12000)
				return tx, id
			},
			wantStatus: checkout.SoldOut, wantPaid: 1, wantKnown: 1, wantResumed: true,
		},
		{
			name: "unknown: paid, never notified",
			setup: func(e *env) (string, string) {
				tx, _ := e.place("stripe", 12000)
				id := e.stripeSession(tx)
				e.stripe.Pay(id)
				return tx, id
			},
			wantStatus: checkout.SoldOut, wantPaid: 1, wantRecorded: "paid", wantResumed: true,
		},
		{
			name: "known but never acted on: stored, the order still waiting",
			setup: func(e *env) (string, string) {
				tx, _ := e.place("stripe", 12000)
				id := e.stripeSession(tx)
				e.stripe.Pay(id)
				// What a delivery that died between storing and moving leaves.
				if _, _, err := e.st.RecordPayment(e.ctx, tx, checkout.Payment{Mode: "stripe", Outcome: "paid", Amount: 12000, Reference: id, At: time.Now()}); err != nil {
					e.t.Fatal(err)
				}
				return tx, id
			},
			wantStatus: checkout.SoldOut, wantPaid: 1, wantKnown: 1, wantResumed: true,
		},
		{
			name: "unknown, amount differs: stored and flagged",
			setup: func(e *env) (string, string) {
				tx, _ := e.place("stripe", 12000)
				e.stripeSession(tx)
				return tx, e.stripe.AddPaid(tx, 11000, "EUR", time.Now())
			},
			wantStatus: checkout.Pending, wantPaid: 1, wantFlag: workflow.ReasonUnderpayment, wantRecorded: workflow.ReasonUnderpayment,
		},
		{
			name: "unknown, after cancellation: late",
			setup: func(e *env) (string, string) {
				return e.paidAfterCancel()
			},
			wantStatus: checkout.Cancelled, wantPaid: 1, wantFlag: workflow.ReasonLate, wantRecorded: workflow.ReasonLate,
		},
		{
			name: "already flagged: the late payment's webhook came",
			setup: func(e *env) (string, string) {
				tx, id := e.paidAfterCancel()
				e.stripeWebhook(tx, id, 12000)
				return tx, id
			},
			wantStatus: checkout.Cancelled, wantPaid: 1, wantFlag: workflow.ReasonLate, wantKnown: 1,
		},
		{
			name: "foreign: names no transaction",
			setup: func(e *env) (string, string) {
				return "", e.stripe.AddPaid("order-42 of another shop", 500, "EUR", time.Now())
			},
			wantForeign: 1,
		},
		{
			name: "foreign: names no order",
			setup: func(e *env) (string, string) {
				return "NOSUCHORDER00000", e.stripe.AddPaid("NOSUCHORDER00000", 500, "EUR", time.Now())
			},
			wantForeign: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			tx, ref := tt.setup(e)
			succBefore, _ := e.sfn.calls()
			rep, err := e.reconciler().Run(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st, ok := provider(rep, "stripe"); !ok || st.Known != tt.wantKnown {
				t.Errorf("providers %+v, want stripe with %d known", rep.Providers, tt.wantKnown)
			}
			if len(rep.Foreign) != tt.wantForeign {
				t.Errorf("foreign %+v, want %d", rep.Foreign, tt.wantForeign)
			}
			switch {
			case tt.wantRecorded == "" && len(rep.Recorded) != 0:
				t.Errorf("recorded %+v, want none", rep.Recorded)
			case tt.wantRecorded != "" && (len(rep.Recorded) != 1 || rep.Recorded[0].Outcome != tt.wantRecorded || rep.Recorded[0].Reference != ref):
				t.Errorf("recorded %+v, want %s with outcome %s", rep.Recorded, ref, tt.wantRecorded)
			}
			if tt.wantStatus == "" {
				return
			}
			o := e.order(tx)
			if o.Status != tt.wantStatus || paidCount(o) != tt.wantPaid {
				t.Fatalf("order %s with %d payment(s) %+v; want %s with %d", o.Status, paidCount(o), o.Payments, tt.wantStatus, tt.wantPaid)
			}
			for _, p := range o.Payments {
				if p.Outcome == "paid" && (p.Mode != "stripe" || p.Reference != ref) {
					t.Errorf("payment stored %+v, want stripe under reference %s", p, ref)
				}
			}
			f := e.flagOf(tx)
			switch {
			case tt.wantFlag == "" && f != nil:
				t.Errorf("flagged %+v, want no flag", f)
			case tt.wantFlag != "" && (f == nil || f.Reason != tt.wantFlag):
				t.Errorf("flag %+v, want %s", f, tt.wantFlag)
			}
			succ, _ := e.sfn.calls()
			if resumed := len(succ) > 0; resumed != tt.wantResumed {
				t.Errorf("workflow resumed: %v (completions %+v), want %v", resumed, succ, tt.wantResumed)
			}
			if tt.wantRecorded == "paid" && len(succ) != len(succBefore)+1 {
				t.Errorf("the reconciliation completed %d wait(s), want 1", len(succ)-len(succBefore))
			}
			if tt.wantRecorded != "" && !strings.Contains(e.traceText(tx), "never notified") {
				t.Errorf("trace does not say the payment was found by reconciliation:\n%s", e.traceText(tx))
			}
		})
	}
}

// TestReconcileFlagsStuckOrders: an order left in a non-final status longer than the
// workflow keeps it there is flagged once, and its flag is closed once it has moved.
func TestReconcileFlagsStuckOrders(t *testing.T) {
	e := newEnv(t)
	long := time.Now().UTC().Add(-3 * time.Hour)
	stuck, _ := e.placeWith("test", 12000, func(o *checkout.Order) { o.PlacedAt, o.UpdatedAt = long, long })
	fresh, _ := e.place("test", 12000)
	r := e.reconciler()
	rep, err := r.Run(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Stuck) != 1 || rep.Stuck[0].TxID != stuck || rep.Stuck[0].Status != string(checkout.Placed) {
		t.Fatalf("stuck %+v, want %s in PLACED", rep.Stuck, stuck)
	}
	f := e.flagOf(stuck)
	if f == nil || f.Reason != workflow.ReasonStuck || f.Status != checkout.Placed || f.Amount != 12000 {
		t.Fatalf("flag %+v, want stuck in PLACED", f)
	}
	if e.flagOf(fresh) != nil {
		t.Errorf("an order placed now is flagged")
	}
	// An operator cannot settle a stuck order's flag: it is moved on, not delivered.
	if code, body, _ := e.admin("POST", "/admin/orders/"+stuck+"/settle", `{"action":"deliver"}`, nil, nil); code != http.StatusConflict {
		t.Errorf("settle a stuck flag: %d %s, want 409", code, body)
	}
	// Again: nothing new.
	if _, err := r.Run(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n := countFlags(e, stuck); n != 1 {
		t.Errorf("%d open flags after a second run, want 1", n)
	}
	// The operator moves the order on: the next run closes the flag.
	if _, err := e.st.Move(e.ctx, stuck, checkout.Cancelled, store.Change{}); err != nil {
		t.Fatal(err)
	}
	rep, err = r.Run(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Stuck) != 0 || e.flagOf(stuck) != nil {
		t.Errorf("after the order moved: stuck %+v, open flag %+v; want none", rep.Stuck, e.flagOf(stuck))
	}
	flags, err := e.st.OrderFlags(e.ctx, stuck)
	if err != nil || len(flags) != 1 || flags[0].Settled != "resolved" || flags[0].SettledBy != "reconciliation" {
		t.Errorf("flags of the moved order %+v (%v), want one resolved by reconciliation", flags, err)
	}
}

func countFlags(e *env, txid string) int {
	n := 0
	for _, f := range e.openFlags() {
		if f.TxID == txid {
			n++
		}
	}
	return n
}

// TestReconcileTwiceChangesNothing: a second run (the scheduler's retry, a run by hand)
// finds every payment known, every flag raised and the day's report sent.
func TestReconcileTwiceChangesNothing(t *testing.T) {
	e := newEnv(t)
	paid, _ := e.place("stripe", 12000)
	e.stripe.Pay(e.stripeSession(paid))
	under, _ := e.place("stripe", 12000)
	e.stripeSession(under)
	e.stripe.AddPaid(under, 100, "EUR", time.Now())
	long := time.Now().UTC().Add(-3 * time.Hour)
	e.placeWith("check", 12000, func(o *checkout.Order) { o.PlacedAt, o.UpdatedAt = long, long })
	r := e.reconciler()

	first, err := r.Run(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Recorded) != 2 || len(first.Stuck) != 1 {
		t.Fatalf("first run recorded %+v, stuck %+v; want 2 and 1", first.Recorded, first.Stuck)
	}
	state := func() string {
		var b strings.Builder
		for _, tx := range []string{paid, under} {
			o := e.order(tx)
			raw, _ := json.Marshal(map[string]any{"status": o.Status, "payments": o.Payments})
			b.Write(raw)
		}
		raw, _ := json.Marshal(e.openFlags())
		b.Write(raw)
		return b.String()
	}
	before, mails := state(), len(e.mail.sent)
	succ, _ := e.sfn.calls()

	second, err := r.Run(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after := state(); after != before {
		t.Errorf("a second run changed the orders or flags:\nbefore %s\nafter  %s", before, after)
	}
	if len(e.mail.sent) != mails {
		t.Errorf("a second run sent %d more e-mail(s)", len(e.mail.sent)-mails)
	}
	if again, _ := e.sfn.calls(); len(again) != len(succ) {
		t.Errorf("a second run completed %d more wait(s)", len(again)-len(succ))
	}
	if len(second.Recorded) != 0 || stripeKnown(second) != 2 || !reflect.DeepEqual(second.Stuck, first.Stuck) {
		t.Errorf("second run: recorded %+v, providers %+v, stuck %+v", second.Recorded, second.Providers, second.Stuck)
	}
	// The report went to the sales managers once, with what the first run found.
	reports := e.mail.to(salesEmail, "Reconciliation")
	if len(reports) != 1 || !strings.Contains(reports[0].Text, paid) || !strings.Contains(reports[0].Text, "underpayment") {
		t.Fatalf("reports %+v, want one naming %s and the underpayment", reports, paid)
	}
}

// TestReconcileProviderDown: a provider that cannot be read fails the run (so the
// alarm rings and the retry reads it), and the report says so; the others are still
// compared and nothing is stored from the failed one.
func TestReconcileProviderDown(t *testing.T) {
	e := newEnv(t)
	tx, _ := e.place("stripe", 12000)
	e.stripe.Pay(e.stripeSession(tx))
	e.stripe.Close()
	rep, err := e.reconciler().Run(e.ctx)
	if err == nil {
		t.Fatal("run succeeded with Stripe unreachable")
	}
	if st, ok := provider(rep, "stripe"); !ok || st.Error == "" {
		t.Errorf("providers %+v, want stripe with its error", rep.Providers)
	}
	if o := e.order(tx); o.Status != checkout.Pending || len(o.Payments) != 0 {
		t.Errorf("order %s with payments %+v, want PENDING and none", o.Status, o.Payments)
	}
	reports := e.mail.to(salesEmail, "Reconciliation")
	if len(reports) != 1 || !strings.Contains(reports[0].Text, "NOT READ") {
		t.Errorf("reports %+v, want one saying Stripe was not read", reports)
	}
}

// PayPal's transactions, read with the classic API, name a payment by the txn_id its IPN
// carries: a payment whose IPN was lost is recorded and pays its order, one whose IPN
// came is known, and neither is stored twice.
func TestReconcilePayPalTransactions(t *testing.T) {
	e := newEnv(t)
	nvp := providertest.NewPayPalNVP(t, "api_user", "api_pwd", "api_sig")
	pp, err := payment.NewPayPal(payment.PayPalConfig{Business: paypalSeller, WebURL: "https://www.sandbox.paypal.example/cgi-bin/webscr",
		VerifyURL: e.paypal.URL, APIURL: nvp.URL, APIUser: "api_user", APIPassword: "api_pwd", APISignature: "api_sig"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	lost, _ := e.place("paypal", 12000)
	e.startPayment(lost, "T-"+lost)
	notified, _ := e.place("paypal", 12000)
	e.startPayment(notified, "T-"+notified)
	now := time.Now().UTC()
	for _, tx := range []string{lost, notified} {
		nvp.Add(providertest.PayPalTransaction{ID: "PP-" + tx, TxID: tx, Gross: "120.00", Currency: "EUR", Status: "Completed", Receiver: paypalSeller, At: now})
	}
	body := e.paypal.Issue(providertest.PayPalPayment(paypalSeller, "PP-"+notified, notified, "120.00", "EUR", "Completed"))
	if code, resp, _ := e.http(e.webhook, webhookReq("paypal", body, map[string]string{"content-type": "application/x-www-form-urlencoded"})); code != http.StatusOK {
		t.Fatalf("IPN: %d %s", code, resp)
	}
	r := e.reconciler()
	r.Listers = map[string]payment.Lister{"paypal": pp}
	for run := 1; run <= 2; run++ {
		rep, err := r.Run(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantRecorded, wantKnown := 1, 1
		if run == 2 {
			wantRecorded, wantKnown = 0, 2
		}
		if len(rep.Recorded) != wantRecorded || rep.Providers[0].Known != wantKnown {
			t.Errorf("run %d: recorded %+v, providers %+v; want %d recorded, %d known", run, rep.Recorded, rep.Providers, wantRecorded, wantKnown)
		}
		if run == 1 && (len(rep.Recorded) != 1 || rep.Recorded[0].TxID != lost || rep.Recorded[0].Reference != "PP-"+lost) {
			t.Errorf("recorded %+v, want the lost IPN's payment PP-%s", rep.Recorded, lost)
		}
	}
	for _, tx := range []string{lost, notified} {
		if o := e.order(tx); o.Status != checkout.SoldOut || paidCount(o) != 1 {
			t.Errorf("order %s: %s with %d payment(s), want SOLDOUT with one", tx, o.Status, paidCount(o))
		}
	}
}

// provider is the named provider's line of a report (the test env also configures
// PayPal's classic API, which lists nothing unless a test adds transactions).
func provider(rep notify.Report, name string) (notify.ReportProvider, bool) {
	for _, p := range rep.Providers {
		if p.Name == name {
			return p, true
		}
	}
	return notify.ReportProvider{}, false
}

func stripeKnown(rep notify.Report) int {
	p, _ := provider(rep, "stripe")
	return p.Known
}

// paidAfterCancel places a Stripe order, cancels it, then has the buyer pay its session
// anyway: a late payment. It returns the order's txid and the session ID.
func (e *env) paidAfterCancel() (string, string) {
	e.t.Helper()
	tx, _ := e.place("stripe", 12000)
	id := e.stripeSession(tx)
	if code, body, _ := e.admin("POST", "/admin/orders/"+tx+"/cancel", "", nil, nil); code != http.StatusOK {
		e.t.Fatalf("cancel: %d %s", code, body)
	}
	e.stripe.Pay(id)
	return tx, id
}
