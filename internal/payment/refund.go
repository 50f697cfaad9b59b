package payment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Refunder is a mode whose provider gives money back through its API (Stripe; the test
// mode simulates one). Offline modes have none: an operator returns the cheque or sends
// the transfer and records its reference.
type Refunder interface {
	Refund(ctx context.Context, r RefundRequest) (RefundResult, error)
}

// RefundRequest is the refund of one payment, in full.
type RefundRequest struct {
	TxID string
	// Reference is the payment's reference at the provider, as stored on the order
	// (a Stripe Checkout Session ID).
	Reference string
	Amount    int64  // minor units of Currency
	Currency  string // ISO 4217
	// IdempotencyKey is derived from the order and the payment refunded: the provider
	// answers a retry with the refund it made the first time, never a second refund.
	IdempotencyKey string
}

// RefundResult is the provider's refund.
type RefundResult struct {
	ID     string // the provider's refund ID, recorded as the refund's reference
	Status string // e.g. succeeded, pending
}

// ErrRefundRefused means the provider refused the refund for good (unknown payment,
// already refunded, amount above what is left): retrying will not help, and nothing was
// refunded. Any other error may be passing.
var ErrRefundRefused = errors.New("payment: refund refused by the provider")

// ErrNoRefundAPI means this deployment cannot refund through the provider (PayPal
// without the classic API's credentials): the operator refunds and records it.
var ErrNoRefundAPI = errors.New("payment: no refund API configured for this mode")

func (r RefundRequest) validate() error {
	switch {
	case r.TxID == "" || r.Reference == "":
		return fmt.Errorf("%w: a refund names its order and the payment's reference", ErrRefundRefused)
	case r.Amount <= 0:
		return fmt.Errorf("%w: refund amount %d is not positive", ErrRefundRefused, r.Amount)
	case r.IdempotencyKey == "":
		return fmt.Errorf("%w: a refund needs an idempotency key", ErrRefundRefused)
	}
	if !accepted(r.Currency) {
		return fmt.Errorf("%w: refund currency %q unsupported", ErrRefundRefused, r.Currency)
	}
	return nil
}

var (
	_ Refunder = (*Stripe)(nil)
	_ Refunder = (*PayPal)(nil)
	_ Refunder = TestMode{}
)

// PayPalNVPVersion is the classic API version the refunds are sent under (MSGSUBID
// needs 92.0 or later).
const PayPalNVPVersion = "204.0"

// Refund implements Refunder with the classic API's RefundTransaction (NVP), since
// Payments Standard payments are refunded there: a full refund of the txn_id, with a
// MSGSUBID derived from the idempotency key, so that PayPal answers a retry with the
// refund it made the first time.
func (p *PayPal) Refund(ctx context.Context, r RefundRequest) (RefundResult, error) {
	if p.cfg.APIUser == "" {
		return RefundResult{}, ErrNoRefundAPI
	}
	if err := r.validate(); err != nil {
		return RefundResult{}, err
	}
	sum := sha256.Sum256([]byte(r.IdempotencyKey))
	form := url.Values{
		"USER": {p.cfg.APIUser}, "PWD": {p.cfg.APIPassword}, "SIGNATURE": {p.cfg.APISignature},
		"VERSION": {PayPalNVPVersion}, "METHOD": {"RefundTransaction"},
		"TRANSACTIONID": {r.Reference}, "REFUNDTYPE": {"Full"}, "INVOICEID": {r.TxID},
		// At most 38 characters: the key's digest, not the key.
		"MSGSUBID": {hex.EncodeToString(sum[:16])},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.APIURL, strings.NewReader(form.Encode()))
	if err != nil {
		return RefundResult{}, fmt.Errorf("payment: paypal refund request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.client.Do(req)
	if err != nil {
		return RefundResult{}, fmt.Errorf("payment: paypal refund of %s: %w", r.Reference, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return RefundResult{}, fmt.Errorf("payment: paypal refund answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return RefundResult{}, fmt.Errorf("payment: paypal refund of %s: HTTP %d", r.Reference, resp.StatusCode)
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return RefundResult{}, fmt.Errorf("payment: paypal refund answer: %w", err)
	}
	switch v.Get("ACK") {
	case "Success", "SuccessWithWarning":
	default:
		msg := fmt.Sprintf("paypal RefundTransaction of %s: %s %s: %s", r.Reference, v.Get("L_ERRORCODE0"), v.Get("L_SHORTMESSAGE0"), v.Get("L_LONGMESSAGE0"))
		if v.Get("L_ERRORCODE0") == "10001" { // Internal Error: PayPal asks to retry
			return RefundResult{}, errors.New("payment: " + msg)
		}
		return RefundResult{}, fmt.Errorf("%w: %s", ErrRefundRefused, msg)
	}
	gross, err := ParseAmount(v.Get("GROSSREFUNDAMT"), r.Currency)
	if err != nil || v.Get("REFUNDTRANSACTIONID") == "" || v.Get("CURRENCYCODE") != r.Currency || gross != r.Amount {
		return RefundResult{}, fmt.Errorf("%w: paypal refund %q of %s is %s %s, not %d %s", ErrRefundRefused,
			v.Get("REFUNDTRANSACTIONID"), r.Reference, v.Get("GROSSREFUNDAMT"), v.Get("CURRENCYCODE"), r.Amount, r.Currency)
	}
	status := v.Get("REFUNDSTATUS")
	if status == "" {
		status = "instant"
	}
	return RefundResult{ID: v.Get("REFUNDTRANSACTIONID"), Status: status}, nil
}

// Refund implements Refunder: Stripe refunds a payment intent, not a Checkout Session,
// so the session is read first for its payment intent; the refund is created with the
// idempotency key, so a retry gets the first refund back (Idempotent-Replayed).
func (s *Stripe) Refund(ctx context.Context, r RefundRequest) (RefundResult, error) {
	if err := r.validate(); err != nil {
		return RefundResult{}, err
	}
	pi := r.Reference
	if !strings.HasPrefix(pi, "pi_") {
		var sess struct {
			PaymentIntent string `json:"payment_intent"`
		}
		if err := s.call(ctx, http.MethodGet, "/v1/checkout/sessions/"+url.PathEscape(r.Reference), nil, "", &sess); err != nil {
			return RefundResult{}, stripeRefundError("checkout session "+r.Reference, err)
		}
		if sess.PaymentIntent == "" {
			return RefundResult{}, fmt.Errorf("%w: stripe checkout session %s has no payment to refund", ErrRefundRefused, r.Reference)
		}
		pi = sess.PaymentIntent
	}
	form := url.Values{"payment_intent": {pi}, "amount": {strconv.FormatInt(r.Amount, 10)},
		"reason": {"requested_by_customer"}, "metadata[txid]": {r.TxID}}
	var re struct {
		ID       string `json:"id"`
		Status   string `json:"status"`
		Amount   int64  `json:"amount"`
		Currency string `json:"currency"`
	}
	if err := s.call(ctx, http.MethodPost, "/v1/refunds", form, r.IdempotencyKey, &re); err != nil {
		return RefundResult{}, stripeRefundError("refund of "+pi, err)
	}
	if re.Status == "failed" || re.Status == "canceled" {
		return RefundResult{}, fmt.Errorf("%w: stripe refund %s is %s", ErrRefundRefused, re.ID, re.Status)
	}
	if !strings.EqualFold(re.Currency, r.Currency) || re.Amount != r.Amount {
		return RefundResult{}, fmt.Errorf("%w: stripe refund %s is %d %s, not %d %s", ErrRefundRefused, re.ID, re.Amount, re.Currency, r.Amount, r.Currency)
	}
	return RefundResult{ID: re.ID, Status: re.Status}, nil
}

// stripeRefundError tells a refusal (4xx: the request is wrong and will stay so) from
// a passing failure (network, 429, 5xx).
func stripeRefundError(what string, err error) error {
	var se *stripeAPIError
	if errors.As(err, &se) && se.Status >= 400 && se.Status < 500 && se.Status != http.StatusTooManyRequests {
		return fmt.Errorf("%w: stripe %s: %s", ErrRefundRefused, what, se.Message)
	}
	return fmt.Errorf("payment: stripe %s: %w", what, err)
}

// Refund implements Refunder for test shops: the simulated provider refunds at once,
// under an ID derived from the idempotency key (a retry gets the same one).
func (TestMode) Refund(_ context.Context, r RefundRequest) (RefundResult, error) {
	if err := r.validate(); err != nil {
		return RefundResult{}, err
	}
	sum := sha256.Sum256([]byte(r.IdempotencyKey))
	return RefundResult{ID: "test_re_" + hex.EncodeToString(sum[:8]), Status: "succeeded"}, nil
}
