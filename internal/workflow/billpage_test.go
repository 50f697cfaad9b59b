package workflow

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/pricing"
)

// referenceBill is the html/template the page was rendered with before billPage: the
// page must stay byte for byte the same.
var referenceBill = template.Must(template.New("bill").Funcs(template.FuncMap{
	"money": pricing.FormatPlain,
	"rate":  func(bp int64) string { return fmt.Sprintf("%d.%02d %%", bp/100, bp%100) },
	"title": func(kind string) string { return billTitles[kind] },
	"types": func() []string { return billTypes },
	"day":   func(t time.Time) string { return t.UTC().Format("2006-01-02") },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{title .Kind}} {{.Number}} — {{.TransactionID}}</title>
` + billStyle + `</head><body>
<h1>{{title .Kind}}{{if .Number}} {{.Number}}{{end}}</h1>
<p>Date: {{day .Date}} · Transaction: {{.TransactionID}} · Status: {{.Status}} · Payment: {{.Paymode}}</p>
{{if .Credits}}<p class="credits">This credit note cancels invoice <strong>{{.Credits}}</strong> in full: every amount below is credited to the buyer.</p>{{end}}
<div class="parties">
<div><h2>Seller</h2><p>{{.Seller.Name}}<br>{{.Seller.Email}}<br>{{.Seller.Country}}</p></div>
<div><h2>Buyer</h2><p>{{with .Buyer.Invoicing}}{{.Organisation}}{{if .Department}}, {{.Department}}{{end}}<br>{{.FirstName}} {{.LastName}}<br>{{.Address}}<br>{{.Zip}} {{.City}} {{.Country}}{{if .VATNumber}}<br>VAT {{.VATNumber}}{{end}}{{else}}{{.Buyer.Organisation}}{{if .Buyer.Organisation}}<br>{{end}}{{.Buyer.FirstName}} {{.Buyer.LastName}}<br>{{.Buyer.Address}}<br>{{.Buyer.Zip}} {{.Buyer.City}} {{.Buyer.Country}}{{end}}<br>{{.Buyer.Email}}</p></div>
</div>
<table><thead><tr><th>Type</th><th>Code</th><th>Description</th><th class="n">Qty</th><th class="n">Unit price</th><th class="n">Untaxed</th><th>Tax</th><th class="n">Tax amount</th></tr></thead><tbody>
{{- $b := .}}{{range $t := types}}{{range index $b.Lines $t}}
<tr><td>{{.Type}}</td><td>{{.Code}}</td><td>{{.Label}}</td><td class="n">{{if .Quantity}}{{.Quantity}}{{end}}</td><td class="n">{{if .UnitPrice}}{{money .UnitPrice $b.Currency}}{{end}}</td><td class="n">{{money .Untaxed $b.Currency}}</td><td>{{.TaxCode}}</td><td class="n">{{money .Tax $b.Currency}}</td></tr>
{{- end}}{{end}}
</tbody></table>
<table><thead><tr><th>Tax</th><th class="n">Rate</th><th class="n">Base</th><th class="n">Amount</th></tr></thead><tbody>
{{- range .Taxes}}<tr><td>{{.Code}}</td><td class="n">{{rate .RateBP}}</td><td class="n">{{money .Base $b.Currency}}</td><td class="n">{{money .Amount $b.Currency}}</td></tr>{{end}}
</tbody></table>
<table><tbody>
<tr><th>Untaxed total</th><td class="n">{{money .Totals.Untaxed .Currency}}</td></tr>
<tr><th>Discounts</th><td class="n">{{money .Totals.Discount .Currency}}</td></tr>
<tr><th>Taxes</th><td class="n">{{money .Totals.Taxes .Currency}}</td></tr>
<tr><th>{{if .Credits}}Total credited{{else}}Total due{{end}}</th><td class="n"><strong>{{money .Totals.Final .Currency}}</strong></td></tr>
</tbody></table>
{{if .ReverseCharge}}<p>VAT reverse charge: tax due by the buyer.</p>{{end}}
{{with .Buyer.Invoicing}}{{with .VATCheck}}<p class="vatcheck">{{if eq .Status "valid"}}VAT number {{$.Buyer.Invoicing.VATNumber}} confirmed by VIES on {{day .CheckedAt}}{{if .RequestID}} (consultation {{.RequestID}}){{end}}.{{else}}VAT number {{$.Buyer.Invoicing.VATNumber}} not confirmed by VIES on {{day .CheckedAt}}: VAT charged.{{end}}</p>{{end}}{{end}}
{{range .Mentions}}<p>{{.}}</p>{{end}}
{{if .Credits}}{{range .Payments}}{{if eq .Outcome "refunded"}}<p class="refund">Refunded {{money .Amount $b.Currency}} by {{.Mode}}, reference {{.Reference}}, on {{day .At}}.</p>{{end}}{{end}}{{end}}
</body></html>
`))

// The printable bill is the same page, byte for byte, as html/template wrote, for an
// order sheet, a pro-forma and an invoice, with and without invoicing details and VIES
// checks, on hostile text (markup, quotes, plus signs, NUL).
func TestBillPageMatchesHTMLTemplate(t *testing.T) {
	hostile := `<script>alert("x&y")</script> 'q' a+b ` + "\x00 é"
	at := time.Date(2026, 7, 27, 23, 32, 0, 0, time.FixedZone("X", 3*3600))
	lines := map[string][]BillLineView{
		"BILLING":  {{BillLine: checkout.BillLine{Type: "BILLING", Code: "GO-101", Label: hostile, Quantity: 2, UnitPrice: 12345, Untaxed: 24690, TaxCode: "FR20", Tax: 4938}}},
		"DISCOUNT": {{BillLine: checkout.BillLine{Type: "DISCOUNT", Code: "PROMO+", Label: "-10 %", Untaxed: -2469, TaxCode: "FR20", Tax: -494}}},
		"MANUAL":   {{BillLine: checkout.BillLine{Type: "MANUAL", Code: "M", Label: "fee", Untaxed: 100}}},
	}
	base := BillView{
		Kind: "invoice", Number: "2026-000042", Date: at, TransactionID: "TU80WKRYTI9QUMJ4", Status: checkout.Complete,
		Paymode: "stripe", Currency: "EUR", Seller: Party{Name: hostile, Email: "s+1@shop.example", Country: "FR"},
		Buyer: checkout.Customer{Email: "jane+x@example.org", FirstName: "Jane", LastName: "O'Doe", Organisation: hostile,
			Address: "1 rue <b>", Zip: "75001", City: "Paris", Country: "FR"},
		Lines: lines, Taxes: []checkout.TaxLine{{Code: "FR20", RateBP: 2000, Base: 22221, Amount: 4444}, {Code: "X", RateBP: 55, Base: 1, Amount: 0}},
		Totals:   checkout.Totals{Untaxed: 24690, Discount: -2469, Taxes: 4444, Final: 26665},
		Mentions: []string{hostile, "Late payment: 40 € fee"},
	}
	invoicing := &checkout.Invoicing{Organisation: "ACME & Co", Department: "R+D", FirstName: "J", LastName: "D", Address: "A", Zip: "Z", City: "C", Country: "DE", VATNumber: "DE123<>"}
	cases := map[string]func(v *BillView){
		"invoice": func(*BillView) {},
		"order sheet": func(v *BillView) {
			v.Kind, v.Number, v.Status, v.Mentions, v.Buyer.Organisation = "ordersheet", "", checkout.Status("PLACED"), nil, ""
			v.Lines = map[string][]BillLineView{}
			v.Taxes = nil
		},
		"proforma, invoicing": func(v *BillView) {
			v.Kind, v.Number = "proforma", ""
			inv := *invoicing
			v.Buyer.Invoicing = &inv
		},
		"VIES valid": func(v *BillView) {
			inv := *invoicing
			inv.VATCheck = &checkout.VATCheck{Status: checkout.VATValid, CheckedAt: at, RequestID: "WAPIAAAA<1>"}
			v.Buyer.Invoicing, v.ReverseCharge = &inv, true
		},
		"VIES valid, no request ID": func(v *BillView) {
			inv := *invoicing
			inv.Department, inv.VATNumber = "", ""
			inv.VATCheck = &checkout.VATCheck{Status: checkout.VATValid, CheckedAt: at}
			v.Buyer.Invoicing = &inv
		},
		"VIES checked before midnight UTC, after it in the clock's zone": func(v *BillView) {
			inv := *invoicing
			inv.VATCheck = &checkout.VATCheck{Status: checkout.VATValid, CheckedAt: time.Date(2026, 7, 28, 1, 0, 0, 0, time.FixedZone("X", 3*3600))}
			v.Buyer.Invoicing = &inv
		},
		"VIES unavailable": func(v *BillView) {
			inv := *invoicing
			inv.VATCheck = &checkout.VATCheck{Status: checkout.VATUnavailable, CheckedAt: at}
			v.Buyer.Invoicing = &inv
		},
		"unknown currency": func(v *BillView) { v.Currency = "X<Y" },
		"credit note": func(v *BillView) {
			v.Kind, v.Number, v.Credits = DocumentCreditNote, "CN-2026-000007", "2026-000042<"
			v.Payments = []checkout.Payment{{Mode: "stripe", Outcome: "paid", Amount: 26665, Reference: "cs_1", At: at},
				{Mode: "check", Outcome: OutcomeRefunded, Amount: 26665, Reference: hostile, At: at}}
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			v := base
			edit(&v)
			var want bytes.Buffer
			if err := referenceBill.Execute(&want, v); err != nil {
				t.Fatal(err)
			}
			if got := billPage(v); got != want.String() {
				t.Errorf("page differs from html/template's:\n got: %q\nwant: %q", got, want.String())
			}
		})
	}
}

// The bill shows each moment's UTC day, whatever zone the time was read with: a VIES
// check, an issue date or a refund stamped at 01:00 in UTC+3 is the previous day's.
func TestBillShowsUTCDays(t *testing.T) {
	late := time.Date(2026, 7, 28, 1, 0, 0, 0, time.FixedZone("X", 3*3600))
	v := BillView{Kind: "invoice", Number: "2026-000042", Date: late, TransactionID: "TU80WKRYTI9QUMJ4", Currency: "EUR", Credits: "2026-000041",
		Buyer: checkout.Customer{Invoicing: &checkout.Invoicing{VATNumber: "DE123456789",
			VATCheck: &checkout.VATCheck{Status: checkout.VATValid, CheckedAt: late}}},
		Payments: []checkout.Payment{{Mode: "check", Outcome: OutcomeRefunded, Amount: 100, Reference: "R1", At: late}}}
	page := billPage(v)
	for _, want := range []string{
		"Date: 2026-07-27 ",
		"confirmed by VIES on 2026-07-27.",
		"reference R1, on 2026-07-27.",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the bill lacks %q:\n%s", want, page)
		}
	}
}
