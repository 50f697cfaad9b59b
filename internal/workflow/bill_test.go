package workflow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/localcloud/seslocal"
	"github.com/lmsshop/checkout/internal/localcloud/sestest"
	"github.com/lmsshop/checkout/internal/notify/sesmail"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/workflow"
)

// paidOrder places an order and marks it paid, as the payment step would.
func (e *env) paidOrder() (string, string) {
	e.t.Helper()
	txid, token := e.place("test", 12000)
	if _, err := e.st.Move(e.ctx, txid, checkout.SoldOut, store.Change{Payment: &checkout.Payment{Mode: "test", Outcome: "paid", Amount: 12000, At: time.Now()}}); err != nil {
		e.t.Fatal(err)
	}
	return txid, token
}

func TestInvoiceNumbersGapFreeUnderConcurrency(t *testing.T) {
	e := newEnv(t)
	const n = 20
	txids := make([]string, n)
	for i := range txids {
		txids[i], _ = e.paidOrder()
	}
	numbers := make([]string, n)
	errs := make([]string, n)
	var wg sync.WaitGroup
	for i, txid := range txids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, errType := e.task(e.bill, map[string]any{"action": "invoice", "txid": txid})
			numbers[i], errs[i] = fmt.Sprint(out["invoice"]), errType
		}()
	}
	wg.Wait()
	year := time.Now().UTC().Year()
	var want []string
	for i := 1; i <= n; i++ {
		want = append(want, fmt.Sprintf("DEMO-%d-%06d", year, i))
	}
	for i, et := range errs {
		if et != "" {
			// The state machine retries Transient; a lost race must say so, and the
			// retry must then get a number in the sequence.
			if et != workflow.ErrTransient {
				t.Fatalf("bill %d failed with %s", i, et)
			}
			numbers[i] = fmt.Sprint(e.mustTask(e.bill, map[string]any{"action": "invoice", "txid": txids[i]})["invoice"])
		}
	}
	got := append([]string(nil), numbers...)
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("invoice numbers %v, want exactly %v", got, want)
	}
	for i, txid := range txids {
		if o := e.order(txid); o.InvoiceNumber != numbers[i] || o.Status != checkout.Complete {
			t.Errorf("order %s: invoice %q status %s; want %s COMPLETE", txid, o.InvoiceNumber, o.Status, numbers[i])
		}
	}
}

func TestBillDocument(t *testing.T) {
	e := newEnv(t)
	get := func(txid, token string, query map[string]string, headers map[string]string) (int, string, map[string]string) {
		if headers == nil {
			headers = bearer(token)
		}
		return e.http(e.bill, req{method: "GET", routeKey: "GET /orders/{txid}/bill", path: "/orders/" + txid + "/bill",
			params: map[string]string{"txid": txid}, query: query, headers: headers})
	}
	unpaid, unpaidToken := e.place("check", 12000)
	paidTx, paidToken := e.paidOrder()
	invoiced, invoicedToken := e.paidOrder()
	number := fmt.Sprint(e.mustTask(e.bill, map[string]any{"action": "invoice", "txid": invoiced})["invoice"])

	kinds := []struct {
		txid, token, kind, number string
	}{
		{unpaid, unpaidToken, "ordersheet", ""},
		{paidTx, paidToken, "proforma", ""},
		{invoiced, invoicedToken, "invoice", number},
	}
	for _, k := range kinds {
		code, body, h := get(k.txid, k.token, nil, nil)
		if code != http.StatusOK || !strings.HasPrefix(h["content-type"], "application/json") {
			t.Fatalf("%s: %d %s %v", k.kind, code, body, h)
		}
		var v workflow.BillView
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		if v.Kind != k.kind || v.Number != k.number {
			t.Errorf("bill of %s: kind %s number %q, want %s %q", k.txid, v.Kind, v.Number, k.kind, k.number)
		}
		billing := v.Lines["BILLING"]
		if len(billing) != 1 || billing[0].Item == nil || billing[0].Item.Handler != "enrol" || billing[0].Untaxed != 10000 {
			t.Errorf("BILLING lines %+v: want one line of 10000 with the item as sold", billing)
		}
		if v.Seller.Name != "Demo SARL" || v.Buyer.Email != buyerEmail || v.Totals.Final != 12000 || len(v.Taxes) != 1 {
			t.Errorf("bill parties/totals: seller %+v buyer %s final %d taxes %v", v.Seller, v.Buyer.Email, v.Totals.Final, v.Taxes)
		}
	}

	html := []struct {
		name    string
		query   map[string]string
		headers map[string]string
	}{
		{"?format=html", map[string]string{"format": "html"}, nil},
		{"Accept: text/html", nil, map[string]string{"authorization": "Bearer " + invoicedToken, "accept": "text/html,application/xhtml+xml"}},
	}
	for _, tt := range html {
		code, body, h := get(invoiced, invoicedToken, tt.query, tt.headers)
		if code != http.StatusOK || !strings.HasPrefix(h["content-type"], "text/html") {
			t.Fatalf("%s: %d %v", tt.name, code, h)
		}
		for _, want := range []string{"<h1>Invoice " + number + "</h1>", "Go for beginners", "120.00 EUR", "Ada Lovelace", "Demo SARL"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: HTML lacks %q", tt.name, want)
			}
		}
	}
	if code, _, _ := get(invoiced, "", nil, map[string]string{}); code != http.StatusUnauthorized {
		t.Errorf("bill without a token: %d, want 401", code)
	}
	if code, _, _ := get(invoiced, unpaidToken, nil, nil); code != http.StatusForbidden {
		t.Errorf("bill with another order's token: %d, want 403", code)
	}
}

