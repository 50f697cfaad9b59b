// Package notify renders the checkout's e-mail notifications (docs/spec.md#notifications) in
// English and French and sends them through a Sender, such as the SES v2
// adapter in internal/notify/sesmail.
//
// Rendering is pure: Render takes an Event that carries everything an e-mail
// shows (the caller reads the order, the shop and the production feedback),
// so templates can be tested without any AWS service. Money and dates are
// kept raw in the Event and formatted only here, at the edge, in the reader's
// language and the shop's time zone.
package notify

import (
	"context"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/pricing"
	"github.com/lmsshop/checkout/internal/trace"
)

// Sender delivers one rendered e-mail and returns the provider's message ID
// (internal/notify/sesmail sends with SES v2).
type Sender interface {
	Send(ctx context.Context, from string, m Email) (messageID string, err error)
}

// Kind names one notification (see docs/spec.md#notifications). Its string value is
// what the state machine passes in the task input.
type Kind string

// The notifications, with who receives them.
const (
	// OrderPlaced tells the sales managers what was ordered, by whom, for how much and how it will be paid.
	OrderPlaced Kind = "OrderPlaced"
	// OfflineInstructions tells the buyer how to pay by cheque or transfer, with the transaction ID as reference.
	OfflineInstructions Kind = "OfflineInstructions"
	// PaymentFailed tells the buyer the payment failed or was refused, with a link to retry with another mode.
	PaymentFailed Kind = "PaymentFailed"
	// ProductsDelivered gives the buyer the access information of the delivered products and the invoice link.
	ProductsDelivered Kind = "ProductsDelivered"
	// DeliveryReport gives the sales managers the handlers' sales-admin feedback.
	DeliveryReport Kind = "DeliveryReport"
	// AccountCreated welcomes a buyer whose customer account was just created.
	AccountCreated Kind = "AccountCreated"
	// PaymentFlagged tells the sales managers that a payment was recorded that could not
	// move its order forward (late, duplicate, under- or over-payment), for them to
	// deliver or refund.
	PaymentFlagged Kind = "PaymentFlagged"
	// ReconciliationReport tells the sales managers, once a day, what reconciliation
	// found: the providers' payments compared with the orders, the payments recorded
	// that the checkout had not heard of, the orders flagged as stuck. It is about no
	// one order.
	ReconciliationReport Kind = "ReconciliationReport"
	// Refunded tells the buyer their order was refunded: how much, how, and the credit
	// note cancelling the invoice when the order had one.
	Refunded Kind = "Refunded"
)

// Kinds lists every Kind, in the order of docs/spec.md#notifications' table.
var Kinds = []Kind{OrderPlaced, OfflineInstructions, PaymentFailed, ProductsDelivered, DeliveryReport, AccountCreated, PaymentFlagged, ReconciliationReport, Refunded}

// Languages lists the languages Render writes in; the first is the default.
var Languages = []string{"en", "fr"}

// Event is one notification to render, with everything it shows.
type Event struct {
	Kind Kind `json:"kind"`
	// Lang is "en" or "fr"; empty means "en".
	Lang         string        `json:"lang,omitempty"`
	Shop         Shop          `json:"shop"`
	Order        Order         `json:"order"`
	Instructions *Instructions `json:"instructions,omitempty"`
	Feedback     []Feedback    `json:"feedback,omitempty"`
	Flag         *Flag         `json:"flag,omitempty"`
	Report       *Report       `json:"report,omitempty"`
	Refund       *Refund       `json:"refund,omitempty"`
	Links        Links         `json:"links"`
}

// Report is what one reconciliation run found (ReconciliationReport).
type Report struct {
	At   time.Time `json:"at"`   // when the run started
	Days int       `json:"days"` // the window: the providers' payments of the last Days days
	// Providers are the providers asked, with how many payments each listed and how
	// many the orders already held; Error is set when the provider could not be read.
	Providers []ReportProvider `json:"providers"`
	// Recorded are the payments the checkout did not know, now stored on their orders
	// (Outcome: "paid" when the payment moved its order, else the flag's reason).
	Recorded []ReportPayment `json:"recorded"`
	// Mismatched are payments the orders hold under the same reference with another
	// amount or currency than the provider's; Foreign, payments naming no order of
	// this shop. Neither changes anything: they are for a person to look at.
	Mismatched []ReportPayment `json:"mismatched"`
	Foreign    []ReportPayment `json:"foreign"`
	// Stuck are the orders flagged because they stayed in a non-final status longer
	// than the workflow keeps them there.
	Stuck []ReportOrder `json:"stuck"`
}

