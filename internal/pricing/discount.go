package pricing

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind is what a discount rule's condition looks at.
type Kind string

// The discount kinds (see docs/spec.md#discounts). Each names the
// Discount fields it uses.
const (
	// KindUnconditional always applies.
	KindUnconditional Kind = "unconditional"
	// KindPromoCode applies when the buyer entered Code; rate Rate.
	KindPromoCode Kind = "promoCode"
	// KindMultiCodes applies when the buyer entered one of Codes; each code
	// has its own rate (the best entered one wins).
	KindMultiCodes Kind = "multiCodes"
	// KindPartnerCodes applies when the buyer entered one of Codes (each with
	// its rate and its Partner) and tags the order with that partner.
	KindPartnerCodes Kind = "partnerCodes"
	// KindMinAmount applies when the untaxed cart total before any discount
	// is at least MinAmount.
	KindMinAmount Kind = "minAmount"
	// KindBuyerCapability applies when the buyer has one of Capabilities
	// (an LMS capability or role).
	KindBuyerCapability Kind = "buyerCapability"
	// KindBuyerInstitution applies when the buyer's organisation is one of
	// Institutions (trimmed, case-insensitive).
	KindBuyerInstitution Kind = "buyerInstitution"
	// KindMinEarlierOrders applies when the buyer has at least MinOrders
	// earlier paid orders.
	KindMinEarlierOrders Kind = "minEarlierOrders"
	// KindPartner applies when the order's partner is one of Partners.
	KindPartner Kind = "partner"
	// KindCustomer applies when the buyer's account is one of Customers.
	KindCustomer Kind = "customer"
	// KindPartnerMinOrders applies when the order's partner (restricted to
	// Partners if set) has at least MinOrders orders, in total or, with
	// PerProduct, for each targeted item (lines that fall short are left out).
	KindPartnerMinOrders Kind = "partnerMinOrders"
	// KindPartnerMinRevenue is KindPartnerMinOrders with a revenue threshold
	// MinRevenue.
	KindPartnerMinRevenue Kind = "partnerMinRevenue"
)

var kinds = map[Kind]bool{
	KindUnconditional: true, KindPromoCode: true, KindMultiCodes: true, KindPartnerCodes: true,
	KindMinAmount: true, KindBuyerCapability: true, KindBuyerInstitution: true,
	KindMinEarlierOrders: true, KindPartner: true, KindCustomer: true,
	KindPartnerMinOrders: true, KindPartnerMinRevenue: true,
}

// CodeRate is one code of a multiCodes or partnerCodes rule.
type CodeRate struct {
	Code    string
	Rate    BasisPoints
	Partner string // partnerCodes only: the partner the code tags the order with
}

// Discount is one rule of a shop's discount chain. Rules are evaluated in
// the order they are configured; see the package documentation for how
// Takeover, StopIfApplies and StopIfNotApplies act on the chain.
type Discount struct {
	// Name identifies the rule; it is the label of its bill lines.
	Name string
	Kind Kind
	// Rate is the percentage taken off, for every kind but multiCodes and
	// partnerCodes (whose codes carry their own rate).
	Rate BasisPoints
	// Items restricts the rule to these item codes; empty means every line.
	Items []string

	Takeover         bool // when it applies: cancel earlier applied rules, then stop the chain
	StopIfApplies    bool // when it applies: stop the chain after it
	StopIfNotApplies bool // when it does not apply: stop the chain

	// From and Until bound the rule's validity: From included, Until
	// excluded; a zero time means no bound.
	From, Until time.Time

	Code         string     // promoCode
	Codes        []CodeRate // multiCodes, partnerCodes
	MinAmount    Money      // minAmount, partnerMinRevenue
	Capabilities []string   // buyerCapability
	Institutions []string   // buyerInstitution
	MinOrders    int        // minEarlierOrders, partnerMinOrders
	Partners     []string   // partner; optional restriction for partnerMin*
	Customers    []string   // customer (account identifiers)
	PerProduct   bool       // partnerMin*: thresholds per targeted item
}