// TestDeliveredMailThroughSESLocal sends the delivery e-mails through the real SES v2
// client to aws-ses-v2-local and reads them back.
func TestDeliveredMailThroughSESLocal(t *testing.T) {
	srv := sestest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := newEnv(t)
	client := sesv2.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")},
		func(o *sesv2.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	e.mailing.Mail = sesmail.NewSES(client, "")
	e.build()

	txid, _ := e.paidOrder()
	e.mustTask(e.produce, map[string]any{"action": "postpay", "txid": txid})
	e.mustTask(e.bill, map[string]any{"action": "invoice", "txid": txid})
	e.mustTask(e.notify, map[string]any{"event": "delivered", "txid": txid})

	msgs, err := srv.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var buyer, sales *seslocal.Message
	for i := range msgs {
		m := &msgs[i]
		switch {
		case len(m.Destination.To) == 1 && m.Destination.To[0] == buyerEmail:
			buyer = m
		case len(m.Destination.To) == 1 && m.Destination.To[0] == salesEmail:
			sales = m
		}
	}
	if buyer == nil || sales == nil {
		t.Fatalf("messages %+v: want one to the buyer and one to the sales managers", msgs)
	}
	if !strings.Contains(buyer.Body.Text, "https://shop.example/#/bill/"+txid) || !strings.Contains(buyer.From, "shop@example.com") {
		t.Errorf("buyer mail from %q lacks the bill link:\n%s", buyer.From, buyer.Body.Text)
	}
	if !strings.Contains(sales.Body.Text, txid) {
		t.Errorf("delivery report lacks the transaction ID:\n%s", sales.Body.Text)
	}
}

func TestDeliveredMailFailureIsRetried(t *testing.T) {
	e := newEnv(t)
	txid, _ := e.paidOrder()
	e.mail.fail = fmt.Errorf("SES throttled")
	if _, errType := e.task(e.notify, map[string]any{"event": "delivered", "txid": txid}); errType != workflow.ErrTransient {
		t.Fatalf("send failure reported %q, want %s (the state machine retries it)", errType, workflow.ErrTransient)
	}
	e.mail.fail = nil
	e.mustTask(e.notify, map[string]any{"event": "delivered", "txid": txid})
	if n := len(e.mail.to(buyerEmail, "")); n != 1 {
		t.Fatalf("buyer got %d e-mails after the retry, want 1", n)
	}
}

// TestPaybackIsNotPaid: an order paid back before it was billed is not a paid order:
// no postpay delivery, no invoice number, and a Payment start does not take it for paid.
func TestPaybackIsNotPaid(t *testing.T) {
	e := newEnv(t)
	txid, _ := e.paidOrder()
	if _, err := e.st.Move(e.ctx, txid, checkout.Payback, store.Change{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		h       *workflow.Handler
		payload map[string]any
		want    string
	}{
		{"postpay production", e.produce, map[string]any{"action": "postpay", "txid": txid}, workflow.ErrTaskFailed},
		{"invoice", e.bill, map[string]any{"action": "invoice", "txid": txid}, workflow.ErrTaskFailed},
		{"payment start", e.payment, map[string]any{"action": "start", "txid": txid, "token": "T-PB"}, workflow.ErrOrderCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, errType := e.task(tt.h, tt.payload); errType != tt.want {
				t.Errorf("%s of a PAYBACK order reported %q, want %s", tt.name, errType, tt.want)
			}
			o := e.order(txid)
			if o.InvoiceNumber != "" || o.Status != checkout.Payback {
				t.Errorf("order after %s: %s, invoice %q; want PAYBACK without a number", tt.name, o.Status, o.InvoiceNumber)
			}
		})
	}
	if succ, _ := e.sfn.calls(); len(succ) != 0 {
		t.Errorf("a PAYBACK order completed a payment wait: %+v", succ)
	}
}

// TestInvoicePrintsTheVIESCheck: the invoice says what VIES said of the buyer's VAT
// number: confirmed (reverse charge), or not confirmed (VAT charged).
func TestInvoicePrintsTheVIESCheck(t *testing.T) {
	e := newEnv(t)
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		check *checkout.VATCheck
		want  string
	}{
		{"confirmed", &checkout.VATCheck{Status: checkout.VATValid, CheckedAt: at, RequestID: "WAPIAAAAW1"},
			"VAT number DE123456788 confirmed by VIES on 2026-11-30 (consultation WAPIAAAAW1)."},
		{"not confirmed", &checkout.VATCheck{Status: checkout.VATUnavailable, CheckedAt: at},
			"VAT number DE123456788 not confirmed by VIES on 2026-11-30: VAT charged."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txid, token := e.placeWith("check", 12000, func(o *checkout.Order) {
				o.Customer.Invoicing = &checkout.Invoicing{Organisation: "Beispiel GmbH", LastName: "L", FirstName: "A", Address: "1 Weg",
					Zip: "10115", City: "Berlin", Country: "DE", VATNumber: "DE123456788", VATCheck: tt.check}
			})
			code, body, _ := e.http(e.bill, req{method: "GET", routeKey: "GET /orders/{txid}/bill", path: "/orders/" + txid + "/bill",
				params: map[string]string{"txid": txid}, query: map[string]string{"format": "html"}, headers: bearer(token)})
			if code != http.StatusOK || !strings.Contains(body, tt.want) {
				t.Fatalf("bill %d: %q not in\n%s", code, tt.want, body)
			}
		})
	}
}

