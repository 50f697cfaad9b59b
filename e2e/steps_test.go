package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/localcloud/cloudtest"
	"github.com/lmsshop/checkout/internal/storefront"
)

func TestCatalogShowsOnlySellableItemsWithoutSecrets(t *testing.T) {
	c := cloudtest.Start(t)
	r := call(t, "GET", c.APIURL+"/catalog", "", "")
	if r.status != 200 {
		t.Fatalf("GET /catalog = %d %s", r.status, r.raw)
	}
	if strings.Contains(r.raw, "vip-2026") || strings.Contains(r.raw, `"password"`) {
		t.Error("the catalog leaks an item password")
	}
	items := r.body["catalog"].(map[string]any)["items"].([]any)
	if len(items) < 9 {
		t.Errorf("catalog has %d items, want the whole demo catalog", len(items))
	}
}

func TestCartLinesTotalsAndClamp(t *testing.T) {
	b := newBuyer(t)
	r := b.must(200, "PUT", "/carts/{txid}/lines/SEC-201-SEATS", `{"quantity":3}`)
	// Tier 1 (up to 4): 450.00 untaxed, VAT 20 %.
	if got := totals(r); got["untaxed"] != 135000 || got["taxes"] != 27000 || got["final"] != 162000 {
		t.Errorf("totals = %v, want untaxed 135000, taxes 27000, final 162000", got)
	}
	r = b.must(200, "PUT", "/carts/{txid}/lines/SEC-201-SEATS", `{"quantity":12}`)
	if got := totals(r)["untaxed"]; got != 12*39000 {
		t.Errorf("untaxed for 12 seats = %v, want tier 3 price 390.00 × 12", got)
	}
	r = b.must(200, "PUT", "/carts/{txid}/lines/SEC-201-SEATS", `{"quantity":500}`)
	if got := lines(r)["SEC-201-SEATS"]; got != 20 {
		t.Errorf("quantity 500 kept as %v, want it clamped to maxQuantity 20", got)
	}
	r = b.must(200, "PUT", "/carts/{txid}/lines/GO-101", `{"quantity":1}`)
	if got := lines(r); len(got) != 2 {
		t.Errorf("lines = %v, want two", got)
	}
	r = b.must(200, "DELETE", "/carts/{txid}/lines/SEC-201-SEATS", "")
	if got := lines(r); len(got) != 1 || got["GO-101"] != 1 {
		t.Errorf("after removal lines = %v, want GO-101 only", got)
	}
	r = b.must(200, "DELETE", "/carts/{txid}", "")
	if got := lines(r); len(got) != 0 || totals(r)["final"] != 0 {
		t.Errorf("after reset lines = %v totals = %v, want an empty cart", got, totals(r))
	}
}

