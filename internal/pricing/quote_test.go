package pricing

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func shopEngine(t *testing.T, ds ...Discount) *Engine {
	t.Helper()
	e, err := NewEngine(Config{Taxes: testTaxTable(), Discounts: ds})
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	return e
}

var (
	course = Line{Code: "COURSE-101", Quantity: 3, Tiers: Tiers{{1, 10000}, {5, 9000}, {0, 8000}}, TaxCode: "VAT-STD"}
	book   = Line{Code: "BOOK", Quantity: 1, Tiers: Tiers{{0, 1999}}, TaxCode: "VAT-RED"}
	rules  = []Discount{
		{Name: "WELCOME", Kind: KindPromoCode, Code: "WELCOME", Rate: 1000},
		{Name: "BOOKS", Kind: KindUnconditional, Rate: 1500, Items: []string{"BOOK"}},
	}
)

// TestQuoteInvoice checks a whole quote against figures worked out by hand:
//
//	COURSE-101  3 × 90.00 = 270.00   WELCOME −27.00  → 243.00, VAT 20 %  48.60
//	BOOK        1 × 19.99 =  19.99   WELCOME  −2.00 (1.999)
//	                                 BOOKS    −2.70 (15 % of 17.99 = 2.6985)
//	                                                 →  15.29, VAT 5.5 %  0.84 (0.84095)
//	list prices incl. tax: 324.00 + 21.09 (19.99 + 1.09945)
func TestQuoteInvoice(t *testing.T) {
	q, err := shopEngine(t, rules...).Quote(Input{
		Lines: []Line{course, book}, Codes: []string{" welcome"}, At: t0,
		Context: Context{Buyer: Buyer{Country: "FR"}},
	})
	if err != nil {
		t.Fatalf("Quote: %v", err)
	}
	wantTotals := Totals{Untaxed: 28999, Taxed: 34509, Discount: 3170, TaxableAfterDiscount: 25829, Taxes: 4944, Final: 30773}
	if q.Totals != wantTotals {
		t.Errorf("totals = %+v\nwant     %+v", q.Totals, wantTotals)
	}
	wantTaxes := []TaxTotal{{Code: "VAT-RED", Rate: 550, Base: 1529, Amount: 84}, {Code: "VAT-STD", Rate: 2000, Base: 24300, Amount: 4860}}
	if !reflect.DeepEqual(q.Taxes, wantTaxes) {
		t.Errorf("taxes = %+v\nwant    %+v", q.Taxes, wantTaxes)
	}
	wantLines := []QuoteLine{
		{Code: "COURSE-101", Quantity: 3, UnitPrice: 9000, Untaxed: 27000, ListTaxed: 32400,
			Discounts: []LineDiscount{{Name: "WELCOME", Rate: 1000, Amount: 2700}}, Discount: 2700,
			Taxable: 24300, TaxCode: "VAT-STD", TaxRate: 2000, Tax: 4860, Taxed: 29160},
		{Code: "BOOK", Quantity: 1, UnitPrice: 1999, Untaxed: 1999, ListTaxed: 2109,
			Discounts: []LineDiscount{{Name: "WELCOME", Rate: 1000, Amount: 200}, {Name: "BOOKS", Rate: 1500, Amount: 270}}, Discount: 470,
			Taxable: 1529, TaxCode: "VAT-RED", TaxRate: 550, Tax: 84, Taxed: 1613},
	}
	if !reflect.DeepEqual(q.Lines, wantLines) {
		t.Errorf("lines = %+v\nwant    %+v", q.Lines, wantLines)
	}
	wantBill := []BillLine{
		{Type: BillLineBilling, Ref: 0, Code: "COURSE-101", Quantity: 3, UnitPrice: 9000, TaxRate: 2000, Untaxed: 27000, TaxCode: "VAT-STD", Tax: 4860},
		{Type: BillLineDiscount, Ref: 0, Code: "COURSE-101", Label: "WELCOME", DiscountRate: 1000, Untaxed: -2700, TaxCode: "VAT-STD"},
		{Type: BillLineBilling, Ref: 2, Code: "BOOK", Quantity: 1, UnitPrice: 1999, TaxRate: 550, Untaxed: 1999, TaxCode: "VAT-RED", Tax: 84},
		{Type: BillLineDiscount, Ref: 2, Code: "BOOK", Label: "WELCOME", DiscountRate: 1000, Untaxed: -200, TaxCode: "VAT-RED"},
		{Type: BillLineDiscount, Ref: 2, Code: "BOOK", Label: "BOOKS", DiscountRate: 1500, Untaxed: -270, TaxCode: "VAT-RED"},
	}
	if !reflect.DeepEqual(q.BillLines, wantBill) {
		t.Errorf("bill lines = %+v\nwant         %+v", q.BillLines, wantBill)
	}
	wantApplied := []AppliedDiscount{{Name: "WELCOME", Kind: KindPromoCode, Code: "WELCOME", Amount: 2900}, {Name: "BOOKS", Kind: KindUnconditional, Amount: 270}}
	if !reflect.DeepEqual(q.Discounts, wantApplied) {
		t.Errorf("applied = %+v\nwant      %+v", q.Discounts, wantApplied)
	}
	if q.ReverseCharge || len(q.Mentions) != 0 || len(q.UnusedCodes) != 0 || q.Partner != "" {
		t.Errorf("unexpected reverse charge %v, mentions %q, unused %q, partner %q", q.ReverseCharge, q.Mentions, q.UnusedCodes, q.Partner)
	}
}

