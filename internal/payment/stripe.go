package payment

import (
	"context"
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v84"
	"github.com/stripe/stripe-go/v84/webhook"

	"github.com/lmsshop/checkout/internal/checkout"
)

// StripeSignatureHeader is the header Stripe signs webhooks in.
const StripeSignatureHeader = "Stripe-Signature"

// StripeTolerance is the accepted age of a Stripe webhook signature.
const StripeTolerance = 300 * time.Second

// Stripe is the "stripe" mode: a Stripe Checkout Session, confirmed by a
// signed webhook.
type Stripe struct {
	apiURL        string // without its trailing slash
	key           string
	client        *http.Client
	webhookSecret string
}

var (
	_ Mode     = (*Stripe)(nil)
	_ Verifier = (*Stripe)(nil)
)

// NewStripe validates c and returns the mode. client may be nil
// (http.DefaultClient).
func NewStripe(c StripeConfig, client *http.Client) (*Stripe, error) {
	if err := missing("Stripe", "SecretKey", c.SecretKey, "WebhookSecret", c.WebhookSecret); err != nil {
		return nil, err
	}
	apiURL := c.APIURL
	if apiURL == "" {
		apiURL = stripe.APIURL
	}
	if u, err := url.Parse(apiURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("Stripe.APIURL %q is not an absolute http(s) URL", c.APIURL)
	}
	if client == nil {
		client = http.DefaultClient
	}
	// The one call this mode makes (creating a Checkout Session) is a form POST made
	// here with net/http: stripe-go's client builds every service of the whole API and
	// added a megabyte to each binary that links this mode. Webhooks are still checked
	// by stripe-go's webhook package.
	return &Stripe{apiURL: strings.TrimSuffix(apiURL, "/"), key: c.SecretKey, client: client, webhookSecret: c.WebhookSecret}, nil
}

// Name implements Mode.
func (*Stripe) Name() string { return checkout.PaymodeStripe }

// Kind implements Mode.
func (*Stripe) Kind() Kind { return KindOnline }

// stripeLocales are the Checkout locales this shop's languages map to; any
// other language lets Stripe choose from the browser.
var stripeLocales = map[string]bool{"de": true, "en": true, "es": true, "fr": true, "it": true, "ja": true, "nl": true, "pt": true}

// Start implements Mode: it creates a Checkout Session and redirects to it.
func (s *Stripe) Start(ctx context.Context, r Request) (Instructions, error) {
	if err := r.validate(); err != nil {
		return Instructions{}, err
	}
	if r.Amount <= 0 {
		return Instructions{}, fmt.Errorf("payment: stripe needs a positive amount, got %d", r.Amount)
	}
	locale := "auto"
	if stripeLocales[r.Lang] {
		locale = r.Lang
	}
	// The parameters as Stripe's API reference names them (form-encoded, nested keys
	// in brackets), as stripe-go sent them.
	form := url.Values{
		"mode":                                   {"payment"},
		"client_reference_id":                    {r.TxID},
		"success_url":                            {r.ReturnURL},
		"cancel_url":                             {r.CancelURL},
		"locale":                                 {locale},
		"line_items[0][quantity]":                {"1"},
		"line_items[0][price_data][currency]":    {strings.ToLower(r.Currency)},
		"line_items[0][price_data][unit_amount]": {strconv.FormatInt(r.Amount, 10)},
		"line_items[0][price_data][product_data][name]": {itemName(r)},
		// The payment intent carries the transaction ID too, because
		// payment_intent.* events do not include the session.
		"payment_intent_data[metadata][txid]": {r.TxID},
		"metadata[txid]":                      {r.TxID},
	}
	if r.CustomerEmail != "" {
		form.Set("customer_email", r.CustomerEmail)
	}
	if !r.ExpiresAt.IsZero() {
		form.Set("expires_at", strconv.FormatInt(stripeExpiry(r.ExpiresAt, time.Now()).Unix(), 10))
	}
	// A retried Lambda must not open a second session for the same attempt.
	sess, err := s.createSession(ctx, form, "checkout-"+r.TxID+"-"+strconv.Itoa(r.Attempt))
	if err != nil {
		return Instructions{}, fmt.Errorf("payment: stripe checkout session for %s: %w", r.TxID, err)
	}
	if sess.URL == "" {
		return Instructions{}, fmt.Errorf("payment: stripe checkout session %s has no URL", sess.ID)
	}
	return Instructions{Kind: InstructionsRedirect, RedirectURL: sess.URL}, nil
}

