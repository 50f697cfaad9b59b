package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
)

// TestSetBodyGivesEveryBodyAttribute: an answer joined in memory (BodyFrom) is the
// order the body's read would give: setBody copies exactly the attributes the body
// holds (bodyAttrs), so an attribute moved to the body cannot be left out of it.
func TestSetBodyGivesEveryBodyAttribute(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	o := &checkout.Order{
		TxID: "TU80WKRYTI9QUMJ4", ShopID: "demo", Status: checkout.Pending, Paymode: "check", Currency: "EUR",
		Lines:        []checkout.OrderLine{{ID: "L01", PricedLine: checkout.PricedLine{Code: "GO-101", Name: "Go", Quantity: 1, UnitPrice: 30000}, Taxed: 36000}},
		BillLines:    []checkout.BillLine{{Type: "BILLING", Code: "GO-101", Label: "Go", Untaxed: 30000}},
		Taxes:        []checkout.TaxLine{{Code: "FR20", RateBP: 2000, Base: 30000, Amount: 6000}},
		Totals:       checkout.Totals{Untaxed: 30000, Taxes: 6000, Final: 36000},
		Mentions:     []string{"VAT paid on receipts"},
		Customer:     checkout.Customer{Email: "ada@example.org", LastName: "L", FirstName: "F", Country: "FR"},
		Participants: []checkout.Participant{{Email: "bob@example.org", LastName: "B", FirstName: "Bob", City: "Lyon"}},
		Seats:        []checkout.Assignment{{Code: "GO-101", Role: "learner", Email: "bob@example.org"}},
		Required:     map[string][]map[string]string{"GO-101": {{"level": "beginner"}}},
		Acceptance:   checkout.Acceptance{ShopTerms: true, ShopText: "terms", AcceptedAt: now},
		Payments:     []checkout.Payment{{Mode: "check", Outcome: "paid", Amount: 36000, Reference: "CHQ-1", At: now}},
		PlacedAt:     now, UpdatedAt: now,
	}
	rec := newOrderRecord(o)
	head, body, err := encodeOrder(&rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range bodyAttrs {
		if body[a] == nil {
			t.Fatalf("the fixture leaves the body's %q empty: give it a value", a)
		}
	}
	read, err := joinOrder(head, body)
	if err != nil {
		t.Fatal(err)
	}
	joined, err := joinOrder(head, nil)
	if err != nil {
		t.Fatal(err)
	}
	if joined.Lines != nil || joined.Required != nil {
		t.Fatalf("the head alone decodes with body attributes: %+v", joined.Order)
	}
	setBody(&joined.Order, o)
	if !reflect.DeepEqual(joined.Order, read.Order) {
		t.Errorf("head + setBody = %+v\nhead + body read = %+v", joined.Order, read.Order)
	}
}
