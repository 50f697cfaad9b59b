package pricing

import (
	"fmt"
)

// MaxTiers is the number of price tiers an item may declare. All of them are
// honoured (the reference shop silently ignored the fifth).
const MaxTiers = 5

// Tier is one untaxed unit price, valid for quantities up to UpTo included.
// UpTo 0 means "no upper bound" and is only allowed on the last tier.
type Tier struct {
	UpTo      int
	UnitPrice Money
}

// Tiers is an item's price list by quantity, in ascending order of bound.
type Tiers []Tier

// Validate checks that there are 1 to MaxTiers tiers, bounds strictly
// ascending and non-negative (0 only on the last one), and unit prices in
// [0, MaxUnitPrice]. Errors name the faulty tier, e.g. "Tiers[2].UpTo".
func (ts Tiers) Validate() error {
	var p problems
	if len(ts) == 0 {
		p.add("Tiers", "at least one price tier is required")
	}
	if len(ts) > MaxTiers {
		p.add("Tiers", "%d price tiers given, at most %d allowed", len(ts), MaxTiers)
	}
	for i, t := range ts {
		f := fmt.Sprintf("Tiers[%d]", i)
		switch {
		case t.UpTo < 0:
			p.add(f+".UpTo", "bound %d is negative", t.UpTo)
		case t.UpTo == 0 && i != len(ts)-1:
			p.add(f+".UpTo", "0 (no bound) is only allowed on the last tier")
		case i > 0 && t.UpTo != 0 && t.UpTo <= ts[i-1].UpTo:
			p.add(f+".UpTo", "bound %d is not above the previous bound %d", t.UpTo, ts[i-1].UpTo)
		}
		if t.UnitPrice < 0 || t.UnitPrice > MaxUnitPrice {
			p.add(f+".UnitPrice", "%d is outside [0, %d]", t.UnitPrice, MaxUnitPrice)
		}
	}
	return p.err()
}

// UnitPrice returns the unit price of the first tier whose bound is at least
// quantity (a tier with UpTo 0 matches any quantity). A quantity above every
// bound is an error rather than a guessed price: the catalog should cap it
// with the item's maxQuantity or end with an unbounded tier.
func (ts Tiers) UnitPrice(quantity int) (Money, error) {
	if err := ts.Validate(); err != nil {
		return 0, err
	}
	if quantity < 1 || quantity > MaxQuantity {
		return 0, fmt.Errorf("quantity %d is outside [1, %d]", quantity, MaxQuantity)
	}
	for _, t := range ts {
		if t.UpTo == 0 || t.UpTo >= quantity {
			return t.UnitPrice, nil
		}
	}
	return 0, fmt.Errorf("quantity %d is above the highest price tier bound %d", quantity, ts[len(ts)-1].UpTo)
}
