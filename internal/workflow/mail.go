package workflow

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/trace"
)

// mailEvent fills what every e-mail about an order shows.
func mailEvent(kind notify.Kind, shop *checkout.Shop, o *checkout.Order) notify.Event {
	e := notify.Event{
		Kind: kind, Lang: o.Customer.Lang,
		Shop: notify.Shop{Name: shop.Name, SellerEmail: shop.SellerEmail, SalesManagers: shop.SalesManagers, Currency: shop.Currency},
		Order: notify.Order{
			TxID: o.TxID, Status: string(o.Status), Paymode: o.Paymode, PlacedAt: o.PlacedAt,
			Untaxed: o.Totals.Untaxed, Taxes: o.Totals.Taxes, Final: o.Totals.Final, Currency: o.Currency,
			Customer: notify.Person{FirstName: o.Customer.FirstName, LastName: o.Customer.LastName, Email: o.Customer.Email, Organisation: o.Customer.Organisation},
		},
	}
	if e.Lang != "fr" {
		e.Lang = "en"
	}
	if e.Shop.Name == "" {
		e.Shop.Name = shop.ID
	}
	for _, l := range o.Lines {
		e.Order.Lines = append(e.Order.Lines, notify.Line{Code: l.Code, Name: l.Name, Quantity: l.Quantity, Total: l.Taxed})
	}
	return e
}

// sendOnce renders e and sends it, at most once per (transaction, name): a retried
// task does not e-mail twice. When sending fails the claim is given back, so the
// retry sends it.
func (s *mailing) sendOnce(ctx context.Context, name string, e notify.Event) error {
	if s.Relay != nil {
		return s.relay(ctx, name, e)
	}
	txid, key := e.Order.TxID, "mail#"+name
	first, err := s.Store.Once(ctx, txid, key)
	if err != nil {
		return err
	}
	return s.sendClaimed(ctx, name, e, first, claim{
		key:     "ONCE#" + key,
		release: func(ctx context.Context) error { return s.Store.Release(ctx, txid, key) },
	})
}

// claim is an e-mail's once-only claim as its taker holds it: where it is kept, as the
// transaction's sort key and, for a claim that is an attribute, its name (named by the
// error of a claim left held), and the write that gives it back.
type claim struct {
	key     string
	release func(context.Context) error
}

// sendClaimed sends e when this caller holds its once-only claim c (taken by sendOnce,
// or in a write the caller makes anyway: store.UpdateOnce), and gives the claim back
// when sending fails (releaseClaim), so the retry sends it.
func (s *mailing) sendClaimed(ctx context.Context, name string, e notify.Event, claimed bool, c claim) error {
	if !claimed {
		return nil
	}
	sendCtx, cancel := beforeDeadline(ctx, releaseReserve)
	defer cancel()
	if err := s.send(sendCtx, e); err != nil {
		return s.releaseClaim(ctx, name, e, c, err)
	}
	return nil
}

// releaseReserve is what a send leaves of the invocation's time for giving its claim
// back. In Lambda the context's deadline is the function's timeout, when the
// invocation is stopped: a send cut off only then would leave no time for the release,
// however long its own context (giveBack), and the claim would stay held.
var releaseReserve = 2 * time.Second // a var for its test (SetReleaseReserve)

// beforeDeadline is ctx ending reserve before ctx's deadline, if it has one.
func beforeDeadline(ctx context.Context, reserve time.Duration) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, d.Add(-reserve))
	}
	return context.WithCancel(ctx)
}

// releaseClaim gives back the claim c of the e-mail e whose sending failed with err,
// under a context that outlives ctx's cancellation (giveBack): a send most often fails
// because the invocation's context ended. When the claim cannot be given back (DynamoDB
// unreachable), it stays held and no retry will send the e-mail: that is traced and
// logged as an error naming the claim, and the error returned says so (a heldClaim).
func (s *mailing) releaseClaim(ctx context.Context, name string, e notify.Event, c claim, err error) error {
	rerr := s.giveBack(ctx, c.release)
	if rerr == nil {
		return err
	}
	held := &heldClaim{kind: e.Kind, key: c.key, err: errors.Join(err, rerr)}
	s.tracer(trace.SourceNotify).Printf(ctx, e.Order.TxID, "%v", held)
	s.log().Error("e-mail claim left held: the e-mail will not be retried", "txid", e.Order.TxID, "mail", name, "claim", c.key, "err", rerr)
	return held
}

// heldClaim is the failure of an e-mail whose claim could not be given back: already
// traced and logged where it happened (releaseClaim).
type heldClaim struct {
	kind notify.Kind
	key  string
	err  error
}

func (h *heldClaim) Error() string {
	return fmt.Sprintf("e-mail %s NOT sent and will not be retried: its claim %s could not be given back: %v", h.kind, h.key, h.err)
}

func (h *heldClaim) Unwrap() error { return h.err }

// Relay starts a run of the mail state machine (statemachine/mail.asl.json), which
// gives its input, a Task of event EventMail, to the Notify function.
type Relay interface {
	Pass(ctx context.Context, input any) (string, error)
}

