package pricing_test

import (
	"math"
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

// FormatMoney writes an amount for a reader of the e-mails and the pages, in integer
// arithmetic to the extremes of int64.
func TestFormatMoney(t *testing.T) {
	const sp = "\u00a0" // the non-breaking space French formatting uses
	tests := []struct {
		minor    int64
		currency string
		lang     string
		want     string
	}{
		{123450, "EUR", "en", "€1,234.50"},
		{123450, "EUR", "fr", "1" + sp + "234,50" + sp + "€"},
		{0, "EUR", "en", "€0.00"},
		{5, "EUR", "fr", "0,05" + sp + "€"},
		{99, "GBP", "en", "£0.99"},
		{-2500, "EUR", "fr", "-25,00" + sp + "€"},
		{-2500, "USD", "en", "-$25.00"},
		{100000, "EUR", "en", "€1,000.00"},
		{99999, "EUR", "en", "€999.99"},
		{123456, "JPY", "en", "¥123,456"},
		{123456, "JPY", "fr", "123" + sp + "456" + sp + "¥"},
		{1234567, "KWD", "en", "KWD" + sp + "1,234.567"},
		{1234567, "KWD", "fr", "1" + sp + "234,567" + sp + "KWD"},
		{100, "CHF", "fr", "1,00" + sp + "CHF"},
		{100, "CHF", "en", "CHF" + sp + "1.00"},
		{1234567890123, "USD", "en", "$12,345,678,901.23"},
		{math.MaxInt64, "EUR", "en", "€92,233,720,368,547,758.07"},
		{math.MinInt64, "EUR", "en", "-€92,233,720,368,547,758.08"},
		{150, "EUR", "de", "€1.50"}, // unknown language: English
	}
	for _, tt := range tests {
		if got := pricing.FormatMoney(tt.minor, tt.currency, tt.lang); got != tt.want {
			t.Errorf("FormatMoney(%d, %s, %s) = %q, want %q", tt.minor, tt.currency, tt.lang, got, tt.want)
		}
	}
}

func TestMinorDigits(t *testing.T) {
	tests := []struct {
		currency string
		want     int
		wantErr  bool
	}{
		{"EUR", 2, false},
		{"JPY", 0, false},
		{"KWD", 3, false},
		{"XYZ", 2, false}, // well formed, unlisted: the ISO default
		{"eur", 0, true},
		{"EU", 0, true},
		{"E1R", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := pricing.MinorDigits(tt.currency)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("MinorDigits(%q) = %d, %v; want %d, error %v", tt.currency, got, err, tt.want, tt.wantErr)
		}
	}
}
