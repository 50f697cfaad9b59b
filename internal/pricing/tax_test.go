package pricing

import (
	"strings"
	"testing"
)

func testTaxTable() TaxTable {
	return TaxTable{
		ShopCountry: "FR",
		Taxes: []Tax{
			{Code: "VAT-STD", Ratio: 2000},
			{Code: "VAT-RED", Ratio: 550},
			{Code: "FEE", Ratio: 1000, Formula: "untaxed * (1 + ratio) + quantity * 50"},
		},
		Countries: map[string]map[string]BasisPoints{
			"DE": {"VAT-STD": 1900, "VAT-RED": 700},
			"BE": {"VAT-STD": 2100},
			"CH": {"VAT-STD": 0, "VAT-RED": 0},
		},
	}
}

func TestTaxTableRate(t *testing.T) {
	tt := testTaxTable()
	tests := []struct {
		country, code string
		want          BasisPoints
		wantErr       bool
	}{
		{"FR", "VAT-STD", 2000, false},
		{"DE", "VAT-STD", 1900, false},
		{"de", "VAT-RED", 700, false}, // country is case-insensitive
		{" BE ", "VAT-STD", 2100, false},
		{"BE", "VAT-RED", 550, false},  // code missing for the country: default
		{"CH", "VAT-STD", 0, false},    // an explicit 0 is not a missing rate
		{"JP", "VAT-STD", 2000, false}, // country missing: default
		{"", "VAT-RED", 550, false},
		{"FR", "NOPE", 0, true},
	}
	for _, c := range tests {
		got, err := tt.Rate(c.country, c.code)
		if (err != nil) != c.wantErr {
			t.Errorf("Rate(%q, %q) error = %v, wantErr %v", c.country, c.code, err, c.wantErr)
			continue
		}
		if got != c.want {
			t.Errorf("Rate(%q, %q) = %d, want %d", c.country, c.code, got, c.want)
		}
	}
}

func TestTaxValidate(t *testing.T) {
	tests := []struct {
		name   string
		table  TaxTable
		fields []string
	}{
		{"valid", testTaxTable(), nil},
		{"bad shop country", TaxTable{ShopCountry: "fr"}, []string{"ShopCountry"}},
		{"empty code", TaxTable{ShopCountry: "FR", Taxes: []Tax{{Ratio: 100}}}, []string{"Taxes[0].Code"}},
		{"long code", TaxTable{ShopCountry: "FR", Taxes: []Tax{{Code: strings.Repeat("X", 33)}}}, []string{"Taxes[0].Code"}},
		{"negative ratio", TaxTable{ShopCountry: "FR", Taxes: []Tax{{Code: "A", Ratio: -1}}}, []string{"Taxes[0].Ratio"}},
		{"ratio above 100 %", TaxTable{ShopCountry: "FR", Taxes: []Tax{{Code: "A", Ratio: 10001}}}, []string{"Taxes[0].Ratio"}},
		{"bad formula", TaxTable{ShopCountry: "FR", Taxes: []Tax{{Code: "A", Formula: "untaxed *"}}}, []string{"Taxes[0].Formula"}},
		{"duplicate code", TaxTable{ShopCountry: "FR", Taxes: []Tax{{Code: "A"}, {Code: "A"}}}, []string{"Taxes[1].Code"}},
		{"bad country key", TaxTable{ShopCountry: "FR", Taxes: []Tax{{Code: "A"}}, Countries: map[string]map[string]BasisPoints{"Deu": {"A": 1}}}, []string{"Countries[Deu]"}},
		{"undeclared code", TaxTable{ShopCountry: "FR", Taxes: []Tax{{Code: "A"}}, Countries: map[string]map[string]BasisPoints{"DE": {"B": 1}}}, []string{"Countries[DE][B]"}},
		{"country rate out of range", TaxTable{ShopCountry: "FR", Taxes: []Tax{{Code: "A"}}, Countries: map[string]map[string]BasisPoints{"DE": {"A": 20000}}}, []string{"Countries[DE][A]"}},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			err := c.table.Validate()
			if got := fieldNames(err); !equalStrings(got, c.fields) {
				t.Errorf("Validate() fields = %q, want %q (error: %v)", got, c.fields, err)
			}
		})
	}
}

