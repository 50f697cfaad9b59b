package archtest

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/pricing"
	"github.com/lmsshop/checkout/internal/production"
)

// docs/spec.md's tables of names list exactly what the code knows: a handler, a payment
// mode or a discount kind added or renamed in code without the spec (or the reverse)
// fails here.
func TestSpecTablesNameWhatTheCodeKnows(t *testing.T) {
	doc, err := os.ReadFile("../../docs/spec.md")
	if err != nil {
		t.Fatal(err)
	}
	var handlers []string
	for name := range production.Handlers(nil, nil, nil) {
		handlers = append(handlers, name)
	}
	var statuses []string
	for _, s := range checkout.Statuses {
		statuses = append(statuses, string(s))
	}
	tests := []struct {
		heading string // the section whose first table is checked
		code    []string
	}{
		{"## Statuses and transitions", statuses},
		{"## Payment modes", []string{checkout.PaymodeTest, checkout.PaymodeFreeOrder, checkout.PaymodeCheck,
			checkout.PaymodeTransfer, checkout.PaymodePayPal, checkout.PaymodeStripe, checkout.PaymodeSystempay}},
		{"## Production and product handlers", handlers},
		{"### Discounts", kindNames(pricing.KindUnconditional, pricing.KindPromoCode, pricing.KindMultiCodes,
			pricing.KindPartnerCodes, pricing.KindMinAmount, pricing.KindBuyerCapability, pricing.KindBuyerInstitution,
			pricing.KindMinEarlierOrders, pricing.KindPartner, pricing.KindCustomer, pricing.KindPartnerMinOrders,
			pricing.KindPartnerMinRevenue)},
	}
	for _, tt := range tests {
		t.Run(tt.heading, func(t *testing.T) {
			got := firstColumn(t, string(doc), tt.heading)
			want := slices.Clone(tt.code)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("docs/spec.md's table under %q names %v; the code knows %v", tt.heading, got, want)
			}
		})
	}
}

func kindNames(ks ...pricing.Kind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

// firstColumn returns the backquoted names of the first column of the first table under
// heading, before the next heading.
func firstColumn(t *testing.T, doc, heading string) []string {
	t.Helper()
	_, section, ok := strings.Cut(doc, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("docs/spec.md has no heading %q", heading)
	}
	var names []string
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "#") || (names != nil && !strings.HasPrefix(line, "|")) {
			break
		}
		cell, _, _ := strings.Cut(strings.TrimPrefix(line, "| "), " |")
		if strings.HasPrefix(line, "| `") {
			names = append(names, strings.Trim(cell, "`"))
		}
	}
	return names
}