func TestQuoteTaxByCountry(t *testing.T) {
	tests := []struct {
		name    string
		buyer   Buyer
		line    Line
		wantTax Money
		rate    BasisPoints
		reverse bool
	}{
		{"French consumer, standard VAT", Buyer{Country: "FR"}, course, 5400, 2000, false},
		{"German consumer, German rate", Buyer{Country: "DE"}, course, 5130, 1900, false},
		{"German consumer, reduced German rate", Buyer{Country: "DE"}, book, 140, 700, false}, // 139.93
		{"Belgian consumer, reduced rate falls back to default", Buyer{Country: "BE"}, book, 110, 550, false},
		{"Swiss buyer, country rate 0", Buyer{Country: "CH"}, course, 0, 0, false},
		{"unknown country, default", Buyer{Country: "JP"}, course, 5400, 2000, false},
		{"German business: reverse charge", Buyer{Country: "DE", Business: true, VATVerified: true, VATNumber: "DE 123 456 788"}, course, 0, 0, true},
		{"German business, VIES could not confirm: German VAT", Buyer{Country: "DE", Business: true, VATNumber: "DE 123 456 788"}, course, 5130, 1900, false},
		{"German business, malformed VAT number: German VAT", Buyer{Country: "DE", Business: true, VATNumber: "DE 123"}, course, 5130, 1900, false},
		{"French business: French VAT", Buyer{Country: "FR", Business: true, VATNumber: "FR40303265045"}, course, 5400, 2000, false},
		{"formula with a per-unit fee", Buyer{Country: "FR"}, Line{Code: "X", Quantity: 2, Tiers: Tiers{{0, 1000}}, TaxCode: "FEE"}, 300, 1000, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := shopEngine(t).Quote(Input{Lines: []Line{tt.line}, Context: Context{Buyer: tt.buyer}, At: t0})
			if err != nil {
				t.Fatalf("Quote: %v", err)
			}
			l := q.Lines[0]
			if l.Tax != tt.wantTax || l.TaxRate != tt.rate {
				t.Errorf("tax = %d at %d bp, want %d at %d bp", l.Tax, l.TaxRate, tt.wantTax, tt.rate)
			}
			if q.Totals.Final != l.Untaxed+tt.wantTax {
				t.Errorf("final = %d, want %d", q.Totals.Final, l.Untaxed+tt.wantTax)
			}
			if q.ReverseCharge != tt.reverse {
				t.Errorf("reverse charge = %v, want %v", q.ReverseCharge, tt.reverse)
			}
			hasMention := len(q.Mentions) == 1 && strings.Contains(q.Mentions[0], "Article 196")
			if hasMention != tt.reverse {
				t.Errorf("mentions = %q, want the reverse-charge mention: %v", q.Mentions, tt.reverse)
			}
		})
	}
}