// Validate checks the fields the rule's kind needs. Errors name the field.
func (d Discount) Validate() error {
	var p problems
	if strings.TrimSpace(d.Name) == "" {
		p.add("Name", "is required")
	}
	if !kinds[d.Kind] {
		p.add("Kind", "unknown kind %q", d.Kind)
	}
	usesRate := d.Kind != KindMultiCodes && d.Kind != KindPartnerCodes
	if usesRate {
		checkRate(&p, "Rate", d.Rate)
	} else if d.Rate != 0 {
		p.add("Rate", "is not used by kind %s (each code has its own rate)", d.Kind)
	}
	for i, it := range d.Items {
		if strings.TrimSpace(it) == "" {
			p.add(fmt.Sprintf("Items[%d]", i), "is empty")
		}
	}
	if !d.From.IsZero() && !d.Until.IsZero() && !d.From.Before(d.Until) {
		p.add("Until", "%s is not after From %s", d.Until.UTC().Format(time.RFC3339), d.From.UTC().Format(time.RFC3339))
	}
	switch d.Kind {
	case KindPromoCode:
		if normCode(d.Code) == "" {
			p.add("Code", "is required for kind %s", d.Kind)
		}
	case KindMultiCodes, KindPartnerCodes:
		if len(d.Codes) == 0 {
			p.add("Codes", "at least one code is required for kind %s", d.Kind)
		}
		seen := map[string]bool{}
		for i, c := range d.Codes {
			f := fmt.Sprintf("Codes[%d]", i)
			n := normCode(c.Code)
			switch {
			case n == "":
				p.add(f+".Code", "is required")
			case seen[n]:
				p.add(f+".Code", "%q is listed twice", c.Code)
			}
			seen[n] = true
			checkRate(&p, f+".Rate", c.Rate)
			if d.Kind == KindPartnerCodes && strings.TrimSpace(c.Partner) == "" {
				p.add(f+".Partner", "is required for kind %s", d.Kind)
			}
		}
	case KindMinAmount, KindPartnerMinRevenue:
		positive(&p, "MinAmount", d.MinAmount, d.Kind)
	case KindMinEarlierOrders, KindPartnerMinOrders:
		positive(&p, "MinOrders", d.MinOrders, d.Kind)
	case KindBuyerCapability:
		nonEmptyList(&p, "Capabilities", d.Capabilities, d.Kind)
	case KindBuyerInstitution:
		nonEmptyList(&p, "Institutions", d.Institutions, d.Kind)
	case KindPartner:
		nonEmptyList(&p, "Partners", d.Partners, d.Kind)
	case KindCustomer:
		nonEmptyList(&p, "Customers", d.Customers, d.Kind)
	}
	if d.PerProduct && d.Kind != KindPartnerMinOrders && d.Kind != KindPartnerMinRevenue {
		p.add("PerProduct", "is only meaningful for kinds %s and %s", KindPartnerMinOrders, KindPartnerMinRevenue)
	}
	return p.err()
}

func checkRate(p *problems, field string, r BasisPoints) {
	if r <= 0 || r > FullRate {
		p.add(field, "%d bp is outside (0, %d]", r, FullRate)
	}
}

// positive is the rule of a kind's threshold (an amount or a number of orders).
func positive[N Money | int](p *problems, field string, v N, k Kind) {
	if v <= 0 {
		p.add(field, "must be positive for kind %s", k)
	}
}

func nonEmptyList(p *problems, field string, l []string, k Kind) {
	if len(l) == 0 {
		p.add(field, "at least one value is required for kind %s", k)
	}
	for i, s := range l {
		if strings.TrimSpace(s) == "" {
			p.add(fmt.Sprintf("%s[%d]", field, i), "is empty")
		}
	}
}

// normCode is how entered codes are compared: trimmed, case-insensitive.
func normCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// ActiveAt reports whether t is inside the rule's validity window.
func (d Discount) ActiveAt(t time.Time) bool {
	return (d.From.IsZero() || !t.Before(d.From)) && (d.Until.IsZero() || t.Before(d.Until))
}

// codes returns the rule's codes with their rate and partner.
func (d Discount) codes() []CodeRate {
	switch d.Kind {
	case KindPromoCode:
		return []CodeRate{{Code: d.Code, Rate: d.Rate}}
	case KindMultiCodes, KindPartnerCodes:
		return d.Codes
	}
	return nil
}

// Errors of ValidateCode, to be tested with errors.Is.
var (
	ErrEmptyCode       = errors.New("discount code is empty")
	ErrUnknownCode     = errors.New("unknown discount code")
	ErrCodeNotYetValid = errors.New("discount code is not valid yet")
	ErrCodeExpired     = errors.New("discount code has expired")
)

// ValidateCode checks a code a buyer entered against the shop's discounts at
// time at, and returns it normalised (trimmed, upper case) for storing in
// the cart. Whether the code's rule will apply to this cart (items,
// conditions, the chain) is Quote's business, which lists unused codes.
func ValidateCode(discounts []Discount, entered string, at time.Time) (string, error) {
	n := normCode(entered)
	if n == "" {
		return "", ErrEmptyCode
	}
	var window error
	for _, d := range discounts {
		for _, c := range d.codes() {
			if normCode(c.Code) != n {
				continue
			}
			switch {
			case d.ActiveAt(at):
				return n, nil
			case !d.Until.IsZero() && !at.Before(d.Until):
				window = fmt.Errorf("%w: %q ended on %s", ErrCodeExpired, n, d.Until.UTC().Format(time.RFC3339))
			case window == nil:
				window = fmt.Errorf("%w: %q starts on %s", ErrCodeNotYetValid, n, d.From.UTC().Format(time.RFC3339))
			}
		}
	}
	if window != nil {
		return "", window
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownCode, n)
}

