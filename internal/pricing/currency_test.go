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

// FormatPlain is the one plain formatter (traces, the bill page, shopctl): the ISO
// decimals and the code, or minor units said as such when the code is not ISO-shaped.
func TestFormatPlain(t *testing.T) {
	type amount struct {
		minor    int64
		currency string
	}
	for want, in := range map[string]amount{
		"1234.50 EUR":               {123450, "EUR"},
		"123.45 EUR":                {12345, "EUR"},
		"0.05 EUR":                  {5, "EUR"},
		"-1.50 USD":                 {-150, "USD"},
		"12.345 KWD":                {12345, "KWD"},
		"-92233720368547758.08 EUR": {-9223372036854775808, "EUR"},
		"1235 JPY":                  {1235, "JPY"},
		"1234.567 KWD":              {1234567, "KWD"},
		"-0.05 EUR":                 {-5, "EUR"},
		"0.00 USD":                  {0, "USD"},
		"123.45 XTS":                {12345, "XTS"}, // ISO-shaped but not in the table: ISO's default 2 decimals
		"42 (minor units)":          {42, ""},
		"42 (minor units) eur":      {42, "eur"},
	} {
		if got := pricing.FormatPlain(in.minor, in.currency); got != want {
			t.Errorf("FormatPlain(%d, %q) = %q, want %q", in.minor, in.currency, got, want)
		}
	}
}
