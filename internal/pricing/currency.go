package pricing

import (
	"fmt"
	"strconv"
	"strings"
)

// Currency is what the checkout knows of an ISO 4217 currency.
type Currency struct {
	Numeric string // ISO 4217 numeric code, as Systempay wants it
	Digits  int    // digits after the decimal point of the major unit
	// Accepted: the payment providers take it and shops may sell in it. The other
	// entries are here for their digits only.
	Accepted bool
}

// currencies is the one table of currencies: those a shop may sell in, and the others
// whose minor unit is not 2 digits. The digits are ISO 4217's: getting one wrong
// would charge 100 times the price, so the list is explicit rather than guessed.
var currencies = map[string]Currency{
	"AUD": {"036", 2, true}, "BHD": {"048", 3, true}, "BRL": {"986", 2, true}, "CAD": {"124", 2, true},
	"CHF": {"756", 2, true}, "CLP": {"152", 0, true}, "CNY": {"156", 2, true}, "CZK": {"203", 2, true},
	"DKK": {"208", 2, true}, "EUR": {"978", 2, true}, "GBP": {"826", 2, true}, "HKD": {"344", 2, true},
	"HUF": {"348", 2, true}, "INR": {"356", 2, true}, "JPY": {"392", 0, true}, "KRW": {"410", 0, true},
	"KWD": {"414", 3, true}, "MAD": {"504", 2, true}, "MXN": {"484", 2, true}, "NOK": {"578", 2, true},
	"NZD": {"554", 2, true}, "PLN": {"985", 2, true}, "SEK": {"752", 2, true}, "SGD": {"702", 2, true},
	"TND": {"788", 3, true}, "USD": {"840", 2, true}, "VND": {"704", 0, true}, "XOF": {"952", 0, true},
	"XPF": {"953", 0, true}, "ZAR": {"710", 2, true},

	"BIF": {"108", 0, false}, "DJF": {"262", 0, false}, "GNF": {"324", 0, false}, "ISK": {"352", 0, false},
	"KMF": {"174", 0, false}, "PYG": {"600", 0, false}, "RWF": {"646", 0, false}, "UGX": {"800", 0, false},
	"UYI": {"940", 0, false}, "VUV": {"548", 0, false}, "XAF": {"950", 0, false},
	"IQD": {"368", 3, false}, "JOD": {"400", 3, false}, "LYD": {"434", 3, false}, "OMR": {"512", 3, false},
}

// AcceptedCurrency returns the currency code names when shops may sell in it.
func AcceptedCurrency(code string) (Currency, bool) {
	c, ok := currencies[code]
	return c, ok && c.Accepted
}

// AcceptedCurrencyByNumeric returns the letters of an accepted currency's ISO 4217
// numeric code.
func AcceptedCurrencyByNumeric(numeric string) (string, bool) {
	for code, c := range currencies {
		if c.Accepted && c.Numeric == numeric {
			return code, true
		}
	}
	return "", false
}

// MinorDigits reports how many decimals the currency's minor unit has (0 for JPY, 3
// for KWD, 2 for most), or an error when currency is not an ISO 4217 shaped code
// (three upper-case letters). A well-formed code the table does not list is taken to
// have 2, which is the ISO default.
func MinorDigits(currency string) (int, error) {
	if !validCurrency(currency) {
		return 0, fmt.Errorf("currency %q is not an ISO 4217 code (three upper-case letters)", currency)
	}
	if c, ok := currencies[currency]; ok {
		return c.Digits, nil
	}
	return 2, nil
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// FormatDecimal writes minor units as a plain decimal with exactly digits decimals
// ("12.34" for 1234 with 2, "1234" with 0), in integer arithmetic so nothing is
// rounded.
func FormatDecimal(minor int64, digits int) string {
	sign := ""
	// Work on the magnitude as uint64 so that math.MinInt64 has no overflow.
	mag := uint64(minor)
	if minor < 0 {
		sign = "-"
		mag = -mag
	}
	s := strconv.FormatUint(mag, 10)
	if digits == 0 {
		return sign + s
	}
	if len(s) <= digits {
		s = strings.Repeat("0", digits-len(s)+1) + s
	}
	cut := len(s) - digits
	return sign + s[:cut] + "." + s[cut:]
}

// FormatPlain writes an amount for traces, the printable bill and the operators' CLI:
// the decimal with its currency's ISO 4217 decimals and the code ("1234.50 EUR",
// "1235 JPY"). A code that is not ISO-shaped cannot say where the decimal point goes, so
// the amount is written in minor units, saying so ("123450 (minor units) EU"), rather
// than guessed.
func FormatPlain(minor int64, currency string) string {
	digits, err := MinorDigits(currency)
	if err != nil {
		return strings.TrimSpace(strconv.FormatInt(minor, 10) + " (minor units) " + currency)
	}
	return FormatDecimal(minor, digits) + " " + currency
}

// nbsp separates digit groups and the amount from its symbol in French. A
// non-breaking space keeps "1 234,50 €" on one line in every mail client; the
// narrow variant (U+202F) that CLDR prefers is missing from some mail fonts.
const nbsp = "\u00a0"

// symbols holds the currency signs readers recognise without ambiguity in
// both languages; other currencies are written with their ISO code.
var symbols = map[string]string{
	"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥",
}

// FormatMoney renders an amount held in minor units (cents) for a reader of
// lang: "€1,234.50" in English, "1 234,50 €" in French (with non-breaking
// spaces), "¥1,235" for a zero-decimal currency. It uses integer arithmetic
// only, so no amount is ever rounded. An unknown lang is treated as English;
// a malformed currency code is written as given with 2 decimals.
func FormatMoney(minor int64, currency, lang string) string {
	digits, err := MinorDigits(currency)
	if err != nil {
		digits = 2
	}
	// The decimal is FormatDecimal's; only its separators and the sign's place change.
	sign, dec := "", FormatDecimal(minor, digits)
	if rest, ok := strings.CutPrefix(dec, "-"); ok {
		sign, dec = "-", rest
	}
	whole, frac, hasFrac := strings.Cut(dec, ".")

	groupSep, decSep := ",", "."
	if lang == "fr" {
		groupSep, decSep = nbsp, ","
	}
	num := group(whole, groupSep)
	if hasFrac {
		num += decSep + frac
	}

	sym, hasSym := symbols[currency]
	if lang == "fr" {
		if !hasSym {
			sym = currency
		}
		return sign + num + nbsp + sym
	}
	if hasSym {
		return sign + sym + num
	}
	return sign + currency + nbsp + num
}

// group inserts sep between every group of three digits, from the right.
func group(digits, sep string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}
