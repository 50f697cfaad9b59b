// Package payment builds payment requests for each payment mode a shop offers
// and verifies the notifications that payment providers send back.
//
// The package has no storage: the workflow that calls it records each
// verified notification once (keyed by Provider and EventID) and moves the
// order between statuses. What this package guarantees is that a Notification
// it returns is authentic, fresh and well formed; anything else is an error
// wrapping one of the sentinel errors below, so a webhook can answer 4xx and
// change nothing.
package payment

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Sentinel errors returned (wrapped) by Verifiers and by Notification.Check.
// A webhook maps ErrSignature to 401 and ErrStale, ErrMalformed and
// ErrMismatch to 400; any other error is transient (for example the PayPal
// verification endpoint was unreachable) and deserves a 5xx so the provider
// retries.
var (
	// ErrSignature means the notification is not authentic: bad or missing
	// signature, wrong secret, or the provider disowned it.
	ErrSignature = errors.New("payment: notification signature invalid")
	// ErrStale means the signature is valid but its timestamp is outside the
	// accepted tolerance, so it may be a replay.
	ErrStale = errors.New("payment: notification timestamp outside tolerance")
	// ErrMalformed means the notification cannot be parsed or lacks a
	// required field.
	ErrMalformed = errors.New("payment: notification malformed")
	// ErrMismatch means an authentic notification does not belong to this
	// shop or order: other receiver, amount, currency or transaction ID.
	ErrMismatch = errors.New("payment: notification does not match")
)

// Request is what a mode needs to start a payment for a placed order.
type Request struct {
	TxID string
	// Attempt numbers the payment attempts of one order (0 for the first,
	// incremented on each retry after a failure). Providers that refuse to see
	// the same transaction reference twice derive their reference from it.
	Attempt       int
	Amount        int64  // minor units of Currency
	Currency      string // ISO 4217 alphabetic code, e.g. "EUR"
	Lang          string // buyer's language, ISO 639-1, e.g. "fr"
	CustomerEmail string
	ReturnURL     string
	CancelURL     string
	NotifyURL     string
	ShopName      string
	// ExpiresAt is when the order stops waiting for this payment: a provider session
	// that can expire is made to close no later (within what the provider accepts).
	// Zero leaves the provider's default.
	ExpiresAt time.Time
}

// validate checks the fields every mode relies on.
func (r Request) validate() error {
	if r.TxID == "" {
		return errors.New("payment: request has no transaction ID")
	}
	if r.Amount < 0 {
		return fmt.Errorf("payment: request amount %d is negative", r.Amount)
	}
	if !accepted(r.Currency) {
		return fmt.Errorf("payment: request currency %q is not a supported ISO 4217 code", r.Currency)
	}
	if r.Attempt < 0 {
		return fmt.Errorf("payment: request attempt %d is negative", r.Attempt)
	}
	return nil
}

// Instruction kinds, the value of Instructions.Kind.
const (
	InstructionsInstant  = "instant"  // nothing to do: the payment is settled
	InstructionsButtons  = "buttons"  // test shop: show pay / fail / deferred buttons
	InstructionsOffline  = "offline"  // show Offline and wait for the operator
	InstructionsRedirect = "redirect" // send the browser to RedirectURL
	InstructionsForm     = "form"     // auto-submit Form from the browser
)

// Instructions tell the buyer what to do next (rendered by the storefront or
// an e-mail).
type Instructions struct {
	Kind        string
	RedirectURL string
	Form        *Form
	Offline     *Offline
}

// Form is an HTML form the browser posts to the provider.
type Form struct {
	Action string
	Method string
	Fields []Field // in the order they are to be rendered
}

// Field is one form field.
type Field struct {
	Name  string
	Value string
}

// Offline describes how to pay outside the web site (cheque, transfer).
type Offline struct {
	Payee     string
	Address   string
	IBAN      string // printed in groups of four
	BIC       string
	Reference string // the transaction ID, to be quoted by the buyer
	Amount    int64
	Currency  string
	Text      string
}

// Kind says how a mode settles a payment.
type Kind int

// Mode kinds.
const (
	// KindInstant modes settle at once (free order, test buttons).
	KindInstant Kind = iota + 1
	// KindOffline modes wait for an operator to record the payment.
	KindOffline
	// KindOnline modes wait for a provider notification.
	KindOnline
)

// String returns the kind's name as docs/spec.md#payment-modes uses it.
func (k Kind) String() string {
	switch k {
	case KindInstant:
		return "instant"
	case KindOffline:
		return "offline"
	case KindOnline:
		return "online"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Mode starts a payment with one payment mode.
type Mode interface {
	// Name is the mode's identifier, e.g. "stripe".
	Name() string
	// Kind says whether the workflow waits, and for whom.
	Kind() Kind
	// Start returns what the buyer must do to pay r.
	Start(ctx context.Context, r Request) (Instructions, error)
}

// Outcome is what a notification says about a payment.
type Outcome int

// Notification outcomes.
const (
	Paid    Outcome = iota + 1 // money received
	Failed                     // payment failed, abandoned or expired
	Refused                    // payment refused by the bank or provider
	Pending                    // provider still deciding
	Ignored                    // authentic but irrelevant to the order's status
)

// String returns the outcome's lower-case name.
func (o Outcome) String() string {
	switch o {
	case Paid:
		return "paid"
	case Failed:
		return "failed"
	case Refused:
		return "refused"
	case Pending:
		return "pending"
	case Ignored:
		return "ignored"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Notification is a verified provider message, reduced to what the workflow
// needs.
type Notification struct {
	Provider string
	// EventID identifies this delivery's content at the provider; the
	// workflow records (Provider, EventID) to process it at most once.
	EventID string
	// Reference identifies the payment itself at the provider (a Checkout Session,
	// a PayPal txn_id, a Systempay transaction UUID): several events may be about one
	// payment, and the workflow stores a payment once per (Provider, Reference).
	Reference string
	TxID      string
	Outcome   Outcome
	Amount    int64  // minor units; 0 when the provider did not say
	Currency  string // ISO 4217 alphabetic, upper case; "" when not said
	Raw       map[string]string
}

// Check reports, wrapping ErrMismatch, whether n is about the order with the
// given transaction ID, amount and currency. Ignored notifications need not be
// checked. The workflow calls it before changing the order, because a
// verifier only knows the message is authentic, not that it pays this order
// in full.
func (n Notification) Check(txID string, amount int64, currency string) error {
	if n.TxID != txID {
		return fmt.Errorf("%w: transaction %q, expected %q", ErrMismatch, n.TxID, txID)
	}
	if n.Outcome != Paid {
		// Failures and pending notices carry no money; some providers omit
		// the amount on them.
		return nil
	}
	if n.Currency != currency {
		return fmt.Errorf("%w: currency %q, expected %q", ErrMismatch, n.Currency, currency)
	}
	if n.Amount != amount {
		return fmt.Errorf("%w: amount %d, expected %d", ErrMismatch, n.Amount, amount)
	}
	return nil
}

// Webhook is an incoming provider request as the webhook handler received it.
type Webhook struct {
	Header http.Header
	Body   []byte // exact bytes received; signatures cover them
	Now    time.Time
}

// now returns w.Now, or the wall clock if the caller left it zero.
func (w Webhook) now() time.Time {
	if w.Now.IsZero() {
		return time.Now().UTC()
	}
	return w.Now
}

// Verifier authenticates and parses one provider's notifications.
type Verifier interface {
	Verify(ctx context.Context, w Webhook) (Notification, error)
}
