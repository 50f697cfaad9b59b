package checkout

import (
	"fmt"
	"slices"
	"time"

	"github.com/lmsshop/checkout/internal/pricing"
)

// Status is an order's status (see docs/spec.md#statuses-and-transitions).
type Status string

// Order statuses.
const (
	Working   Status = "WORKING"
	Placed    Status = "PLACED"
	Pending   Status = "PENDING"
	PreProd   Status = "PREPROD"
	SoldOut   Status = "SOLDOUT"
	Partial   Status = "PARTIAL"
	Complete  Status = "COMPLETE"
	Payback   Status = "PAYBACK"
	Failed    Status = "FAILED"
	Refused   Status = "REFUSED"
	Cancelled Status = "CANCELLED"
)

// Statuses lists every status, in the order of docs/spec.md#statuses-and-transitions:
// what the back office lists orders by, and checks a status a client names against.
var Statuses = []Status{Working, Placed, Pending, PreProd, SoldOut, Partial, Complete, Payback, Failed, Refused, Cancelled}

// transitions is the table of docs/spec.md#statuses-and-transitions. With the two
// moves that each have a write of their own, declared below it (Refundable → CANCELLED,
// LateDelivery → SOLDOUT), it is the only place that says which status may follow which.
var transitions = map[Status][]Status{
	Placed:   {Pending, PreProd, SoldOut, Cancelled},
	Working:  {Placed, Pending, Partial, Cancelled},
	Pending:  {Cancelled, Refused, SoldOut, Failed},
	PreProd:  {Complete, Partial},
	Partial:  {Complete, Payback},
	SoldOut:  {Complete, Payback},
	Payback:  {Cancelled},
	Refused:  {Pending, SoldOut},
	Failed:   {Pending, Cancelled, SoldOut},
	Complete: {},
}

// CanMove reports whether an order may go from one status to another.
func CanMove(from, to Status) bool { return slices.Contains(transitions[from], to) }

// Sources lists the statuses from which to is allowed; the store uses it as the
// condition of its conditional write, so the rule is enforced by the database too.
func Sources(to Status) []Status {
	var out []Status
	for from, tos := range transitions {
		for _, s := range tos {
			if s == to {
				out = append(out, from)
			}
		}
	}
	return out
}

// PricedLine is a quote's line as the cart shows it and the order freezes it: the
// item, the quantity and the amounts in minor units up to the tax. The order and the
// cart view each add the taxed amount under their own name (taxed, total).
type PricedLine struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	Quantity  int    `json:"quantity"`
	UnitPrice int64  `json:"unitPrice"`
	Untaxed   int64  `json:"untaxed"`
	Discount  int64  `json:"discount"`
	TaxCode   string `json:"taxCode"`
	TaxRateBP int64  `json:"taxRateBp"`
	Tax       int64  `json:"tax"`
}

// PricedLineOf converts a quote's line, named from the catalog when the item is in it.
func PricedLineOf(l pricing.QuoteLine, cat *Catalog) PricedLine {
	p := PricedLine{
		Code: l.Code, Quantity: l.Quantity, UnitPrice: int64(l.UnitPrice), Untaxed: int64(l.Untaxed),
		Discount: int64(l.Discount), TaxCode: l.TaxCode, TaxRateBP: int64(l.TaxRate), Tax: int64(l.Tax),
	}
	if it, ok := cat.Item(l.Code); ok {
		p.Name = it.Name
	}
	return p
}

// OrderLine is a line as sold: a snapshot of the catalog item and its computed amounts.
type OrderLine struct {
	ID string `json:"id"`
	PricedLine
	Taxed   int64             `json:"taxed"`
	Handler string            `json:"handler"`
	Params  map[string]string `json:"handlerParams,omitempty"`
	Item    Item              `json:"item"` // the catalog item as sold
	// Parts are the items a bundle sells, as sold, each with its quantity per bundle:
	// production delivers a bundle through them.
	Parts []BundleItem `json:"parts,omitempty"`
}

// Deliveries lists what production delivers, in its order: each line, except that a
// bundle is delivered through its parts (in catalog order, so a certificate follows the
// course it certifies), each a line of its own ID ("L02.CERT-GO") so that it is
// produced once. Placement checks the same list before payment.
func (o *Order) Deliveries() []OrderLine {
	var out []OrderLine
	for _, l := range o.Lines {
		out = append(out, l.Deliveries()...)
	}
	return out
}

// Deliveries lists what production delivers for one line (see Order.Deliveries).
func (l OrderLine) Deliveries() []OrderLine {
	if len(l.Parts) == 0 {
		return []OrderLine{l}
	}
	out := make([]OrderLine, 0, len(l.Parts))
	for _, p := range l.Parts {
		out = append(out, OrderLine{
			ID: l.ID + "." + p.Item.Code, PricedLine: PricedLine{Code: p.Item.Code, Name: p.Item.Name, Quantity: l.Quantity * p.Quantity},
			Handler: p.Item.Handler, Params: p.Item.HandlerParams, Item: p.Item,
		})
	}
	return out
}

