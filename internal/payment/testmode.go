package payment

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
)

// TestSignatureHeader carries the simulated provider's signature, formatted
// like Stripe's: "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">".
const TestSignatureHeader = "X-Test-Signature"

// TestTolerance is how far a simulated callback's timestamp may be from now.
const TestTolerance = 5 * time.Minute

// TestMode is the "test" mode offered by shops in test mode: the storefront
// shows buttons to pay, to fail, or to have TestProvider call back later. The
// buttons are handled by the workflow; the mode itself settles nothing.
type TestMode struct{}

var _ Mode = TestMode{}

// Name implements Mode.
func (TestMode) Name() string { return checkout.PaymodeTest }

// Kind implements Mode.
func (TestMode) Kind() Kind { return KindInstant }

// Start implements Mode.
func (TestMode) Start(_ context.Context, r Request) (Instructions, error) {
	if err := r.validate(); err != nil {
		return Instructions{}, err
	}
	return Instructions{Kind: InstructionsButtons}, nil
}

// TestProvider is the simulated payment provider behind the test mode's
// "deferred confirmation" button. It signs callbacks the way Stripe signs
// webhooks, so the deferred path exercises the same verify-then-record code
// as a real provider, and it verifies them.
type TestProvider struct {
	secret []byte
	clock  func() time.Time
}

var _ Verifier = (*TestProvider)(nil)

// NewTestProvider returns a TestProvider signing with c.Secret. clock may be
// nil (time.Now).
func NewTestProvider(c TestConfig, clock func() time.Time) (*TestProvider, error) {
	if err := missing("Test", "Secret", c.Secret); err != nil {
		return nil, err
	}
	if clock == nil {
		clock = time.Now
	}
	return &TestProvider{secret: []byte(c.Secret), clock: clock}, nil
}

// TestCallback is the content of a simulated provider callback.
type TestCallback struct {
	EventID  string `json:"id"` // random when empty
	TxID     string `json:"txid"`
	Outcome  string `json:"outcome"` // "paid", "failed", "refused", "pending"
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Callback returns the body and headers of a signed callback for c, as the
// simulated provider would post them to the test webhook.
func (p *TestProvider) Callback(c TestCallback) ([]byte, http.Header, error) {
	if c.EventID == "" {
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, nil, fmt.Errorf("payment: test event id: %w", err)
		}
		c.EventID = "evt_test_" + hex.EncodeToString(b[:])
	}
	body, err := json.Marshal(c)
	if err != nil {
		return nil, nil, fmt.Errorf("payment: encode test callback: %w", err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(TestSignatureHeader, p.Sign(body, p.clock()))
	return body, h, nil
}

// Sign returns the TestSignatureHeader value for body signed at t.
func (p *TestProvider) Sign(body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(p.mac(ts, body))
}

// mac covers the timestamp as well as the body so that a captured callback
// cannot be replayed later under a fresh timestamp.
func (p *TestProvider) mac(ts string, body []byte) []byte {
	m := hmac.New(sha256.New, p.secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// Verify implements Verifier.
func (p *TestProvider) Verify(_ context.Context, w Webhook) (Notification, error) {
	ts, sigs, err := parseTimestampedSignature(w.Header.Get(TestSignatureHeader))
	if err != nil {
		return Notification{}, err
	}
	want := p.mac(strconv.FormatInt(ts, 10), w.Body)
	ok := false
	for _, s := range sigs {
		// Every candidate is compared in constant time; a mismatch reveals
		// nothing about the expected value.
		if hmac.Equal(s, want) {
			ok = true
		}
	}
	if !ok {
		return Notification{}, fmt.Errorf("%w: %s does not match the body", ErrSignature, TestSignatureHeader)
	}
	if err := checkTolerance(time.Unix(ts, 0), w.now(), TestTolerance); err != nil {
		return Notification{}, err
	}
	var c TestCallback
	dec := json.NewDecoder(bytes.NewReader(w.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Notification{}, fmt.Errorf("%w: test callback: %w", ErrMalformed, err)
	}
	n := Notification{
		Provider: checkout.PaymodeTest, EventID: c.EventID, Reference: c.EventID, TxID: c.TxID, Amount: c.Amount, Currency: c.Currency,
		Raw: map[string]string{"id": c.EventID, "txid": c.TxID, "outcome": c.Outcome,
			"amount": strconv.FormatInt(c.Amount, 10), "currency": c.Currency},
	}
	switch c.Outcome {
	case "paid":
		n.Outcome = Paid
	case "failed":
		n.Outcome = Failed
	case "refused":
		n.Outcome = Refused
	case "pending":
		n.Outcome = Pending
	default:
		return Notification{}, fmt.Errorf("%w: test callback outcome %q", ErrMalformed, c.Outcome)
	}
	if c.EventID == "" || c.TxID == "" {
		return Notification{}, fmt.Errorf("%w: test callback needs id and txid", ErrMalformed)
	}
	if known := accepted(c.Currency); n.Outcome == Paid && (!known || c.Amount < 0) {
		return Notification{}, fmt.Errorf("%w: test callback amount %d %q", ErrMalformed, c.Amount, c.Currency)
	}
	return n, nil
}

// parseTimestampedSignature reads a Stripe-style "t=...,v1=...,v1=..." header.
func parseTimestampedSignature(h string) (int64, [][]byte, error) {
	if h == "" {
		return 0, nil, fmt.Errorf("%w: no signature header", ErrSignature)
	}
	var (
		ts    int64
		haveT bool
		sigs  [][]byte
	)
	for _, part := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return 0, nil, fmt.Errorf("%w: signature header part %q", ErrSignature, part)
		}
		switch k {
		case "t":
			if haveT {
				// Which one would be checked? Neither: a signer writes one.
				return 0, nil, fmt.Errorf("%w: signature header has several timestamps", ErrSignature)
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, nil, fmt.Errorf("%w: signature timestamp %q", ErrSignature, v)
			}
			ts, haveT = n, true
		case "v1":
			// Several v1 values are allowed while a secret is being rolled.
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	if !haveT || len(sigs) == 0 {
		return 0, nil, fmt.Errorf("%w: signature header lacks t or v1", ErrSignature)
	}
	return ts, sigs, nil
}

// checkTolerance rejects a signature time too far from now in either
// direction: a future timestamp is as suspicious as an old one.
func checkTolerance(signed, now time.Time, tolerance time.Duration) error {
	d := now.Sub(signed)
	if d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed at %s, now %s (tolerance %s)", ErrStale,
			signed.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), tolerance)
	}
	return nil
}
