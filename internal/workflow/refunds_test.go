package workflow_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/payment/providertest"
	"github.com/lmsshop/checkout/internal/workflow"
)

// paidByStripe places a Stripe order, has Stripe confirm it, produces and invoices it.
func (e *env) paidByStripe() string {
	e.t.Helper()
	txid := e.awaitingPayment("stripe")
	body := providertest.CheckoutSessionEvent("evt_"+txid, "checkout.session.completed", txid, 12000, "EUR", "paid")
	if code, resp, _ := e.http(e.webhook, webhookReq("stripe", body, stripeHeaders(body, time.Now(), stripeWebhook))); code != http.StatusOK {
		e.t.Fatalf("stripe webhook: %d %s", code, resp)
	}
	e.mustTask(e.produce, map[string]any{"action": "postpay", "txid": txid})
	e.mustTask(e.bill, map[string]any{"action": "invoice", "txid": txid})
	return txid
}

func (e *env) refund(txid, body string) (int, workflow.RefundAnswer, string) {
	e.t.Helper()
	code, resp, _ := e.admin("POST", "/admin/orders/"+txid+"/refund", body, nil, nil)
	var a workflow.RefundAnswer
	if code == http.StatusOK {
		if err := json.Unmarshal([]byte(resp), &a); err != nil {
			e.t.Fatalf("refund answer %s: %v", resp, err)
		}
	}
	return code, a, resp
}

