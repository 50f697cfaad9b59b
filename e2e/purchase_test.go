package e2e_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/localcloud/cloudtest"
)

// waitStatus polls the buyer's order view until it reaches want.
func (b *buyer) waitStatus(want string) reply { return b.waitFor(want, "") }

// waitFor polls the buyer's order view until it has the status and, if given, waits
// for what the buyer must do next ("payment", "retry").
func (b *buyer) waitFor(want, waiting string) reply {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var r reply
	for time.Now().Before(deadline) {
		r = b.do("GET", "/orders/{txid}", "")
		if r.status == 200 && statusOf(r) == want && (waiting == "" || r.body["waiting"] == waiting) {
			return r
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("order %s never reached %s; last answer %d %s", b.TxID, want, r.status, r.raw)
	return r
}

func statusOf(r reply) string {
	if s, ok := r.body["status"].(string); ok {
		return s
	}
	if o, ok := r.body["order"].(map[string]any); ok {
		s, _ := o["status"].(string)
		return s
	}
	return ""
}

// admin calls the back office as the shop administrator, signed in to the local user pool.
func admin(t *testing.T, c *cloudtest.Cloud, method, path, body string, accept string) (int, string) {
	t.Helper()
	req := c.OperatorRequest(t, "shop-admin", method, path, []byte(body))
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func mailTo(t *testing.T, c *cloudtest.Cloud, addr, txid string) []string {
	t.Helper()
	msgs, err := c.Mail(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, m := range msgs {
		raw, _ := json.Marshal(m)
		if strings.Contains(strings.ToLower(string(raw)), strings.ToLower(addr)) && strings.Contains(m.Subject, txid) {
			subjects = append(subjects, m.Subject)
		}
	}
	return subjects
}

// product is a delivered unit as the back office's order view lists it.
type product struct {
	ItemCode    string `json:"ItemCode"`
	Beneficiary string `json:"Beneficiary"`
}

var traceLine = regexp.MustCompile(`^-- \d{4}-\d{1,2}-\d{1,2} \d{2}:\d{2}:\d{2} \d{3} -- \[[A-Z0-9]{16}\] [^:]+ : .+$`)

// The walking skeleton of issue 2: a purchase through every layer, paid with the test
// mode, produced, invoiced, mailed, and its trace read back.
func TestPurchasePaidWithTestModeEndsComplete(t *testing.T) {
	c := cloudtest.Start(t)
	b := newBuyer(t)
	placed := b.placeOne("GO-101", "test")
	final := placed.body["order"].(map[string]any)["totals"].(map[string]any)["final"].(float64)
	// GO-101: 199.00 untaxed + 5.5 % VAT-EDU = 209.95.
	if final != 20995 {
		t.Errorf("final = %v, want 20995", final)
	}
	// The workflow moves the order to PENDING once it waits for the buyer's button.
	b.waitFor("PENDING", "payment")
	b.must(200, "POST", "/orders/{txid}/payment/test", `{"action":"pay"}`)
	done := b.waitStatus("COMPLETE")
	_ = done

	bill := b.must(200, "GET", "/orders/{txid}/bill", "")
	if bill.body["kind"] != "invoice" || !regexp.MustCompile(`^[A-Z0-9-]+-\d{4}-\d{6}$`).MatchString(bill.body["number"].(string)) {
		t.Errorf("bill = %s, want an invoice with a sequential number", bill.raw)
	}
	html := call(t, "GET", b.API+"/orders/"+b.TxID+"/bill?format=html", b.Token, "")
	if html.status != 200 || !strings.Contains(html.raw, b.TxID) || !strings.Contains(html.raw, "209") {
		t.Errorf("printable bill = %d, missing the transaction or the amount", html.status)
	}
	if r := b.do("GET", "/carts/{txid}", ""); r.status != 404 {
		t.Errorf("cart after completion = %d, want it erased (404)", r.status)
	}

	var subjects []string
	for i := 0; i < 50 && len(subjects) == 0; i++ {
		subjects = mailTo(t, c, "ada.lovelace@example.com", b.TxID)
		time.Sleep(100 * time.Millisecond)
	}
	if len(subjects) == 0 {
		t.Errorf("no e-mail to the buyer about %s in the mail viewer", b.TxID)
	}
	if len(mailTo(t, c, "sales@example.com", b.TxID)) == 0 {
		t.Errorf("no e-mail to the sales managers about %s", b.TxID)
	}

	status, text := admin(t, c, "GET", "/admin/orders/"+b.TxID+"/trace", "", "text/plain")
	if status != 200 {
		t.Fatalf("trace = %d %s", status, text)
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for _, l := range lines {
		if !traceLine.MatchString(l) || !strings.Contains(l, "["+b.TxID+"]") {
			t.Errorf("trace line not in the merchant trace format: %q", l)
		}
	}
	for _, want := range []string{"cart created", "placed", "SOLDOUT", "COMPLETE"} {
		if !strings.Contains(text, want) {
			t.Errorf("trace has no line about %q:\n%s", want, text)
		}
	}
	if st, _ := admin(t, c, "GET", "/admin/orders/"+b.TxID+"/trace", "", ""); st != 200 {
		t.Errorf("operator's JSON trace = %d", st)
	}
	anonymous := call(t, "GET", c.APIURL+"/admin/orders/"+b.TxID+"/trace", "", "")
	if anonymous.status != 401 {
		t.Errorf("/admin call without a token = %d, want 401", anonymous.status)
	}
}

// A certificate is released only to a learner enrolled in its course: the buyer is one
// of the test's own, enrolled in GO-101 by the test, not customerJSON's Ada, whose
// enrolment depends on which other tests ran before (alone, this test used to end SOLDOUT,
// production refusing the certificate to a buyer not enrolled).
func TestChequeOrderRecordedByAnOperator(t *testing.T) {
	c := cloudtest.Start(t)
	b := newBuyer(t)
	email := "cheque-" + strings.ToLower(b.TxID) + "@example.com"
	enrol(t, c, email, "GO-101")
	b.placeOneAs("CERT-GO", "check", customerAs(email))
	view := b.waitStatus("PENDING")
	if !strings.Contains(view.raw, "Paris") {
		t.Errorf("cheque instructions lack the postal address: %s", view.raw)
	}
	status, body := admin(t, c, "POST", "/admin/orders/"+b.TxID+"/payment-received", `{"mode":"check","amount":9480,"reference":"CHQ-42"}`, "")
	if status != 200 {
		t.Fatalf("payment-received = %d %s", status, body)
	}
	b.waitStatus("COMPLETE")
	// Recording it twice changes nothing.
	if status, body := admin(t, c, "POST", "/admin/orders/"+b.TxID+"/payment-received", `{"mode":"check","amount":9480,"reference":"CHQ-42"}`, ""); status >= 500 {
		t.Errorf("second payment-received = %d %s", status, body)
	}
	status, body = admin(t, c, "GET", "/admin/orders/"+b.TxID, "", "")
	var adminView struct {
		Order struct {
			Status   string `json:"status"`
			Payments []struct {
				EventID string `json:"eventId"`
				Amount  int64  `json:"amount"`
			} `json:"payments"`
			InvoiceNumber string `json:"invoiceNumber"`
		} `json:"order"`
		Products []product `json:"products"`
	}
	if err := json.Unmarshal([]byte(body), &adminView); err != nil || status != 200 {
		t.Fatalf("order view = %d %s", status, body)
	}
	if o := adminView.Order; len(o.Payments) != 1 || o.Payments[0].Amount != 9480 || o.Status != "COMPLETE" || o.InvoiceNumber == "" {
		t.Errorf("after two records of one cheque: status %s, payments %+v, invoice %q; want one payment of 9480, COMPLETE, invoiced",
			o.Status, o.Payments, o.InvoiceNumber)
	}
	if p := adminView.Products; len(p) != 1 || p[0].ItemCode != "CERT-GO" || p[0].Beneficiary != email {
		t.Errorf("products = %+v, want the CERT-GO certificate released once to %s", p, email)
	}
}

func TestFailedPaymentRetriedWithAnotherMode(t *testing.T) {
	b := newBuyer(t)
	b.placeOne("STUDENT-PLUS", "test")
	b.waitFor("PENDING", "payment")
	b.must(200, "POST", "/orders/{txid}/payment/test", `{"action":"fail"}`)
	b.waitFor("FAILED", "retry")
	// The order is kept: the buyer picks another mode.
	// Accepted: the workflow takes the new mode asynchronously.
	b.must(202, "POST", "/orders/{txid}/payment", `{"paymode":"transfer"}`)
	// The workflow starts the new mode asynchronously: its instructions follow.
	var view reply
	for i := 0; i < 300; i++ {
		view = b.waitStatus("PENDING")
		if strings.Contains(view.raw, "FR76") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(view.raw, "FR76") || !strings.Contains(view.raw, b.TxID) {
		t.Errorf("transfer instructions lack the IBAN or the reference: %s", view.raw)
	}
}

func TestFreeOrderGoesStraightToProduction(t *testing.T) {
	b := newBuyer(t)
	b.must(200, "PUT", "/carts/{txid}/lines/FREE-INTRO", `{"quantity":1}`)
	b.must(200, "PUT", "/carts/{txid}/customer", customerJSON)
	review := b.must(200, "GET", "/carts/{txid}/order", "")
	if got, _ := json.Marshal(review.body["paymodes"]); string(got) != `["freeorder"]` {
		t.Errorf("modes for a 0 total = %s, want only freeorder", got)
	}
	b.must(201, "POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"freeorder"}`)
	b.waitStatus("COMPLETE")
}

// The seats pack and the item with required data, produced after payment: every
// participant gets their seat and the course space is created.
func TestSeatsPackAndRequiredDataAreDelivered(t *testing.T) {
	c := cloudtest.Start(t)
	b := newBuyer(t)
	b.must(200, "PUT", "/carts/{txid}/lines/SEC-201-SEATS", `{"quantity":2}`)
	b.must(200, "PUT", "/carts/{txid}/lines/COURSE-SPACE", `{"quantity":1}`)
	b.must(200, "PUT", "/carts/{txid}/requirements", `{"requirements":{"COURSE-SPACE":[{"shortname":"TEAM-`+b.TxID[:6]+`","fullname":"Team space","format":"weeks"}]}}`)
	b.must(200, "PUT", "/carts/{txid}/seats", `{"participants":[
		{"email":"bob@example.com","lastName":"Martin","firstName":"Bob","city":"Lyon"},
		{"email":"eve@example.com","lastName":"Durand","firstName":"Eve","city":"Lyon"},
		{"email":"boss@example.com","lastName":"Petit","firstName":"Anne","city":"Lyon"}],
		"seats":[{"code":"SEC-201-SEATS","role":"student","email":"bob@example.com"},
		{"code":"SEC-201-SEATS","role":"student","email":"eve@example.com"},
		{"code":"SEC-201-SEATS","role":"supervisor","email":"boss@example.com"}]}`)
	b.must(200, "PUT", "/carts/{txid}/customer", customerJSON)
	b.must(201, "POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"test"}`)
	b.waitFor("PENDING", "payment")
	b.must(200, "POST", "/orders/{txid}/payment/test", `{"action":"pay"}`)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if statusOf(b.do("GET", "/orders/{txid}", "")) == "COMPLETE" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	status, body := admin(t, c, "GET", "/admin/orders/"+b.TxID, "", "")
	var view struct {
		Order struct {
			Status string `json:"status"`
		} `json:"order"`
		Products []product `json:"products"`
	}
	if err := json.Unmarshal([]byte(body), &view); err != nil || status != 200 {
		t.Fatalf("order view = %d %s", status, body)
	}
	if view.Order.Status != "COMPLETE" {
		_, tr := admin(t, c, "GET", "/admin/orders/"+b.TxID+"/trace", "", "text/plain")
		t.Fatalf("status %s, want COMPLETE; trace:\n%s", view.Order.Status, tr)
	}
	got := map[string]int{}
	for _, p := range view.Products {
		got[p.ItemCode]++
	}
	if got["SEC-201-SEATS"] < 2 || got["COURSE-SPACE"] != 1 {
		t.Errorf("products = %v, want a seat per participant and one course space", got)
	}
}

// A promo code and a Belgian business buyer with an intra-EU VAT number: the discount is
// its own line, no VAT is charged (reverse charge, said on the invoice), and the cart, the
// review, the order and the invoice agree to the cent.
func TestPromoCodeAndForeignBusinessBuyerInvoice(t *testing.T) {
	b := newBuyer(t)
	b.must(200, "PUT", "/carts/{txid}/lines/SEC-201-SEATS", `{"quantity":5}`)
	b.must(200, "PUT", "/carts/{txid}/seats", `{"participants":[
		{"email":"p1@acme.be","lastName":"Peeters","firstName":"An","city":"Gent"},{"email":"p2@acme.be","lastName":"Janssens","firstName":"Bo","city":"Gent"},
		{"email":"p3@acme.be","lastName":"Maes","firstName":"Cas","city":"Gent"},{"email":"p4@acme.be","lastName":"Jacobs","firstName":"Dirk","city":"Gent"},
		{"email":"p5@acme.be","lastName":"Willems","firstName":"Eva","city":"Gent"},{"email":"boss@acme.be","lastName":"Claes","firstName":"Fien","city":"Gent"}],
		"seats":[{"code":"SEC-201-SEATS","role":"student","email":"p1@acme.be"},{"code":"SEC-201-SEATS","role":"student","email":"p2@acme.be"},
		{"code":"SEC-201-SEATS","role":"student","email":"p3@acme.be"},{"code":"SEC-201-SEATS","role":"student","email":"p4@acme.be"},
		{"code":"SEC-201-SEATS","role":"student","email":"p5@acme.be"},{"code":"SEC-201-SEATS","role":"supervisor","email":"boss@acme.be"}]}`)
	b.must(200, "POST", "/carts/{txid}/codes", `{"code":"welcome10"}`)
	cart := b.must(200, "PUT", "/carts/{txid}/customer", `{"email":"buyer@acme.be","lastName":"Claes","firstName":"Fien","city":"Gent","country":"BE",
		"invoicing":{"organisation":"Acme BV","lastName":"Claes","firstName":"Fien","address":"Veldstraat 1","zip":"9000","city":"Gent","country":"BE","vatNumber":"BE 0123.456.749"}}`)
	// 5 seats: tier 2 (up to 9) at 420.00 = 2100.00; WELCOME10 takes 210.00, then the
	// shop's "Volume 5%" (orders from 2000.00) 5 % of the 1890.00 left = 94.50;
	// reverse charge: no VAT.
	want := map[string]float64{"untaxed": 210000, "discount": 30450, "taxes": 0, "final": 179550}
	for k, v := range want {
		if got := totals(cart)[k]; got != v {
			t.Errorf("cart %s = %v, want %v", k, got, v)
		}
	}
	review := b.must(200, "GET", "/carts/{txid}/order", "")
	placed := b.must(201, "POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"test"}`)
	if f := placed.body["order"].(map[string]any)["totals"].(map[string]any)["final"]; f != totals(review)["final"] || f != want["final"] {
		t.Errorf("placed final %v, review %v, want %v", f, totals(review)["final"], want["final"])
	}
	b.waitFor("PENDING", "payment")
	b.must(200, "POST", "/orders/{txid}/payment/test", `{"action":"pay"}`)
	b.waitStatus("COMPLETE")
	bill := b.must(200, "GET", "/orders/{txid}/bill", "")
	if !strings.Contains(bill.raw, "Reverse charge") || !strings.Contains(bill.raw, `"label":"Welcome 10%","untaxed":-21000`) || !strings.Contains(bill.raw, `"label":"Volume 5%","untaxed":-9450`) {
		t.Errorf("invoice lacks the reverse-charge mention or the discount line: %s", bill.raw)
	}
	if !strings.Contains(bill.raw, `"final":179550`) {
		t.Errorf("invoice final differs from the cart's 179550: %s", bill.raw)
	}
}

// A bundle is delivered through the items it sells: the course, then its certificate.
func TestBundleIsDeliveredThroughItsParts(t *testing.T) {
	c := cloudtest.Start(t)
	b := newBuyer(t)
	b.placeOneAs("GO-BUNDLE", "test", customerAs("bundle-"+strings.ToLower(b.TxID)+"@example.com"))
	b.waitFor("PENDING", "payment")
	b.must(200, "POST", "/orders/{txid}/payment/test", `{"action":"pay"}`)
	b.waitStatus("COMPLETE")
	status, body := admin(t, c, "GET", "/admin/orders/"+b.TxID, "", "")
	var view struct {
		Products []product `json:"products"`
	}
	if err := json.Unmarshal([]byte(body), &view); err != nil || status != 200 {
		t.Fatalf("order view = %d %s", status, body)
	}
	got := map[string]int{}
	for _, p := range view.Products {
		got[p.ItemCode]++
	}
	if got["GO-101"] != 1 || got["CERT-GO"] != 1 || len(got) != 2 {
		t.Errorf("products = %v, want the bundle's parts GO-101 and CERT-GO once each", got)
	}
}
