package workflow

import (
	"fmt"
	"strings"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/pricing"
)

// The printable bill (GET /orders/{txid}/bill?format=html). Unlike the e-mails, whose
// templates internal/notify embeds, it is written by plain Go: see billPage.

// billStyle is the page's style sheet.
const billStyle = `<style>
body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;color:#222}
table{width:100%;border-collapse:collapse;margin:1rem 0}th,td{padding:.3rem .5rem;border-bottom:1px solid #ccc;text-align:left}
td.n,th.n{text-align:right}.parties{display:flex;justify-content:space-between}
@media print{body{margin:0}}
</style>`

var billTitles = map[string]string{"ordersheet": "Order sheet", "proforma": "Pro-forma invoice", "invoice": "Invoice", DocumentCreditNote: "Credit note"}

// billEscape escapes a value for the page's text, byte for byte as html/template did
// (it writes + as &#43;, which html.EscapeString leaves).
var billEscape = strings.NewReplacer(
	"\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;",
).Replace

// billPage writes the printable bill. It is plain Go rather than html/template:
// html/template calls methods by name through reflection, which makes the linker keep
// every exported method of every type in the binary (the SDK clients' included: 24 MB
// instead of 10 MB for the function serving this page). Every value goes through
// billEscape; the page's only contexts are element text and <title>.
func billPage(v BillView) string {
	var b strings.Builder
	w := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
	}
	e := billEscape
	money := func(minor int64) string { return e(pricing.FormatPlain(minor, v.Currency)) }
	title := e(billTitles[v.Kind])
	totalLabel := "Total due"
	if v.Credits != "" {
		totalLabel = "Total credited"
	}
	w(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>`, title, ` `, e(v.Number), ` — `, e(v.TransactionID), `</title>
`, billStyle, `</head><body>
<h1>`, title)
	if v.Number != "" {
		w(` `, e(v.Number))
	}
	w(`</h1>
<p>Date: `, billDay(v.Date), ` · Transaction: `, e(v.TransactionID), ` · Status: `, e(fmt.Sprint(v.Status)), ` · Payment: `, e(v.Paymode), `</p>
`)
	if v.Credits != "" {
		w(`<p class="credits">This credit note cancels invoice <strong>`, e(v.Credits), `</strong> in full: every amount below is credited to the buyer.</p>`)
	}
	w(`
<div class="parties">
<div><h2>Seller</h2><p>`, e(v.Seller.Name), `<br>`, e(v.Seller.Email), `<br>`, e(v.Seller.Country), `</p></div>
<div><h2>Buyer</h2><p>`)
	if inv := v.Buyer.Invoicing; inv != nil {
		w(e(inv.Organisation))
		if inv.Department != "" {
			w(`, `, e(inv.Department))
		}
		w(`<br>`, e(inv.FirstName), ` `, e(inv.LastName), `<br>`, e(inv.Address), `<br>`, e(inv.Zip), ` `, e(inv.City), ` `, e(inv.Country))
		if inv.VATNumber != "" {
			w(`<br>VAT `, e(inv.VATNumber))
		}
	} else {
		w(e(v.Buyer.Organisation))
		if v.Buyer.Organisation != "" {
			w(`<br>`)
		}
		w(e(v.Buyer.FirstName), ` `, e(v.Buyer.LastName), `<br>`, e(v.Buyer.Address), `<br>`, e(v.Buyer.Zip), ` `, e(v.Buyer.City), ` `, e(v.Buyer.Country))
	}
	w(`<br>`, e(v.Buyer.Email), `</p></div>
</div>
<table><thead><tr><th>Type</th><th>Code</th><th>Description</th><th class="n">Qty</th><th class="n">Unit price</th><th class="n">Untaxed</th><th>Tax</th><th class="n">Tax amount</th></tr></thead><tbody>`)
	for _, t := range billTypes {
		for _, l := range v.Lines[t] {
			w("\n<tr><td>", e(l.Type), `</td><td>`, e(l.Code), `</td><td>`, e(l.Label), `</td><td class="n">`)
			if l.Quantity != 0 {
				w(e(fmt.Sprint(l.Quantity)))
			}
			w(`</td><td class="n">`)
			if l.UnitPrice != 0 {
				w(money(l.UnitPrice))
			}
			w(`</td><td class="n">`, money(l.Untaxed), `</td><td>`, e(l.TaxCode), `</td><td class="n">`, money(l.Tax), `</td></tr>`)
		}
	}
	w(`
</tbody></table>
<table><thead><tr><th>Tax</th><th class="n">Rate</th><th class="n">Base</th><th class="n">Amount</th></tr></thead><tbody>`)
	for _, t := range v.Taxes {
		w(`<tr><td>`, e(t.Code), `</td><td class="n">`, e(fmt.Sprintf("%d.%02d %%", t.RateBP/100, t.RateBP%100)), `</td><td class="n">`, money(t.Base), `</td><td class="n">`, money(t.Amount), `</td></tr>`)
	}
	w(`
</tbody></table>
<table><tbody>
<tr><th>Untaxed total</th><td class="n">`, money(v.Totals.Untaxed), `</td></tr>
<tr><th>Discounts</th><td class="n">`, money(v.Totals.Discount), `</td></tr>
<tr><th>Taxes</th><td class="n">`, money(v.Totals.Taxes), `</td></tr>
<tr><th>`, totalLabel, `</th><td class="n"><strong>`, money(v.Totals.Final), `</strong></td></tr>
</tbody></table>
`)
	if v.ReverseCharge {
		w(`<p>VAT reverse charge: tax due by the buyer.</p>`)
	}
	w("\n")
	if inv := v.Buyer.Invoicing; inv != nil && inv.VATCheck != nil {
		c := inv.VATCheck
		if c.Status == checkout.VATValid {
			w(`<p class="vatcheck">VAT number `, e(inv.VATNumber), ` confirmed by VIES on `, billDay(c.CheckedAt))
			if c.RequestID != "" {
				w(` (consultation `, e(c.RequestID), `)`)
			}
			w(`.</p>`)
		} else {
			w(`<p class="vatcheck">VAT number `, e(inv.VATNumber), ` not confirmed by VIES on `, billDay(c.CheckedAt), `: VAT charged.</p>`)
		}
	}
	w("\n")
	for _, m := range v.Mentions {
		w(`<p>`, e(m), `</p>`)
	}
	w("\n")
	if v.Credits != "" {
		for _, p := range v.Payments {
			if p.Outcome == OutcomeRefunded {
				w(`<p class="refund">Refunded `, money(p.Amount), ` by `, e(p.Mode), `, reference `, e(p.Reference), `, on `, billDay(p.At), `.</p>`)
			}
		}
	}
	w("\n</body></html>\n")
	return b.String()
}

// billDay is how the bill shows a moment: its UTC day, as every time inside is UTC and
// rendered here, at the edge. A time read with another zone (a VIES check stamped by a
// clock not in UTC) would otherwise show that zone's day, a day off near midnight.
func billDay(t time.Time) string { return t.UTC().Format("2006-01-02") }
