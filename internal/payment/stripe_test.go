package payment_test

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/payment/providertest"
)

const (
	stripeKey    = "sk_test_fake"
	stripeSecret = "whsec_fake"
)

func newStripe(t *testing.T, apiURL string) *payment.Stripe {
	t.Helper()
	s, err := payment.NewStripe(payment.StripeConfig{SecretKey: stripeKey, WebhookSecret: stripeSecret, APIURL: apiURL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStripeStartCreatesCheckoutSession(t *testing.T) {
	srv := providertest.NewStripeServer(t, stripeKey)
	s := newStripe(t, srv.URL)
	tests := []struct {
		amount int64
		cur    string
	}{{1, "EUR"}, {99, "EUR"}, {100, "EUR"}, {123456, "EUR"}, {1, "JPY"}, {123456, "JPY"}}
	for i, tt := range tests {
		r := baseRequest()
		r.Amount, r.Currency = tt.amount, tt.cur
		r.TxID = "TX" + strconv.Itoa(i) // one order per case: same TxID and attempt replay the session
		in, err := s.Start(context.Background(), r)
		if err != nil {
			t.Fatalf("%d %s: %v", tt.amount, tt.cur, err)
		}
		sessions := srv.Sessions()
		if len(sessions) != i+1 {
			t.Fatalf("fake has %d sessions, want %d", len(sessions), i+1)
		}
		got := sessions[i]
		if in.Kind != payment.InstructionsRedirect || in.RedirectURL != srv.URL+"/c/pay/"+got.ID {
			t.Errorf("instructions %+v, want redirect to session %s", in, got.ID)
		}
		want := map[string]string{
			"mode":                                   "payment",
			"client_reference_id":                    r.TxID,
			"success_url":                            r.ReturnURL,
			"cancel_url":                             r.CancelURL,
			"customer_email":                         r.CustomerEmail,
			"locale":                                 "fr",
			"metadata[txid]":                         r.TxID,
			"payment_intent_data[metadata][txid]":    r.TxID,
			"line_items[0][quantity]":                "1",
			"line_items[0][price_data][currency]":    strings.ToLower(tt.cur),
			"line_items[0][price_data][unit_amount]": strconv.FormatInt(tt.amount, 10),
			"line_items[0][price_data][product_data][name]": "Learn Shop order " + r.TxID,
		}
		for k, v := range want {
			if g := got.Form.Get(k); g != v {
				t.Errorf("%d %s: %s = %q, want %q", tt.amount, tt.cur, k, g, v)
			}
		}
		if got.IdempotencyKey == "" {
			t.Error("no Idempotency-Key sent")
		}
	}
}

// TestStripeSessionExpiresWithTheWait: the Checkout Session closes no later than the
// order's payment wait, within what Stripe accepts (30 minutes to 24 hours after
// creation); without a deadline Stripe's default (24 hours) applies.
func TestStripeSessionExpiresWithTheWait(t *testing.T) {
	srv := providertest.NewStripeServer(t, stripeKey)
	s := newStripe(t, srv.URL)
	tests := []struct {
		name string
		wait time.Duration // 0: no deadline
		want time.Duration // expires_at - now; 0: not sent
	}{
		{"one hour", time.Hour, time.Hour},
		{"shorter than Stripe's minimum", 10 * time.Minute, 31 * time.Minute},
		{"longer than Stripe's maximum", 48 * time.Hour, 24 * time.Hour},
		{"no deadline", 0, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := baseRequest()
			r.TxID = "EXP" + strconv.Itoa(i)
			now := time.Now()
			if tt.wait > 0 {
				r.ExpiresAt = now.Add(tt.wait)
			}
			if _, err := s.Start(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			sessions := srv.Sessions()
			got := sessions[len(sessions)-1].Form.Get("expires_at")
			if tt.want == 0 {
				if got != "" {
					t.Fatalf("expires_at = %s, want none", got)
				}
				return
			}
			at, err := strconv.ParseInt(got, 10, 64)
			if err != nil {
				t.Fatalf("expires_at = %q", got)
			}
			if d := time.Unix(at, 0).Sub(now) - tt.want; d < -5*time.Second || d > 5*time.Second {
				t.Fatalf("expires_at is now+%s, want now+%s", time.Unix(at, 0).Sub(now).Round(time.Second), tt.want)
			}
		})
	}
}

func TestStripeStartRetryReusesSession(t *testing.T) {
	srv := providertest.NewStripeServer(t, stripeKey)
	s := newStripe(t, srv.URL)
	a, err := s.Start(context.Background(), baseRequest())
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Start(context.Background(), baseRequest())
	if err != nil {
		t.Fatal(err)
	}
	next := baseRequest()
	next.Attempt = 1
	c, err := s.Start(context.Background(), next)
	if err != nil {
		t.Fatal(err)
	}
	if a.RedirectURL != b.RedirectURL || a.RedirectURL == c.RedirectURL || len(srv.Sessions()) != 2 {
		t.Errorf("same attempt should reuse, next attempt create: %s %s %s, %d sessions", a.RedirectURL, b.RedirectURL, c.RedirectURL, len(srv.Sessions()))
	}
}

func TestStripeStartErrors(t *testing.T) {
	srv := providertest.NewStripeServer(t, stripeKey)
	zero := baseRequest()
	zero.Amount = 0
	if _, err := newStripe(t, srv.URL).Start(context.Background(), zero); err == nil {
		t.Error("zero amount accepted")
	}
	bad, err := payment.NewStripe(payment.StripeConfig{SecretKey: "sk_test_wrong", WebhookSecret: "w", APIURL: srv.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Start(context.Background(), baseRequest()); err == nil || !strings.Contains(err.Error(), "Invalid API Key") {
		t.Errorf("wrong key: err = %v, want Stripe's authentication error", err)
	}
	if len(srv.Sessions()) != 0 {
		t.Errorf("sessions created: %v", srv.Sessions())
	}
}

func TestStripeVerify(t *testing.T) {
	s := newStripe(t, "")
	now := clock()
	completed := providertest.CheckoutSessionEvent("evt_1", "checkout.session.completed", "TX1", 123456, "EUR", "paid")
	signed := func(body []byte, secret string, at time.Time) http.Header {
		return http.Header{"Stripe-Signature": {providertest.SignStripe(body, secret, at)}}
	}
	tests := []struct {
		name    string
		body    []byte
		header  http.Header
		want    payment.Outcome
		wantTx  string
		wantAmt int64
		wantCur string
		wantErr error
		eventID string
	}{
		{name: "completed paid", body: completed, header: signed(completed, stripeSecret, now), want: payment.Paid, wantTx: "TX1", wantAmt: 123456, wantCur: "EUR", eventID: "evt_1"},
		{name: "completed unpaid is pending", body: providertest.CheckoutSessionEvent("evt_2", "checkout.session.completed", "TX1", 500, "eur", "unpaid"),
			want: payment.Pending, wantTx: "TX1", wantAmt: 500, wantCur: "EUR", eventID: "evt_2"},
		{name: "zero-decimal currency", body: providertest.CheckoutSessionEvent("evt_3", "checkout.session.completed", "TX1", 1500, "JPY", "paid"),
			want: payment.Paid, wantTx: "TX1", wantAmt: 1500, wantCur: "JPY", eventID: "evt_3"},
		{name: "async payment failed", body: providertest.CheckoutSessionEvent("evt_4", "checkout.session.async_payment_failed", "TX1", 500, "EUR", "unpaid"),
			want: payment.Failed, wantTx: "TX1", wantAmt: 500, wantCur: "EUR", eventID: "evt_4"},
		{name: "payment intent failed", body: providertest.PaymentIntentFailedEvent("evt_5", "TX1", 700, "EUR"),
			want: payment.Failed, wantTx: "TX1", wantAmt: 700, wantCur: "EUR", eventID: "evt_5"},
		{name: "unknown event type ignored", body: providertest.StripeEvent("evt_6", "customer.created", map[string]any{"id": "cus_1", "object": "customer"}),
			want: payment.Ignored, eventID: "evt_6"},
		{name: "forged signature", body: completed, header: signed(completed, "whsec_attacker", now), wantErr: payment.ErrSignature},
		{name: "tampered amount", body: bytes.Replace(completed, []byte("123456"), []byte("1"), 1), header: signed(completed, stripeSecret, now), wantErr: payment.ErrSignature},
		{name: "no signature", body: completed, header: http.Header{}, wantErr: payment.ErrSignature},
		{name: "stale", body: completed, header: signed(completed, stripeSecret, now.Add(-301*time.Second)), wantErr: payment.ErrStale},
		{name: "from the future", body: completed, header: signed(completed, stripeSecret, now.Add(301*time.Second)), wantErr: payment.ErrStale},
		// A fresh timestamp added to an old signed header must not pass the window: a
		// header with two timestamps is refused, so the time checked is the time signed.
		{name: "old signature, fresh t appended", body: completed, wantErr: payment.ErrSignature,
			header: http.Header{"Stripe-Signature": {providertest.SignStripe(completed, stripeSecret, now.Add(-time.Hour)) + ", t=" + strconv.FormatInt(now.Unix(), 10)}}},
		{name: "old signature, fresh t prepended", body: completed, wantErr: payment.ErrSignature,
			header: http.Header{"Stripe-Signature": {"t=" + strconv.FormatInt(now.Unix(), 10) + "," + providertest.SignStripe(completed, stripeSecret, now.Add(-time.Hour))}}},
		{name: "malformed body", body: []byte("{not json"), wantErr: payment.ErrMalformed},
		{name: "not an event", body: []byte(`{"object":"checkout.session","id":"cs_1"}`), wantErr: payment.ErrMalformed},
		{name: "completed without transaction", body: providertest.StripeEvent("evt_7", "checkout.session.completed",
			map[string]any{"id": "cs_1", "object": "checkout.session", "payment_status": "paid", "amount_total": 1, "currency": "eur"}), wantErr: payment.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = signed(tt.body, stripeSecret, now.Add(-10*time.Second))
			}
			n, err := s.Verify(context.Background(), payment.Webhook{Header: h, Body: tt.body, Now: now})
			if !verified(t, err, tt.wantErr) {
				return
			}
			if n.Provider != "stripe" || n.Outcome != tt.want || n.EventID != tt.eventID || n.TxID != tt.wantTx ||
				n.Amount != tt.wantAmt || n.Currency != tt.wantCur {
				t.Errorf("notification %+v; want %v %s %d %s %s", n, tt.want, tt.wantTx, tt.wantAmt, tt.wantCur, tt.eventID)
			}
		})
	}
}
