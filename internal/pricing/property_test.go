package pricing

import (
	"fmt"
	"math/rand"
	"reflect"
	"testing"
	"testing/quick"
)

// randomCart is a cart, entered codes and buyer drawn at random within the
// documented limits, for property tests.
type randomCart struct{ in Input }

var propTaxes = TaxTable{
	ShopCountry: "FR",
	Taxes: []Tax{
		{Code: "STD", Ratio: 2000},
		{Code: "RED", Ratio: 550},
		{Code: "ZERO"},
		{Code: "FULL", Ratio: FullRate},
		{Code: "FEE", Ratio: 1000, Formula: "untaxed * (1 + ratio) + quantity * 7 / 3"},
		{Code: "CAP", Ratio: 2000, Formula: "untaxed + min(untaxed * ratio, 5000)"},
	},
	Countries: map[string]map[string]BasisPoints{"DE": {"STD": 1900, "RED": 700}, "CH": {"STD": 0}},
}

var propDiscounts = []Discount{
	{Name: "promo", Kind: KindPromoCode, Code: "PROMO", Rate: 1250},
	{Name: "multi", Kind: KindMultiCodes, Codes: []CodeRate{{Code: "GOLD", Rate: 3333}, {Code: "SILVER", Rate: 1}}},
	{Name: "partner", Kind: KindPartnerCodes, Codes: []CodeRate{{Code: "P1", Rate: 999, Partner: "p1"}}, StopIfApplies: true},
	{Name: "items", Kind: KindUnconditional, Rate: 4999, Items: []string{"I0", "I3"}},
	{Name: "big", Kind: KindMinAmount, MinAmount: 500_000, Rate: 777},
	{Name: "take", Kind: KindPromoCode, Code: "TAKE", Rate: FullRate, Takeover: true},
	{Name: "tail", Kind: KindUnconditional, Rate: 1},
}

// Generate implements quick.Generator.
func (randomCart) Generate(r *rand.Rand, _ int) reflect.Value {
	codes := []string{"STD", "RED", "ZERO", "FULL", "FEE", "CAP"}
	n := r.Intn(12)
	c := randomCart{in: Input{At: t0}}
	for i := 0; i < n; i++ {
		// Prices are drawn on a log scale so that small and huge amounts
		// (up to the limits) both show up.
		price := Money(r.Int63n(int64(MaxUnitPrice)+1) >> uint(r.Intn(31)))
		qty := 1 + r.Intn(MaxQuantity)>>uint(r.Intn(14))
		tiers := Tiers{{UpTo: 0, UnitPrice: price}}
		if r.Intn(2) == 0 {
			tiers = Tiers{{1, price}, {10, price / 2}, {100, price / 3}, {1000, price / 5}, {0, price / 7}}
		}
		c.in.Lines = append(c.in.Lines, Line{Code: fmt.Sprintf("I%d", i), Quantity: qty, Tiers: tiers, TaxCode: codes[r.Intn(len(codes))]})
	}
	for _, code := range []string{"promo", "gold", "silver", "p1", "take", "junk"} {
		if r.Intn(3) == 0 {
			c.in.Codes = append(c.in.Codes, code)
		}
	}
	c.in.Context.Buyer.Country = []string{"FR", "DE", "CH", "", "JP"}[r.Intn(5)]
	if r.Intn(4) == 0 {
		c.in.Context.Buyer.Business, c.in.Context.Buyer.VATNumber, c.in.Context.Buyer.VATVerified = true, "DE123456788", r.Intn(2) == 0
	}
	return reflect.ValueOf(c)
}

