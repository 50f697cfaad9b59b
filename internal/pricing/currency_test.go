package pricing_test

import (
	"testing"

	"github.com/lmsshop/checkout/internal/pricing"
)

// One table answers both questions: may a shop sell in it, and how many decimals.
func TestCurrencyTable(t *testing.T) {
	for _, tc := range []struct {
		code     string
		accepted bool
		digits   int
	}{
		{"EUR", true, 2}, {"JPY", true, 0}, {"KWD", true, 3},
		{"BIF", false, 0}, {"OMR", false, 3}, {"ARS", false, 2},
	} {
		_, ok := pricing.AcceptedCurrency(tc.code)
		d, err := pricing.MinorDigits(tc.code)
		if ok != tc.accepted || err != nil || d != tc.digits {
			t.Errorf("%s: accepted %v, digits %d, %v; want %v, %d", tc.code, ok, d, err, tc.accepted, tc.digits)
		}
	}
	if code, ok := pricing.AcceptedCurrencyByNumeric("978"); !ok || code != "EUR" {
		t.Errorf("numeric 978 = %q, %v; want EUR", code, ok)
	}
	if _, ok := pricing.AcceptedCurrencyByNumeric("108"); ok {
		t.Error("numeric 108 (BIF) is not accepted, yet found")
	}
	if _, err := pricing.MinorDigits("eur"); err == nil {
		t.Error("MinorDigits(eur): want an error for a lower-case code")
	}
}
