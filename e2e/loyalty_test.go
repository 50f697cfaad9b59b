package e2e_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/localcloud/cloudtest"
	"github.com/lmsshop/checkout/internal/storefront"
)

// The demo shop's history-based discounts (internal/seed/demo.json):
//
//	"Loyalty 5%"          minEarlierOrders 1, on TUTOR-HOUR (the returning learners' item)
//	"Partner loyalty 3%"  partnerMinOrders 1, any partner, every line
//
// Both count only COMPLETE (invoiced) orders, so each test starts from a fresh buyer or
// partner and pays its first order to the end.
const (
	loyaltyRule        = "Loyalty 5%"
	partnerLoyaltyRule = "Partner loyalty 3%"
	loyaltyRateBP      = 500
	partnerRateBP      = 300
)

// cartDiscount is the amount of a named discount in a cart view or review.
func cartDiscount(r reply, name string) (float64, bool) {
	ds, _ := r.body["discounts"].([]any)
	for _, d := range ds {
		if m := d.(map[string]any); m["name"] == name {
			return m["amount"].(float64), true
		}
	}
	return 0, false
}

// billDiscount is the (positive) amount of a named discount's DISCOUNT lines.
func billDiscount(lines []any, name string) (float64, bool) {
	sum, found := 0.0, false
	for _, l := range lines {
		m := l.(map[string]any)
		if m["type"] == "DISCOUNT" && m["label"] == name {
			sum -= m["untaxed"].(float64)
			found = true
		}
	}
	return sum, found
}

// lineUntaxed is a cart line's untaxed amount, the base a rate applies to.
func lineUntaxed(r reply, code string) int64 {
	ls, _ := r.body["lines"].([]any)
	for _, l := range ls {
		if m := l.(map[string]any); m["code"] == code {
			return int64(m["untaxed"].(float64))
		}
	}
	return -1
}

// pct is rate (basis points) of base, rounded half up as pricing rounds a discount line.
func pct(base int64, bp int64) float64 { return float64((base*bp + 5000) / 10000) }

func freshCustomer(prefix string) (email, body string) {
	email = fmt.Sprintf("%s-%d@example.com", prefix, time.Now().UnixNano())
	return email, strings.Replace(customerJSON, "Ada.Lovelace@Example.com", email, 1)
}