// ReportProvider is one provider's count in a Report.
type ReportProvider struct {
	Name     string `json:"name"`
	Payments int    `json:"payments"`
	Known    int    `json:"known"`
	Error    string `json:"error,omitempty"`
}

// ReportPayment is one provider payment in a Report.
type ReportPayment struct {
	TxID      string `json:"txid"`
	Provider  string `json:"provider"`
	Reference string `json:"reference"`
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
	Outcome   string `json:"outcome,omitempty"`
}

// ReportOrder is one stuck order in a Report.
type ReportOrder struct {
	TxID   string    `json:"txid"`
	Status string    `json:"status"`
	Since  time.Time `json:"since"`
}

// Refund is money given back to the buyer: how much, by which mode, under which
// reference, and the credit note that cancels the invoice (empty when the order was
// refunded before it was invoiced).
type Refund struct {
	Amount     int64  `json:"amount"`
	Currency   string `json:"currency"`
	Mode       string `json:"mode"`
	Reference  string `json:"reference"`
	CreditNote string `json:"creditNote,omitempty"`
	Invoice    string `json:"invoice,omitempty"`
}

// Flag is a payment that needs an operator: why, how much, by which mode, under which
// provider or operator reference.
type Flag struct {
	Reason    string `json:"reason"` // late, duplicate, underpayment, overpayment, currency
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
	Mode      string `json:"mode"`
	Reference string `json:"reference"`
}

// Shop is the part of the shop's settings the e-mails use.
type Shop struct {
	Name        string `json:"name"`
	SellerEmail string `json:"sellerEmail,omitempty"`
	// SalesManagers receive OrderPlaced and DeliveryReport; when empty,
	// SellerEmail receives them instead.
	SalesManagers []string `json:"salesManagers,omitempty"`
	// Currency is the shop's ISO 4217 code, used when the order has none; default EUR.
	Currency string `json:"currency,omitempty"`
	// TimeZone is an IANA zone name ("Europe/Paris") dates are shown in; default UTC.
	TimeZone string `json:"timeZone,omitempty"`
}

// Order is the frozen order the e-mail is about. Amounts are minor units.
type Order struct {
	TxID     string    `json:"txid"`
	Status   string    `json:"status,omitempty"`
	Paymode  string    `json:"paymode,omitempty"`
	PlacedAt time.Time `json:"placedAt,omitzero"`
	Lines    []Line    `json:"lines,omitempty"`
	Untaxed  int64     `json:"untaxed"`
	Taxes    int64     `json:"taxes"`
	Final    int64     `json:"final"`
	Currency string    `json:"currency,omitempty"`
	Customer Person    `json:"customer"`
}

// Line is one bill line as sold. Total is in minor units and may be negative
// (a discount line).
type Line struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Quantity int    `json:"quantity"`
	Total    int64  `json:"total"`
}

// Person is the buyer.
type Person struct {
	FirstName    string `json:"firstName,omitempty"`
	LastName     string `json:"lastName,omitempty"`
	Email        string `json:"email"`
	Organisation string `json:"organisation,omitempty"`
}

// Instructions are the offline payment details shown to the buyer: a postal
// Address for a cheque, IBAN and BIC for a transfer.
type Instructions struct {
	Payee   string `json:"payee,omitempty"`
	Address string `json:"address,omitempty"`
	IBAN    string `json:"iban,omitempty"`
	BIC     string `json:"bic,omitempty"`
	// Reference the buyer must quote; empty means the transaction ID.
	Reference string `json:"reference,omitempty"`
	// Text is any further instruction from the shop.
	Text string `json:"text,omitempty"`
}

// Feedback is one production handler's report on one item, per audience: public,
// private, sales admin.
type Feedback struct {
	Item       string `json:"item"`
	Public     string `json:"public,omitempty"`
	Private    string `json:"private,omitempty"`
	SalesAdmin string `json:"salesAdmin,omitempty"`
}

// Links are absolute http(s) URLs the e-mails point to.
type Links struct {
	Bill    string `json:"bill,omitempty"`
	Retry   string `json:"retry,omitempty"`
	Order   string `json:"order,omitempty"`
	Account string `json:"account,omitempty"`
}

// Email is one rendered message, ready for a Sender.
type Email struct {
	To      []string
	Subject string
	Text    string
	HTML    string
}

var txidPattern = regexp.MustCompile(`^[A-Z0-9]{16}$`)