// Buyer is what the discount rules and the tax rules know of the buyer.
type Buyer struct {
	AccountID    string   // customer account identifier, empty if none yet
	Country      string   // ISO 3166 alpha-2 of the invoicing address
	Organisation string   // institution
	Business     bool     // buying as an organisation (invoicing information given)
	VATNumber    string   // intra-EU VAT number, if any
	VATVerified  bool     // VIES confirmed VATNumber
	Capabilities []string // LMS capabilities or roles the buyer holds
	PaidOrders   int      // number of earlier paid orders
}

// Stats are a partner's sales figures.
type Stats struct {
	Orders  int
	Revenue Money
}

// PartnerStats are a partner's figures in total and per item code.
type PartnerStats struct {
	Stats
	ByProduct map[string]Stats
}

// Context is what the rules need beyond the cart. The caller fetches it
// (buyer account, earlier orders, partner statistics) before quoting, so
// that this package stays pure.
type Context struct {
	Buyer Buyer
	// Partner is the partner the buyer came through (prefill link's
	// partner=KEY), if any. A partner code overrides it.
	Partner string
	// Partners holds the statistics of every partner the rules may look at,
	// keyed by partner key (matched case-insensitively).
	Partners map[string]PartnerStats
}

func (c Context) partnerStats(partner string) (PartnerStats, bool) {
	for k, s := range c.Partners {
		if strings.EqualFold(strings.TrimSpace(k), strings.TrimSpace(partner)) {
			return s, true
		}
	}
	return PartnerStats{}, false
}

func containsFold(list []string, v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return false
	}
	for _, s := range list {
		if strings.EqualFold(strings.TrimSpace(s), v) {
			return true
		}
	}
	return false
}

// match is the outcome of a rule's condition.
type match struct {
	ok      bool
	rate    BasisPoints
	code    string // the entered code it consumed, if any
	partner string // partner tag it sets, if any
	// lineOK, when not nil, filters the targeted lines (per-product rules).
	lineOK func(code string) bool
}

// evaluate decides whether d's condition holds. entered are the normalised
// codes, partner the order's partner so far, subtotal the untaxed total
// before discounts.
func (d Discount) evaluate(ctx Context, entered []string, partner string, subtotal Money, at time.Time) match {
	if !d.ActiveAt(at) {
		return match{}
	}
	yes := match{ok: true, rate: d.Rate}
	b := ctx.Buyer
	switch d.Kind {
	case KindUnconditional:
		return yes
	case KindPromoCode, KindMultiCodes, KindPartnerCodes:
		best := match{}
		for _, e := range entered {
			for _, c := range d.codes() {
				if normCode(c.Code) == e && c.Rate > best.rate {
					best = match{ok: true, rate: c.Rate, code: e, partner: strings.TrimSpace(c.Partner)}
				}
			}
		}
		return best
	case KindMinAmount:
		yes.ok = subtotal >= d.MinAmount
	case KindBuyerCapability:
		yes.ok = false
		for _, c := range b.Capabilities {
			yes.ok = yes.ok || containsFold(d.Capabilities, c)
		}
	case KindBuyerInstitution:
		yes.ok = containsFold(d.Institutions, b.Organisation)
	case KindMinEarlierOrders:
		yes.ok = b.PaidOrders >= d.MinOrders
	case KindPartner:
		yes.ok = containsFold(d.Partners, partner)
	case KindCustomer:
		yes.ok = containsFold(d.Customers, b.AccountID)
	case KindPartnerMinOrders, KindPartnerMinRevenue:
		if partner == "" || (len(d.Partners) > 0 && !containsFold(d.Partners, partner)) {
			return match{}
		}
		st, _ := ctx.partnerStats(partner)
		reached := func(s Stats) bool {
			if d.Kind == KindPartnerMinOrders {
				return s.Orders >= d.MinOrders
			}
			return s.Revenue >= d.MinAmount
		}
		if d.PerProduct {
			yes.lineOK = func(code string) bool { return reached(st.ByProduct[code]) }
		} else {
			yes.ok = reached(st.Stats)
		}
	}
	return yes
}

// targets reports whether the rule is aimed at an item code.
func (d Discount) targets(code string) bool {
	if len(d.Items) == 0 {
		return true
	}
	for _, it := range d.Items {
		if strings.TrimSpace(it) == code {
			return true
		}
	}
	return false
}
