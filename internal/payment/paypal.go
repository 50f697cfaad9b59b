package payment

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/lmsshop/checkout/internal/checkout"
)

// PayPal is the "paypal" mode (PayPal Payments Standard): the buyer is
// redirected to PayPal, and PayPal's IPN confirms the payment.
type PayPal struct {
	cfg    PayPalConfig
	client *http.Client
}

var (
	_ Mode     = (*PayPal)(nil)
	_ Verifier = (*PayPal)(nil)
)

// NewPayPal validates c and returns the mode. client may be nil
// (http.DefaultClient); it is used to validate IPNs.
func NewPayPal(c PayPalConfig, client *http.Client) (*PayPal, error) {
	if err := missing("PayPal", "Business", c.Business, "WebURL", c.WebURL, "VerifyURL", c.VerifyURL); err != nil {
		return nil, err
	}
	urls := map[string]string{"WebURL": c.WebURL, "VerifyURL": c.VerifyURL}
	if c.APIUser != "" || c.APIPassword != "" || c.APISignature != "" || c.APIURL != "" {
		// The classic API is configured (reconciliation, refunds): all four, or a call
		// would fail in front of an operator or in the nightly run.
		if err := missing("PayPal", "APIUser", c.APIUser, "APIPassword", c.APIPassword, "APISignature", c.APISignature, "APIURL", c.APIURL); err != nil {
			return nil, err
		}
		urls["APIURL"] = c.APIURL
	}
	for name, v := range urls {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("PayPal.%s %q is not an absolute http(s) URL", name, v)
		}
	}
	if client == nil {
		client = http.DefaultClient
	}
	return &PayPal{cfg: c, client: client}, nil
}

// Name implements Mode.
func (*PayPal) Name() string { return checkout.PaymodePayPal }

// Kind implements Mode.
func (*PayPal) Kind() Kind { return KindOnline }

// Start implements Mode: it returns the PayPal URL the browser is sent to.
func (p *PayPal) Start(_ context.Context, r Request) (Instructions, error) {
	if err := r.validate(); err != nil {
		return Instructions{}, err
	}
	if r.Amount <= 0 {
		return Instructions{}, fmt.Errorf("payment: paypal needs a positive amount, got %d", r.Amount)
	}
	amount, err := FormatAmount(r.Amount, r.Currency)
	if err != nil {
		return Instructions{}, err
	}
	u, err := url.Parse(p.cfg.WebURL)
	if err != nil {
		return Instructions{}, fmt.Errorf("payment: paypal web URL: %w", err)
	}
	q := u.Query()
	q.Set("cmd", "_xclick")
	q.Set("business", p.cfg.Business)
	q.Set("item_name", itemName(r))
	q.Set("amount", amount)
	q.Set("currency_code", r.Currency)
	q.Set("invoice", r.TxID)
	q.Set("custom", r.TxID)
	q.Set("notify_url", r.NotifyURL)
	q.Set("return", r.ReturnURL)
	q.Set("cancel_return", r.CancelURL)
	q.Set("charset", "utf-8")
	q.Set("no_shipping", "1")
	if r.Lang != "" {
		q.Set("lc", strings.ToUpper(r.Lang))
	}
	if r.CustomerEmail != "" {
		q.Set("email", r.CustomerEmail)
	}
	u.RawQuery = q.Encode()
	return Instructions{Kind: InstructionsRedirect, RedirectURL: u.String()}, nil
}

// itemName labels the order on the provider's page.
func itemName(r Request) string {
	if r.ShopName == "" {
		return "Order " + r.TxID
	}
	return r.ShopName + " order " + r.TxID
}

// PayPalVerifyPrefix is prepended to the IPN body when posting it back.
const PayPalVerifyPrefix = "cmd=_notify-validate&"