// Render writes the e-mails of e in e.Lang: one per recipient group (every
// kind today has exactly one). It refuses, with an error naming the field,
// an event that lacks what its kind must show.
func Render(e Event) ([]Email, error) {
	v, to, err := prepare(e)
	if err != nil {
		return nil, err
	}
	set, err := templateSet(e.Kind, v.Lang)
	if err != nil {
		return nil, err
	}
	m, err := set.render(v)
	if err != nil {
		return nil, fmt.Errorf("notify: render %s (%s) for %s: %w", e.Kind, v.Lang, v.TxID, err)
	}
	m.To = to
	return []Email{m}, nil
}

// view is what the templates see: every value already sanitised and
// formatted, so templates hold no logic beyond layout.
type view struct {
	Kind         Kind
	Lang         string
	Subject      string
	Shop         Shop
	TxID         string
	Status       string
	Paymode      string
	PaymodeCode  string
	PlacedAt     string
	Customer     Person
	CustomerName string
	Lines        []viewLine
	Untaxed      string
	Taxes        string
	Final        string
	Instructions *Instructions
	Feedback     []Feedback
	Flag         *viewFlag
	Report       *viewReport
	Refund       *viewRefund
	Links        Links
}

type viewReport struct {
	At, Days                      string
	Providers                     []ReportProvider
	Recorded, Mismatched, Foreign []viewPayment
	Stuck                         []viewOrder
	Payments, Known               int
}

type viewPayment struct {
	TxID, Provider, Reference, Amount, Outcome string
}

type viewOrder struct {
	TxID, Status, Since string
}

type viewRefund struct {
	Amount, Mode, Reference, CreditNote, Invoice string
}

type viewFlag struct {
	Reason, Amount, Mode, Reference string
}

type viewLine struct {
	Code, Name string
	Quantity   int
	Total      string
}

