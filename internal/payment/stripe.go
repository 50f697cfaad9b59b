package payment

import (
	"context"
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v84"
	"github.com/stripe/stripe-go/v84/webhook"
)

// StripeSignatureHeader is the header Stripe signs webhooks in.
const StripeSignatureHeader = "Stripe-Signature"

// StripeTolerance is the accepted age of a Stripe webhook signature.
const StripeTolerance = 300 * time.Second

// Stripe is the "stripe" mode: a Stripe Checkout Session, confirmed by a
// signed webhook.
type Stripe struct {
	client        *stripe.Client
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
	backend := stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{
		URL:        stripe.String(strings.TrimSuffix(apiURL, "/")),
		HTTPClient: client,
		// The library would otherwise log every API error to stderr; the
		// caller already gets the error and decides what to log.
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
		MaxNetworkRetries: stripe.Int64(1),
	})
	sc := stripe.NewClient(c.SecretKey, stripe.WithBackends(&stripe.Backends{API: backend}))
	return &Stripe{client: sc, webhookSecret: c.WebhookSecret}, nil
}

// Name implements Mode.
func (*Stripe) Name() string { return NameStripe }

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
	params := &stripe.CheckoutSessionCreateParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		ClientReferenceID: stripe.String(r.TxID),
		SuccessURL:        stripe.String(r.ReturnURL),
		CancelURL:         stripe.String(r.CancelURL),
		Locale:            stripe.String(locale),
		LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionCreateLineItemPriceDataParams{
				Currency:    stripe.String(strings.ToLower(r.Currency)),
				UnitAmount:  stripe.Int64(r.Amount),
				ProductData: &stripe.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripe.String(itemName(r))},
			},
		}},
		// The payment intent carries the transaction ID too, because
		// payment_intent.* events do not include the session.
		PaymentIntentData: &stripe.CheckoutSessionCreatePaymentIntentDataParams{
			Metadata: map[string]string{"txid": r.TxID},
		},
	}
	if r.CustomerEmail != "" {
		params.CustomerEmail = stripe.String(r.CustomerEmail)
	}
	if !r.ExpiresAt.IsZero() {
		params.ExpiresAt = stripe.Int64(stripeExpiry(r.ExpiresAt, time.Now()).Unix())
	}
	params.AddMetadata("txid", r.TxID)
	// A retried Lambda must not open a second session for the same attempt.
	params.SetIdempotencyKey("checkout-" + r.TxID + "-" + strconv.Itoa(r.Attempt))
	sess, err := s.client.V1CheckoutSessions.Create(ctx, params)
	if err != nil {
		return Instructions{}, fmt.Errorf("payment: stripe checkout session for %s: %w", r.TxID, err)
	}
	if sess.URL == "" {
		return Instructions{}, fmt.Errorf("payment: stripe checkout session %s has no URL", sess.ID)
	}
	return Instructions{Kind: InstructionsRedirect, RedirectURL: sess.URL}, nil
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
	n := Notification{Provider: NameStripe, EventID: ev.ID, Outcome: Ignored,
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
