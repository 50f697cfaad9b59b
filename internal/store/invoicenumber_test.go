package store_test

import (
	"context"
	"testing"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/store"
)

// Both ways of numbering an invoice, ahead of completion (NextInvoiceNumber, for an
// order too large for one transaction) and by completion itself, write the one format
// SHOP-YEAR-NNNNNN and take numbers from the same counter, without gaps.
func TestInvoiceNumbersOneFormatOneCounter(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	tests := []struct {
		name string
		bill func(txid string) (string, error)
		want string
	}{
		{"numbered ahead", func(txid string) (string, error) {
			return st.NextInvoiceNumber(ctx, "demo", txid, 2026)
		}, "DEMO-2026-000001"},
		{"numbered by completion", func(txid string) (string, error) {
			o, err := st.GetOrder(ctx, txid, "")
			if err != nil {
				return "", err
			}
			return st.Complete(ctx, o, store.Billing{ShopID: "demo", Year: 2026})
		}, "DEMO-2026-000002"},
		{"numbered ahead again", func(txid string) (string, error) {
			return st.NextInvoiceNumber(ctx, "demo", txid, 2026)
		}, "DEMO-2026-000003"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.bill(placed(t, st, checkout.SoldOut, false))
			if err != nil || got != tt.want {
				t.Errorf("invoice number %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