// Every bad request gets a clear 4xx and leaves the stored cart as it was.
func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	b := newBuyer(t)
	before := b.must(200, "PUT", "/carts/{txid}/lines/GO-101", `{"quantity":1}`)
	other := newBuyer(t)
	cases := []struct {
		name, method, path, token, body string
		status                          int
		code                            string
	}{
		{"malformed JSON", "PUT", "/carts/{txid}/lines/GO-101", b.Token, `{"quantity":`, 400, "invalid"},
		{"wrong type", "PUT", "/carts/{txid}/lines/GO-101", b.Token, `{"quantity":"two"}`, 400, "invalid"},
		{"a price sent by the client", "PUT", "/carts/{txid}/lines/GO-101", b.Token, `{"quantity":1,"unitPrice":1}`, 400, "invalid"},
		{"negative quantity", "PUT", "/carts/{txid}/lines/GO-101", b.Token, `{"quantity":-1}`, 400, "invalid"},
		{"absurd quantity", "PUT", "/carts/{txid}/lines/GO-101", b.Token, `{"quantity":100000000}`, 400, "invalid"},
		{"unknown item", "PUT", "/carts/{txid}/lines/NOPE", b.Token, `{"quantity":1}`, 404, "not_found"},
		{"password-protected item", "PUT", "/carts/{txid}/lines/PM-301-VIP", b.Token, `{"quantity":1}`, 403, "forbidden"},
		{"wrong password", "POST", "/carts/{txid}/unlock", b.Token, `{"code":"PM-301-VIP","password":"guess"}`, 403, "forbidden"},
		{"unknown discount code", "POST", "/carts/{txid}/codes", b.Token, `{"code":"BOGUS"}`, 400, "invalid"},
		{"oversized body", "PUT", "/carts/{txid}/customer", b.Token, `{"city":"` + strings.Repeat("x", 70000) + `"}`, 413, "too_large"},
		{"no token", "PUT", "/carts/{txid}/lines/GO-101", "", `{"quantity":3}`, 401, "unauthorized"},
		{"another cart's token", "PUT", "/carts/{txid}/lines/GO-101", other.Token, `{"quantity":3}`, 403, "forbidden"},
		{"invalid customer", "PUT", "/carts/{txid}/customer", b.Token, `{"email":"not-an-address","lastName":"","firstName":"x","city":"Paris","country":"XX"}`, 400, "invalid"},
		{"seats on an item without seats", "PUT", "/carts/{txid}/seats", b.Token, `{"participants":[],"seats":[{"code":"GO-101","role":"student","email":"a@b.co"}]}`, 400, "invalid"},
		{"requirements for an item not in the cart", "PUT", "/carts/{txid}/requirements", b.Token, `{"requirements":{"COURSE-SPACE":[{"shortname":"ABC"}]}}`, 400, "invalid"},
		{"placement of an incomplete cart", "POST", "/carts/{txid}/order", b.Token, `{"acceptTerms":true,"paymode":"test"}`, 422, "incomplete"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, tc.method, b.API+strings.ReplaceAll(tc.path, "{txid}", b.TxID), tc.token, tc.body)
			if r.status != tc.status || r.errCode() != tc.code {
				t.Fatalf("= %d %q, want %d %q: %s", r.status, r.errCode(), tc.status, tc.code, r.raw)
			}
			if msg, _ := r.body["error"].(map[string]any)["message"].(string); msg == "" {
				t.Errorf("no message in %s", r.raw)
			}
		})
	}
	after := b.must(200, "GET", "/carts/{txid}", "")
	if after.body["version"] != before.body["version"] || fmt.Sprint(lines(after)) != fmt.Sprint(lines(before)) || after.body["customer"] != nil {
		t.Errorf("stored cart changed: before %s\nafter %s", before.raw, after.raw)
	}
	r := call(t, "GET", b.API+"/carts/AAAAAAAAAAAAAAAA", b.Token, "")
	if r.status != 404 {
		t.Errorf("unknown cart = %d, want 404", r.status)
	}
}

func TestExpiredCartIsGoneBeforeDynamoDBDeletesIt(t *testing.T) {
	c := cloudtest.Start(t)
	b := newBuyer(t)
	b.must(200, "PUT", "/carts/{txid}/lines/GO-101", `{"quantity":1}`)
	_, err := c.DynamoDB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName:                 aws.String(c.Table),
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "TX#" + b.TxID}, "sk": &types.AttributeValueMemberS{Value: "CART"}},
		UpdateExpression:          aws.String("SET expiresAt = :past"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":past": &types.AttributeValueMemberN{Value: fmt.Sprint(time.Now().Add(-time.Minute).Unix())}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := b.do("GET", "/carts/{txid}", ""); r.status != 410 {
		t.Errorf("GET expired cart = %d, want 410: %s", r.status, r.raw)
	}
	if r := b.do("PUT", "/carts/{txid}/lines/GO-101", `{"quantity":1}`); r.status != 410 {
		t.Errorf("PUT on expired cart = %d, want 410: %s", r.status, r.raw)
	}
}