func TestQuoteBadInput(t *testing.T) {
	big := Line{Code: "BIG", Quantity: MaxQuantity, Tiers: Tiers{{0, MaxUnitPrice}}, TaxCode: "VAT-STD"}
	tooMany := make([]Line, MaxLines+1)
	for i := range tooMany {
		tooMany[i] = Line{Code: "L" + strings.Repeat("x", i%7) + string(rune('a'+i%26)), Quantity: 1, Tiers: Tiers{{0, 1}}, TaxCode: "VAT-STD"}
	}
	tests := []struct {
		name    string
		lines   []Line
		wantErr string
		is      error
	}{
		{"unknown tax code", []Line{{Code: "A", Quantity: 1, Tiers: Tiers{{0, 1}}, TaxCode: "NOPE"}}, `unknown tax code "NOPE"`, nil},
		{"empty code", []Line{{Quantity: 1, Tiers: Tiers{{0, 1}}, TaxCode: "VAT-STD"}}, "item code is empty", nil},
		{"zero quantity", []Line{{Code: "A", Quantity: 0, Tiers: Tiers{{0, 1}}, TaxCode: "VAT-STD"}}, "quantity 0 is outside", ErrOverflow},
		{"quantity beyond 10,000", []Line{{Code: "A", Quantity: MaxQuantity + 1, Tiers: Tiers{{0, 1}}, TaxCode: "VAT-STD"}}, "quantity 10001 is outside", ErrOverflow},
		{"price beyond 10^9", []Line{{Code: "A", Quantity: 1, Tiers: Tiers{{0, MaxUnitPrice + 1}}, TaxCode: "VAT-STD"}}, "Tiers[0].UnitPrice", nil},
		{"no tier fits", []Line{{Code: "A", Quantity: 6, Tiers: Tiers{{5, 1}}, TaxCode: "VAT-STD"}}, "above the highest price tier bound 5", nil},
		{"duplicate line", []Line{course, course}, `item "COURSE-101" appears twice`, nil},
		{"too many lines", tooMany, "1001 lines", ErrOverflow},
		{"negative tax from a formula", []Line{{Code: "A", Quantity: 1, Tiers: Tiers{{0, 100}}, TaxCode: "NEG"}}, "below the untaxed amount", nil},
		{"formula beyond the line limit", []Line{{Code: "A", Quantity: 1, Tiers: Tiers{{0, 1000}}, TaxCode: "HUGE"}}, "beyond", ErrOverflow},
		{"formula dividing by zero", []Line{{Code: "A", Quantity: 1, Tiers: Tiers{{0, 1000}}, TaxCode: "DIV0"}}, "division by zero", ErrDivisionByZero},
		{"biggest line still fits", []Line{big}, "", nil},
	}
	tax := testTaxTable()
	tax.Taxes = append(tax.Taxes,
		Tax{Code: "NEG", Formula: "untaxed - 1"},
		Tax{Code: "HUGE", Formula: "untaxed * 10000000000000"},
		Tax{Code: "DIV0", Formula: "untaxed / (quantity - 1)"},
	)
	e, err := NewEngine(Config{Taxes: tax})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := e.Quote(Input{Lines: tt.lines, At: t0})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Quote: %v", err)
				}
				if want := Money(MaxQuantity) * MaxUnitPrice * 12 / 10; q.Totals.Final != want {
					t.Errorf("final = %d, want %d", q.Totals.Final, want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Quote error = %v, want one containing %q", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Quote error = %v, want errors.Is %v", err, tt.is)
			}
		})
	}
}

func TestQuoteMaximumCartDoesNotOverflow(t *testing.T) {
	tax := TaxTable{ShopCountry: "FR", Taxes: []Tax{{Code: "ALL", Ratio: FullRate}}}
	e, err := NewEngine(Config{Taxes: tax})
	if err != nil {
		t.Fatal(err)
	}
	lines := make([]Line, MaxLines)
	for i := range lines {
		lines[i] = Line{Code: "L" + string(rune('A'+i/26/26%26)) + string(rune('A'+i/26%26)) + string(rune('A'+i%26)), Quantity: MaxQuantity, Tiers: Tiers{{0, MaxUnitPrice}}, TaxCode: "ALL"}
	}
	q, err := e.Quote(Input{Lines: lines, At: t0})
	if err != nil {
		t.Fatalf("Quote: %v", err)
	}
	perLine := Money(MaxQuantity) * MaxUnitPrice
	if q.Totals.Untaxed != perLine*MaxLines || q.Totals.Final != 2*perLine*MaxLines {
		t.Errorf("totals = %+v, want untaxed %d and final %d", q.Totals, perLine*MaxLines, 2*perLine*MaxLines)
	}
}

func TestQuoteEmptyCart(t *testing.T) {
	q, err := shopEngine(t, rules...).Quote(Input{Codes: []string{"welcome"}, At: t0})
	if err != nil {
		t.Fatalf("Quote: %v", err)
	}
	if q.Totals != (Totals{}) || len(q.Discounts) != 0 || len(q.BillLines) != 0 {
		t.Errorf("empty cart quote = %+v, want zero totals and no lines", q)
	}
	if !equalStrings(q.UnusedCodes, []string{"WELCOME"}) {
		t.Errorf("unused codes = %q, want [WELCOME]", q.UnusedCodes)
	}
}

func TestQuoteRequiresTime(t *testing.T) {
	_, err := shopEngine(t, rules...).Quote(Input{Lines: []Line{course}})
	if err == nil || !strings.Contains(err.Error(), "Input.At") {
		t.Errorf("Quote without At: error = %v, want one naming Input.At", err)
	}
}
