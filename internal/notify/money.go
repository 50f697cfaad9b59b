package notify

import (
	"fmt"

	"github.com/lmsshop/checkout/internal/pricing"
)

// MinorDigits reports how many decimals the currency's minor unit has (0 for
// JPY, 3 for KWD, 2 for most), or an error when currency is not an ISO 4217
// shaped code (three upper-case letters): pricing.MinorDigits.
func MinorDigits(currency string) (int, error) {
	d, err := pricing.MinorDigits(currency)
	if err != nil {
		return 0, fmt.Errorf("notify: %w", err)
	}
	return d, nil
}

// FormatMoney renders an amount held in minor units (cents) for a reader of
// lang: "€1,234.50" in English, "1 234,50 €" in French (with non-breaking
// spaces): pricing.FormatMoney. A malformed currency code is written as
// given, since a notification should still go out (Render validates
// currencies before it gets here).
func FormatMoney(minor int64, currency, lang string) string {
	return pricing.FormatMoney(minor, currency, lang)
}
