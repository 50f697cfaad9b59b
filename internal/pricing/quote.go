package pricing

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Config is a shop's pricing configuration.
type Config struct {
	Taxes     TaxTable
	Discounts []Discount
}

// Validate checks the tax table and every discount rule, and that rule
// names are unique (they label bill lines). Errors name the field, e.g.
// "Discounts[3].Codes[0].Rate".
func (c Config) Validate() error {
	var p problems
	p.merge("Taxes", c.Taxes.Validate())
	names := map[string]bool{}
	for i, d := range c.Discounts {
		f := fmt.Sprintf("Discounts[%d]", i)
		p.merge(f, d.Validate())
		if n := strings.TrimSpace(d.Name); n != "" && names[n] {
			p.add(f+".Name", "%q is used by an earlier rule", d.Name)
		}
		names[strings.TrimSpace(d.Name)] = true
	}
	return p.err()
}

// Quoter prices carts. The cart, the order review, placement and the bill
// all go through it so that every view shows the same cents.
type Quoter interface {
	Quote(in Input) (Quote, error)
}

var _ Quoter = (*Engine)(nil)

// Engine is a validated Config with its tax formulas parsed once. It is
// immutable and safe for concurrent use.
type Engine struct {
	cfg      Config
	formulas map[string]*Formula // tax code → formula
}

// NewEngine validates cfg and prepares it for quoting.
func NewEngine(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("pricing config: %w", err)
	}
	e := &Engine{cfg: cfg, formulas: map[string]*Formula{}}
	for _, t := range cfg.Taxes.Taxes {
		src := t.Formula
		if src == "" {
			src = DefaultTaxFormula
		}
		f, err := ParseFormula(src)
		if err != nil { // Validate parsed it already; keep the error anyway
			return nil, fmt.Errorf("pricing config: tax %s: %w", t.Code, err)
		}
		e.formulas[t.Code] = f
	}
	return e, nil
}

// Line is one cart line as the caller maps it from the cart and catalog.
type Line struct {
	Code     string // catalog item code
	Quantity int
	Tiers    Tiers  // the item's untaxed price tiers
	TaxCode  string // the item's tax code, declared in the TaxTable
}

// Input is everything a quote depends on.
type Input struct {
	Lines []Line
	// Codes are the discount codes the buyer entered, in entry order.
	Codes   []string
	Context Context
	// At is the pricing time (UTC), for discount validity windows; the
	// caller takes it from its clock so tests and placement control it.
	At time.Time
}

// LineDiscount is one discount rule's share on one line.
type LineDiscount struct {
	Name   string
	Rate   BasisPoints
	Amount Money // positive: what is taken off the line
}

// QuoteLine is a priced cart line.
type QuoteLine struct {
	Code      string
	Quantity  int
	UnitPrice Money // from the tiers
	Untaxed   Money // Quantity × UnitPrice
	// ListTaxed is Untaxed plus its tax before any discount: the "price incl.
	// tax" a catalog shows.
	ListTaxed Money
	Discounts []LineDiscount
	Discount  Money // Σ Discounts
	Taxable   Money // Untaxed − Discount: the base of the tax
	TaxCode   string
	TaxRate   BasisPoints // the rate for the buyer's country (0 under reverse charge)
	Tax       Money       // the tax of the line, on Taxable
	Taxed     Money       // Taxable + Tax
}

// TaxTotal is the tax of one tax code over the whole quote.
type TaxTotal struct {
	Code   string
	Rate   BasisPoints
	Base   Money // Σ Taxable of the lines with this code
	Amount Money // Σ Tax of those lines
}

// Totals are the quote's sums. Discounts apply before tax: Taxes are
// computed on TaxableAfterDiscount, line by line, as an invoice must read.
type Totals struct {
	Untaxed              Money // Σ Quantity × UnitPrice
	Taxed                Money // Σ ListTaxed: incl. tax, before discounts
	Discount             Money // Σ discounts (positive)
	TaxableAfterDiscount Money // Untaxed − Discount
	Taxes                Money // Σ line taxes
	Final                Money // TaxableAfterDiscount + Taxes: the amount due
}

// AppliedDiscount is a rule that applied, after the whole chain ran.
type AppliedDiscount struct {
	Name    string
	Kind    Kind
	Code    string // the entered code it used, if any
	Partner string // the partner it tagged the order with, if any
	Amount  Money  // Σ over its lines
}

// BillLineType is the type of a bill line (see docs/spec.md#bill-invoices-and-credit-notes).
type BillLineType string

// Bill line types produced by a quote. SHIPPING and MANUAL lines are added
// by the back office, not by pricing.
const (
	BillLineBilling  BillLineType = "BILLING"
	BillLineDiscount BillLineType = "DISCOUNT"
)

