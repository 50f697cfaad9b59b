package purchase_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/purchase"
	"github.com/lmsshop/checkout/internal/seed"
)

// TestPlacementNeedsTheStepsTheListLeavesOut: a shop whose step list is only SHOP,
// CUSTOMER, ORDER still refuses (422) an order with seats nobody was assigned to or data
// nobody entered, naming them, and writes no order; the cart's steps show the step the
// buyer still has to fill.
func TestPlacementNeedsTheStepsTheListLeavesOut(t *testing.T) {
	shop, cats, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	shop.Steps = []string{checkout.StepShop, checkout.StepCustomer, checkout.StepOrder}
	// The demo shop, saved again with the short list.
	svc, st, _ := demoPurchase(t, &starter{})
	ctx := context.Background()
	if err := st.SaveShop(ctx, shop, cats); err != nil {
		t.Fatal(err)
	}
	svc.Shops.Invalidate()
	wf := svc.Workflow.(*starter)
	rt := httpapi.NewRouter(nil)
	for _, reg := range []func(*httpapi.Router){svc.RegisterShop, svc.RegisterCustomer, svc.RegisterOrder} {
		reg(rt)
	}
	serve := server(t, rt)
	const customer = `{"email":"a@example.com","lastName":"A","firstName":"B","address":"1 rue","zip":"75001","city":"Paris","country":"FR"}`

	tests := []struct {
		name      string
		codes     []string
		wantSteps string
		want      string // the fields of the refusal
	}{
		{"seats", []string{"SEC-201-SEATS"}, "SHOP,CUSTOMER,USERS,ORDER", "USERS:SEC-201-SEATS.student,USERS:SEC-201-SEATS.supervisor"},
		{"required data", []string{"COURSE-SPACE"}, "SHOP,CUSTOMER,PURCHASEREQUIS,ORDER",
			"PURCHASEREQUIS:COURSE-SPACE[1].shortname,PURCHASEREQUIS:COURSE-SPACE[1].fullname,PURCHASEREQUIS:COURSE-SPACE[1].format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c purchase.Created
			if err := json.Unmarshal([]byte(serve("POST /carts", "", "", "", "").Body), &c); err != nil {
				t.Fatal(err)
			}
			var r httpapi.Response
			for _, code := range tt.codes {
				if r = serve("PUT /carts/{txid}/lines/{code}", c.TransactionID, code, c.CartToken, `{"quantity":1}`); r.StatusCode != http.StatusOK {
					t.Fatalf("add %s: %d %s", code, r.StatusCode, r.Body)
				}
			}
			if r = serve("PUT /carts/{txid}/customer", c.TransactionID, "", c.CartToken, customer); r.StatusCode != http.StatusOK {
				t.Fatalf("customer: %d %s", r.StatusCode, r.Body)
			}
			var view struct {
				Steps []checkout.StepState `json:"steps"`
			}
			if err := json.Unmarshal([]byte(r.Body), &view); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range view.Steps {
				names = append(names, s.Name)
			}
			if g := strings.Join(names, ","); g != tt.wantSteps {
				t.Errorf("the cart's steps are %q, want %q", g, tt.wantSteps)
			}

			before := wf.n
			r = serve("POST /carts/{txid}/order", c.TransactionID, "", c.CartToken, `{"acceptTerms":true,"paymode":"check"}`)
			if r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("placement = %d %s, want 422", r.StatusCode, r.Body)
			}
			// The body is the APIs' one error body: kind incomplete, what is missing.
			var p checkout.Problem
			if err := json.Unmarshal([]byte(r.Body), &p); err != nil || p.Error == nil {
				t.Fatalf("placement answered %s: %v", r.Body, err)
			}
			missing := make([]string, len(p.Error.Fields))
			for i, f := range p.Error.Fields {
				missing[i] = f.Field
			}
			if g := strings.Join(missing, ","); p.Error.Code != checkout.EINCOMPLETE || g != tt.want {
				t.Errorf("refused as %s for %q, want %s for exactly %q", p.Error.Code, g, checkout.EINCOMPLETE, tt.want)
			}
			if _, o, err := st.CartAndOrder(ctx, c.TransactionID, checkout.HashToken(c.CartToken)); err != nil || o != nil {
				t.Errorf("after a refused placement: order %v, err %v; want none", o, err)
			}
			if wf.n != before {
				t.Errorf("a workflow was started for a refused placement")
			}
		})
	}
}