// TestRefundThroughStripeWithCreditNote: one operator action refunds an invoiced
// Stripe order. Stripe refusing leaves the order as it was; then the refund goes
// through Stripe under a key derived from the order and the payment, so a refund
// Stripe made before a crash is not made again; the order is CANCELLED with one refund
// recorded and one credit note, the enrolment is withdrawn, the buyer gets one e-mail
// with the credit note, and a retry changes nothing.
func TestRefundThroughStripeWithCreditNote(t *testing.T) {
	e := newEnv(t)
	txid := e.paidByStripe()
	o := e.order(txid)
	if o.Status != checkout.Complete || o.InvoiceNumber == "" {
		t.Fatalf("before the refund: %s %q, want COMPLETE and invoiced", o.Status, o.InvoiceNumber)
	}

	// The fake does not know the session as paid yet: Stripe refuses, nothing changes.
	code, _, resp := e.refund(txid, `{}`)
	if code != http.StatusConflict || !strings.Contains(resp, "provider refused") {
		t.Fatalf("refund Stripe refuses = %d %s, want 409 saying the provider refused", code, resp)
	}
	if after := e.order(txid); after.Status != checkout.Complete || len(after.Payments) != len(o.Payments) || after.CreditNoteNumber != "" {
		t.Fatalf("a refused refund changed the order: %+v", after)
	}
	e.stripe.Paid("cs_test_"+txid, 12000, "EUR")

	// A first try reached Stripe, then crashed before recording anything.
	s, err := payment.NewStripe(payment.StripeConfig{SecretKey: stripeKey, WebhookSecret: stripeWebhook, APIURL: e.stripe.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	made, err := s.Refund(e.ctx, payment.RefundRequest{TxID: txid, Reference: "cs_test_" + txid, Amount: 12000, Currency: "EUR",
		IdempotencyKey: "refund-" + txid + "-stripe#cs_test_" + txid})
	if err != nil {
		t.Fatal(err)
	}

	for try := range 2 {
		code, a, resp := e.refund(txid, `{"note":"the buyer cancelled"}`)
		if code != http.StatusOK {
			t.Fatalf("refund (try %d) = %d %s", try+1, code, resp)
		}
		year := time.Now().UTC().Year()
		if a.Order.Status != checkout.Cancelled || a.CreditNote != fmt.Sprintf("CN-%d-000001", year) || a.Refund.Reference != made.ID ||
			a.Refund.Amount != 12000 || a.Refund.Refunds != "stripe#cs_test_"+txid || a.Refund.By != "admin@example.com" {
			t.Fatalf("refund (try %d) answered %+v", try+1, a)
		}
		if len(a.Withdrawn) != 1 || len(a.ToWithdraw) != 0 {
			t.Fatalf("withdrawn %v, left %v: want the enrolment withdrawn", a.Withdrawn, a.ToWithdraw)
		}
	}
	if n := len(e.stripe.Refunds()); n != 1 {
		t.Fatalf("Stripe made %d refunds, want 1", n)
	}
	o = e.order(txid)
	refunds := 0
	for _, p := range o.Payments {
		if p.Outcome == "refunded" {
			refunds++
		}
	}
	if refunds != 1 {
		t.Fatalf("payments %+v: want one refund recorded", o.Payments)
	}

	insts, err := e.st.CustomerInstances(e.ctx, buyerEmail)
	if err != nil || len(insts) != 1 {
		t.Fatalf("instances %+v %v", insts, err)
	}
	e.wantEnrolmentEnded(t, insts[0].Data["userId"])
	if events, err := e.st.ProductEvents(e.ctx, insts[0].Reference); err != nil || withdrawals(events) != 1 {
		t.Fatalf("product events %+v (%v): want one withdrawn", events, err)
	}

	mails := e.mail.to(buyerEmail, o.CreditNoteNumber)
	if len(mails) != 1 || !strings.Contains(mails[0].Text, made.ID) || !strings.Contains(mails[0].Text, o.InvoiceNumber) ||
		!strings.Contains(mails[0].Text, "/orders/"+txid+"/bill?document=creditnote&format=html&token=") {
		t.Fatalf("credit-note e-mails to the buyer: %+v; want one with the refund, the invoice and the credit note's link", mails)
	}
	tr := e.traceText(txid)
	for _, want := range []string{"admin@example.com refunded 120.00 EUR by stripe, reference " + made.ID, "credit note " + o.CreditNoteNumber + " issued for invoice " + o.InvoiceNumber,
		"Production Controller : refund " + made.ID + ": 1 product(s) withdrawn", "provider refused"} {
		if !strings.Contains(tr, want) {
			t.Errorf("trace lacks %q:\n%s", want, tr)
		}
	}

	// The credit note, as the buyer opens it.
	bill := func(query map[string]string) (int, string) {
		query["token"] = workflow.LinkToken(o, time.Now().Add(time.Hour))
		code, body, _ := e.http(e.bill, req{method: "GET", routeKey: "GET /orders/{txid}/bill", path: "/orders/" + txid + "/bill",
			params: map[string]string{"txid": txid}, query: query})
		return code, body
	}
	code, body := bill(map[string]string{"document": "creditnote"})
	var cn workflow.BillView
	if code != http.StatusOK || json.Unmarshal([]byte(body), &cn) != nil {
		t.Fatalf("credit note = %d %s", code, body)
	}
	if cn.Kind != "creditnote" || cn.Number != o.CreditNoteNumber || cn.Credits != o.InvoiceNumber || cn.Totals.Final != 12000 {
		t.Fatalf("credit note %+v", cn)
	}
	code, body = bill(map[string]string{"document": "creditnote", "format": "html"})
	for _, want := range []string{"<h1>Credit note " + o.CreditNoteNumber + "</h1>", "cancels invoice <strong>" + o.InvoiceNumber, "Total credited", "reference " + made.ID} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("printable credit note (%d) lacks %q", code, want)
		}
	}
	if code, body := bill(map[string]string{}); code != http.StatusOK || !strings.Contains(body, `"kind":"invoice"`) {
		t.Errorf("the invoice after the refund = %d %s; want it still there", code, body)
	}
	if code, _ := bill(map[string]string{"document": "receipt"}); code != http.StatusBadRequest {
		t.Errorf("an unknown document = %d, want 400", code)
	}
}