// BillLine is a line of the order sheet / invoice. A DISCOUNT line follows
// the BILLING line it reduces and references it by index (Ref). Amounts are
// untaxed: the tax of a BILLING line is already computed on its discounted
// base, so Σ Untaxed over all bill lines = Totals.TaxableAfterDiscount and
// Σ Tax = Totals.Taxes.
type BillLine struct {
	Type         BillLineType
	Ref          int // DISCOUNT: index of the BILLING line it reduces; BILLING: its own index
	Code         string
	Label        string      // DISCOUNT: the rule's name
	Quantity     int         // BILLING only
	UnitPrice    Money       // BILLING only
	TaxRate      BasisPoints // BILLING only
	DiscountRate BasisPoints // DISCOUNT only
	Untaxed      Money       // negative on DISCOUNT lines
	TaxCode      string
	Tax          Money // BILLING only: the tax of the line after its discounts
}

// Quote is a priced cart.
type Quote struct {
	Lines     []QuoteLine
	Taxes     []TaxTotal // by tax code, sorted
	Totals    Totals
	Discounts []AppliedDiscount // in chain order
	BillLines []BillLine
	// Partner is the partner the order is tagged with (Context.Partner or
	// the partner of an applied partner code).
	Partner string
	// ReverseCharge is set when VAT is due by the buyer; Mentions then holds
	// ReverseChargeMention, to print on the bill.
	ReverseCharge bool
	Mentions      []string
	// UnusedCodes are entered codes that no applied rule consumed (unknown,
	// out of their dates, not applicable to this cart, or cancelled).
	UnusedCodes []string
}

// Quote prices in. It fails with a clear error on bad input (missing time,
// unknown tax code, quantity or price out of range, duplicate line) and
// never lets an amount overflow.
func (e *Engine) Quote(in Input) (Quote, error) {
	if in.At.IsZero() {
		// A zero time would silently disable every dated discount.
		return Quote{}, errors.New("pricing: Input.At (the pricing time) is required")
	}
	if len(in.Lines) > MaxLines {
		return Quote{}, fmt.Errorf("%w: %d lines, at most %d", ErrOverflow, len(in.Lines), MaxLines)
	}
	q := Quote{Lines: make([]QuoteLine, len(in.Lines))}
	seen := map[string]bool{}
	for i, l := range in.Lines {
		ql, err := e.priceLine(l)
		if err != nil {
			return Quote{}, fmt.Errorf("line %d (%s): %w", i, l.Code, err)
		}
		if seen[l.Code] {
			return Quote{}, fmt.Errorf("line %d: item %q appears twice", i, l.Code)
		}
		seen[l.Code] = true
		q.Lines[i] = ql
		if q.Totals.Untaxed, err = addChecked(q.Totals.Untaxed, ql.Untaxed); err != nil {
			return Quote{}, err
		}
	}

	if err := e.applyDiscounts(&q, in); err != nil {
		return Quote{}, err
	}

	q.ReverseCharge = ReverseCharge(e.cfg.Taxes.ShopCountry, in.Context.Buyer)
	if q.ReverseCharge {
		q.Mentions = append(q.Mentions, ReverseChargeMention)
	}
	byCode := map[string]*TaxTotal{}
	for i := range q.Lines {
		if err := e.taxLine(&q.Lines[i], in.Context.Buyer.Country, q.ReverseCharge); err != nil {
			return Quote{}, fmt.Errorf("line %d (%s): %w", i, q.Lines[i].Code, err)
		}
		if err := q.addLine(&q.Lines[i], byCode); err != nil {
			return Quote{}, err
		}
	}
	for _, code := range slices.Sorted(maps.Keys(byCode)) {
		q.Taxes = append(q.Taxes, *byCode[code])
	}
	var err error
	if q.Totals.Final, err = addChecked(q.Totals.TaxableAfterDiscount, q.Totals.Taxes); err != nil {
		return Quote{}, err
	}
	q.billLines()
	return q, nil
}

func (e *Engine) priceLine(l Line) (QuoteLine, error) {
	if strings.TrimSpace(l.Code) == "" {
		return QuoteLine{}, fmt.Errorf("item code is empty")
	}
	if _, ok := e.formulas[l.TaxCode]; !ok {
		return QuoteLine{}, fmt.Errorf("unknown tax code %q", l.TaxCode)
	}
	if l.Quantity < 1 || l.Quantity > MaxQuantity {
		return QuoteLine{}, fmt.Errorf("%w: quantity %d is outside [1, %d]", ErrOverflow, l.Quantity, MaxQuantity)
	}
	unit, err := l.Tiers.UnitPrice(l.Quantity)
	if err != nil {
		return QuoteLine{}, err
	}
	// Both factors are bounded (10^4 × 10^9), so this cannot overflow.
	untaxed := Money(l.Quantity) * unit
	return QuoteLine{
		Code: l.Code, Quantity: l.Quantity, UnitPrice: unit, Untaxed: untaxed,
		Taxable: untaxed, TaxCode: l.TaxCode,
	}, nil
}

