package purchase_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// A line reads the same in the cart the storefront shows and in the order placement
// freezes: the same names, in the same order, for what the two share (docs/api.md).
func TestLineJSONOfTheCartAndTheOrder(t *testing.T) {
	p := newPlacement(t)
	var cart struct{ Lines []json.RawMessage }
	resp := p.serve("GET /carts/{txid}", "", apiDomain, "")
	if err := json.Unmarshal([]byte(resp.Body), &cart); err != nil {
		t.Fatalf("cart = %d %s: %v", resp.StatusCode, resp.Body, err)
	}
	p.mustServe("POST /carts/{txid}/order", "", `{"acceptTerms":true,"paymode":"check"}`)
	o, err := p.st.GetOrder(context.Background(), p.tx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(cart.Lines) != 1 || len(o.Lines) != 1 {
		t.Fatalf("cart lines %s, order lines %+v: want one each", cart.Lines, o.Lines)
	}
	for _, c := range []struct {
		what, got, want string
	}{
		{"the cart's line", string(cart.Lines[0]),
			`{"code":"GO-101","name":"Go for beginners (self-paced)","quantity":1,"unitPrice":19900,"untaxed":19900,"discount":0,` +
				`"taxCode":"VAT-EDU","taxRateBp":550,"tax":1095,"total":20995}`},
		// The order's line goes on with the catalog item as sold, left out here.
		{"the order's line", strings.Split(jsonText(t, o.Lines[0]), `,"item":`)[0],
			`{"id":"L01","code":"GO-101","name":"Go for beginners (self-paced)","quantity":1,"unitPrice":19900,"untaxed":19900,"discount":0,` +
				`"taxCode":"VAT-EDU","taxRateBp":550,"tax":1095,"taxed":20995,"handler":"enrol","handlerParams":{"course":"GO-101","duration":"180","role":"student"}`},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.what, c.got, c.want)
		}
	}
}
