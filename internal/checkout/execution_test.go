package checkout_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
)

// bigOrder is an order of checkout.MaxLines lines (a cart holds no more), each
// carrying its catalog item as sold with a description of descLen bytes.
func bigOrder(descLen int) *checkout.Order {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	o := &checkout.Order{
		TxID: "TU80WKRYTI9QUMJ4", ShopID: "demo", Status: checkout.Placed, Paymode: "check", Currency: "EUR",
		Customer: checkout.Customer{Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace", Country: "FR", Lang: "en"},
		PlacedAt: now, UpdatedAt: now, APIURL: "https://api.example", TokenHash: "secret-hash",
	}
	for i := range checkout.MaxLines {
		code := "ITEM-" + strings.Repeat("X", 10) + string(rune('A'+i%26)) + string(rune('A'+i/26))
		it := checkout.Item{Code: code, Name: "A course with a long enough name", ShortDescription: strings.Repeat("s", 200),
			Description: strings.Repeat("d", descLen), Terms: strings.Repeat("t", 300), Handler: "enrol",
			HandlerParams: map[string]string{"course": code, "days": "365"}, Tiers: []checkout.Tier{{}}}
		o.Lines = append(o.Lines, checkout.OrderLine{ID: "L" + code,
			PricedLine: checkout.PricedLine{Code: code, Name: it.Name, Quantity: 3, UnitPrice: 12000, Untaxed: 36000}, Taxed: 43200, Handler: "enrol", Params: it.HandlerParams, Item: it})
		o.BillLines = append(o.BillLines, checkout.BillLine{Type: "BILLING", Code: code, Label: it.Name, Quantity: 3, UnitPrice: 12000, Untaxed: 36000})
	}
	return o
}

// The execution input carries the order for the tasks while it is small enough, and
// never reaches Step Functions' 256 KB limit on an input or a state's data: a full
// cart of ordinary items fits; items whose texts are unusually long leave the order
// out, and the tasks read it from the table.
func TestExecutionInputBoundsTheOrder(t *testing.T) {
	shop := &checkout.Shop{ID: "demo", Currency: "EUR"}
	tests := []struct {
		name    string
		descLen int
		carried bool
	}{
		{"full cart of ordinary items", 1000, true},
		{"full cart of items with long descriptions", 4000, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := bigOrder(tc.descLen)
			in := checkout.NewExecutionInput(shop, o)
			raw, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			if len(raw) > 256<<10-64<<10 {
				t.Errorf("execution input is %d bytes: want room under 256 KB for the state's other data", len(raw))
			}
			if (in.Order != nil) != tc.carried {
				t.Fatalf("order carried = %v (input %d bytes), want %v", in.Order != nil, len(raw), tc.carried)
			}
			if strings.Contains(string(raw), "secret-hash") {
				t.Error("the execution input holds the order's token hash, which signs the buyer's links")
			}
			var back struct {
				Order *checkout.Order `json:"order"`
			}
			if err := json.Unmarshal(raw, &back); err != nil {
				t.Fatal(err)
			}
			if tc.carried && (len(back.Order.Lines) != checkout.MaxLines || back.Order.Customer.Email != o.Customer.Email) {
				t.Errorf("the carried order lost its lines or customer: %d lines, %q", len(back.Order.Lines), back.Order.Customer.Email)
			}
			if !tc.carried && !strings.Contains(string(raw), `"order":null`) {
				t.Errorf("an order left out must still be present as null (the state machine's path $.order): %.200s", raw)
			}
		})
	}
}

// ExecutionInput.Encode writes what json.Marshal writes (Step Functions compares a
// replay's input with the first as text), with or without the order, whatever the
// order's texts hold (HTML and non-ASCII characters, which json.Marshal escapes or
// keeps).
func TestExecutionInputEncodesAsJSONMarshal(t *testing.T) {
	shop := &checkout.Shop{ID: "demo", Currency: "EUR"}
	odd := bigOrder(10)
	odd.Lines = odd.Lines[:2]
	odd.Customer.LastName, odd.Lines[0].Item.Description = "Lovelace <ada> & \"Byron\"", "déjà vu \u2028 <b>"
	tests := []struct {
		name string
		o    *checkout.Order
	}{
		{"order carried", bigOrder(1000)},
		{"order left out", bigOrder(4000)},
		{"texts to escape", odd},
		{"an order of no lines", &checkout.Order{TxID: "T1", Paymode: "check"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := checkout.NewExecutionInput(shop, tc.o)
			got, err := in.Encode()
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("Encode =\n%.300s\njson.Marshal =\n%.300s", got, want)
			}
			if in.Order != nil {
				if ordered, _ := json.Marshal(tc.o); string(in.Order) != string(ordered) {
					t.Errorf("the input's order is not the order's JSON: %.300s", in.Order)
				}
			}
		})
	}
}