// EventMail is the Notify function's task of sending an e-mail another function
// handed to it (Task.Mail).
const EventMail = "mail"

// Mail is an e-mail handed to the Notify function: the event to render and send, and
// the name it is sent once under, as sendOnce takes them.
type Mail struct {
	Name  string       `json:"name"`
	Event notify.Event `json:"event"`
}

// relay hands e to the Notify function, which sends it with sendOnce: once per
// (transaction, name), its claim given back when SES fails, so the run's retry (or the
// caller's own retry, which hands it again) sends it. e is rendered here first, so that
// an event that cannot be rendered fails the caller's action as sending it would.
func (s *mailing) relay(ctx context.Context, name string, e notify.Event) error {
	if _, err := notify.Render(e); err != nil {
		return &TaskError{Name: ErrTaskFailed, Msg: "render " + string(e.Kind), Err: err}
	}
	if _, err := s.Relay.Pass(ctx, Task{Event: EventMail, TxID: e.Order.TxID, Mail: &Mail{Name: name, Event: e}}); err != nil {
		return &checkout.Error{Op: "mail.relay", Kind: checkout.EUNAVAILABLE, Message: "could not hand " + string(e.Kind) + " to the Notify function", Err: err}
	}
	return nil
}

func (s *mailing) send(ctx context.Context, e notify.Event) error {
	mails, err := notify.Render(e)
	if err != nil {
		// A template or data problem will not fix itself on retry.
		return &TaskError{Name: ErrTaskFailed, Msg: "render " + string(e.Kind), Err: err}
	}
	for _, m := range mails {
		id, err := s.Mail.Send(ctx, s.SenderEmail, m)
		if err != nil {
			return &checkout.Error{Op: "mail.send", Kind: checkout.EUNAVAILABLE, Message: "could not send " + string(e.Kind), Err: err}
		}
		s.tracer(trace.SourceNotify).Printf(ctx, e.Order.TxID, "e-mail %s sent to %v (message %s)", e.Kind, m.To, id)
	}
	return nil
}

// LinkToken is the capability that e-mailed links and provider return URLs carry
// (?token=…) so that a buyer on another device can read the order and its bill, and
// nothing more: it cannot pay, retry or change anything (those need the cart token). It
// expires: the expiry (Unix seconds, 10 hex digits) is followed by an HMAC of the
// transaction ID and that expiry keyed by the hash of the cart token. The hash never
// leaves the table, so knowing a transaction ID (it is printed in traces and mails) is
// not enough, and no plain cart token has to be kept to write the link.
func LinkToken(o *checkout.Order, expires time.Time) string {
	exp := fmt.Sprintf("%010x", expires.Unix())
	return exp + linkMAC(o, exp)
}

func linkMAC(o *checkout.Order, exp string) string {
	m := hmac.New(sha256.New, []byte(o.TokenHash))
	m.Write([]byte("order-link/" + o.TxID + "/" + exp))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// checkLinkToken says whether tok is a link token of o: EFORBIDDEN when it is not,
// EGONE when it is but has expired.
func checkLinkToken(o *checkout.Order, tok string, now time.Time) error {
	const op = "order.link"
	if o.TokenHash == "" || len(tok) != 42 {
		return checkout.Errorf(op, checkout.EFORBIDDEN, "this link does not open order %s", o.TxID)
	}
	exp, mac := tok[:10], tok[10:]
	if subtle.ConstantTimeCompare([]byte(linkMAC(o, exp)), []byte(mac)) != 1 {
		return checkout.Errorf(op, checkout.EFORBIDDEN, "this link does not open order %s", o.TxID)
	}
	at, err := strconv.ParseInt(exp, 16, 64)
	if err != nil || !now.Before(time.Unix(at, 0)) {
		return checkout.Errorf(op, checkout.EGONE, "this link to order %s has expired: open the order from the browser it was placed in, or ask the shop", o.TxID)
	}
	return nil
}

// DefaultLinkTTL is how long an e-mailed link stays valid when Mailing.LinkTTL is 0.
const DefaultLinkTTL = 30 * 24 * time.Hour

// linkToken is a link token of o valid for the service's link lifetime from now.
func (s *mailing) linkToken(o *checkout.Order) string {
	ttl := s.LinkTTL
	if ttl <= 0 {
		ttl = DefaultLinkTTL
	}
	return LinkToken(o, s.now().Add(ttl))
}

// billLink is the storefront's bill page for the buyer, with its link token.
func (s *mailing) billLink(o *checkout.Order) string {
	return fmt.Sprintf("%s/#/bill/%s?token=%s", s.StorefrontURL, o.TxID, url.QueryEscape(s.linkToken(o)))
}

// orderLink is the storefront's order page (status, retry with another mode).
func (s *mailing) orderLink(o *checkout.Order) string {
	return fmt.Sprintf("%s/#/order/%s?token=%s", s.StorefrontURL, o.TxID, url.QueryEscape(s.linkToken(o)))
}