// payToComplete places the cart with the test mode, pays and waits for COMPLETE.
func (b *buyer) payToComplete() reply {
	b.t.Helper()
	placed := b.must(201, "POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"test"}`)
	b.waitFor("PENDING", "payment")
	b.must(200, "POST", "/orders/{txid}/payment/test", `{"action":"pay"}`)
	b.waitStatus("COMPLETE")
	return placed
}

// sameDiscountEverywhere checks that the order placed from a cart and its invoice carry
// the discount and the final amount the cart showed; it returns the placed order.
func (b *buyer) sameDiscountEverywhere(cart reply, name string, want float64) map[string]any {
	b.t.Helper()
	if got, ok := cartDiscount(cart, name); !ok || got != want {
		b.t.Errorf("cart: %s = %v (present %v), want %v; discounts %v", name, got, ok, want, cart.body["discounts"])
	}
	review := b.must(200, "GET", "/carts/{txid}/order", "")
	if got, ok := cartDiscount(review, name); !ok || got != want || totals(review)["final"] != totals(cart)["final"] {
		b.t.Errorf("review: %s = %v (present %v), final %v; want %v and the cart's final %v", name, got, ok, totals(review)["final"], want, totals(cart)["final"])
	}
	placed := b.payToComplete()
	order := placed.body["order"].(map[string]any)
	bl, _ := order["billLines"].([]any)
	if got, ok := billDiscount(bl, name); !ok || got != want || order["totals"].(map[string]any)["final"] != totals(cart)["final"] {
		b.t.Errorf("placed order: %s = %v (present %v), final %v; want %v and the cart's final %v", name, got, ok, order["totals"], want, totals(cart)["final"])
	}
	bill := b.must(200, "GET", "/orders/{txid}/bill", "")
	lines, _ := bill.body["lines"].(map[string]any)
	dl, _ := lines["DISCOUNT"].([]any)
	if got, ok := billDiscount(dl, name); bill.body["kind"] != "invoice" || !ok || got != want || totals(bill)["final"] != totals(cart)["final"] {
		b.t.Errorf("invoice (%v): %s = %v (present %v), final %v; want %v and the cart's final %v", bill.body["kind"], name, got, ok, totals(bill)["final"], want, totals(cart)["final"])
	}
	return order
}

func TestLoyaltyDiscountFromTheSecondPaidOrder(t *testing.T) {
	_, customer := freshCustomer("loyal")

	first := newBuyer(t)
	first.must(200, "PUT", "/carts/{txid}/lines/TUTOR-HOUR", `{"quantity":1}`)
	first.must(200, "PUT", "/carts/{txid}/lines/GO-101", `{"quantity":1}`)
	cart := first.must(200, "PUT", "/carts/{txid}/customer", customer)
	if got, ok := cartDiscount(cart, loyaltyRule); ok {
		t.Errorf("a buyer without paid orders gets %s = %v", loyaltyRule, got)
	}
	// TUTOR-HOUR is sold to existing customers only: the first order is the course.
	first.must(200, "DELETE", "/carts/{txid}/lines/TUTOR-HOUR", "")
	first.payToComplete()

	second := newBuyer(t)
	before := second.must(200, "PUT", "/carts/{txid}/lines/TUTOR-HOUR", `{"quantity":2}`)
	if _, ok := cartDiscount(before, loyaltyRule); ok {
		t.Errorf("%s applies before the buyer is known", loyaltyRule)
	}
	cart = second.must(200, "PUT", "/carts/{txid}/customer", customer)
	second.sameDiscountEverywhere(cart, loyaltyRule, pct(lineUntaxed(cart, "TUTOR-HOUR"), loyaltyRateBP))
}

// prefilled opens a cart through a partner's prefill link.
func prefilled(t *testing.T, c *cloudtest.Cloud, query string) *buyer {
	t.Helper()
	r := call(t, "GET", c.APIURL+"/shop/prefill?"+query, "", "")
	if r.status != http.StatusFound {
		t.Fatalf("prefill = %d %s", r.status, r.raw)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q, _ := url.ParseQuery(strings.TrimPrefix(u.Fragment, "/prefill?"))
	return &buyer{t: t, Client: storefront.Client{API: c.APIURL, HTTP: noRedirect, TxID: q.Get("tx"), Token: q.Get("token")}}
}

func TestPartnerDiscountOnceThePartnerHasAPaidOrder(t *testing.T) {
	c := cloudtest.Start(t)
	// A partner of its own, so that no other test's orders count for it.
	partner := fmt.Sprintf("acme-%d", time.Now().UnixNano())
	link := "GO-101=1&partner=" + url.QueryEscape(partner)

	first := prefilled(t, c, link)
	_, customer := freshCustomer("partner-first")
	cart := first.must(200, "PUT", "/carts/{txid}/customer", customer)
	if cart.body["partner"] != partner {
		t.Fatalf("partner = %v, want %s", cart.body["partner"], partner)
	}
	if got, ok := cartDiscount(cart, partnerLoyaltyRule); ok {
		t.Errorf("a partner without paid orders gets %s = %v", partnerLoyaltyRule, got)
	}
	// Opened before the first order is paid: it keeps what it showed, the partner's
	// figures being a snapshot taken when the cart was created.
	early := prefilled(t, c, link)
	first.payToComplete()

	if got, ok := cartDiscount(early.must(200, "GET", "/carts/{txid}", ""), partnerLoyaltyRule); ok {
		t.Errorf("a cart opened before the partner's first paid order now gets %s = %v; a shown price must not change", partnerLoyaltyRule, got)
	}

	second := prefilled(t, c, link)
	_, customer = freshCustomer("partner-second")
	cart = second.must(200, "PUT", "/carts/{txid}/customer", customer)
	order := second.sameDiscountEverywhere(cart, partnerLoyaltyRule, pct(lineUntaxed(cart, "GO-101"), partnerRateBP))
	if order["partner"] != partner {
		t.Errorf("placed order's partner = %v, want %s", order["partner"], partner)
	}
}

// A partner key becomes part of a table key: an overlong one is refused, by name.
func TestOverlongPartnerKeyIsRefused(t *testing.T) {
	c := cloudtest.Start(t)
	long := strings.Repeat("p", 65)
	r := call(t, "POST", c.APIURL+"/carts", "", `{"partner":"`+long+`"}`)
	if r.status != http.StatusBadRequest || r.errCode() != "invalid" || !strings.Contains(r.fields(), "partner") {
		t.Errorf("POST /carts with a 65-character partner = %d %s, want 400 invalid on field partner", r.status, r.raw)
	}
	if r := call(t, "GET", c.APIURL+"/shop/prefill?GO-101=1&partner="+long, "", ""); r.status != http.StatusBadRequest {
		t.Errorf("prefill with a 65-character partner = %d %s, want 400", r.status, r.raw)
	}
	if r := call(t, "POST", c.APIURL+"/carts", "", `{"partner":"`+long[:64]+`"}`); r.status != http.StatusCreated {
		t.Errorf("POST /carts with a 64-character partner = %d %s, want 201", r.status, r.raw)
	}
}
