package workflow

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
)

// BillTask runs the Bill function's tasks: invoice (docs/spec.md#invoice-numbers), fault.
func (s *Billing) BillTask(ctx context.Context, t Task) (any, error) {
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
		return s.fault(ctx, trace.SourceBill, t)
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
func (s *Billing) invoice(ctx context.Context, t Task) (string, error) {
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
		return s.tracer(trace.SourceBill).Line(txid, "invoice %s issued; order COMPLETE; %d product(s) billed; cart erased", number, billed)
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
func (s *Billing) numbered(ctx context.Context, o *checkout.Order, shopID string) (*checkout.Order, error) {
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
func (s *Billing) markBilled(ctx context.Context, o *checkout.Order, refs []string) error {
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
// pro-forma once paid, an invoice once numbered (see
// docs/spec.md#bill-invoices-and-credit-notes).
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
func (s *Billing) GetBill(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	state, shop, err := s.viewedOrder(ctx, r)
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
