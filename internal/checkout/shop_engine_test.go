package checkout

import (
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/pricing"
)

// A shop shared by ShopCache prices every quote with the engine built once for it; a
// copy of the shop with other taxes prices with its own, and an invalid configuration
// is still reported by Quote.
func TestPreparedPricingEngine(t *testing.T) {
	cfg := func(rate pricing.BasisPoints) pricing.Config {
		return pricing.Config{Taxes: pricing.TaxTable{ShopCountry: "FR", Taxes: []pricing.Tax{{Code: "VAT", Ratio: rate}}}}
	}
	cat := &Catalog{Items: []Item{{Code: "GO-101", TaxCode: "VAT", Tiers: []Tier{{UnitPrice: 10000}}}}}
	cart := &Cart{Lines: []Line{{Code: "GO-101", Quantity: 1}}}
	at := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		shop     func() *Shop
		wantTax  int64
		wantErr  bool
		prepared bool // the quote uses the engine PreparePricing built
	}{
		{"prepared", func() *Shop { s := &Shop{Pricing: cfg(2000)}; s.PreparePricing(); return s }, 2000, false, true},
		{"not prepared", func() *Shop { return &Shop{Pricing: cfg(2000)} }, 2000, false, false},
		{"copy with other taxes", func() *Shop {
			s := &Shop{Pricing: cfg(2000)}
			s.PreparePricing()
			c := *s
			c.Pricing = cfg(550)
			return &c
		}, 550, false, false},
		{"invalid", func() *Shop { s := &Shop{Pricing: cfg(-1)}; s.PreparePricing(); return s }, 0, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.shop()
			q, err := Quote(s, cat, cart, pricing.Context{}, at)
			if tc.wantErr {
				if err == nil {
					t.Fatal("quote of an invalid pricing configuration succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := int64(q.Totals.Taxes); got != tc.wantTax {
				t.Errorf("taxes = %d, want %d", got, tc.wantTax)
			}
			e1, _ := s.pricingEngine()
			e2, _ := s.pricingEngine()
			if (e1 == e2) != tc.prepared {
				t.Errorf("same engine on two quotes = %v, want %v", e1 == e2, tc.prepared)
			}
		})
	}
}