// prepare validates e, sanitises its text and formats its amounts and dates.
func prepare(e Event) (view, []string, error) {
	v := view{Kind: e.Kind, Lang: e.Lang}
	if v.Lang == "" {
		v.Lang = Languages[0]
	}
	if !known(Languages, v.Lang) {
		return v, nil, fmt.Errorf("notify: language %q is not one of %v", e.Lang, Languages)
	}
	if !known(Kinds, e.Kind) {
		return v, nil, fmt.Errorf("notify: unknown kind %q", e.Kind)
	}
	fail := func(format string, a ...any) (view, []string, error) {
		return v, nil, fmt.Errorf("notify: %s: "+format, append([]any{e.Kind}, a...)...)
	}
	o := e.Order
	if e.Kind == ReconciliationReport && o.TxID == "" {
		// About the shop, not an order.
	} else if !txidPattern.MatchString(o.TxID) {
		return fail("order.txid %q is not a transaction ID (16 characters A-Z 0-9)", o.TxID)
	}
	v.TxID = o.TxID
	v.Shop = Shop{
		Name:        oneLine(e.Shop.Name),
		SellerEmail: strings.TrimSpace(e.Shop.SellerEmail),
		Currency:    e.Shop.Currency,
		TimeZone:    e.Shop.TimeZone,
	}
	if v.Shop.Name == "" {
		return fail("shop.name is required")
	}
	currency := o.Currency
	if currency == "" {
		currency = e.Shop.Currency
	}
	if currency == "" {
		currency = "EUR"
	}
	if _, err := pricing.MinorDigits(currency); err != nil {
		return fail("%v", err)
	}
	loc := time.UTC
	if e.Shop.TimeZone != "" {
		// The binaries do not embed Go's zone database (time/tzdata: about 450 KB in
		// each function that links this package) and provided.al2023 ships none: the
		// functions' package carries zoneinfo.zip beside the bootstrap, and the
		// template's ZONEINFO points the time package at it.
		var err error
		if loc, err = time.LoadLocation(e.Shop.TimeZone); err != nil {
			return fail("shop.timeZone: %v", err)
		}
	}
	if !o.PlacedAt.IsZero() {
		v.PlacedAt = formatDate(o.PlacedAt, loc, v.Lang)
	}

	v.Status = oneLine(o.Status)
	v.PaymodeCode = oneLine(o.Paymode)
	v.Paymode = checkout.PaymodeLabel(v.PaymodeCode, v.Lang)
	v.Customer = Person{
		FirstName:    oneLine(o.Customer.FirstName),
		LastName:     oneLine(o.Customer.LastName),
		Email:        strings.TrimSpace(o.Customer.Email),
		Organisation: oneLine(o.Customer.Organisation),
	}
	v.CustomerName = strings.TrimSpace(v.Customer.FirstName + " " + v.Customer.LastName)
	if v.CustomerName == "" {
		v.CustomerName = v.Customer.Email
	}
	money := func(minor int64) string { return pricing.FormatMoney(minor, currency, v.Lang) }
	for _, l := range o.Lines {
		v.Lines = append(v.Lines, viewLine{Code: oneLine(l.Code), Name: oneLine(l.Name), Quantity: l.Quantity, Total: money(l.Total)})
	}
	v.Untaxed, v.Taxes, v.Final = money(o.Untaxed), money(o.Taxes), money(o.Final)
	for _, f := range e.Feedback {
		v.Feedback = append(v.Feedback, Feedback{
			Item:       oneLine(f.Item),
			Public:     multiLine(f.Public),
			Private:    multiLine(f.Private),
			SalesAdmin: multiLine(f.SalesAdmin),
		})
	}
	var err error
	if v.Links, err = checkLinks(e.Links); err != nil {
		return fail("%v", err)
	}

	var to []string
	switch e.Kind {
	case OrderPlaced, DeliveryReport, PaymentFlagged, ReconciliationReport:
		managers := e.Shop.SalesManagers
		if len(managers) == 0 && v.Shop.SellerEmail != "" {
			managers = []string{v.Shop.SellerEmail}
		}
		if len(managers) == 0 {
			return fail("shop.salesManagers (or shop.sellerEmail) is required")
		}
		if to, err = Addresses(managers); err != nil {
			return fail("shop.salesManagers: %v", err)
		}
	default:
		if to, err = Addresses([]string{v.Customer.Email}); err != nil {
			return fail("order.customer.email: %v", err)
		}
	}

	switch e.Kind {
	case OrderPlaced:
		if len(v.Lines) == 0 {
			return fail("order.lines is empty: the sales managers must see what was ordered")
		}
	case OfflineInstructions:
		if v.Instructions, err = offline(v.PaymodeCode, v.TxID, e.Instructions); err != nil {
			return fail("%v", err)
		}
	case PaymentFailed:
		if v.Links.Retry == "" {
			return fail("links.retry is required: the buyer must be able to pay another way")
		}
	case ProductsDelivered:
		if v.Links.Bill == "" {
			return fail("links.bill is required: the buyer must reach the invoice")
		}
	case PaymentFlagged:
		f := e.Flag
		if f == nil || !known(flagReasons, f.Reason) {
			return fail("flag.reason must be one of %v", flagReasons)
		}
		cur := f.Currency
		if cur == "" {
			cur = currency
		}
		if _, err := pricing.MinorDigits(cur); err != nil {
			return fail("flag.currency: %v", err)
		}
		v.Flag = &viewFlag{Reason: f.Reason, Amount: pricing.FormatMoney(f.Amount, cur, v.Lang), Mode: checkout.PaymodeLabel(oneLine(f.Mode), v.Lang), Reference: oneLine(f.Reference)}
	case ReconciliationReport:
		if v.Report, err = report(e.Report, currency, loc, v.Lang); err != nil {
			return fail("%v", err)
		}
	case Refunded:
		r := e.Refund
		if r == nil || r.Amount <= 0 || strings.TrimSpace(r.Reference) == "" {
			return fail("refund.amount and refund.reference are required")
		}
		cur := r.Currency
		if cur == "" {
			cur = currency
		}
		if _, err := pricing.MinorDigits(cur); err != nil {
			return fail("refund.currency: %v", err)
		}
		if r.CreditNote != "" && v.Links.Bill == "" {
			return fail("links.bill is required with a credit note: the buyer must reach it")
		}
		v.Refund = &viewRefund{Amount: pricing.FormatMoney(r.Amount, cur, v.Lang), Mode: checkout.PaymodeLabel(oneLine(r.Mode), v.Lang),
			Reference: oneLine(r.Reference), CreditNote: oneLine(r.CreditNote), Invoice: oneLine(r.Invoice)}
	}
	return v, to, nil
}

