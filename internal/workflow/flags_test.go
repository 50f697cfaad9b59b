package workflow_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/payment/providertest"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/workflow"
)

// fakeStarter records the executions an operator's delivery starts again.
type fakeStarter struct {
	mu      sync.Mutex
	started map[string]checkout.ExecutionInput
}

func (f *fakeStarter) Start(_ context.Context, name string, input any) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.started == nil {
		f.started = map[string]checkout.ExecutionInput{}
	}
	if _, ok := f.started[name]; ok {
		return "", checkout.Errorf("fake.start", checkout.ECONFLICT, "execution %s exists", name)
	}
	f.started[name] = input.(checkout.ExecutionInput)
	return "arn:execution:" + name, nil
}

func (f *fakeStarter) input(name string) (checkout.ExecutionInput, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in, ok := f.started[name]
	return in, ok
}

// deliverTest posts a signed simulated provider callback for txid.
func (e *env) deliverTest(txid, eventID string, amount int64) (int, string) {
	e.t.Helper()
	body, h, err := mustTestProvider(e.t).Callback(payment.TestCallback{EventID: eventID, TxID: txid, Outcome: "paid", Amount: amount, Currency: "EUR"})
	if err != nil {
		e.t.Fatal(err)
	}
	headers := map[string]string{}
	for k := range h {
		headers[k] = h.Get(k)
	}
	code, resp, _ := e.http(e.webhook, webhookReq("test", body, headers))
	return code, resp
}

// recordPayment posts an operator's payment-received for txid, as the back office does.
func (e *env) recordPayment(txid, body string) (int, string) {
	e.t.Helper()
	code, resp, _ := e.admin("POST", "/admin/orders/"+txid+"/payment-received", body, nil, nil)
	return code, resp
}