// applyDiscounts runs the discount chain over the lines' Taxable amounts.
func (e *Engine) applyDiscounts(q *Quote, in Input) error {
	var entered []string
	for _, c := range in.Codes {
		if n := normCode(c); n != "" && !containsFold(entered, n) {
			entered = append(entered, n)
		}
	}
	q.Partner = strings.TrimSpace(in.Context.Partner)
	used := map[string]bool{}
	for _, d := range e.cfg.Discounts {
		m := d.evaluate(in.Context, entered, q.Partner, q.Totals.Untaxed, in.At)
		var targets []int
		if m.ok {
			for i, l := range q.Lines {
				if d.targets(l.Code) && (m.lineOK == nil || m.lineOK(l.Code)) {
					targets = append(targets, i)
				}
			}
		}
		if len(targets) == 0 {
			if d.StopIfNotApplies {
				break
			}
			continue
		}
		if d.Takeover {
			for i := range q.Lines {
				l := &q.Lines[i]
				l.Discounts, l.Discount, l.Taxable = nil, 0, l.Untaxed
			}
			q.Discounts = nil
			q.Partner = strings.TrimSpace(in.Context.Partner)
			used = map[string]bool{}
		}
		ad := AppliedDiscount{Name: d.Name, Kind: d.Kind, Code: m.code, Partner: m.partner}
		for _, i := range targets {
			l := &q.Lines[i]
			// Each rate applies to what earlier rules left of the line, so
			// stacked rules compound and never take a line below zero.
			amt, err := PercentOf(l.Taxable, m.rate)
			if err != nil {
				return fmt.Errorf("discount %s on %s: %w", d.Name, l.Code, err)
			}
			if amt == 0 {
				continue // a 0 line on the bill says nothing
			}
			l.Discounts = append(l.Discounts, LineDiscount{Name: d.Name, Rate: m.rate, Amount: amt})
			l.Discount += amt
			l.Taxable -= amt
			ad.Amount += amt
		}
		q.Discounts = append(q.Discounts, ad)
		if m.code != "" {
			used[m.code] = true
		}
		if m.partner != "" {
			q.Partner = m.partner
		}
		if d.Takeover || d.StopIfApplies {
			break
		}
	}
	for _, c := range entered {
		if !used[c] {
			q.UnusedCodes = append(q.UnusedCodes, c)
		}
	}
	return nil
}

// taxLine computes the line's tax on its discounted base, and its list
// price incl. tax on the undiscounted one.
func (e *Engine) taxLine(l *QuoteLine, country string, reverse bool) error {
	rate, err := e.cfg.Taxes.Rate(country, l.TaxCode)
	if err != nil {
		return err
	}
	if reverse {
		rate = 0
	}
	l.TaxRate = rate
	f := e.formulas[l.TaxCode]
	tax := func(base Money) (Money, error) {
		if reverse {
			return 0, nil
		}
		taxed, err := f.EvalMoney(FormulaVars{Untaxed: base, Ratio: rate, Quantity: l.Quantity})
		if err != nil {
			return 0, fmt.Errorf("tax %s: %w", l.TaxCode, err)
		}
		if taxed < base {
			return 0, fmt.Errorf("tax %s: formula %q gives a taxed amount %d below the untaxed amount %d", l.TaxCode, f.Source(), taxed, base)
		}
		return taxed - base, nil
	}
	if l.Tax, err = tax(l.Taxable); err != nil {
		return err
	}
	listTax, err := tax(l.Untaxed)
	if err != nil {
		return err
	}
	// Amounts are bounded by MaxLineAmount (10^15), so these sums fit.
	l.Taxed = l.Taxable + l.Tax
	l.ListTaxed = l.Untaxed + listTax
	return nil
}

// addLine adds a taxed line to the totals and its tax code's total.
func (q *Quote) addLine(l *QuoteLine, byCode map[string]*TaxTotal) error {
	t := &q.Totals
	var err error
	for _, s := range []struct {
		dst *Money
		v   Money
	}{{&t.Taxed, l.ListTaxed}, {&t.Discount, l.Discount}, {&t.TaxableAfterDiscount, l.Taxable}, {&t.Taxes, l.Tax}} {
		if *s.dst, err = addChecked(*s.dst, s.v); err != nil {
			return err
		}
	}
	tt := byCode[l.TaxCode]
	if tt == nil {
		tt = &TaxTotal{Code: l.TaxCode, Rate: l.TaxRate}
		byCode[l.TaxCode] = tt
	}
	if tt.Base, err = addChecked(tt.Base, l.Taxable); err != nil {
		return err
	}
	tt.Amount, err = addChecked(tt.Amount, l.Tax)
	return err
}

func (q *Quote) billLines() {
	for _, l := range q.Lines {
		ref := len(q.BillLines)
		q.BillLines = append(q.BillLines, BillLine{
			Type: BillLineBilling, Ref: ref, Code: l.Code, Quantity: l.Quantity,
			UnitPrice: l.UnitPrice, Untaxed: l.Untaxed, TaxCode: l.TaxCode, TaxRate: l.TaxRate, Tax: l.Tax,
		})
		for _, d := range l.Discounts {
			q.BillLines = append(q.BillLines, BillLine{
				Type: BillLineDiscount, Ref: ref, Code: l.Code, Label: d.Name,
				DiscountRate: d.Rate, Untaxed: -d.Amount, TaxCode: l.TaxCode,
			})
		}
	}
}
