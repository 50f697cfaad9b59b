package workflow_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/workflow"
)

// TestTestModePaidProducedInvoicedMailed walks the path a test shop's buyer takes:
// placed → prepay → payment waits → "pay" button → postpay → invoice → e-mails.
func TestTestModePaidProducedInvoicedMailed(t *testing.T) {
	e := newEnv(t)
	txid, token := e.place("test", 12000)

	if out := e.mustTask(e.produce, map[string]any{"action": "prepay", "txid": txid}); out["done"] != true {
		t.Fatalf("prepay output %v, want done", out)
	}
	e.startPayment(txid, "T-PAY-1")
	// A retried start (Lambda retry) must not e-mail the sales managers twice.
	e.startPayment(txid, "T-PAY-1")
	if got := e.mail.to(salesEmail, ""); len(got) != 1 {
		t.Fatalf("sales managers got %d e-mails after two starts, want 1 (OrderPlaced)", len(got))
	}

	v := e.getOrder(txid, token)
	if v.Status != checkout.Pending || v.Waiting != "payment" || v.Payment == nil || v.Payment.Kind != "buttons" {
		t.Fatalf("order view before paying: status %s waiting %q payment %+v; want PENDING, waiting payment, buttons", v.Status, v.Waiting, v.Payment)
	}

	code, body, _ := e.http(e.payment, req{method: "POST", routeKey: "POST /orders/{txid}/payment/test", path: "/orders/" + txid + "/payment/test",
		params: map[string]string{"txid": txid}, headers: bearer(token), body: `{"action":"pay"}`})
	if code != http.StatusOK {
		t.Fatalf("pay button: %d %s", code, body)
	}
	succ, fail := e.sfn.calls()
	if len(succ) != 1 || succ[0].Token != "T-PAY-1" || len(fail) != 0 {
		t.Fatalf("token completions after pay: success %v failure %v; want one success of T-PAY-1", succ, fail)
	}
	if o := e.order(txid); o.Status != checkout.SoldOut || len(o.Payments) != 1 || o.Payments[0].Amount != 12000 {
		t.Fatalf("after pay: status %s payments %+v; want SOLDOUT with one payment of 12000", o.Status, o.Payments)
	}

	if out := e.mustTask(e.produce, map[string]any{"action": "postpay", "txid": txid}); out["done"] != true {
		t.Fatalf("postpay output %v", out)
	}
	insts, err := e.st.CustomerInstances(e.ctx, buyerEmail)
	if err != nil || len(insts) != 1 || insts[0].TxID != txid || insts[0].Context != "COURSE-101" {
		t.Fatalf("product instances %+v (%v); want one enrolment in COURSE-101 for %s", insts, err, txid)
	}
	// Production is idempotent: a retried postpay delivers nothing more.
	e.mustTask(e.produce, map[string]any{"action": "postpay", "txid": txid})
	if again, _ := e.st.CustomerInstances(e.ctx, buyerEmail); len(again) != 1 {
		t.Fatalf("%d instances after a retried postpay, want 1", len(again))
	}

	out := e.mustTask(e.bill, map[string]any{"action": "invoice", "txid": txid})
	number, _ := out["invoice"].(string)
	if want := "DEMO-" + time.Now().UTC().Format("2006") + "-000001"; number != want {
		t.Fatalf("invoice number %q, want %q", number, want)
	}
	if again := e.mustTask(e.bill, map[string]any{"action": "invoice", "txid": txid}); again["invoice"] != number {
		t.Fatalf("retried invoice gave %v, want the same %s", again["invoice"], number)
	}
	events, err := e.st.ProductEvents(e.ctx, insts[0].Reference)
	if err != nil {
		t.Fatal(err)
	}
	billed := 0
	for _, ev := range events {
		if ev.Type == "billed" && ev.Data["invoice"] == number {
			billed++
		}
	}
	if billed != 1 {
		t.Fatalf("product events %+v: want one billed event for %s after a retried invoice", events, number)
	}
	o := e.order(txid)
	if o.Status != checkout.Complete || o.InvoiceNumber != number {
		t.Fatalf("after bill: status %s invoice %q", o.Status, o.InvoiceNumber)
	}
	if _, err := e.st.GetCart(e.ctx, txid, o.TokenHash); checkout.KindOf(err) != checkout.ENOTFOUND {
		t.Fatalf("cart after invoice: err %v, want not found (erased)", err)
	}

	e.mustTask(e.notify, map[string]any{"event": "delivered", "txid": txid})
	e.mustTask(e.notify, map[string]any{"event": "delivered", "txid": txid}) // a retry sends nothing more
	delivered := e.mail.to(buyerEmail, "")
	var products []sentMail
	for _, m := range delivered {
		if strings.Contains(m.Text, "/#/bill/"+txid) {
			products = append(products, m)
		}
	}
	if len(products) != 1 {
		t.Fatalf("buyer got %d e-mails with the bill link, want 1; all: %+v", len(products), delivered)
	}
	link := regexp.MustCompile(`https://shop\.example/#/bill/` + txid + `\?token=([0-9a-f]+)`).FindStringSubmatch(products[0].Text)
	if link == nil {
		t.Fatalf("no bill link with a token in %q", products[0].Text)
	}
	if got := e.mail.to(salesEmail, ""); len(got) != 2 {
		t.Fatalf("sales managers got %d e-mails, want 2 (OrderPlaced, DeliveryReport)", len(got))
	}

	// The e-mailed link opens the invoice without the cart token.
	code, body, _ = e.http(e.bill, req{method: "GET", routeKey: "GET /orders/{txid}/bill", path: "/orders/" + txid + "/bill",
		params: map[string]string{"txid": txid}, query: map[string]string{"token": link[1]}})
	if code != http.StatusOK {
		t.Fatalf("bill by e-mailed link: %d %s", code, body)
	}
	var bill workflow.BillView
	if err := json.Unmarshal([]byte(body), &bill); err != nil {
		t.Fatal(err)
	}
	if bill.Kind != "invoice" || bill.Number != number || bill.Totals.Final != 12000 {
		t.Fatalf("bill: kind %s number %s final %d; want invoice %s 12000", bill.Kind, bill.Number, bill.Totals.Final, number)
	}

	tr := e.traceText(txid)
	for _, want := range []string{"[" + txid + "] Test Processing : paying", "Production Controller : Full production starting from SOLDOUT", "Billing : invoice " + number} {
		if !strings.Contains(tr, want) {
			t.Errorf("trace lacks %q:\n%s", want, tr)
		}
	}
}

// The OrderPlaced e-mail is claimed by the write that stores the payment wait's token:
// a start whose send failed gives the claim back, so its retry sends the e-mail, and
// once sent no further start sends it again.
func TestOrderPlacedMailClaimedWithTheToken(t *testing.T) {
	e := newEnv(t)
	txid, _ := e.place("test", 12000)
	starts := []struct {
		sesDown bool
		want    int // e-mails to the sales managers after this start
	}{
		{sesDown: true, want: 0},
		{sesDown: false, want: 1},
		{sesDown: false, want: 1},
	}
	for i, st := range starts {
		e.mail.mu.Lock()
		e.mail.fail = nil
		if st.sesDown {
			e.mail.fail = errors.New("SES unreachable")
		}
		e.mail.mu.Unlock()
		e.startPayment(txid, "T-PAY-1")
		if got := e.mail.to(salesEmail, ""); len(got) != st.want {
			t.Fatalf("start %d (SES down %v): sales managers got %d e-mails, want %d", i+1, st.sesDown, len(got), st.want)
		}
	}
	if tr := e.traceText(txid); !strings.Contains(tr, "e-mail OrderPlaced NOT sent") {
		t.Errorf("the failed send is not traced:\n%s", tr)
	}
}
