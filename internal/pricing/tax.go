package pricing

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Tax is a tax code with its default ratio and optional formula (docs/spec.md#taxes).
type Tax struct {
	// Code is the key items refer to (their taxCode), e.g. "VAT-STD".
	Code string
	// Ratio is the default rate, used for buyers whose country has no rate
	// for this code in the TaxTable.
	Ratio BasisPoints
	// Formula gives the taxed amount of a line from its untaxed amount
	// (see Formula); empty means DefaultTaxFormula.
	Formula string
}

// Validate checks the code, the ratio (0 to 100 %) and that the formula
// parses. Errors name the field.
func (t Tax) Validate() error {
	var p problems
	if strings.TrimSpace(t.Code) == "" {
		p.add("Code", "is required")
	} else if len(t.Code) > 32 {
		p.add("Code", "%q is longer than 32 characters", t.Code)
	}
	if t.Ratio < 0 || t.Ratio > FullRate {
		p.add("Ratio", "%d bp is outside [0, %d]", t.Ratio, FullRate)
	}
	if t.Formula != "" {
		if _, err := ParseFormula(t.Formula); err != nil {
			p.add("Formula", "%v", err)
		}
	}
	return p.err()
}

// TaxTable is a shop's tax configuration: its taxes, the rate of each tax
// code per buyer country, and the shop's own country (which decides when an
// EU business buyer gets reverse charge).
type TaxTable struct {
	// ShopCountry is the seller's ISO 3166 alpha-2 country, e.g. "FR".
	ShopCountry string
	Taxes       []Tax
	// Countries maps a buyer country (ISO 3166 alpha-2, upper case) to the
	// rate of each tax code there. A country or code missing here falls back
	// to the Tax's own Ratio.
	Countries map[string]map[string]BasisPoints
}

var countryRE = regexp.MustCompile(`^[A-Z]{2}$`)

// Validate checks every tax, that codes are unique, that country keys are
// alpha-2 upper case and that country rates refer to declared codes with
// ratios in [0, 100 %].
func (tt TaxTable) Validate() error {
	var p problems
	if !countryRE.MatchString(tt.ShopCountry) {
		p.add("ShopCountry", "%q is not an ISO 3166 alpha-2 code in upper case", tt.ShopCountry)
	}
	codes := map[string]bool{}
	for i, t := range tt.Taxes {
		f := fmt.Sprintf("Taxes[%d]", i)
		p.merge(f, t.Validate())
		if codes[t.Code] {
			p.add(f+".Code", "%q is declared twice", t.Code)
		}
		codes[t.Code] = true
	}
	for _, country := range slices.Sorted(maps.Keys(tt.Countries)) {
		f := fmt.Sprintf("Countries[%s]", country)
		if !countryRE.MatchString(country) {
			p.add(f, "%q is not an ISO 3166 alpha-2 code in upper case", country)
		}
		rates := tt.Countries[country]
		for _, code := range slices.Sorted(maps.Keys(rates)) {
			r := rates[code]
			if !codes[code] {
				p.add(f+"["+code+"]", "tax code %q is not declared in Taxes", code)
			}
			if r < 0 || r > FullRate {
				p.add(f+"["+code+"]", "%d bp is outside [0, %d]", r, FullRate)
			}
		}
	}
	return p.err()
}

// Rate returns the rate of tax code for a buyer in country (case-insensitive;
// empty means unknown yet, which gives the default rate).
func (tt TaxTable) Rate(country, code string) (BasisPoints, error) {
	for _, t := range tt.Taxes {
		if t.Code != code {
			continue
		}
		if r, ok := tt.Countries[strings.ToUpper(strings.TrimSpace(country))][code]; ok {
			return r, nil
		}
		return t.Ratio, nil
	}
	return 0, fmt.Errorf("unknown tax code %q", code)
}

// ReverseChargeMention is the text an invoice must carry when the buyer
// accounts for the VAT instead of the seller.
const ReverseChargeMention = "Reverse charge: VAT to be accounted for by the customer (Article 196, Council Directive 2006/112/EC)"

// vatFormat is the shape of the part of an EU VAT number after its prefix.
type vatFormat struct {
	pattern string
	desc    string
}

// vatREs are the formats compiled, the first time a VAT number is checked: compiling
// them at package init was most of the checkout's own share of every function's cold
// start (0.27 ms, 1,700 allocations), for a check that few requests make.
var vatREs = sync.OnceValue(func() map[string]*regexp.Regexp {
	res := make(map[string]*regexp.Regexp, len(vatFormats))
	for c, f := range vatFormats {
		res[c] = regexp.MustCompile(f.pattern)
	}
	return res
})

// vatFormats: the syntactic formats published for VIES, one per member state.
// Only the shape is checked here (no check digits, no VIES call): the aim is
// to refuse typos, not to certify the buyer.
var vatFormats = map[string]vatFormat{
	"AT": {`^U[0-9]{8}$`, "U + 8 digits"},
	"BE": {`^[01][0-9]{9}$`, "10 digits starting with 0 or 1"},
	"BG": {`^[0-9]{9,10}$`, "9 or 10 digits"},
	"CY": {`^[0-9]{8}[A-Z]$`, "8 digits + 1 letter"},
	"CZ": {`^[0-9]{8,10}$`, "8 to 10 digits"},
	"DE": {`^[0-9]{9}$`, "9 digits"},
	"DK": {`^[0-9]{8}$`, "8 digits"},
	"EE": {`^[0-9]{9}$`, "9 digits"},
	"EL": {`^[0-9]{9}$`, "9 digits"},
	"ES": {`^[0-9A-Z][0-9]{7}[0-9A-Z]$`, "1 letter or digit + 7 digits + 1 letter or digit"},
	"FI": {`^[0-9]{8}$`, "8 digits"},
	"FR": {`^[0-9A-HJ-NP-Z]{2}[0-9]{9}$`, "2 letters or digits (not I or O) + 9 digits"},
	"HR": {`^[0-9]{11}$`, "11 digits"},
	"HU": {`^[0-9]{8}$`, "8 digits"},
	"IE": {`^[0-9][0-9A-Z+*][0-9]{5}[A-Z]{1,2}$`, "7 or 8 characters: digit, letter or digit, 5 digits, 1 or 2 letters"},
	"IT": {`^[0-9]{11}$`, "11 digits"},
	"LT": {`^([0-9]{9}|[0-9]{12})$`, "9 or 12 digits"},
	"LU": {`^[0-9]{8}$`, "8 digits"},
	"LV": {`^[0-9]{11}$`, "11 digits"},
	"MT": {`^[0-9]{8}$`, "8 digits"},
	"NL": {`^[0-9]{9}B[0-9]{2}$`, "9 digits + B + 2 digits"},
	"PL": {`^[0-9]{10}$`, "10 digits"},
	"PT": {`^[0-9]{9}$`, "9 digits"},
	"RO": {`^[1-9][0-9]{1,9}$`, "2 to 10 digits"},
	"SE": {`^[0-9]{10}01$`, "12 digits ending in 01"},
	"SI": {`^[0-9]{8}$`, "8 digits"},
	"SK": {`^[0-9]{10}$`, "10 digits"},
}

// vatCheckDigits verify the check digits of the member states whose algorithm is
// published, on the part after the prefix (already of the right shape). The others are
// checked for their shape only, and by VIES.
var vatCheckDigits = map[string]func(string) bool{
	// France: the 2-digit key is (12 + 3 × (SIREN mod 97)) mod 97; keys with letters
	// (numbers issued since 2000) have no published formula.
	"FR": func(n string) bool {
		key, err := strconv.Atoi(n[:2])
		if err != nil {
			return true
		}
		siren, _ := strconv.Atoi(n[2:])
		return key == (12+3*(siren%97))%97
	},
	// Germany: ISO 7064 MOD 11,10 over the first 8 digits.
	"DE": func(n string) bool {
		p := 10
		for _, c := range n[:8] {
			sum := (int(c-'0') + p) % 10
			if sum == 0 {
				sum = 10
			}
			p = (2 * sum) % 11
		}
		check := 11 - p
		if check == 10 {
			check = 0
		}
		return check == int(n[8]-'0')
	},
	// Belgium: the last 2 digits are 97 − (the first 8 mod 97).
	"BE": func(n string) bool {
		head, _ := strconv.Atoi(n[:8])
		tail, _ := strconv.Atoi(n[8:])
		return 97-head%97 == tail
	},
	// Italy: Luhn over the 11 digits.
	"IT": func(n string) bool {
		sum := 0
		for i, c := range n[:10] {
			d := int(c - '0')
			if i%2 == 1 {
				if d *= 2; d > 9 {
					d -= 9
				}
			}
			sum += d
		}
		return (10-sum%10)%10 == int(n[10]-'0')
	},
	// The Netherlands: weights 9…2 on the first 8 digits, mod 11, is the 9th (the
	// sole proprietors' numbers since 2020 pass mod 97 of "NL" + the number instead).
	"NL": func(n string) bool {
		sum := 0
		for i, c := range n[:8] {
			sum += int(c-'0') * (9 - i)
		}
		if sum%11 == int(n[8]-'0') {
			return true
		}
		return mod97("2321"+n[:9]+"11"+n[10:]) == 1 // N=23, L=21, B=11
	},
}

// mod97 is a decimal string's remainder by 97 (ISO 7064 MOD 97-10), digit by digit.
func mod97(digits string) int {
	r := 0
	for _, c := range digits {
		r = (r*10 + int(c-'0')) % 97
	}
	return r
}

// NormalizeVATNumber upper-cases a VAT number and removes the spaces, dots
// and hyphens people type in it.
func NormalizeVATNumber(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '.', '-', '\t':
			return -1
		}
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

// CheckVATNumber checks the shape of an EU VAT number and returns the ISO
// 3166 country of the member state that issued it (Greece's "EL" prefix
// gives "GR").
func CheckVATNumber(s string) (country string, err error) {
	n := NormalizeVATNumber(s)
	if len(n) < 3 {
		return "", fmt.Errorf("VAT number %q is too short", s)
	}
	f, ok := vatFormats[n[:2]]
	if !ok {
		return "", fmt.Errorf("VAT number %q: %q is not the prefix of an EU member state", s, n[:2])
	}
	if !vatREs()[n[:2]].MatchString(n[2:]) {
		return "", fmt.Errorf("VAT number %q: a %s number is %s + %s", s, n[:2], n[:2], f.desc)
	}
	if check, ok := vatCheckDigits[n[:2]]; ok && !check(n[2:]) {
		return "", fmt.Errorf("VAT number %q: its check digits are wrong (a typo?)", s)
	}
	if n[:2] == "EL" {
		return "GR", nil
	}
	return n[:2], nil
}

// IsEUMember reports whether an ISO 3166 alpha-2 country is an EU member state.
func IsEUMember(country string) bool {
	c := strings.ToUpper(country)
	if c == "GR" {
		return true
	}
	_, ok := vatFormats[c]
	return ok && c != "EL"
}

// ReverseCharge reports whether a sale from shopCountry to buyer is
// reverse-charged: the shop is in the EU and the buyer is a business whose VAT
// number is valid in shape and check digits, was issued by the buyer's invoicing
// country, is of another member state than the shop's, and was confirmed by VIES
// (VATVerified). Anything else (a malformed number, a number of another country
// than the invoicing address, VIES unable to answer) simply means VAT is charged;
// the CUSTOMER step tells the buyer why.
func ReverseCharge(shopCountry string, b Buyer) bool {
	if !b.Business || !b.VATVerified || !IsEUMember(shopCountry) {
		return false
	}
	vatCountry, err := CheckVATNumber(b.VATNumber)
	return err == nil && vatCountry == strings.ToUpper(b.Country) && vatCountry != strings.ToUpper(shopCountry)
}