// TestCompleteIsTheLastEffect: a client polling for COMPLETE must see an order whose
// billing is whole. When part of the billing cannot be written (here the partner's
// figures: a partner key longer than the table accepts), the order must not be COMPLETE
// with its counters and events missing; it stays paid for the retry or an operator, and
// once billed, COMPLETE comes with the paid-order counter, the billed events and the
// cart erased.
func TestCompleteIsTheLastEffect(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name       string
		partner    string
		operator   bool // an operator moved the paid order to COMPLETE before billing
		wantStatus checkout.Status
		wantErr    bool
	}{
		{"billing that cannot be written leaves the order paid, not COMPLETE", strings.Repeat("p", store.MaxPartnerKey+1), false, checkout.SoldOut, true},
		{"a billed order is COMPLETE with all of its billing", "", false, checkout.Complete, false},
		{"an order an operator completed first is billed once", "", true, checkout.Complete, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txid, _ := e.placeWith("test", 12000, func(o *checkout.Order) { o.Partner = tt.partner })
			if _, err := e.st.Move(e.ctx, txid, checkout.SoldOut, store.Change{Payment: &checkout.Payment{Mode: "test", Outcome: "paid", Amount: 12000, At: time.Now()}}); err != nil {
				t.Fatal(err)
			}
			if tt.operator {
				if _, err := e.st.Move(e.ctx, txid, checkout.Complete, store.Change{}); err != nil {
					t.Fatal(err)
				}
			}
			before, err := e.st.PaidOrders(e.ctx, buyerEmail)
			if err != nil {
				t.Fatal(err)
			}
			_, errType := e.task(e.bill, map[string]any{"action": "invoice", "txid": txid})
			if (errType != "") != tt.wantErr {
				t.Fatalf("invoice error = %q, want error %v", errType, tt.wantErr)
			}
			o := e.order(txid)
			after, err := e.st.PaidOrders(e.ctx, buyerEmail)
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != tt.wantStatus {
				t.Fatalf("status = %s, want %s", o.Status, tt.wantStatus)
			}
			cart, _, err := e.st.CartAndOrder(e.ctx, txid, o.TokenHash)
			if err != nil {
				t.Fatal(err)
			}
			if o.Status == checkout.Complete {
				if after != before+1 || o.InvoiceNumber == "" || cart != nil {
					t.Errorf("COMPLETE with paid orders %d → %d, invoice %q, cart erased %v: want one more paid order, a number, no cart", before, after, o.InvoiceNumber, cart == nil)
				}
				if !strings.Contains(e.traceText(txid), "invoice "+o.InvoiceNumber+" issued; order COMPLETE") {
					t.Errorf("trace lacks the invoice line:\n%s", e.traceText(txid))
				}
				// A retried task changes nothing and answers the same number.
				out := e.mustTask(e.bill, map[string]any{"action": "invoice", "txid": txid})
				if again, _ := e.st.PaidOrders(e.ctx, buyerEmail); out["invoice"] != o.InvoiceNumber || again != after {
					t.Errorf("retry: invoice %v, paid orders %d; want %s and %d", out["invoice"], again, o.InvoiceNumber, after)
				}
			} else if after != before || o.InvoiceNumber != "" || cart == nil {
				t.Errorf("not billed, yet paid orders %d → %d, invoice %q, cart erased %v: want nothing written", before, after, o.InvoiceNumber, cart == nil)
			}
		})
	}
}