// BundleItem is one part of a bundle line.
type BundleItem struct {
	Item     Item `json:"item"`
	Quantity int  `json:"quantity"`
}

// Totals are an order's amounts in minor units.
type Totals struct {
	Untaxed  int64 `json:"untaxed"`
	Discount int64 `json:"discount"`
	Taxes    int64 `json:"taxes"`
	Taxed    int64 `json:"taxed"`
	Final    int64 `json:"final"`
}

// TaxLine is the tax of one tax code.
type TaxLine struct {
	Code   string `json:"code"`
	RateBP int64  `json:"rateBp"`
	Base   int64  `json:"base"`
	Amount int64  `json:"amount"`
}

// BillLine is a line of the bill: BILLING, DISCOUNT, SHIPPING or MANUAL.
type BillLine struct {
	Type      string `json:"type"`
	Code      string `json:"code"`
	Label     string `json:"label"`
	Quantity  int    `json:"quantity,omitempty"`
	UnitPrice int64  `json:"unitPrice,omitempty"`
	Untaxed   int64  `json:"untaxed"`
	TaxCode   string `json:"taxCode,omitempty"`
	TaxRateBP int64  `json:"taxRateBp,omitempty"`
	Tax       int64  `json:"tax,omitempty"`
	RefLine   int    `json:"refLine"`
}

// Acceptance records which terms the buyer accepted, and when.
type Acceptance struct {
	ShopTerms  bool              `json:"shopTerms"`
	ItemTerms  map[string]string `json:"itemTerms,omitempty"` // code → text accepted
	ShopText   string            `json:"shopText"`
	AcceptedAt time.Time         `json:"acceptedAt"`
}

// Payment is one payment attempt or notification recorded on the order.
type Payment struct {
	Mode    string `json:"mode"`
	Outcome string `json:"outcome"`
	Amount  int64  `json:"amount"`
	// Currency is said when it is not the order's (a payment in another currency).
	Currency string `json:"currency,omitempty"`
	EventID  string `json:"eventId,omitempty"`
	// Reference identifies the payment at its provider, or the operator's reference
	// (cheque number, transfer reference); a payment is stored once per mode and
	// reference (see PaymentKey).
	Reference string    `json:"reference,omitempty"`
	At        time.Time `json:"at"`
	// Refunds, on a refund (outcome "refunded"), is the PaymentKey of the payment it
	// gives back.
	Refunds string `json:"refunds,omitempty"`
	// By names who recorded a refund (the operator's e-mail or IAM ARN).
	By string `json:"by,omitempty"`
}

// RefundKey is what the refund of the payment whose key is paid is stored once under,
// among the order's payment keys: a payment is refunded once, whatever the retries.
func RefundKey(paid string) string { return "refund#" + paid }

// Paid lists the statuses of an order whose payment is settled and kept: those in which
// it may be delivered to and invoiced (docs/spec.md#who-moves-an-order). PAYBACK is not
// among them: an order marked for a refund is neither delivered nor invoiced.
var Paid = []Status{SoldOut, PreProd, Partial, Complete}

// Refundable lists the statuses an order may be refunded from: Paid, or marked for a
// refund (PAYBACK). The refund ends the order
// CANCELLED, in its own conditional write, like the settlement of a late payment.
var Refundable = slices.Concat(Paid, []Status{Payback})

// LateDelivery lists the statuses an operator's delivery of a late payment (settling its
// flag with deliver) moves an order to SOLDOUT from, outside the transitions table:
// CANCELLED, which the table gives no way out, has this one, and only with a flagged
// payment to settle. An order not paid yet goes to SOLDOUT under the table instead.
var LateDelivery = []Status{Cancelled}

// PaymentKey is what a payment is stored once under: its mode and its reference (the
// event ID when the payment has no reference of its own).
func PaymentKey(p Payment) string {
	ref := p.Reference
	if ref == "" {
		ref = p.EventID
	}
	return p.Mode + "#" + ref
}