// checkInvariants returns what is wrong with q, or "".
func checkInvariants(q Quote) string {
	var sum Totals
	taxByCode := map[string]Money{}
	for _, l := range q.Lines {
		if l.Untaxed != Money(l.Quantity)*l.UnitPrice {
			return fmt.Sprintf("line %s: untaxed %d ≠ %d × %d", l.Code, l.Untaxed, l.Quantity, l.UnitPrice)
		}
		var d Money
		for _, ld := range l.Discounts {
			if ld.Amount <= 0 {
				return fmt.Sprintf("line %s: discount %s of %d", l.Code, ld.Name, ld.Amount)
			}
			d += ld.Amount
		}
		if d != l.Discount || l.Taxable != l.Untaxed-l.Discount || l.Taxable < 0 {
			return fmt.Sprintf("line %s: discounts %d, discount %d, taxable %d, untaxed %d", l.Code, d, l.Discount, l.Taxable, l.Untaxed)
		}
		if l.Tax < 0 || l.Taxed != l.Taxable+l.Tax {
			return fmt.Sprintf("line %s: tax %d, taxed %d", l.Code, l.Tax, l.Taxed)
		}
		if q.ReverseCharge && l.Tax != 0 {
			return fmt.Sprintf("line %s: tax %d under reverse charge", l.Code, l.Tax)
		}
		sum.Untaxed += l.Untaxed
		sum.Taxed += l.ListTaxed
		sum.Discount += l.Discount
		sum.TaxableAfterDiscount += l.Taxable
		sum.Taxes += l.Tax
		sum.Final += l.Taxed
		taxByCode[l.TaxCode] += l.Tax
	}
	if sum != q.Totals {
		return fmt.Sprintf("Σ lines %+v ≠ totals %+v", sum, q.Totals)
	}
	if q.Totals.Final < 0 {
		return fmt.Sprintf("final %d < 0", q.Totals.Final)
	}
	var taxes Money
	for _, tt := range q.Taxes {
		if tt.Amount != taxByCode[tt.Code] {
			return fmt.Sprintf("tax %s: %d ≠ Σ lines %d", tt.Code, tt.Amount, taxByCode[tt.Code])
		}
		taxes += tt.Amount
	}
	if taxes != q.Totals.Taxes || len(q.Taxes) != len(taxByCode) {
		return fmt.Sprintf("Σ taxes per code %d ≠ tax total %d", taxes, q.Totals.Taxes)
	}
	var billUntaxed, billTax, applied Money
	for _, b := range q.BillLines {
		billUntaxed += b.Untaxed
		billTax += b.Tax
		if b.Type == BillLineDiscount && (b.Untaxed >= 0 || q.BillLines[b.Ref].Type != BillLineBilling || q.BillLines[b.Ref].Code != b.Code) {
			return fmt.Sprintf("bad discount bill line %+v", b)
		}
	}
	for _, d := range q.Discounts {
		applied += d.Amount
	}
	if billUntaxed != q.Totals.TaxableAfterDiscount || billTax != q.Totals.Taxes || applied != q.Totals.Discount {
		return fmt.Sprintf("bill lines: untaxed %d tax %d, applied %d; totals %+v", billUntaxed, billTax, applied, q.Totals)
	}
	return ""
}

func TestQuoteInvariants(t *testing.T) {
	e, err := NewEngine(Config{Taxes: propTaxes, Discounts: propDiscounts})
	if err != nil {
		t.Fatal(err)
	}
	prop := func(c randomCart) bool {
		q, err := e.Quote(c.in)
		if err != nil {
			t.Logf("Quote(%+v): %v", c.in, err)
			return false
		}
		if msg := checkInvariants(q); msg != "" {
			t.Logf("cart %+v: %s", c.in, msg)
			return false
		}
		// Quoting is deterministic: the same cart always gives the same cents.
		again, err := e.Quote(c.in)
		if err != nil || !reflect.DeepEqual(q, again) {
			t.Logf("second quote differs")
			return false
		}
		return true
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 2000}); err != nil {
		t.Error(err)
	}
}

// TestCheckInvariantsCatchesErrors makes sure the property checker is not
// vacuous: a tampered quote must be reported.
func TestCheckInvariantsCatchesErrors(t *testing.T) {
	e, err := NewEngine(Config{Taxes: propTaxes, Discounts: propDiscounts})
	if err != nil {
		t.Fatal(err)
	}
	q, err := e.Quote(Input{Lines: []Line{{Code: "I0", Quantity: 3, Tiers: Tiers{{0, 999}}, TaxCode: "STD"}}, Codes: []string{"promo"}, At: t0})
	if err != nil {
		t.Fatal(err)
	}
	if msg := checkInvariants(q); msg != "" {
		t.Fatalf("valid quote reported: %s", msg)
	}
	tampers := map[string]func(*Quote){
		"tax total":     func(q *Quote) { q.Totals.Taxes++ },
		"tax per code":  func(q *Quote) { q.Taxes[0].Amount-- },
		"line discount": func(q *Quote) { q.Lines[0].Discounts[0].Amount++ },
		"bill line":     func(q *Quote) { q.BillLines[1].Untaxed-- },
		"final":         func(q *Quote) { q.Totals.Final = -1 },
	}
	for name, tamper := range tampers {
		c := clone(q)
		tamper(&c)
		if checkInvariants(c) == "" {
			t.Errorf("tampered %s not reported", name)
		}
	}
}

func clone(q Quote) Quote {
	c := q
	c.Lines = append([]QuoteLine(nil), q.Lines...)
	for i := range c.Lines {
		c.Lines[i].Discounts = append([]LineDiscount(nil), q.Lines[i].Discounts...)
	}
	c.Taxes = append([]TaxTotal(nil), q.Taxes...)
	c.BillLines = append([]BillLine(nil), q.BillLines...)
	return c
}
