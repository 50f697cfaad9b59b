package notify_test

import (
	"math"
	"testing"

	"github.com/lmsshop/checkout/internal/notify"
)

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
		if got := notify.FormatMoney(tt.minor, tt.currency, tt.lang); got != tt.want {
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
		got, err := notify.MinorDigits(tt.currency)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("MinorDigits(%q) = %d, %v; want %d, error %v", tt.currency, got, err, tt.want, tt.wantErr)
		}
	}
}
