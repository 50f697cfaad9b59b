package workflow

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
)

// BillTask runs the Bill function's tasks: invoice, fault.
func (s *Service) BillTask(ctx context.Context, t Task) (any, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	switch t.Action {
	case "invoice":
		number, err := s.invoice(ctx, t.TxID)
		if err != nil {
			return nil, err
		}
		return map[string]string{"invoice": number}, nil
	case "fault":
		return s.fault(ctx, srcBill, t)
	}
	return nil, &TaskError{Name: ErrTaskFailed, Msg: fmt.Sprintf("bill: unknown action %q", t.Action)}
}

// invoice bills a paid order: its gap-free invoice number, COMPLETE, its customer's and
// partner's statistics, the "billed" event of each product it delivered and the erasure
// of its cart, all in one transaction (store.Complete), so a client that sees COMPLETE
// sees all of it, and a crash leaves either all of it or none. A retried task finds the
// order COMPLETE and answers its number, having written nothing.
func (s *Service) invoice(ctx context.Context, txid string) (string, error) {
	o, err := s.Store.GetOrder(ctx, txid, "")
	if err != nil {
		return "", err
	}
	if o.Status == checkout.Complete && o.InvoiceNumber != "" {
		return o.InvoiceNumber, nil
	}
	if !paid(o.Status) {
		return "", &TaskError{Name: ErrTaskFailed, Msg: fmt.Sprintf("order %s is %s: only a paid order is invoiced", txid, o.Status)}
	}
	shopID := o.ShopID
	if shopID == "" {
		shop, _, err := s.Shops.Get(ctx)
		if err != nil {
			return "", err
		}
		shopID = shop.ID
	}
	insts, err := s.Store.CustomerInstances(ctx, o.Customer.Email)
	if err != nil {
		return "", checkout.Wrap("bill.products", err)
	}
	b := store.Billing{ShopID: shopID, Year: s.now().Year()}
	for _, in := range insts {
		if in.TxID == o.TxID {
			b.Billed = append(b.Billed, in.Reference)
		}
	}
	billed := len(b.Billed)
	if store.BillItems(o, b) > store.MaxTransactItems {
		// Too many products for one transaction: the number and the events go first (the
		// events stamped with the invoice's time, so a retry rewrites the same ones), and
		// COMPLETE still comes last, with the figures and the cart.
		if o, err = s.numbered(ctx, o, shopID); err != nil {
			return "", err
		}
		if err := s.markBilled(ctx, o, b.Billed); err != nil {
			return "", err
		}
		b.Billed = nil
	}
	b.Note = func(number string) trace.Line {
		return s.tracer(srcBill).Line(txid, "invoice %s issued; order COMPLETE; %d product(s) billed; cart erased", number, billed)
	}
	return s.Store.Complete(ctx, o, b)
}

// numbered gives the order its invoice number ahead of completing it, and returns it
// as it now is.
func (s *Service) numbered(ctx context.Context, o *checkout.Order, shopID string) (*checkout.Order, error) {
	if o.InvoiceNumber != "" {
		return o, nil
	}
	if _, err := s.Store.NextInvoiceNumber(ctx, shopID, o.TxID, s.now().Year()); err != nil {
		return nil, err
	}
	return s.Store.GetOrder(ctx, o.TxID, "")
}

// markBilled records the "billed" event on each product instance the order delivered,
// one write each. The event is stamped with the invoice's own time, so a retried task
// writes the same event again rather than a second one.
func (s *Service) markBilled(ctx context.Context, o *checkout.Order, refs []string) error {
	at := s.now()
	if o.InvoicedAt != nil {
		at = *o.InvoicedAt
	}
	for _, ref := range refs {
		ev := production.Event{Type: production.EventBilled, At: at, Data: map[string]string{"invoice": o.InvoiceNumber}}
		if err := s.Store.AddProductEvent(ctx, ref, ev); err != nil {
			return checkout.Wrap("bill.products", err)
		}
	}
	return nil
}

