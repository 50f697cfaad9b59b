package notify

import (
	"fmt"
	"strconv"
	"strings"
)

// nbsp separates digit groups and the amount from its symbol in French. A
// non-breaking space keeps "1 234,50 €" on one line in every mail client; the
// narrow variant (U+202F) that CLDR prefers is missing from some mail fonts.
const nbsp = "\u00a0"

// minorDigits lists the ISO 4217 currencies whose minor unit is not 2 digits.
// Every other well-formed code is taken to have 2, which is the ISO default.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// symbols holds the currency signs readers recognise without ambiguity in
// both languages; other currencies are written with their ISO code.
var symbols = map[string]string{
	"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥",
}

// MinorDigits reports how many decimals the currency's minor unit has (0 for
// JPY, 3 for KWD, 2 for most), or an error when currency is not an ISO 4217
// shaped code (three upper-case letters).
func MinorDigits(currency string) (int, error) {
	if !validCurrency(currency) {
		return 0, fmt.Errorf("notify: currency %q is not an ISO 4217 code (three upper-case letters)", currency)
	}
	if d, ok := minorDigits[currency]; ok {
		return d, nil
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

// FormatMoney renders an amount held in minor units (cents) for a reader of
// lang: "€1,234.50" in English, "1 234,50 €" in French (with non-breaking
// spaces), "¥1,235" for a zero-decimal currency. It uses integer arithmetic
// only, so no amount is ever rounded. An unknown lang is treated as English;
// a malformed currency code is written as given, since a notification should
// still go out (Render validates currencies before it gets here).
func FormatMoney(minor int64, currency, lang string) string {
	digits, err := MinorDigits(currency)
	if err != nil {
		digits = 2
	}
	neg := minor < 0
	// Negating math.MinInt64 overflows; going through uint64 does not.
	abs := uint64(minor)
	if neg {
		abs = uint64(-(minor + 1)) + 1
	}
	var unit uint64 = 1
	for i := 0; i < digits; i++ {
		unit *= 10
	}
	whole, frac := abs/unit, abs%unit

	groupSep, decSep := ",", "."
	if lang == "fr" {
		groupSep, decSep = nbsp, ","
	}
	num := group(strconv.FormatUint(whole, 10), groupSep)
	if digits > 0 {
		f := strconv.FormatUint(frac, 10)
		num += decSep + strings.Repeat("0", digits-len(f)) + f
	}

	sign := ""
	if neg {
		sign = "-"
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