// Order is the frozen order: after placement only its status, payments, production and
// invoice change.
type Order struct {
	TxID          string                         `json:"transactionId"`
	ShopID        string                         `json:"shopId"`
	Status        Status                         `json:"status"`
	Paymode       string                         `json:"paymode"`
	Currency      string                         `json:"currency"`
	Lines         []OrderLine                    `json:"lines"`
	BillLines     []BillLine                     `json:"billLines"`
	Taxes         []TaxLine                      `json:"taxes"`
	Totals        Totals                         `json:"totals"`
	Mentions      []string                       `json:"mentions,omitempty"`
	ReverseCharge bool                           `json:"reverseCharge,omitempty"`
	Partner       string                         `json:"partner,omitempty"`
	Codes         []string                       `json:"codes,omitempty"`
	Customer      Customer                       `json:"customer"`
	Participants  []Participant                  `json:"participants,omitempty"`
	Seats         []Assignment                   `json:"seats,omitempty"`
	Required      map[string][]map[string]string `json:"requirements,omitempty"`
	Acceptance    Acceptance                     `json:"acceptance"`
	Payments      []Payment                      `json:"payments,omitempty"`
	InvoiceNumber string                         `json:"invoiceNumber,omitempty"`
	InvoicedAt    *time.Time                     `json:"invoicedAt,omitempty"`
	// CreditNoteNumber is given when an invoiced order is refunded: the credit note
	// cancelling InvoiceNumber, in its own gap-free yearly sequence (CN-2026-000001).
	CreditNoteNumber string     `json:"creditNoteNumber,omitempty"`
	CreditedAt       *time.Time `json:"creditedAt,omitempty"`
	// Redelivered counts the operator's deliveries of a late payment that took the
	// order out of CANCELLED: production delivers each in a round of its own
	// (production.Key.Round), so a refunded order's withdrawn units are delivered anew.
	Redelivered int `json:"redelivered,omitempty"`
	// EarlierDocuments are the invoices, each with its credit note, of the deliveries
	// before the last: a refunded order delivered again is invoiced under a new number.
	EarlierDocuments []Documents `json:"earlierDocuments,omitempty"`
	TokenHash        string      `json:"-"`
	PlacedAt         time.Time   `json:"placedAt"`
	UpdatedAt        time.Time   `json:"updatedAt"`
	ExecutionARN     string      `json:"executionArn,omitempty"`
	// APIURL is the base URL of the API the order was placed through (scheme and
	// host, no trailing slash): what comes after placement — provider notification
	// URLs, the test mode's callback — is built on it.
	APIURL string `json:"apiUrl,omitempty"`
}

// Documents are an invoice and the credit note that cancelled it.
type Documents struct {
	InvoiceNumber    string    `json:"invoiceNumber"`
	InvoicedAt       time.Time `json:"invoicedAt"`
	CreditNoteNumber string    `json:"creditNoteNumber"`
	CreditedAt       time.Time `json:"creditedAt"`
}

// DocumentKind names what the bill is at this point: an order sheet before payment, a
// pro-forma once paid, an invoice once numbered.
func (o *Order) DocumentKind() string {
	switch {
	case o.InvoiceNumber != "":
		return "invoice"
	case slices.Contains(Paid, o.Status):
		return "proforma"
	default:
		return "ordersheet"
	}
}

// ApplyQuote freezes a quote's amounts into the order.
func (o *Order) ApplyQuote(q pricing.Quote, cat *Catalog) {
	o.Lines = o.Lines[:0]
	for i, l := range q.Lines {
		it, _ := cat.Item(l.Code)
		ol := OrderLine{ID: lineID(i), PricedLine: PricedLineOf(l, cat), Taxed: int64(l.Taxed)}
		if it != nil {
			ol.Handler, ol.Params, ol.Item = it.Handler, it.HandlerParams, *it
			ol.Item.Password = ""
			for _, part := range it.Bundle {
				if p, ok := cat.Item(part.Code); ok {
					snap := *p
					snap.Password = ""
					ol.Parts = append(ol.Parts, BundleItem{Item: snap, Quantity: part.Quantity})
				}
			}
		}
		o.Lines = append(o.Lines, ol)
	}
	o.BillLines = BillLinesOf(q, cat)
	o.Taxes = TaxLinesOf(q)
	o.Totals = TotalsOf(q)
	o.Mentions, o.ReverseCharge, o.Partner = q.Mentions, q.ReverseCharge, q.Partner
}

func lineID(i int) string { return fmt.Sprintf("L%02d", i+1) }

// TotalsOf converts a quote's totals.
func TotalsOf(q pricing.Quote) Totals {
	t := q.Totals
	return Totals{Untaxed: int64(t.Untaxed), Discount: int64(t.Discount), Taxes: int64(t.Taxes), Taxed: int64(t.Taxed), Final: int64(t.Final)}
}

// TaxLinesOf converts a quote's taxes per code.
func TaxLinesOf(q pricing.Quote) []TaxLine {
	var out []TaxLine
	for _, t := range q.Taxes {
		out = append(out, TaxLine{Code: t.Code, RateBP: int64(t.Rate), Base: int64(t.Base), Amount: int64(t.Amount)})
	}
	return out
}

// BillLinesOf converts a quote's bill lines, naming items from the catalog.
func BillLinesOf(q pricing.Quote, cat *Catalog) []BillLine {
	var out []BillLine
	for _, b := range q.BillLines {
		bl := BillLine{Type: string(b.Type), Code: b.Code, Label: b.Label, Quantity: b.Quantity, UnitPrice: int64(b.UnitPrice),
			Untaxed: int64(b.Untaxed), TaxCode: b.TaxCode, TaxRateBP: int64(b.TaxRate), Tax: int64(b.Tax), RefLine: b.Ref}
		if b.Type == pricing.BillLineBilling {
			if it, ok := cat.Item(b.Code); ok {
				bl.Label = it.Name
			}
		}
		out = append(out, bl)
	}
	return out
}