// BillView is the bill as the buyer sees it: an order sheet before payment, a
// pro-forma once paid, an invoice once numbered (see docs/spec.md, Bill, invoices and
// credit notes).
type BillView struct {
	Kind          string                    `json:"kind"`
	Number        string                    `json:"number,omitempty"`
	Date          time.Time                 `json:"date"`
	TransactionID string                    `json:"transactionId"`
	Status        checkout.Status           `json:"status"`
	Paymode       string                    `json:"paymode"`
	Currency      string                    `json:"currency"`
	Seller        Party                     `json:"seller"`
	Buyer         checkout.Customer         `json:"buyer"`
	Lines         map[string][]BillLineView `json:"lines"` // by type: BILLING, DISCOUNT, SHIPPING, MANUAL
	Taxes         []checkout.TaxLine        `json:"taxes"`
	ReverseCharge bool                      `json:"reverseCharge,omitempty"`
	Totals        checkout.Totals           `json:"totals"`
	Mentions      []string                  `json:"mentions,omitempty"`
	Payments      []checkout.Payment        `json:"payments,omitempty"`
}

// Party is the seller of a bill.
type Party struct {
	Name    string `json:"name"`
	Email   string `json:"email,omitempty"`
	Country string `json:"country,omitempty"`
}

// BillLineView is a bill line with the catalog item as it was sold.
type BillLineView struct {
	checkout.BillLine
	Item *checkout.Item `json:"item,omitempty"`
}

// billTypes is the order bill lines are shown in.
var billTypes = []string{"BILLING", "DISCOUNT", "SHIPPING", "MANUAL"}

func billView(shop *checkout.Shop, o *checkout.Order) BillView {
	v := BillView{
		Kind: o.DocumentKind(), Number: o.InvoiceNumber, Date: o.PlacedAt, TransactionID: o.TxID, Status: o.Status,
		Paymode: o.Paymode, Currency: o.Currency, Buyer: o.Customer, Lines: map[string][]BillLineView{},
		Taxes: o.Taxes, ReverseCharge: o.ReverseCharge, Totals: o.Totals, Mentions: o.Mentions, Payments: o.Payments,
		Seller: Party{Name: shop.SellerName, Email: shop.SellerEmail, Country: shop.Country},
	}
	if v.Seller.Name == "" {
		v.Seller.Name = shop.Name
	}
	if o.InvoicedAt != nil {
		v.Date = *o.InvoicedAt
	}
	items := map[string]*checkout.Item{}
	for i := range o.Lines {
		items[o.Lines[i].Code] = &o.Lines[i].Item
	}
	for _, bl := range o.BillLines {
		lv := BillLineView{BillLine: bl}
		if bl.Type == "BILLING" {
			lv.Item = items[bl.Code]
		}
		v.Lines[bl.Type] = append(v.Lines[bl.Type], lv)
	}
	return v
}

// GetBill answers GET /orders/{txid}/bill: JSON, or a printable HTML page when the
// client asks for text/html (Accept) or ?format=html.
func (s *Service) GetBill(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	st, err := s.buyerOrder(ctx, r, true)
	if err != nil {
		return httpapi.Response{}, err
	}
	shop, _, err := s.Shops.Get(ctx)
	if err != nil {
		return httpapi.Response{}, err
	}
	v := billView(shop, st.Order)
	format := r.QueryStringParameters["format"]
	if format == "html" || (format == "" && strings.Contains(header(r.Headers, "accept"), "text/html")) {
		var b bytes.Buffer
		if err := billHTML.Execute(&b, v); err != nil {
			return httpapi.Response{}, checkout.Wrap("bill.html", err)
		}
		return httpapi.Response{
			StatusCode: http.StatusOK, Body: b.String(),
			Headers: map[string]string{"content-type": "text/html; charset=utf-8", "cache-control": "no-store"},
		}, nil
	}
	return httpapi.JSON(http.StatusOK, v), nil
}