func TestPasswordUnlockAndDiscountCode(t *testing.T) {
	b := newBuyer(t)
	b.must(200, "POST", "/carts/{txid}/unlock", `{"code":"PM-301-VIP","password":"vip-2026"}`)
	r := b.must(200, "PUT", "/carts/{txid}/lines/PM-301-VIP", `{"quantity":3}`)
	if got := lines(r)["PM-301-VIP"]; got != 1 {
		t.Errorf("oneSeat item quantity = %v, want 1", got)
	}
	r = b.must(200, "POST", "/carts/{txid}/codes", `{"code":"  welcome10 "}`)
	tot := totals(r)
	// 990.00 untaxed, 10 % off = 99.00, VAT-EDU 5.5 % on 891.00 = 49.01 (rounded half away).
	if tot["discount"] != 9900 || tot["taxes"] != 4901 || tot["final"] != 89100+4901 {
		t.Errorf("totals with WELCOME10 = %v", tot)
	}
}

// Two buyers' windows editing one cart at once: each command is its own conditional
// update on its own path, so no edit is lost.
func TestConcurrentEditsLoseNoUpdate(t *testing.T) {
	b := newBuyer(t)
	codes := []string{"GO-101", "STUDENT-PLUS", "EXTEND-30", "CERT-GO", "CREDITS-100", "SEC-201-SEATS", "COURSE-SPACE", "GO-BUNDLE"}
	var wg sync.WaitGroup
	for _, code := range codes {
		wg.Add(1)
		go func(code string) {
			defer wg.Done()
			if r := b.do("PUT", "/carts/{txid}/lines/"+code, `{"quantity":1}`); r.status != 200 {
				t.Errorf("PUT %s = %d %s", code, r.status, r.raw)
			}
		}(code)
	}
	wg.Wait()
	r := b.must(200, "GET", "/carts/{txid}", "")
	if got := lines(r); len(got) != len(codes) {
		t.Errorf("after %d concurrent edits the cart has %d lines: %v", len(codes), len(got), got)
	}
	if v := r.body["version"].(float64); v != float64(1+len(codes)) {
		t.Errorf("version = %v, want %d (one per edit)", v, 1+len(codes))
	}
}

func TestPrefillWithAutodrive(t *testing.T) {
	c := cloudtest.Start(t)
	r := call(t, "GET", c.APIURL+"/shop/prefill?GO-101=1&SEC-201-SEATS=5&NOPE=2&partner=acme&autodrive=1", "", "")
	if r.status != http.StatusFound {
		t.Fatalf("prefill = %d %s", r.status, r.raw)
	}
	loc := r.header.Get("Location")
	u, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(u.Fragment, "/prefill?") {
		t.Fatalf("Location = %q, want the storefront's #/prefill", loc)
	}
	q, _ := url.ParseQuery(strings.TrimPrefix(u.Fragment, "/prefill?"))
	if q.Get("unknown") != "NOPE" || q.Get("autodrive") != "1" || q.Get("tx") == "" || q.Get("token") == "" {
		t.Errorf("fragment = %q, want tx, token, unknown=NOPE, autodrive=1", u.Fragment)
	}
	b := &buyer{t: t, Client: storefront.Client{API: c.APIURL, HTTP: noRedirect, TxID: q.Get("tx"), Token: q.Get("token")}}
	cart := b.must(200, "GET", "/carts/{txid}", "")
	if got := lines(cart); got["GO-101"] != 1 || got["SEC-201-SEATS"] != 5 || len(got) != 2 {
		t.Errorf("prefilled lines = %v", got)
	}
	if cart.body["partner"] != "acme" {
		t.Errorf("partner = %v, want acme", cart.body["partner"])
	}
}