func TestCheckVATNumber(t *testing.T) {
	tests := []struct {
		in, country, errPart string
	}{
		{"FR40303265045", "FR", ""},
		{"fr 40 303 265 045", "FR", ""}, // normalised
		{"FRK7399859412", "FR", ""},
		{"FRIO399859412", "", "FR number is FR + 2 letters or digits (not I or O) + 9 digits"},
		{"FR4030326504", "", "FR + 2 letters or digits"},
		{"DE123456788", "DE", ""},
		{"DE-123.456.788", "DE", ""},
		// Check digits, where the member state publishes them.
		{"DE123456789", "", "check digit"},
		{"FR41303265045", "", "check digit"},
		{"BE0123456789", "", "check digit"},
		{"BE0123456749", "BE", ""},
		{"IT12345678903", "IT", ""},
		{"IT12345678904", "", "check digit"},
		{"NL123456782B01", "NL", ""},
		{"NL123456789B01", "", "check digit"},
		{"DE12345678", "", "DE + 9 digits"},
		{"NL123456789C01", "", "NL + 9 digits + B + 2 digits"},
		{"EL123456789", "GR", ""}, // Greece uses EL
		{"GR123456789", "", `"GR" is not the prefix`},
		{"ATU12345678", "AT", ""},
		{"AT12345678", "", "AT + U + 8 digits"},
		{"ESX1234567X", "ES", ""},
		{"IE1234567FA", "IE", ""},
		{"SE123456789001", "SE", ""},
		{"GB123456789", "", `"GB" is not the prefix`},
		{"US123", "", "not the prefix"},
		{"F", "", "too short"},
		{"", "", "too short"},
	}
	for _, c := range tests {
		got, err := CheckVATNumber(c.in)
		if c.errPart != "" {
			if err == nil || !strings.Contains(err.Error(), c.errPart) {
				t.Errorf("CheckVATNumber(%q) error = %v, want one containing %q", c.in, err, c.errPart)
			}
			continue
		}
		if err != nil || got != c.country {
			t.Errorf("CheckVATNumber(%q) = %q, %v; want %q", c.in, got, err, c.country)
		}
	}
}

func TestReverseCharge(t *testing.T) {
	tests := []struct {
		name  string
		shop  string
		buyer Buyer
		want  bool
	}{
		{"German business from a French shop", "FR", Buyer{Business: true, VATVerified: true, VATNumber: "DE123456788", Country: "DE"}, true},
		{"Greek business (EL prefix) from a French shop", "FR", Buyer{Business: true, VATVerified: true, VATNumber: "EL123456789", Country: "GR"}, true},
		// The number must be the invoicing country's: a French address with a German
		// number pays French VAT.
		{"French invoicing address, German number", "FR", Buyer{Business: true, VATVerified: true, VATNumber: "DE123456788", Country: "FR"}, false},
		{"Belgian invoicing address, German number", "FR", Buyer{Business: true, VATVerified: true, VATNumber: "DE123456788", Country: "BE"}, false},
		{"German number, no invoicing country", "FR", Buyer{Business: true, VATVerified: true, VATNumber: "DE123456788"}, false},
		{"German business, VIES could not confirm", "FR", Buyer{Business: true, VATNumber: "DE123456788", Country: "DE"}, false},
		{"German number with wrong check digits", "FR", Buyer{Business: true, VATVerified: true, VATNumber: "DE123456789", Country: "DE"}, false},
		{"Greek business from a Greek shop", "GR", Buyer{Business: true, VATVerified: true, VATNumber: "EL123456789", Country: "GR"}, false},
		{"French business from a French shop", "FR", Buyer{Business: true, VATVerified: true, VATNumber: "FR40303265045", Country: "FR"}, false},
		{"lower-case shop country", "fr", Buyer{Business: true, VATVerified: true, VATNumber: "FR40303265045", Country: "FR"}, false},
		{"consumer with a VAT number", "FR", Buyer{VATNumber: "DE123456788", Country: "DE"}, false},
		{"business with a malformed number", "FR", Buyer{Business: true, VATVerified: true, VATNumber: "DE1234"}, false},
		{"business without a number", "FR", Buyer{Business: true}, false},
		{"shop outside the EU", "CH", Buyer{Business: true, VATVerified: true, VATNumber: "DE123456788", Country: "DE"}, false},
	}
	for _, c := range tests {
		if got := ReverseCharge(c.shop, c.buyer); got != c.want {
			t.Errorf("%s: ReverseCharge = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestIsEUMember(t *testing.T) {
	for c, want := range map[string]bool{"FR": true, "gr": true, "EL": false, "GB": false, "CH": false, "DE": true, "": false} {
		if got := IsEUMember(c); got != want {
			t.Errorf("IsEUMember(%q) = %v, want %v", c, got, want)
		}
	}
}
