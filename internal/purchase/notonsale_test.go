package purchase_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/purchase"
	"github.com/lmsshop/checkout/internal/vies"
	"github.com/lmsshop/checkout/internal/vies/viestest"
)

// TestPlacementRefusesWhatIsNotOnSale: an item suspended or withdrawn after it entered
// the cart, or an empty cart, makes placement answer 422 naming the lines, and no order
// is written.
func TestPlacementRefusesWhatIsNotOnSale(t *testing.T) {
	ctx := context.Background()
	svc, st, shop := demoPurchase(t, &starter{})
	shops, wf := svc.Shops, svc.Workflow.(*starter)
	rt := httpapi.NewRouter(nil)
	for _, reg := range []func(*httpapi.Router){svc.RegisterShop, svc.RegisterCustomer, svc.RegisterOrder} {
		reg(rt)
	}
	serve := server(t, rt)
	const customer = `{"email":"a@example.com","lastName":"A","firstName":"B","address":"1 rue","zip":"75001","city":"Paris","country":"FR"}`
	cart := func(codes ...string) (string, string) {
		t.Helper()
		var c purchase.Created
		if err := json.Unmarshal([]byte(serve("POST /carts", "", "", "", "").Body), &c); err != nil {
			t.Fatal(err)
		}
		for _, code := range codes {
			if r := serve("PUT /carts/{txid}/lines/{code}", c.TransactionID, code, c.CartToken, `{"quantity":1}`); r.StatusCode != http.StatusOK {
				t.Fatalf("add %s: %d %s", code, r.StatusCode, r.Body)
			}
		}
		if r := serve("PUT /carts/{txid}/customer", c.TransactionID, "", c.CartToken, customer); r.StatusCode != http.StatusOK {
			t.Fatalf("customer: %d %s", r.StatusCode, r.Body)
		}
		return c.TransactionID, c.CartToken
	}
	_, cat, err := shops.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	setStatus := func(code string, s checkout.ItemStatus) {
		t.Helper()
		it, _ := cat.Item(code)
		cp := *it
		cp.Status = s
		if err := st.PutCatalogItem(ctx, shop.ID, shop.CatalogID, &cp); err != nil {
			t.Fatal(err)
		}
		shops.Invalidate()
	}
	withdraw := func(code string) {
		t.Helper()
		if _, err := st.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(st.Table), Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "SHOP#" + shop.ID},
			"sk": &types.AttributeValueMemberS{Value: "CATALOG#" + shop.CatalogID + "#ITEM#" + code}}}); err != nil {
			t.Fatal(err)
		}
		shops.Invalidate()
	}

	suspended, tokS := cart("GO-101", "CREDITS-100")
	withdrawn, tokW := cart("GO-101", "STUDENT-PLUS")
	empty, tokE := cart()
	setStatus("CREDITS-100", checkout.StatusSuspended)
	withdraw("STUDENT-PLUS")

	tests := []struct {
		name, txid, token, paymode, want string
	}{
		{"suspended item", suspended, tokS, "check", "SHOP:lines.CREDITS-100"},
		{"withdrawn item", withdrawn, tokW, "check", "SHOP:lines.STUDENT-PLUS"},
		// 0 lines make 0 to pay: the free mode is the one offered, and still refused.
		{"empty cart", empty, tokE, "freeorder", "SHOP:lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := wf.n
			r := serve("POST /carts/{txid}/order", tt.txid, "", tt.token, `{"acceptTerms":true,"paymode":"`+tt.paymode+`"}`)
			if r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("placement = %d %s, want 422", r.StatusCode, r.Body)
			}
			var body struct {
				Error struct {
					Fields []checkout.FieldError `json:"fields"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
				t.Fatal(err)
			}
			var fields []string
			for _, f := range body.Error.Fields {
				fields = append(fields, f.Field)
			}
			if strings.Join(fields, ",") != tt.want {
				t.Errorf("fields %v, want exactly [%s]", fields, tt.want)
			}
			if _, o, err := st.CartAndOrder(ctx, tt.txid, checkout.HashToken(tt.token)); err != nil || o != nil {
				t.Errorf("after a refused placement: order %v, err %v; want none", o, err)
			}
			if wf.n != before {
				t.Errorf("a workflow was started for a refused placement")
			}
		})
	}
}

// TestVATNumberOfAnotherCountryIsRefused: a French invoicing address with a German VAT
// number is refused with the reason, and the cart is left as it was; the number of the
// invoicing country is taken and removes VAT.
func TestVATNumberOfAnotherCountryIsRefused(t *testing.T) {
	ctx := context.Background()
	fake := viestest.Start(nil)
	defer fake.Close()
	svc, st, _ := demoPurchase(t, &starter{})
	svc.VIES = &vies.Client{URL: fake.URL}
	rt := httpapi.NewRouter(nil)
	svc.RegisterShop(rt)
	svc.RegisterCustomer(rt)
	serve := server(t, rt)
	var c purchase.Created
	if err := json.Unmarshal([]byte(serve("POST /carts", "", "", "", "").Body), &c); err != nil {
		t.Fatal(err)
	}
	serve("PUT /carts/{txid}/lines/{code}", c.TransactionID, "SEC-201-SEATS", c.CartToken, `{"quantity":2}`)
	customer := func(country, vat string) string {
		return `{"email":"a@example.com","lastName":"A","firstName":"B","address":"1 rue","zip":"75001","city":"Paris","country":"FR",` +
			`"invoicing":{"organisation":"Acme","lastName":"A","firstName":"B","address":"1 rue","zip":"75001","city":"Paris","country":"` + country + `","vatNumber":"` + vat + `"}}`
	}
	tests := []struct {
		name, country, vat string
		down               bool // VIES cannot answer for the member state
		want               int
		wantMsg            string
		wantVAT            bool // VAT charged
	}{
		{"French address, German number", "FR", "DE123456788", false, http.StatusBadRequest, "issued in DE, the invoicing address is in FR", true},
		{"German address, wrong check digits", "DE", "DE123456789", false, http.StatusBadRequest, "check digits", true},
		{"German number VIES does not know", "DE", "DE111111125", false, http.StatusBadRequest, "does not know this number", true},
		{"German number, VIES down: VAT charged and said why", "DE", "DE123456788", true, http.StatusOK, "could not confirm this number just now", true},
		{"German address, German number confirmed", "DE", "DE123456788", false, http.StatusOK, `"status":"valid"`, false},
	}
	// A buyer cannot vouch for its own number.
	forged := strings.Replace(customer("DE", "DE123456788"), `"vatNumber"`, `"vatCheck":{"status":"valid"},"vatNumber"`, 1)
	fake.SetDown("DE", true)
	if r := serve("PUT /carts/{txid}/customer", c.TransactionID, "", c.CartToken, forged); r.StatusCode != http.StatusOK || strings.Contains(r.Body, `"taxes":0`) {
		t.Fatalf("a forged vatCheck with VIES down = %d %s, want 200 with VAT charged", r.StatusCode, r.Body)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.SetDown("DE", tt.down)
			before, err := st.GetCart(ctx, c.TransactionID, checkout.HashToken(c.CartToken))
			if err != nil {
				t.Fatal(err)
			}
			r := serve("PUT /carts/{txid}/customer", c.TransactionID, "", c.CartToken, customer(tt.country, tt.vat))
			if r.StatusCode != tt.want || !strings.Contains(r.Body, tt.wantMsg) {
				t.Fatalf("customer = %d %s, want %d mentioning %q", r.StatusCode, r.Body, tt.want, tt.wantMsg)
			}
			after, err := st.GetCart(ctx, c.TransactionID, checkout.HashToken(c.CartToken))
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != http.StatusOK && after.Version != before.Version {
				t.Errorf("a refused customer changed the cart (version %d → %d)", before.Version, after.Version)
			}
			if charged := !strings.Contains(r.Body, `"taxes":0`); tt.want == http.StatusOK && charged != tt.wantVAT {
				t.Errorf("VAT charged: %v, want %v: %s", charged, tt.wantVAT, r.Body)
			}
		})
	}
}