// The state machine gives production and billing the order as it was placed (the
// execution input's copy, status PLACED) instead of letting them read it. What the
// copy cannot know — the order's current status — is checked by the tasks' own
// writes: a paid order is delivered and billed once, however often the tasks run; an
// order refunded meanwhile gets neither a delivery nor an invoice, and stays as the
// refund left it.
func TestTasksWithTheOrderFromTheInput(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name     string
		refunded bool   // moved to PAYBACK after the payment, before production
		wantErr  string // the errorType both tasks report
		trace    string
	}{
		{name: "paid order", trace: "Production Controller : Full production starting ..."},
		{name: "refunded before production", refunded: true, wantErr: workflow.ErrTaskFailed,
			trace: "Production Controller : full production refused: the order is no longer paid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			txid, _ := e.place("test", 12000)
			copied := e.order(txid) // the copy placement puts in the execution input
			if _, err := e.st.Move(e.ctx, txid, checkout.SoldOut, store.Change{Payment: &checkout.Payment{Mode: "test", Outcome: "paid", Amount: 12000}}); err != nil {
				t.Fatal(err)
			}
			if tc.refunded {
				if _, err := e.st.Move(e.ctx, txid, checkout.Payback, store.Change{}); err != nil {
					t.Fatal(err)
				}
			}
			before := e.order(txid)
			postpay := map[string]any{"action": "postpay", "txid": txid, "order": copied}
			invoice := map[string]any{"action": "invoice", "txid": txid, "order": copied}
			var numbers []string
			for run := 0; run < 2; run++ { // a retried task changes nothing more
				produced, errType := e.task(e.produce, postpay)
				if errType != tc.wantErr {
					t.Fatalf("postpay run %d reported %q, want %q", run+1, errType, tc.wantErr)
				}
				if produced != nil {
					// The state machine gives billing the references production answered.
					invoice["products"] = produced["products"]
				}
				out, errType := e.task(e.bill, invoice)
				if errType != tc.wantErr {
					t.Fatalf("invoice run %d reported %q, want %q", run+1, errType, tc.wantErr)
				}
				if out != nil {
					numbers = append(numbers, out["invoice"].(string))
				}
			}
			insts, err := e.st.CustomerInstances(e.ctx, buyerEmail)
			if err != nil {
				t.Fatal(err)
			}
			delivered := 0
			for _, in := range insts {
				if in.TxID == txid {
					delivered++
				}
			}
			after := e.order(txid)
			if tc.refunded {
				if delivered != 0 || after.Status != checkout.Payback || after.InvoiceNumber != "" || !after.UpdatedAt.Equal(before.UpdatedAt) {
					t.Errorf("refunded order: %d instance(s), %s, invoice %q, updated %v (was %v); want nothing delivered and the order unchanged",
						delivered, after.Status, after.InvoiceNumber, after.UpdatedAt, before.UpdatedAt)
				}
			} else if delivered != 1 || after.Status != checkout.Complete || len(numbers) != 2 || numbers[0] != numbers[1] || numbers[0] != after.InvoiceNumber {
				t.Errorf("paid order: %d instance(s), %s, numbers %v (stored %q); want one delivery and one invoice number", delivered, after.Status, numbers, after.InvoiceNumber)
			}
			for _, in := range insts {
				if in.TxID != txid {
					continue
				}
				if got, err := e.st.Instance(e.ctx, in.Reference); err != nil || !billed(got.Events) {
					t.Errorf("instance %s: events %+v, %v; want it billed", in.Reference, got.Events, err)
				}
				if refs, _ := invoice["products"].([]any); len(refs) != 1 || refs[0] != in.Reference {
					t.Errorf("postpay answered products %v, want [%s]", invoice["products"], in.Reference)
				}
			}
			if tr := e.traceText(txid); !strings.Contains(tr, tc.trace) {
				t.Errorf("trace lacks %q:\n%s", tc.trace, tr)
			}
		})
	}
}

func billed(events []production.Event) bool {
	for _, ev := range events {
		if ev.Type == production.EventBilled {
			return true
		}
	}
	return false
}
