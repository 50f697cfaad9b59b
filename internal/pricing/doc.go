// Package pricing computes what a cart costs: unit prices from quantity
// tiers, discounts, taxes by buyer country, totals and the lines of the
// bill. It is pure Go (no AWS, no HTTP, no clock of its own) so that the
// cart, the order review, placement and the bill all call the same code and
// show the same cents.
//
// # Money
//
// Amounts are Money: int64 minor units (cents). Rates are BasisPoints
// (2000 = 20 %). No float is used anywhere; tax formulas are evaluated with
// exact rationals. Inputs are bounded (quantity ≤ 10,000, unit price ≤ 10^9
// minor units, ≤ 1,000 lines) so that no sum can overflow; anything beyond
// is an ErrOverflow error, never a wrapped number.
//
// # Rounding rule
//
// Rounding happens once per line, half away from zero (0.5 → 1, -0.5 → -1),
// and never on totals:
//
//   - a discount line is round(line base × rate / 100 %);
//   - a line's tax is round(formula(untaxed, ratio, quantity)) − untaxed,
//     where the formula (default "untaxed + untaxed * ratio") is evaluated
//     exactly, divisions included;
//   - every total is the sum of rounded lines: untaxed, discount, taxes per
//     tax code, final. So Σ taxes per code = total taxes, and the bill adds
//     up to the cent exactly as printed.
//
// # Discounts before tax
//
// Discounts reduce the untaxed base and tax is computed on what remains,
// line by line, which is how an invoice must read: BILLING line, its
// negative DISCOUNT lines, then tax on the net. Totals:
//
//	Untaxed              = Σ quantity × unit price
//	Discount             = Σ discount lines
//	TaxableAfterDiscount = Untaxed − Discount
//	Taxes                = Σ line taxes on TaxableAfterDiscount's lines
//	Final                = TaxableAfterDiscount + Taxes   (amount due, ≥ 0)
//	Taxed                = Σ (untaxed + tax) per line before discounts (list price incl. tax)
//
// # Discount order
//
// Rules are evaluated in their configured order. A rule applies when it is
// inside its From/Until window, its condition holds (code entered, minimum
// amount, buyer, partner, …) and at least one cart line is among its Items
// (every line when Items is empty). When it applies, its rate is taken off
// each targeted line's remaining base: stacked rules compound (10 % then
// 10 % is 19 %), so a line never goes below zero. Then:
//
//   - Takeover: earlier applied rules are cancelled (their amounts, codes
//     and partner tag), this rule applies alone, and the chain stops;
//   - StopIfApplies: the chain stops after this rule;
//   - StopIfNotApplies: when the rule does not apply, the chain stops there.
//
// The minimum-amount rule compares the untaxed total before any discount.
// Entered codes are trimmed and matched case-insensitively; when several
// entered codes fit one multi-code rule, the best rate wins. A partner
// code tags the order with its partner, which later rules (partner
// identity, partner statistics) then see.
//
// # Taxes by country and reverse charge
//
// A tax code's rate is looked up for the buyer's country in the TaxTable,
// falling back to the tax's own ratio. A business buyer with a well-formed
// VAT number of another EU member state than the shop's pays no VAT
// (reverse charge); the Quote then carries ReverseChargeMention for the bill.
package pricing