// Verify implements Verifier for PayPal IPN. It posts the exact body back to
// PayPal and requires the literal answer VERIFIED before looking at the
// content: an IPN is not signed, so only PayPal can vouch for it.
func (p *PayPal) Verify(ctx context.Context, w Webhook) (Notification, error) {
	if len(w.Body) == 0 {
		return Notification{}, fmt.Errorf("%w: empty IPN body", ErrMalformed)
	}
	if _, err := url.ParseQuery(string(w.Body)); err != nil {
		// Not even form-encoded: no need to bother PayPal.
		return Notification{}, fmt.Errorf("%w: IPN body: %w", ErrMalformed, err)
	}
	body := make([]byte, 0, len(PayPalVerifyPrefix)+len(w.Body))
	body = append(append(body, PayPalVerifyPrefix...), w.Body...)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.VerifyURL, bytes.NewReader(body))
	if err != nil {
		return Notification{}, fmt.Errorf("payment: paypal verify request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// PayPal rejects verification posts without a User-Agent.
	req.Header.Set("User-Agent", "lmsshop-checkout-ipn")
	resp, err := p.client.Do(req)
	if err != nil {
		return Notification{}, fmt.Errorf("payment: paypal verify: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if err != nil {
		return Notification{}, fmt.Errorf("payment: paypal verify answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Notification{}, fmt.Errorf("payment: paypal verify: HTTP %d", resp.StatusCode)
	}
	switch strings.TrimSpace(string(answer)) {
	case "VERIFIED":
	case "INVALID":
		return Notification{}, fmt.Errorf("%w: PayPal answered INVALID", ErrSignature)
	default:
		return Notification{}, fmt.Errorf("payment: paypal verify: unexpected answer %.40q", answer)
	}
	return parsePayPalIPN(w.Body, p.cfg.Business)
}

// parsePayPalIPN checks and reduces an IPN that PayPal has vouched for.
func parsePayPalIPN(body []byte, business string) (Notification, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return Notification{}, fmt.Errorf("%w: IPN body: %w", ErrMalformed, err)
	}
	raw := make(map[string]string, len(v))
	for k := range v {
		raw[k] = v.Get(k)
	}
	n := Notification{Provider: checkout.PaymodePayPal, Raw: raw}
	txnID, status := v.Get("txn_id"), v.Get("payment_status")
	n.TxID = v.Get("custom")
	if n.TxID == "" {
		n.TxID = v.Get("invoice")
	}
	if !strings.EqualFold(v.Get("receiver_email"), business) && !strings.EqualFold(v.Get("business"), business) {
		return Notification{}, fmt.Errorf("%w: IPN receiver %q is not %q", ErrMismatch, v.Get("receiver_email"), business)
	}
	switch status {
	case "Completed":
		n.Outcome = Paid
	case "Pending":
		n.Outcome = Pending
	case "Denied":
		n.Outcome = Refused
	case "Failed", "Expired", "Voided":
		n.Outcome = Failed
	default:
		// Refunded, Reversed, Canceled_Reversal, Processed, …: money
		// movements after the fact, handled by an operator, not the workflow.
		n.Outcome = Ignored
	}
	if txnID == "" || status == "" {
		return Notification{}, fmt.Errorf("%w: IPN lacks txn_id or payment_status", ErrMalformed)
	}
	// PayPal sends one IPN per status change of the same txn_id (Pending,
	// then Completed), so the status is part of the event identity: keying
	// on txn_id alone would drop the Completed IPN as a duplicate.
	n.EventID = txnID + ":" + status
	n.Reference = txnID
	if n.Outcome == Ignored {
		return n, nil
	}
	if n.TxID == "" {
		return Notification{}, fmt.Errorf("%w: IPN has neither custom nor invoice", ErrMalformed)
	}
	n.Currency = v.Get("mc_currency")
	if !accepted(n.Currency) {
		return Notification{}, fmt.Errorf("%w: IPN currency %q unsupported", ErrMalformed, n.Currency)
	}
	if n.Amount, err = ParseAmount(v.Get("mc_gross"), n.Currency); err != nil {
		return Notification{}, fmt.Errorf("%w: IPN mc_gross: %w", ErrMalformed, err)
	}
	return n, nil
}