var billTitles = map[string]string{"ordersheet": "Order sheet", "proforma": "Pro-forma invoice", "invoice": "Invoice"}

// billHTML is the printable bill; html/template escapes every value.
var billHTML = template.Must(template.New("bill").Funcs(template.FuncMap{
	"money": func(minor int64, cur string) string {
		s, err := payment.FormatAmount(minor, cur)
		if err != nil {
			return fmt.Sprint(minor)
		}
		return s + " " + cur
	},
	"rate":  func(bp int64) string { return fmt.Sprintf("%d.%02d %%", bp/100, bp%100) },
	"title": func(kind string) string { return billTitles[kind] },
	"types": func() []string { return billTypes },
	"day":   func(t time.Time) string { return t.UTC().Format("2006-01-02") },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{title .Kind}} {{.Number}} — {{.TransactionID}}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;color:#222}
table{width:100%;border-collapse:collapse;margin:1rem 0}th,td{padding:.3rem .5rem;border-bottom:1px solid #ccc;text-align:left}
td.n,th.n{text-align:right}.parties{display:flex;justify-content:space-between}
@media print{body{margin:0}}
</style></head><body>
<h1>{{title .Kind}}{{if .Number}} {{.Number}}{{end}}</h1>
<p>Date: {{day .Date}} · Transaction: {{.TransactionID}} · Status: {{.Status}} · Payment: {{.Paymode}}</p>
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
<tr><th>Total due</th><td class="n"><strong>{{money .Totals.Final .Currency}}</strong></td></tr>
</tbody></table>
{{if .ReverseCharge}}<p>VAT reverse charge: tax due by the buyer.</p>{{end}}
{{with .Buyer.Invoicing}}{{with .VATCheck}}<p class="vatcheck">{{if eq .Status "valid"}}VAT number {{$.Buyer.Invoicing.VATNumber}} confirmed by VIES on {{.CheckedAt.Format "2006-01-02"}}{{if .RequestID}} (consultation {{.RequestID}}){{end}}.{{else}}VAT number {{$.Buyer.Invoicing.VATNumber}} not confirmed by VIES on {{.CheckedAt.Format "2006-01-02"}}: VAT charged.{{end}}</p>{{end}}{{end}}
{{range .Mentions}}<p>{{.}}</p>{{end}}
</body></html>
`))

// NotifyTask runs the Notify function's tasks: delivered.
func (s *Service) NotifyTask(ctx context.Context, t Task) (any, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	switch t.Event {
	case "delivered":
		if err := s.delivered(ctx, t.TxID); err != nil {
			return nil, err
		}
		return map[string]bool{"sent": true}, nil
	}
	return nil, &TaskError{Name: ErrTaskFailed, Msg: fmt.Sprintf("notify: unknown event %q", t.Event)}
}

// delivered e-mails the buyer the delivered products (with the bill link) and the
// sales managers the delivery report; each at most once, so a retry after one of
// them failed sends only the missing one.
func (s *Service) delivered(ctx context.Context, txid string) error {
	shop, _, err := s.Shops.Get(ctx)
	if err != nil {
		return err
	}
	o, phases, err := s.Store.OrderAndFeedback(ctx, txid)
	if err != nil {
		return err
	}
	var fb []notify.Feedback
	for _, phase := range []string{"prepay", "postpay"} {
		for _, f := range phases[phase] {
			fb = append(fb, notify.Feedback{Item: f.Item, Public: f.Public, Private: f.Private, SalesAdmin: f.SalesAdmin})
		}
	}
	buyer := mailEvent(notify.ProductsDelivered, shop, o)
	buyer.Feedback, buyer.Links.Bill, buyer.Links.Order = fb, s.billLink(o), s.orderLink(o)
	if err := s.sendOnce(ctx, "ProductsDelivered", buyer); err != nil {
		return err
	}
	report := mailEvent(notify.DeliveryReport, shop, o)
	report.Feedback, report.Links.Bill = fb, s.billLink(o)
	return s.sendOnce(ctx, "DeliveryReport", report)
}