// The whole sequence with back-and-forth navigation, required data and seats, then a
// double placement and an edit after placement.
func TestSequenceToPlacement(t *testing.T) {
	b := newBuyer(t)
	b.must(200, "PUT", "/carts/{txid}/lines/SEC-201-SEATS", `{"quantity":2}`)
	r := b.must(200, "PUT", "/carts/{txid}/lines/COURSE-SPACE", `{"quantity":1}`)
	if s := step(r, "PURCHASEREQUIS"); s["applies"] != true || s["complete"] != false {
		t.Errorf("PURCHASEREQUIS = %v, want applies and incomplete", s)
	}
	if s := step(r, "USERS"); s["applies"] != true || s["complete"] != false {
		t.Errorf("USERS = %v, want applies and incomplete", s)
	}
	bad := b.do("PUT", "/carts/{txid}/requirements", `{"requirements":{"COURSE-SPACE":[{"shortname":"ab","fullname":"Team space","format":"days"}]}}`)
	if bad.status != 200 || !strings.Contains(fmt.Sprint(step(bad, "PURCHASEREQUIS")["missing"]), "COURSE-SPACE[1].shortname") || !strings.Contains(fmt.Sprint(step(bad, "PURCHASEREQUIS")["missing"]), "COURSE-SPACE[1].format") {
		t.Errorf("per-unit errors not reported by field: %s", bad.raw)
	}
	b.must(200, "PUT", "/carts/{txid}/requirements", `{"requirements":{"COURSE-SPACE":[{"shortname":"TEAM-1","fullname":"Team space","format":"weeks"}]}}`)
	// Back to SHOP: removing the line takes its required data with it.
	r = b.must(200, "DELETE", "/carts/{txid}/lines/COURSE-SPACE", "")
	if s := step(r, "PURCHASEREQUIS"); s["applies"] != false {
		t.Errorf("PURCHASEREQUIS still applies after removing its item: %v", s)
	}
	seats := `{"participants":[
		{"email":"Bob@Example.com","lastName":"martin","firstName":"bob","city":"Lyon"},
		{"email":"eve@example.com","lastName":"durand","firstName":"eve","city":"Lyon"},
		{"email":"boss@example.com","lastName":"petit","firstName":"anne","city":"Lyon"}],
		"seats":[{"code":"SEC-201-SEATS","role":"student","email":"bob@example.com"},
		{"code":"SEC-201-SEATS","role":"student","email":"EVE@example.com"},
		{"code":"SEC-201-SEATS","role":"supervisor","email":"boss@example.com"}]}`
	r = b.must(200, "PUT", "/carts/{txid}/seats", seats)
	if s := step(r, "USERS"); s["complete"] != true {
		t.Errorf("USERS = %v after assigning every seat", s)
	}
	if p := r.body["participants"].([]any)[0].(map[string]any); p["email"] != "bob@example.com" || p["lastName"] != "Martin" {
		t.Errorf("participant not normalised: %v", p)
	}
	// Back to SHOP: a third seat bought makes USERS incomplete again.
	r = b.must(200, "PUT", "/carts/{txid}/lines/SEC-201-SEATS", `{"quantity":3}`)
	if s := step(r, "USERS"); s["complete"] != false {
		t.Errorf("USERS complete with 2 of 3 seats assigned: %v", s)
	}
	r = b.do("POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"test"}`)
	if r.status != 422 || !strings.Contains(r.fields(), "USERS") || !strings.Contains(r.fields(), "CUSTOMER") {
		t.Fatalf("incomplete placement = %d %s, want 422 naming USERS and CUSTOMER", r.status, r.raw)
	}
	b.must(200, "PUT", "/carts/{txid}/lines/SEC-201-SEATS", `{"quantity":2}`)
	b.must(200, "PUT", "/carts/{txid}/customer", customerJSON)
	review := b.must(200, "GET", "/carts/{txid}/order", "")
	if review.body["terms"].(map[string]any)["shop"] == "" || fmt.Sprint(review.body["paymodes"]) == "[]" {
		t.Errorf("review lacks terms or payment modes: %s", review.raw)
	}
	if r := b.do("POST", "/carts/{txid}/order", `{"acceptTerms":false,"paymode":"test"}`); r.status != 422 || !strings.Contains(r.fields(), "acceptTerms") {
		t.Errorf("placement without accepting terms = %d %s", r.status, r.raw)
	}
	if r := b.do("POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"freeorder"}`); r.status != 422 || !strings.Contains(r.fields(), "paymode") {
		t.Errorf("freeorder on a paying order = %d %s", r.status, r.raw)
	}
	first := b.must(201, "POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"check"}`)
	order := first.body["order"].(map[string]any)
	if order["transactionId"] != b.TxID || order["totals"].(map[string]any)["final"].(float64) != totals(review)["final"] {
		t.Errorf("placed order %v does not match the review totals %v", order["totals"], totals(review))
	}
	again := b.must(200, "POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"check"}`)
	if again.body["order"].(map[string]any)["placedAt"] != order["placedAt"] {
		t.Errorf("second placement made another order: %s", again.raw)
	}
	if r := b.do("PUT", "/carts/{txid}/lines/GO-101", `{"quantity":1}`); r.status != 409 {
		t.Errorf("edit after placement = %d %s, want 409", r.status, r.raw)
	}
}

// Concurrent placements of one cart make one order.
func TestConcurrentPlacementsMakeOneOrder(t *testing.T) {
	b := newBuyer(t)
	b.must(200, "PUT", "/carts/{txid}/lines/GO-101", `{"quantity":1}`)
	b.must(200, "PUT", "/carts/{txid}/customer", customerJSON)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	placedAt := map[string]bool{}
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := b.do("POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"check"}`)
			mu.Lock()
			defer mu.Unlock()
			statuses[r.status]++
			if o, ok := r.body["order"].(map[string]any); ok {
				placedAt[fmt.Sprint(o["placedAt"])] = true
			}
		}()
	}
	wg.Wait()
	if statuses[201] != 1 || statuses[201]+statuses[200]+statuses[409] != 8 || len(placedAt) != 1 {
		t.Errorf("statuses = %v, orders seen = %v; want exactly one 201 and one order", statuses, placedAt)
	}
}

// An item for existing customers only: refused to a first-time buyer, sold once the
// same e-mail has an account from an earlier order.
func TestAudienceCustomersOnly(t *testing.T) {
	email := strings.ToLower(fmt.Sprintf("learner-%d@example.com", time.Now().UnixNano()))
	customer := strings.Replace(customerJSON, "Ada.Lovelace@Example.com", email, 1)
	first := newBuyer(t)
	first.must(200, "PUT", "/carts/{txid}/lines/TUTOR-HOUR", `{"quantity":1}`)
	first.must(200, "PUT", "/carts/{txid}/customer", customer)
	if r := first.do("POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"check"}`); r.status != 422 || !strings.Contains(r.raw, "existing customers") {
		t.Fatalf("first-time buyer placing a customers-only item = %d %s, want 422", r.status, r.raw)
	}
	if r := first.do("PUT", "/carts/{txid}/lines/GO-101", `{"quantity":1}`); r.status != 200 {
		t.Fatalf("the refused cart must stay editable: %d %s", r.status, r.raw)
	}
	first.must(200, "DELETE", "/carts/{txid}/lines/TUTOR-HOUR", "")
	first.must(201, "POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"check"}`)
	// Prepay production created this new buyer's learning account: they are welcomed once.
	welcomed := 0
	for i := 0; i < 50 && welcomed == 0; i++ {
		for _, subject := range mailTo(t, cloudtest.Start(t), email, first.TxID) {
			if strings.Contains(subject, "account has been created") {
				welcomed++
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if welcomed != 1 {
		t.Errorf("AccountCreated e-mails to %s = %d, want 1", email, welcomed)
	}

	again := newBuyer(t)
	again.must(200, "PUT", "/carts/{txid}/lines/TUTOR-HOUR", `{"quantity":2}`)
	again.must(200, "PUT", "/carts/{txid}/customer", customer)
	again.must(201, "POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"check"}`)
}
