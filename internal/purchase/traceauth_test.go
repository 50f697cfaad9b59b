package purchase_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/purchase"
)

// TestTraceOnlyForTheCartHolder: someone who knows a transaction ID (it is in e-mails
// and on provider pages) but not its cart token is refused, and the cart's merchant
// trace gains no line from it; the holder's commands and refusals are traced.
func TestTraceOnlyForTheCartHolder(t *testing.T) {
	ctx := context.Background()
	svc, st, _ := demoPurchase(t, &starter{})
	rt := httpapi.NewRouter(nil)
	for _, reg := range []func(*httpapi.Router){svc.RegisterShop, svc.RegisterCustomer, svc.RegisterOrder} {
		reg(rt)
	}
	serve := server(t, rt)
	var created purchase.Created
	if err := json.Unmarshal([]byte(serve("POST /carts", "", "", "", "").Body), &created); err != nil {
		t.Fatal(err)
	}
	tx, tok := created.TransactionID, created.CartToken
	lines := func() []string {
		t.Helper()
		ls, err := st.ListTrace(ctx, tx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range ls {
			out = append(out, l.Message)
		}
		return out
	}
	before := lines()

	stranger := "x" + tok[1:] // well-formed, not the cart's
	attempts := []struct {
		route, code, body string
	}{
		{"PUT /carts/{txid}/lines/{code}", "GO-101", `{"quantity":1}`},
		{"DELETE /carts/{txid}/lines/{code}", "GO-101", ``},
		{"POST /carts/{txid}/codes", "", `{"code":"WELCOME10"}`},
		{"DELETE /carts/{txid}/codes/{code}", "WELCOME10", ``},
		{"POST /carts/{txid}/unlock", "", `{"code":"PM-301-VIP","password":"forged line"}`},
		{"PUT /carts/{txid}/customer", "", `{"email":"a@example.com","lastName":"A","firstName":"B","address":"1 rue","zip":"75001","city":"Paris","country":"FR"}`},
		{"POST /carts/{txid}/order", "", `{"acceptTerms":true,"paymode":"check"}`},
	}
	for _, a := range attempts {
		if resp := serve(a.route, tx, a.code, stranger, a.body); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s with another token = %d %s, want 403", a.route, resp.StatusCode, resp.Body)
		}
	}
	if after := lines(); len(after) != len(before) {
		t.Fatalf("trace grew from callers without the cart token: %q", after[len(before):])
	}

	// The holder's command and refusal are both traced.
	if resp := serve("PUT /carts/{txid}/lines/{code}", tx, "GO-101", tok, `{"quantity":1}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("holder's command = %d %s", resp.StatusCode, resp.Body)
	}
	if resp := serve("POST /carts/{txid}/unlock", tx, "", tok, `{"code":"PM-301-VIP","password":"nope"}`); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("wrong password = %d %s, want 403", resp.StatusCode, resp.Body)
	}
	got := strings.Join(lines()[len(before):], "\n")
	for _, want := range []string{"GO-101 quantity 1", "wrong password for PM-301-VIP"} {
		if !strings.Contains(got, want) {
			t.Errorf("holder's trace %q lacks %q", got, want)
		}
	}
}