// TestRefundOfflineAndRefusals: a cheque is refunded by the operator, who gives the
// reference; refunded before billing, the order gets neither a credit note nor, later,
// an invoice number. What cannot be refunded is refused and changes nothing.
func TestRefundOfflineAndRefusals(t *testing.T) {
	e := newEnv(t)
	paid := func() string {
		t.Helper()
		txid := e.awaitingPayment("check")
		if code, body := e.recordPayment(txid, `{"mode":"check","amount":12000,"reference":"CHQ-1"}`); code != http.StatusOK {
			t.Fatalf("payment received: %d %s", code, body)
		}
		return txid
	}
	pending, _ := e.place("check", 12000)
	e.startPayment(pending, "T-"+pending)
	tests := []struct {
		name, body string
		txid       func() string
		wantCode   int
	}{
		{"a cheque without the refund's reference", `{}`, paid, http.StatusBadRequest},
		{"a payment the order does not have", `{"key":"check#CHQ-9","reference":"R"}`, paid, http.StatusBadRequest},
		{"an unknown field", `{"reference":"R","amount":1}`, paid, http.StatusBadRequest},
		{"an order not paid", `{"reference":"R"}`, func() string { return pending }, http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txid := tt.txid()
			before := e.order(txid)
			if code, _, resp := e.refund(txid, tt.body); code != tt.wantCode {
				t.Fatalf("refund %s = %d %s, want %d", tt.body, code, resp, tt.wantCode)
			}
			after := e.order(txid)
			if after.Status != before.Status || len(after.Payments) != len(before.Payments) {
				t.Fatalf("a refused refund changed the order: %s → %s, %d → %d payments", before.Status, after.Status, len(before.Payments), len(after.Payments))
			}
		})
	}

	t.Run("refunded before billing", func(t *testing.T) {
		txid := paid()
		code, a, resp := e.refund(txid, `{"reference":"CHQ-1 returned"}`)
		if code != http.StatusOK || a.Order.Status != checkout.Cancelled || a.CreditNote != "" || a.Refund.Reference != "CHQ-1 returned" {
			t.Fatalf("refund = %d %s", code, resp)
		}
		if _, errName := e.task(e.bill, map[string]any{"action": "invoice", "txid": txid}); errName == "" {
			t.Fatalf("the bill step numbered a refunded order")
		}
		if o := e.order(txid); o.InvoiceNumber != "" || o.CreditNoteNumber != "" {
			t.Fatalf("refunded before billing: invoice %q, credit note %q; want neither", o.InvoiceNumber, o.CreditNoteNumber)
		}
		if mails := e.mail.to(buyerEmail, "refunded"); len(mails) != 1 || strings.Contains(mails[0].Text, "CN-") {
			t.Fatalf("refund e-mails %+v: want one, without a credit note", mails)
		}
		for _, body := range []string{`{"reference":"CHQ-1 returned"}`, `{}`, `{"reference":"another"}`} {
			code, a, resp := e.refund(txid, body)
			if code != http.StatusOK || a.Refund.Reference != "CHQ-1 returned" {
				t.Errorf("the refund again (%s) = %d %s, want 200 with the refund recorded first", body, code, resp)
			}
		}
		if o := e.order(txid); len(o.Payments) != 2 {
			t.Errorf("payments after retries: %+v, want the cheque and one refund", o.Payments)
		}
		if mails := e.mail.to(buyerEmail, "refunded"); len(mails) != 1 {
			t.Errorf("%d refund e-mails after retries, want 1", len(mails))
		}
	})
	t.Run("accounting may not refund", func(t *testing.T) {
		txid := paid()
		code, _, _ := e.adminAs(jwtCaller("acc@example.com", "[accounting]"), "POST", "/admin/orders/"+txid+"/refund", `{"reference":"R"}`, nil, nil)
		if code != http.StatusForbidden || e.order(txid).Status != checkout.SoldOut {
			t.Fatalf("accounting's refund = %d, want 403 and the order unchanged", code)
		}
	})
}

// TestRefundThroughPayPal: a PayPal payment (Payments Standard, confirmed by IPN) is
// refunded with the classic API's RefundTransaction; the operator's second click
// refunds nothing more.
func TestRefundThroughPayPal(t *testing.T) {
	e := newEnv(t)
	txid := e.awaitingPayment("paypal")
	body := e.paypal.Issue(providertest.PayPalPayment(paypalSeller, "PP-"+txid, txid, "120.00", "EUR", "Completed"))
	if code, resp, _ := e.http(e.webhook, webhookReq("paypal", body, map[string]string{"content-type": "application/x-www-form-urlencoded"})); code != http.StatusOK {
		t.Fatalf("IPN: %d %s", code, resp)
	}
	e.nvp.Completed("PP-"+txid, "120.00", "EUR")
	for try := range 2 {
		code, a, resp := e.refund(txid, `{}`)
		if code != http.StatusOK || a.Order.Status != checkout.Cancelled || a.CreditNote != "" || a.Refund.Refunds != "paypal#PP-"+txid {
			t.Fatalf("refund (try %d) = %d %s", try+1, code, resp)
		}
	}
	if refunds := e.nvp.Refunds(); len(refunds) != 1 || refunds[0].TransactionID != "PP-"+txid {
		t.Fatalf("PayPal refunds %+v, want one of PP-%s", refunds, txid)
	}
}

