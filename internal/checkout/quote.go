package checkout

import (
	"time"

	"github.com/lmsshop/checkout/internal/pricing"
)

// Buyer derives the pricing view of the buyer from the cart: invoicing country and VAT
// number when given (that is who is billed), else the buyer's own, and the earlier paid
// orders snapshot taken when the customer was saved.
func Buyer(c *Cart) pricing.Buyer {
	b := pricing.Buyer{PaidOrders: c.PaidOrders}
	if cu := c.Customer; cu != nil {
		b.AccountID, b.Country, b.Organisation = cu.Email, cu.Country, cu.Organisation
		if inv := cu.Invoicing; inv != nil {
			b.Country, b.Organisation, b.VATNumber, b.Business = inv.Country, inv.Organisation, inv.VATNumber, true
			b.VATVerified = inv.VATCheck != nil && inv.VATCheck.Status == VATValid
		}
	}
	return b
}

// PricingContext is everything the discount rules need, taken from the cart alone: the
// buyer, the partner and the partner's statistics snapshot. Reading nothing else is what
// makes the cart, the review, placement and the bill agree to the cent.
func PricingContext(c *Cart) pricing.Context {
	ctx := pricing.Context{Buyer: Buyer(c), Partner: c.Partner}
	if c.Partner != "" && c.PartnerStats != nil {
		ps := pricing.PartnerStats{Stats: pricingStats(c.PartnerStats.Stats)}
		if len(c.PartnerStats.ByProduct) > 0 {
			ps.ByProduct = make(map[string]pricing.Stats, len(c.PartnerStats.ByProduct))
			for code, figures := range c.PartnerStats.ByProduct {
				ps.ByProduct[code] = pricingStats(figures)
			}
		}
		ctx.Partners = map[string]pricing.PartnerStats{c.Partner: ps}
	}
	return ctx
}

func pricingStats(s Stats) pricing.Stats {
	return pricing.Stats{Orders: s.Orders, Revenue: pricing.Money(s.Revenue)}
}

// Quote prices a cart with the shop's taxes and discounts. Every view of one purchase
// (cart, review, placement, bill) goes through here, so all show the same cents.
func Quote(shop *Shop, cat *Catalog, c *Cart, ctx pricing.Context, at time.Time) (pricing.Quote, error) {
	eng, err := shop.pricingEngine()
	if err != nil {
		return pricing.Quote{}, Wrap("cart.quote", err)
	}
	in := pricing.Input{Codes: c.Codes, Context: ctx, At: at}
	if in.Context.Partner == "" {
		in.Context.Partner = c.Partner
	}
	for _, l := range c.Lines {
		it, ok := cat.Item(l.Code)
		if !ok {
			continue // an item withdrawn from the catalog is reported by the steps, not priced
		}
		tiers := make(pricing.Tiers, len(it.Tiers))
		for i, t := range it.Tiers {
			tiers[i] = pricing.Tier{UpTo: t.UpTo, UnitPrice: pricing.Money(t.UnitPrice)}
		}
		in.Lines = append(in.Lines, pricing.Line{Code: l.Code, Quantity: l.Quantity, Tiers: tiers, TaxCode: it.TaxCode})
	}
	q, err := eng.Quote(in)
	if err != nil {
		return pricing.Quote{}, &Error{Op: "quote", Kind: EINVALID, Message: err.Error(), Err: err}
	}
	return q, nil
}
