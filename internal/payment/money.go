package payment

import (
	"fmt"
	"strconv"
	"strings"
)

// currency is what the providers need to know about an ISO 4217 currency.
type currency struct {
	numeric  string // ISO 4217 numeric code, as Systempay wants it
	exponent int    // digits after the decimal point of the major unit
}

// currencies lists the currencies this checkout accepts. The exponents are
// ISO 4217's: getting one wrong would charge 100 times the price, so the list
// is explicit rather than guessed.
var currencies = map[string]currency{
	"AUD": {"036", 2}, "BHD": {"048", 3}, "BRL": {"986", 2}, "CAD": {"124", 2},
	"CHF": {"756", 2}, "CLP": {"152", 0}, "CNY": {"156", 2}, "CZK": {"203", 2},
	"DKK": {"208", 2}, "EUR": {"978", 2}, "GBP": {"826", 2}, "HKD": {"344", 2},
	"HUF": {"348", 2}, "INR": {"356", 2}, "JPY": {"392", 0}, "KRW": {"410", 0},
	"KWD": {"414", 3}, "MAD": {"504", 2}, "MXN": {"484", 2}, "NOK": {"578", 2},
	"NZD": {"554", 2}, "PLN": {"985", 2}, "SEK": {"752", 2}, "SGD": {"702", 2},
	"TND": {"788", 3}, "USD": {"840", 2}, "VND": {"704", 0}, "XOF": {"952", 0},
	"XPF": {"953", 0}, "ZAR": {"710", 2},
}

// currencyByNumeric maps an ISO 4217 numeric code back to its letters.
var currencyByNumeric = func() map[string]string {
	m := make(map[string]string, len(currencies))
	for code, c := range currencies {
		m[c.numeric] = code
	}
	return m
}()

// FormatAmount renders amount minor units of cur as a decimal string with
// exactly the currency's number of decimals ("12.34" for 1234 EUR, "1234" for
// 1234 JPY), using integer arithmetic only.
func FormatAmount(amount int64, cur string) (string, error) {
	c, ok := currencies[cur]
	if !ok {
		return "", fmt.Errorf("payment: unsupported currency %q", cur)
	}
	sign := ""
	// Work on the magnitude as uint64 so that math.MinInt64 has no overflow.
	mag := uint64(amount)
	if amount < 0 {
		sign = "-"
		mag = -mag
	}
	digits := strconv.FormatUint(mag, 10)
	if c.exponent == 0 {
		return sign + digits, nil
	}
	if len(digits) <= c.exponent {
		digits = strings.Repeat("0", c.exponent-len(digits)+1) + digits
	}
	cut := len(digits) - c.exponent
	return sign + digits[:cut] + "." + digits[cut:], nil
}

// ParseAmount converts a decimal string such as "12.34" into minor units of
// cur without going through floating point. It accepts an optional leading
// "-", at least one integer digit, and at most the currency's number of
// decimals (further decimals are accepted only if they are zeros, since some
// providers print "1000.00" for yen).
func ParseAmount(s, cur string) (int64, error) {
	c, ok := currencies[cur]
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
	if len(frac) > c.exponent {
		if strings.Trim(frac[c.exponent:], "0") != "" {
			return 0, fmt.Errorf("payment: amount %q has more than %d decimals for %s", orig, c.exponent, cur)
		}
		frac = frac[:c.exponent]
	}
	frac += strings.Repeat("0", c.exponent-len(frac))
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