// TestRefundProviderUnreachable: when Stripe cannot be reached the operator is told to
// retry (503), and nothing is recorded: the order is as it was.
func TestRefundProviderUnreachable(t *testing.T) {
	e := newEnv(t)
	txid := e.paidByStripe()
	before := e.order(txid)
	e.stripe.Close()
	code, _, resp := e.refund(txid, `{}`)
	if code != http.StatusServiceUnavailable || !strings.Contains(resp, "nothing was recorded") {
		t.Fatalf("refund with Stripe down = %d %s, want 503 saying nothing was recorded", code, resp)
	}
	after := e.order(txid)
	if after.Status != before.Status || len(after.Payments) != len(before.Payments) || after.CreditNoteNumber != "" {
		t.Fatalf("the order changed: %+v", after)
	}
	if mails := e.mail.to(buyerEmail, "refunded"); len(mails) != 0 {
		t.Fatalf("the buyer was told of a refund that did not happen: %+v", mails)
	}
}

// TestOrderViewShowsTheCreditNote: the buyer's order view names the credit note and
// the invoice it cancels once an invoiced order is refunded, and no credit note
// otherwise (invoiced and not refunded; refunded before it was invoiced).
func TestOrderViewShowsTheCreditNote(t *testing.T) {
	e := newEnv(t)
	view := func(txid string) workflow.OrderView {
		t.Helper()
		token := workflow.LinkToken(e.order(txid), time.Now().Add(time.Hour))
		code, body, _ := e.http(e.payment, req{method: "GET", routeKey: "GET /orders/{txid}", path: "/orders/" + txid,
			params: map[string]string{"txid": txid}, query: map[string]string{"token": token}})
		var v workflow.OrderView
		if code != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil {
			t.Fatalf("GET /orders/%s = %d %s", txid, code, body)
		}
		return v
	}
	refundedInvoiced := func() string {
		txid := e.paidByStripe()
		e.stripe.Paid("cs_test_"+txid, 12000, "EUR")
		if code, _, resp := e.refund(txid, `{}`); code != http.StatusOK {
			t.Fatalf("refund = %d %s", code, resp)
		}
		return txid
	}
	refundedBeforeBilling := func() string {
		txid := e.awaitingPayment("check")
		if code, body := e.recordPayment(txid, `{"mode":"check","amount":12000,"reference":"CHQ-1"}`); code != http.StatusOK {
			t.Fatalf("payment received: %d %s", code, body)
		}
		if code, _, resp := e.refund(txid, `{"reference":"CHQ-1 returned"}`); code != http.StatusOK {
			t.Fatalf("refund = %d %s", code, resp)
		}
		return txid
	}
	tests := []struct {
		name           string
		txid           func() string
		wantCreditNote bool
	}{
		{"refunded after it was invoiced", refundedInvoiced, true},
		{"invoiced, not refunded", e.paidByStripe, false},
		{"refunded before it was invoiced", refundedBeforeBilling, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txid := tt.txid()
			o, v := e.order(txid), view(txid)
			if !tt.wantCreditNote {
				if v.CreditNote != nil {
					t.Fatalf("order view has credit note %+v, want none", *v.CreditNote)
				}
				return
			}
			if v.CreditNote == nil || v.CreditNote.Number != o.CreditNoteNumber || v.CreditNote.Credits != o.InvoiceNumber ||
				!strings.HasPrefix(v.CreditNote.Number, "CN-") || v.CreditNote.Date.IsZero() || v.Status != checkout.Cancelled {
				t.Fatalf("order view %s, credit note %+v; want CANCELLED with credit note %s cancelling %s", v.Status, v.CreditNote, o.CreditNoteNumber, o.InvoiceNumber)
			}
		})
	}
}
