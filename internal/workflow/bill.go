package workflow

import (
	"context"
	"fmt"
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
		number, err := s.invoice(ctx, t)
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
//
// With the execution input's copy of the order, the order is not read: the
// transaction's condition on the order (a paid status, no number yet) is the check,
// and only when it fails is the order read, to answer the number of a run that
// completed it or to refuse an order that is not paid (store.Complete).
func (s *Service) invoice(ctx context.Context, t Task) (string, error) {
	txid := t.TxID
	o, copied, err := s.order(ctx, t)
	if err != nil {
		return "", err
	}
	if o.Status == checkout.Complete && o.InvoiceNumber != "" {
		return o.InvoiceNumber, nil
	}
	if !copied {
		if err := invoiceable(o); err != nil {
			return "", err
		}
	}
	shopID := o.ShopID
	if shopID == "" {
		shop, _, err := s.Shops.Get(ctx)
		if err != nil {
			return "", err
		}
		shopID = shop.ID
	}
	b := store.Billing{ShopID: shopID, Year: s.now().Year(), Billed: t.Products}
	if t.Products == nil {
		insts, err := s.Store.CustomerInstances(ctx, o.Customer.Email)
		if err != nil {
			return "", checkout.Wrap("bill.products", err)
		}
		for _, in := range insts {
			if in.TxID == o.TxID {
				b.Billed = append(b.Billed, in.Reference)
			}
		}
	}
	billed := len(b.Billed)
	if store.BillItems(o, b) > store.MaxTransactItems && copied {
		// Billed in steps: an earlier run may have numbered the order already, which
		// only the stored order tells.
		if o, err = s.Store.GetOrder(ctx, txid, ""); err != nil {
			return "", err
		}
		if o.Status == checkout.Complete && o.InvoiceNumber != "" {
			return o.InvoiceNumber, nil
		}
		if err := invoiceable(o); err != nil {
			return "", err
		}
	}
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

// invoiceable refuses an order that is not paid.
func invoiceable(o *checkout.Order) error {
	if !paid(o.Status) {
		return &TaskError{Name: ErrTaskFailed, Msg: fmt.Sprintf("order %s is %s: only a paid order is invoiced", o.TxID, o.Status)}
	}
	return nil
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
	Kind   string `json:"kind"`
	Number string `json:"number,omitempty"`
	// Credits is, on a credit note, the number of the invoice it cancels.
	Credits       string                    `json:"credits,omitempty"`
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
	state, err := s.buyerOrder(ctx, r, true)
	if err != nil {
		return httpapi.Response{}, err
	}
	shop, _, err := s.Shops.Get(ctx)
	if err != nil {
		return httpapi.Response{}, err
	}
	v := billView(shop, state.Order)
	switch doc := r.QueryStringParameters["document"]; doc {
	case "", "bill":
	case DocumentCreditNote:
		if v, err = creditNoteView(shop, state.Order); err != nil {
			return httpapi.Response{}, err
		}
	default:
		return httpapi.Response{}, checkout.Invalid("bill.get", "unknown document", checkout.FieldError{Field: "document", Message: fmt.Sprintf("%q: must be bill or %s", doc, DocumentCreditNote)})
	}
	format := r.QueryStringParameters["format"]
	if format == "html" || (format == "" && strings.Contains(header(r.Headers, "accept"), "text/html")) {
		return httpapi.Response{
			StatusCode: http.StatusOK, Body: billPage(v),
			Headers: map[string]string{"content-type": "text/html; charset=utf-8", "cache-control": "no-store"},
		}, nil
	}
	return httpapi.JSON(http.StatusOK, v), nil
}

// DocumentCreditNote is the credit note of a refunded invoiced order
// (GET /orders/{txid}/bill?document=creditnote).
const DocumentCreditNote = "creditnote"

// creditNoteView is the credit note of o: the invoice's lines, taxes and totals, all
// credited, under the credit note's own number and date, with the invoice it cancels
// and the payments (the refund among them).
func creditNoteView(shop *checkout.Shop, o *checkout.Order) (BillView, error) {
	if o.CreditNoteNumber == "" {
		return BillView{}, checkout.Errorf("bill.creditNote", checkout.ENOTFOUND, "order %s has no credit note: it was not refunded after it was invoiced", o.TxID)
	}
	v := billView(shop, o)
	v.Kind, v.Number, v.Credits = DocumentCreditNote, o.CreditNoteNumber, o.InvoiceNumber
	if o.CreditedAt != nil {
		v.Date = *o.CreditedAt
	}
	return v, nil
}

var billTitles = map[string]string{"ordersheet": "Order sheet", "proforma": "Pro-forma invoice", "invoice": "Invoice", DocumentCreditNote: "Credit note"}

// billMoney formats an amount with its currency code.
func billMoney(minor int64, cur string) string {
	s, err := payment.FormatAmount(minor, cur)
	if err != nil {
		return fmt.Sprint(minor)
	}
	return s + " " + cur
}

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
	money := func(minor int64) string { return e(billMoney(minor, v.Currency)) }
	title := e(billTitles[v.Kind])
	totalLabel := "Total due"
	if v.Credits != "" {
		totalLabel = "Total credited"
	}
	w(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>`, title, ` `, e(v.Number), ` — `, e(v.TransactionID), `</title>
<style>
body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;color:#222}
table{width:100%;border-collapse:collapse;margin:1rem 0}th,td{padding:.3rem .5rem;border-bottom:1px solid #ccc;text-align:left}
td.n,th.n{text-align:right}.parties{display:flex;justify-content:space-between}
@media print{body{margin:0}}
</style></head><body>
<h1>`, title)
	if v.Number != "" {
		w(` `, e(v.Number))
	}
	w(`</h1>
<p>Date: `, e(v.Date.UTC().Format("2006-01-02")), ` · Transaction: `, e(v.TransactionID), ` · Status: `, e(fmt.Sprint(v.Status)), ` · Payment: `, e(v.Paymode), `</p>
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
			w(`<p class="vatcheck">VAT number `, e(inv.VATNumber), ` confirmed by VIES on `, e(c.CheckedAt.Format("2006-01-02")))
			if c.RequestID != "" {
				w(` (consultation `, e(c.RequestID), `)`)
			}
			w(`.</p>`)
		} else {
			w(`<p class="vatcheck">VAT number `, e(inv.VATNumber), ` not confirmed by VIES on `, e(c.CheckedAt.Format("2006-01-02")), `: VAT charged.</p>`)
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
				w(`<p class="refund">Refunded `, money(p.Amount), ` by `, e(p.Mode), `, reference `, e(p.Reference), `, on `, e(p.At.UTC().Format("2006-01-02")), `.</p>`)
			}
		}
	}
	w("\n</body></html>\n")
	return b.String()
}

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
	// Both e-mails are claimed in one write; a retry after one of them failed (its
	// claim given back) claims and sends only that one.
	const group = "mail#delivered"
	claimed, err := s.Store.OnceEach(ctx, txid, group, string(notify.ProductsDelivered), string(notify.DeliveryReport))
	if err != nil {
		return err
	}
	release := func(name notify.Kind) func(context.Context) error {
		return func(ctx context.Context) error { return s.Store.ReleaseEach(ctx, txid, group, string(name)) }
	}
	buyer := mailEvent(notify.ProductsDelivered, shop, o)
	buyer.Feedback, buyer.Links.Bill, buyer.Links.Order = fb, s.billLink(o), s.orderLink(o)
	err = s.sendClaimed(ctx, "ProductsDelivered", buyer, claimed[string(notify.ProductsDelivered)], release(notify.ProductsDelivered))
	if err != nil {
		// The report's claim is given back too: it is sent with the buyer's retry.
		if claimed[string(notify.DeliveryReport)] {
			if rerr := release(notify.DeliveryReport)(ctx); rerr != nil {
				s.log().Error("release e-mail claim", "txid", txid, "mail", notify.DeliveryReport, "err", rerr)
			}
		}
		return err
	}
	report := mailEvent(notify.DeliveryReport, shop, o)
	report.Feedback, report.Links.Bill = fb, s.billLink(o)
	return s.sendClaimed(ctx, "DeliveryReport", report, claimed[string(notify.DeliveryReport)], release(notify.DeliveryReport))
}