// report formats a reconciliation report for the templates.
func report(r *Report, currency string, loc *time.Location, lang string) (*viewReport, error) {
	if r == nil || r.At.IsZero() {
		return nil, fmt.Errorf("report.at is required")
	}
	if r.Days < 1 {
		return nil, fmt.Errorf("report.days must be at least 1, not %d", r.Days)
	}
	v := &viewReport{At: formatDate(r.At, loc, lang), Days: fmt.Sprint(r.Days)}
	for _, p := range r.Providers {
		p.Name, p.Error = checkout.PaymodeLabel(oneLine(p.Name), lang), oneLine(p.Error)
		v.Providers = append(v.Providers, p)
		v.Payments += p.Payments
		v.Known += p.Known
	}
	payments := func(in []ReportPayment, field string) ([]viewPayment, error) {
		var out []viewPayment
		for _, p := range in {
			cur := p.Currency
			if cur == "" {
				cur = currency
			}
			if _, err := pricing.MinorDigits(cur); err != nil {
				return nil, fmt.Errorf("report.%s currency: %w", field, err)
			}
			out = append(out, viewPayment{TxID: oneLine(p.TxID), Provider: checkout.PaymodeLabel(oneLine(p.Provider), lang),
				Reference: oneLine(p.Reference), Amount: pricing.FormatMoney(p.Amount, cur, lang), Outcome: oneLine(p.Outcome)})
		}
		return out, nil
	}
	var err error
	if v.Recorded, err = payments(r.Recorded, "recorded"); err != nil {
		return nil, err
	}
	if v.Mismatched, err = payments(r.Mismatched, "mismatched"); err != nil {
		return nil, err
	}
	if v.Foreign, err = payments(r.Foreign, "foreign"); err != nil {
		return nil, err
	}
	for _, o := range r.Stuck {
		v.Stuck = append(v.Stuck, viewOrder{TxID: oneLine(o.TxID), Status: oneLine(o.Status), Since: formatDate(o.Since, loc, lang)})
	}
	return v, nil
}

// flagReasons are the reasons a payment is flagged for an operator.
var flagReasons = []string{"late", "duplicate", "underpayment", "overpayment", "currency"}

// offline checks the instructions against the payment mode and fills in the
// defaults the buyer must see.
func offline(paymode, txid string, in *Instructions) (*Instructions, error) {
	if in == nil {
		return nil, fmt.Errorf("instructions are required")
	}
	out := Instructions{
		Payee:     oneLine(in.Payee),
		Address:   multiLine(in.Address),
		IBAN:      groupIBAN(in.IBAN),
		BIC:       strings.ToUpper(oneLine(in.BIC)),
		Reference: oneLine(in.Reference),
		Text:      multiLine(in.Text),
	}
	if out.Reference == "" {
		out.Reference = txid
	}
	switch paymode {
	case "check":
		if out.Address == "" {
			return nil, fmt.Errorf("instructions.address is required to pay by cheque")
		}
	case "transfer":
		if out.IBAN == "" || out.BIC == "" {
			return nil, fmt.Errorf("instructions.iban and instructions.bic are required to pay by transfer")
		}
	default:
		return nil, fmt.Errorf("order.paymode %q is not an offline mode (check, transfer)", paymode)
	}
	return &out, nil
}

// groupIBAN writes an IBAN in blocks of four, as banks print it, so the buyer
// can copy it without error.
func groupIBAN(s string) string {
	s = strings.ToUpper(strings.Join(strings.Fields(oneLine(s)), ""))
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Addresses parses recipients and returns their bare addresses, without
// duplicates. A display name is dropped: only the address reaches a header.
func Addresses(in []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		a, err := mail.ParseAddress(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not an e-mail address: %w", s, err)
		}
		if k := strings.ToLower(a.Address); !seen[k] {
			seen[k] = true
			out = append(out, a.Address)
		}
	}
	return out, nil
}

// checkLinks accepts only absolute http(s) URLs, so a link can neither be
// relative (useless in a mail) nor carry a javascript: or data: payload.
func checkLinks(l Links) (Links, error) {
	fields := []struct {
		name string
		val  *string
	}{{"bill", &l.Bill}, {"retry", &l.Retry}, {"order", &l.Order}, {"account", &l.Account}}
	for _, f := range fields {
		*f.val = strings.TrimSpace(*f.val)
		if *f.val == "" {
			continue
		}
		u, err := url.Parse(*f.val)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsFunc(*f.val, trace.BreaksLine) {
			return l, fmt.Errorf("links.%s %q is not an absolute http(s) URL", f.name, *f.val)
		}
	}
	return l, nil
}

func known[T comparable](list []T, x T) bool {
	for _, k := range list {
		if k == x {
			return true
		}
	}
	return false
}

var months = map[string][12]string{
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"fr": {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
}

// formatDate writes t in the shop's zone, with the zone's abbreviation so a
// reader elsewhere is not misled: "27 July 2016, 11:32 CEST" or
// "27 juillet 2016 à 11:32 CEST".
func formatDate(t time.Time, loc *time.Location, lang string) string {
	t = t.In(loc)
	sep := ","
	if lang == "fr" {
		sep = " à"
	}
	return fmt.Sprintf("%d %s %d%s %s", t.Day(), months[lang][t.Month()-1], t.Year(), sep, t.Format("15:04 MST"))
}
