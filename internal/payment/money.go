package payment

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lmsshop/checkout/internal/pricing"
)

// FormatAmount renders amount minor units of cur as a decimal string with
// exactly the currency's number of decimals ("12.34" for 1234 EUR, "1234" for
// 1234 JPY), using integer arithmetic only.
func FormatAmount(amount int64, cur string) (string, error) {
	c, ok := pricing.AcceptedCurrency(cur)
	if !ok {
		return "", fmt.Errorf("payment: unsupported currency %q", cur)
	}
	return pricing.FormatDecimal(amount, c.Digits), nil
}

// ParseAmount converts a decimal string such as "12.34" into minor units of
// cur without going through floating point. It accepts an optional leading
// "-", at least one integer digit, and at most the currency's number of
// decimals (further decimals are accepted only if they are zeros, since some
// providers print "1000.00" for yen).
func ParseAmount(s, cur string) (int64, error) {
	c, ok := pricing.AcceptedCurrency(cur)
	if !ok {
		return 0, fmt.Errorf("payment: unsupported currency %q", cur)
	}
	orig := s
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || !allDigits(intPart) || (hasDot && (frac == "" || !allDigits(frac))) {
		return 0, fmt.Errorf("payment: amount %q is not a decimal number", orig)
	}
	if len(frac) > c.Digits {
		if strings.Trim(frac[c.Digits:], "0") != "" {
			return 0, fmt.Errorf("payment: amount %q has more than %d decimals for %s", orig, c.Digits, cur)
		}
		frac = frac[:c.Digits]
	}
	frac += strings.Repeat("0", c.Digits-len(frac))
	v, err := strconv.ParseInt(intPart+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("payment: amount %q out of range: %w", orig, err)
	}
	if neg {
		v = -v
	}
	return v, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// accepted reports whether shops may sell in the currency (pricing's table).
func accepted(cur string) bool {
	_, ok := pricing.AcceptedCurrency(cur)
	return ok
}

// numericCode is the ISO 4217 numeric code of an accepted currency, "" for another.
func numericCode(cur string) string {
	c, _ := pricing.AcceptedCurrency(cur)
	return c.Numeric
}