func (e *env) openFlags() []store.Flag {
	e.t.Helper()
	code, body, _ := e.admin("GET", "/admin/flags", "", nil, nil)
	if code != http.StatusOK {
		e.t.Fatalf("GET /admin/flags: %d %s", code, body)
	}
	var v struct {
		Flags []store.Flag `json:"flags"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		e.t.Fatal(err)
	}
	return v.Flags
}

func (e *env) flagOf(txid string) *store.Flag {
	e.t.Helper()
	for _, f := range e.openFlags() {
		if f.TxID == txid {
			return &f
		}
	}
	return nil
}

func paidCount(o *checkout.Order) int {
	n := 0
	for _, p := range o.Payments {
		if p.Outcome == "paid" {
			n++
		}
	}
	return n
}

// TestNoPaymentIsLost: every confirmed payment is stored on its order whatever the
// order's status, once per reference; one that cannot move the order forward flags it
// for an operator with the reason, lists it in the back office and e-mails the sales
// managers.
func TestNoPaymentIsLost(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name       string
		mode       string
		prepare    func(txid string) // the order's state before the payment
		pay        func(txid string) (int, string)
		wantCode   int
		wantStatus checkout.Status
		wantPaid   int    // payments that brought money, stored
		wantFlag   string // "" = not flagged
	}{
		{
			name: "payment after cancellation is late", mode: "test",
			prepare: func(txid string) {
				if code, body, _ := e.admin("POST", "/admin/orders/"+txid+"/cancel", "", nil, nil); code != http.StatusOK {
					t.Fatalf("cancel: %d %s", code, body)
				}
			},
			pay:      func(txid string) (int, string) { return e.deliverTest(txid, "evt_late_"+txid, 12000) },
			wantCode: http.StatusOK, wantStatus: checkout.Cancelled, wantPaid: 1, wantFlag: workflow.ReasonLate,
		},
		{
			name: "second distinct Stripe payment is a duplicate", mode: "stripe",
			prepare: func(txid string) {
				if code, body := e.deliverTest(txid, "evt_first_"+txid, 12000); code != http.StatusOK {
					t.Fatalf("first payment: %d %s", code, body)
				}
			},
			pay: func(txid string) (int, string) {
				body := providertest.StripeEvent("evt_second_"+txid, "checkout.session.completed", map[string]any{
					"id": "cs_second_" + txid, "object": "checkout.session", "amount_total": 12000, "currency": "eur",
					"client_reference_id": txid, "payment_status": "paid", "metadata": map[string]string{"txid": txid}})
				code, resp, _ := e.http(e.webhook, webhookReq("stripe", body, stripeHeaders(body, time.Now(), stripeWebhook)))
				return code, resp
			},
			wantCode: http.StatusOK, wantStatus: checkout.SoldOut, wantPaid: 2, wantFlag: workflow.ReasonDuplicate,
		},
		{
			name: "operator's cheque on a paid order is a duplicate", mode: "check",
			prepare: func(txid string) {
				if _, err := e.st.Move(e.ctx, txid, checkout.SoldOut, store.Change{Payment: &checkout.Payment{Mode: "check", Outcome: "paid", Amount: 12000, EventID: "CHQ-1", At: time.Now()}}); err != nil {
					t.Fatal(err)
				}
			},
			pay: func(txid string) (int, string) {
				return e.recordPayment(txid, `{"mode":"check","amount":12000,"reference":"CHQ-2"}`)
			},
			wantCode: http.StatusAccepted, wantStatus: checkout.SoldOut, wantPaid: 2, wantFlag: workflow.ReasonDuplicate,
		},
		{
			name: "underpayment leaves the order waiting", mode: "test",
			pay:      func(txid string) (int, string) { return e.deliverTest(txid, "evt_under_"+txid, 11999) },
			wantCode: http.StatusOK, wantStatus: checkout.Pending, wantPaid: 1, wantFlag: workflow.ReasonUnderpayment,
		},
		{
			name: "overpayment leaves the order waiting", mode: "transfer",
			pay: func(txid string) (int, string) {
				return e.recordPayment(txid, `{"mode":"transfer","amount":12001,"reference":"VIR-9"}`)
			},
			wantCode: http.StatusAccepted, wantStatus: checkout.Pending, wantPaid: 1, wantFlag: workflow.ReasonOverpayment,
		},
		{
			name: "the right amount pays", mode: "test",
			pay:      func(txid string) (int, string) { return e.deliverTest(txid, "evt_ok_"+txid, 12000) },
			wantCode: http.StatusOK, wantStatus: checkout.SoldOut, wantPaid: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txid := e.awaitingPayment(tt.mode)
			if tt.prepare != nil {
				tt.prepare(txid)
			}
			mailsBefore := len(e.mail.to(salesEmail, "Payment to review"))
			code, body := tt.pay(txid)
			if code != tt.wantCode {
				t.Fatalf("payment answered %d %s, want %d", code, body, tt.wantCode)
			}
			o := e.order(txid)
			if o.Status != tt.wantStatus || paidCount(o) != tt.wantPaid {
				t.Fatalf("order %s with %d payment(s) %+v; want %s with %d", o.Status, paidCount(o), o.Payments, tt.wantStatus, tt.wantPaid)
			}
			f := e.flagOf(txid)
			switch {
			case tt.wantFlag == "" && f != nil:
				t.Fatalf("flagged %+v, want no flag", f)
			case tt.wantFlag != "" && (f == nil || f.Reason != tt.wantFlag):
				t.Fatalf("flag %+v, want reason %s in GET /admin/flags", f, tt.wantFlag)
			}
			mails := e.mail.to(salesEmail, "Payment to review")
			if got, want := len(mails)-mailsBefore, map[bool]int{true: 1, false: 0}[tt.wantFlag != ""]; got != want {
				t.Fatalf("%d e-mail(s) to the sales managers, want %d", got, want)
			}
			if tt.wantFlag != "" && !strings.Contains(mails[len(mails)-1].Text, txid) {
				t.Errorf("sales e-mail does not name the order:\n%s", mails[len(mails)-1].Text)
			}
			// The same payment again (the provider redelivers under a new event, the
			// operator submits twice) is stored once, flagged once, e-mailed once.
			if tt.wantFlag != "" && tt.mode != "stripe" {
				tt.pay(txid)
				if o2 := e.order(txid); paidCount(o2) != tt.wantPaid {
					t.Errorf("the same payment again: %d payments, want %d", paidCount(o2), tt.wantPaid)
				}
				if n := len(e.mail.to(salesEmail, "Payment to review")); n != len(mails) {
					t.Errorf("the same payment again e-mailed the sales managers again")
				}
			}
		})
	}
}

// TestSettleFlaggedPayments: an operator settles a flag with one action. Deliver sends a
// late payment's order on to production and billing (a new execution, since the first
// ended); refund records the refund and leaves the order as it is. A flag is settled once.
func TestSettleFlaggedPayments(t *testing.T) {
	e := newEnv(t)
	starter := &fakeStarter{}
	e.starter = starter
	e.build()
	late := func() string {
		t.Helper()
		txid := e.awaitingPayment("test")
		if code, body, _ := e.admin("POST", "/admin/orders/"+txid+"/cancel", "", nil, nil); code != http.StatusOK {
			t.Fatalf("cancel: %d %s", code, body)
		}
		if code, body := e.deliverTest(txid, "evt_"+txid, 12000); code != http.StatusOK {
			t.Fatalf("late payment: %d %s", code, body)
		}
		return txid
	}
	settle := func(txid, body string) (int, string) {
		code, resp, _ := e.admin("POST", "/admin/orders/"+txid+"/settle", body, nil, nil)
		return code, resp
	}
	// settledLate is a late payment the operator settled with body, answered 200.
	settledLate := func(t *testing.T, body string) string {
		t.Helper()
		txid := late()
		if code, resp := settle(txid, body); code != http.StatusOK {
			t.Fatalf("settle %s: %d %s", body, code, resp)
		}
		return txid
	}

	t.Run("refused input changes nothing", func(t *testing.T) {
		txid := late()
		for _, body := range []string{`{"action":"keep"}`, `{"action":"deliver","key":"test#nope"}`, `{"action":"deliver","extra":1}`} {
			if code, resp := settle(txid, body); code != http.StatusBadRequest {
				t.Errorf("settle %s: %d %s, want 400", body, code, resp)
			}
		}
		if o := e.order(txid); o.Status != checkout.Cancelled || e.flagOf(txid) == nil {
			t.Fatalf("after refused settlements: %s, flag %v; want CANCELLED and still flagged", o.Status, e.flagOf(txid))
		}
		other, _ := e.place("test", 12000)
		if code, _ := settle(other, `{"action":"deliver"}`); code != http.StatusConflict {
			t.Errorf("settling an order without a flag: %d, want 409", code)
		}
	})
	t.Run("deliver a late payment", func(t *testing.T) {
		txid := settledLate(t, `{"action":"deliver","note":"customer called"}`)
		if o := e.order(txid); o.Status != checkout.SoldOut {
			t.Fatalf("delivered order is %s, want SOLDOUT", o.Status)
		}
		in, ok := starter.input(txid + "-deliver")
		if !ok || in.TxID != txid || in.Paymode != "test" {
			t.Fatalf("executions started %v: want %s-deliver for the order", starter.started, txid)
		}
		if e.flagOf(txid) != nil {
			t.Errorf("a settled flag is still listed")
		}
		if code, _ := settle(txid, `{"action":"deliver"}`); code != http.StatusConflict {
			t.Errorf("settling twice: %d, want 409", code)
		}
		// The new execution's Payment state finds the order paid and goes on.
		e.startPayment(txid, "T2-"+txid)
		succ, _ := e.sfn.calls()
		if last := succ[len(succ)-1]; last.Token != "T2-"+txid || !strings.Contains(last.Output, "paid") {
			t.Fatalf("payment start of the delivered order: %+v, want it completed as paid", last)
		}
	})
	t.Run("refund a late payment", func(t *testing.T) {
		txid := settledLate(t, `{"action":"refund","reference":"RBT-1"}`)
		o := e.order(txid)
		refunded := 0
		for _, p := range o.Payments {
			if p.Outcome == "refunded" && p.Amount == 12000 && p.Reference == "RBT-1" {
				refunded++
			}
		}
		if o.Status != checkout.Cancelled || refunded != 1 || o.InvoiceNumber != "" {
			t.Fatalf("after the refund: %s, payments %+v; want CANCELLED with one refund of 12000, no invoice", o.Status, o.Payments)
		}
		if _, ok := starter.input(txid + "-deliver"); ok {
			t.Errorf("a refund started a delivery")
		}
		if !strings.Contains(e.traceText(txid), "refunded") {
			t.Errorf("refund not traced")
		}
	})
	t.Run("deliver an underpayment resumes the waiting workflow", func(t *testing.T) {
		txid := e.awaitingPayment("test")
		if code, body := e.deliverTest(txid, "evt_u_"+txid, 11000); code != http.StatusOK {
			t.Fatalf("underpayment: %d %s", code, body)
		}
		if code, resp := settle(txid, `{"action":"deliver"}`); code != http.StatusOK {
			t.Fatalf("deliver: %d %s", code, resp)
		}
		succ, _ := e.sfn.calls()
		if last := succ[len(succ)-1]; last.Token != "T-"+txid {
			t.Fatalf("completions %+v: want the waiting payment task completed", succ)
		}
		e.wantStatus(t, txid, checkout.SoldOut)
	})
	t.Run("a duplicate cannot be delivered, only refunded", func(t *testing.T) {
		txid, _ := e.paidOrder()
		if code, body := e.recordPayment(txid, `{"mode":"check","amount":12000,"reference":"CHQ-X"}`); code != http.StatusAccepted {
			t.Fatalf("duplicate cheque: %d %s", code, body)
		}
		if code, _ := settle(txid, `{"action":"deliver"}`); code != http.StatusConflict {
			t.Errorf("deliver a duplicate: %d, want 409", code)
		}
		if code, resp := settle(txid, `{"action":"refund","reference":"CHQ-X returned"}`); code != http.StatusOK {
			t.Errorf("refund a duplicate: %d %s", code, resp)
		}
	})
}