// stripeSession is what Start reads of a created Checkout Session.
type stripeSession struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

// createSession POSTs /v1/checkout/sessions with the idempotency key, which makes
// Stripe answer the first session again to a retry rather than open a second one.
func (s *Stripe) createSession(ctx context.Context, form url.Values, idempotencyKey string) (stripeSession, error) {
	var sess stripeSession
	err := s.call(ctx, http.MethodPost, "/v1/checkout/sessions", form, idempotencyKey, &sess)
	return sess, err
}

// stripeAPIError is an error answer of Stripe's API.
type stripeAPIError struct {
	Status                     int
	Type, Code, Param, Message string
}

func (e *stripeAPIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("HTTP %d from Stripe", e.Status)
	}
	msg := fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Type, e.Message)
	if e.Param != "" {
		msg += " (param " + e.Param + ")"
	}
	return msg
}

// call sends one request to Stripe's API through net/http: stripe-go's client builds
// every service of the whole API, a megabyte in each binary that names it. A form is
// sent as the body of a POST and as the query of a GET. A network error, a 409 (a
// concurrent request with the same key) or a 5xx is tried once more, with the same
// idempotency key for a POST; the answer is decoded into out.
func (s *Stripe) call(ctx context.Context, method, path string, form url.Values, idempotencyKey string, out any) error {
	target, body := s.apiURL+path, ""
	if method == http.MethodGet {
		if len(form) > 0 {
			target += "?" + form.Encode()
		}
	} else {
		body = form.Encode()
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, target, strings.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+s.key)
		req.Header.Set("Stripe-Version", stripe.APIVersion)
		if method != http.MethodGet {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if idempotencyKey != "" {
			req.Header.Set("Idempotency-Key", idempotencyKey)
		}
		resp, err := s.client.Do(req)
		if err != nil {
			if attempt == 0 && ctx.Err() == nil {
				continue
			}
			return err
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		if err != nil {
			return err
		}
		if attempt == 0 && (resp.StatusCode == http.StatusConflict || resp.StatusCode >= 500) {
			continue
		}
		if resp.StatusCode/100 != 2 {
			var e struct {
				Error struct {
					Type, Code, Param, Message string
				} `json:"error"`
			}
			_ = json.Unmarshal(raw, &e)
			return &stripeAPIError{Status: resp.StatusCode, Type: e.Error.Type, Code: e.Error.Code, Param: e.Error.Param, Message: e.Error.Message}
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("the answer from Stripe: %w", err)
		}
		return nil
	}
}

// Stripe accepts a Checkout Session's expires_at from 30 minutes to 24 hours after its
// creation; a minute of margin keeps a slow request inside the window.
const (
	stripeMinExpiry = 31 * time.Minute
	stripeMaxExpiry = 24 * time.Hour
)

// stripeExpiry is the session's expiry for an order that stops waiting at deadline: the
// deadline itself when Stripe accepts it, else the nearest time it accepts. A wait
// shorter than Stripe's minimum leaves the session open a little longer than the wait;
// a payment made then is a late payment, stored and flagged for an operator.
func stripeExpiry(deadline, now time.Time) time.Time {
	switch {
	case deadline.Before(now.Add(stripeMinExpiry)):
		return now.Add(stripeMinExpiry)
	case deadline.After(now.Add(stripeMaxExpiry)):
		return now.Add(stripeMaxExpiry)
	}
	return deadline
}

// stripeObject holds the fields read from a checkout session or payment
// intent; both have these names.
type stripeObject struct {
	ID                string            `json:"id"`
	Object            string            `json:"object"`
	ClientReferenceID string            `json:"client_reference_id"`
	PaymentStatus     string            `json:"payment_status"`
	AmountTotal       int64             `json:"amount_total"`
	Amount            int64             `json:"amount"`
	Currency          string            `json:"currency"`
	Metadata          map[string]string `json:"metadata"`
}

// Verify implements Verifier for Stripe webhooks.
func (s *Stripe) Verify(_ context.Context, w Webhook) (Notification, error) {
	// The timestamp checked against the window must be the one the signature covers:
	// the header is parsed once, here (a header with two timestamps is refused), the
	// signature is checked over that timestamp, and stripe-go then parses the event
	// under a header rebuilt from this parse alone. Its own tolerance check reads the
	// wall clock, so it is off and the 300 s rule is applied against w.Now, which lets
	// tests and replays control time. The API version check is off because only
	// long-stable fields are read.
	ts, sigs, err := parseTimestampedSignature(w.Header.Get(StripeSignatureHeader))
	if err != nil {
		return Notification{}, err
	}
	want := webhook.ComputeSignature(time.Unix(ts, 0), w.Body, s.webhookSecret)
	ok := false
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			ok = true
		}
	}
	if !ok {
		return Notification{}, fmt.Errorf("%w: %s does not match the body", ErrSignature, StripeSignatureHeader)
	}
	if err := checkTolerance(time.Unix(ts, 0), w.now(), StripeTolerance); err != nil {
		return Notification{}, err
	}
	header := "t=" + strconv.FormatInt(ts, 10) + ",v1=" + hex.EncodeToString(want)
	ev, err := webhook.ConstructEventWithOptions(w.Body, header, s.webhookSecret, webhook.ConstructEventOptions{
		IgnoreTolerance: true, IgnoreAPIVersionMismatch: true,
	})
	switch {
	case err == nil:
	case errors.Is(err, webhook.ErrNotSigned), errors.Is(err, webhook.ErrInvalidHeader), errors.Is(err, webhook.ErrNoValidSignature):
		return Notification{}, fmt.Errorf("%w: %w", ErrSignature, err)
	default:
		return Notification{}, fmt.Errorf("%w: stripe event: %w", ErrMalformed, err)
	}
	if ev.ID == "" || ev.Data == nil {
		return Notification{}, fmt.Errorf("%w: stripe event without id or data", ErrMalformed)
	}
	n := Notification{Provider: checkout.PaymodeStripe, EventID: ev.ID, Outcome: Ignored,
		Raw: map[string]string{"event": ev.ID, "type": string(ev.Type)}}
	var obj stripeObject
	if err := json.Unmarshal(ev.Data.Raw, &obj); err != nil {
		return Notification{}, fmt.Errorf("%w: stripe event %s object: %w", ErrMalformed, ev.ID, err)
	}
	n.Raw["object"] = obj.ID
	n.Reference = obj.ID
	if obj.PaymentStatus != "" {
		n.Raw["payment_status"] = obj.PaymentStatus
	}
	switch ev.Type {
	case stripe.EventTypeCheckoutSessionCompleted, stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded:
		n.TxID, n.Amount = obj.ClientReferenceID, obj.AmountTotal
		switch obj.PaymentStatus {
		case "paid":
			n.Outcome = Paid
		case "unpaid":
			// Completed checkout with a delayed method (SEPA debit…): the
			// money comes with async_payment_succeeded or _failed.
			n.Outcome = Pending
		default:
			return n, nil
		}
	case stripe.EventTypeCheckoutSessionAsyncPaymentFailed:
		n.TxID, n.Amount, n.Outcome = obj.ClientReferenceID, obj.AmountTotal, Failed
	case stripe.EventTypePaymentIntentPaymentFailed:
		n.TxID, n.Amount, n.Outcome = obj.Metadata["txid"], obj.Amount, Failed
	default:
		return n, nil
	}
	if n.TxID == "" {
		n.TxID = obj.Metadata["txid"]
	}
	if n.TxID == "" {
		return Notification{}, fmt.Errorf("%w: stripe event %s (%s) names no transaction", ErrMalformed, ev.ID, ev.Type)
	}
	n.Currency = strings.ToUpper(obj.Currency)
	if !accepted(n.Currency) && n.Outcome == Paid {
		return Notification{}, fmt.Errorf("%w: stripe event %s currency %q unsupported", ErrMalformed, ev.ID, obj.Currency)
	}
	n.Raw["txid"] = n.TxID
	n.Raw["amount"] = strconv.FormatInt(n.Amount, 10)
	n.Raw["currency"] = n.Currency
	return n, nil
}
