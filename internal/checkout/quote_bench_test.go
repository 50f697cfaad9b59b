package checkout_test

import (
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/pricing"
	"github.com/lmsshop/checkout/internal/seed"
)

func BenchmarkQuoteDemoCart(b *testing.B) {
	shop, cats, err := seed.Demo()
	if err != nil {
		b.Fatal(err)
	}
	cat := checkout.Merge(&checkout.Catalog{}, cats[0])
	c := &checkout.Cart{Lines: []checkout.Line{{Code: "GO-101", Quantity: 1}, {Code: "SEC-201-SEATS", Quantity: 5}}, Codes: []string{"WELCOME10"}}
	now := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := checkout.Quote(shop, cat, c, pricing.Context{}, now); err != nil {
			b.Fatal(err)
		}
	}
}
