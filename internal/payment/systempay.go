package payment

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/pricing"
)

// Systempay is the "systempay" mode: the browser posts a signed form of
// vads_* fields to the Systempay (Lyra) gateway, whose IPN confirms payment.
type Systempay struct {
	cfg   SystempayConfig
	clock func() time.Time
}

var (
	_ Mode     = (*Systempay)(nil)
	_ Verifier = (*Systempay)(nil)
)

// NewSystempay validates c and returns the mode. clock may be nil
// (time.Now); it dates the transactions.
func NewSystempay(c SystempayConfig, clock func() time.Time) (*Systempay, error) {
	if err := missing("Systempay", "SiteID", c.SiteID, "Key", c.Key, "CtxMode", c.CtxMode, "FormURL", c.FormURL); err != nil {
		return nil, err
	}
	if len(c.SiteID) != 8 || !allDigits(c.SiteID) {
		return nil, fmt.Errorf("Systempay.SiteID %q must be 8 digits", c.SiteID)
	}
	if c.CtxMode != "TEST" && c.CtxMode != "PRODUCTION" {
		return nil, fmt.Errorf("Systempay.CtxMode %q must be TEST or PRODUCTION", c.CtxMode)
	}
	if u, err := url.Parse(c.FormURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("Systempay.FormURL %q is not an absolute http(s) URL", c.FormURL)
	}
	if clock == nil {
		clock = time.Now
	}
	return &Systempay{cfg: c, clock: clock}, nil
}

// Name implements Mode.
func (*Systempay) Name() string { return checkout.PaymodeSystempay }

// Kind implements Mode.
func (*Systempay) Kind() Kind { return KindOnline }

// SystempayTransID derives the 6-digit vads_trans_id of a payment attempt.
// Systempay wants a number unique per shop and day; deriving it from the
// transaction ID and attempt makes a retried Start post the same form instead
// of opening a second payment.
func SystempayTransID(txID string, attempt int) string {
	sum := sha256.Sum256([]byte(txID + ":" + strconv.Itoa(attempt)))
	// 000000-899999: Systempay reserves 900000-999999.
	return fmt.Sprintf("%06d", binary.BigEndian.Uint64(sum[:8])%900000)
}

// Start implements Mode: it returns the signed payment form.
func (s *Systempay) Start(_ context.Context, r Request) (Instructions, error) {
	if err := r.validate(); err != nil {
		return Instructions{}, err
	}
	if r.Amount <= 0 {
		return Instructions{}, fmt.Errorf("payment: systempay needs a positive amount, got %d", r.Amount)
	}
	f := map[string]string{
		"vads_action_mode":    "INTERACTIVE",
		"vads_amount":         strconv.FormatInt(r.Amount, 10),
		"vads_ctx_mode":       s.cfg.CtxMode,
		"vads_currency":       numericCode(r.Currency),
		"vads_order_id":       r.TxID,
		"vads_page_action":    "PAYMENT",
		"vads_payment_config": "SINGLE",
		"vads_site_id":        s.cfg.SiteID,
		"vads_trans_date":     s.clock().UTC().Format("20060102150405"),
		"vads_trans_id":       SystempayTransID(r.TxID, r.Attempt),
		"vads_url_cancel":     r.CancelURL,
		"vads_url_check":      r.NotifyURL,
		"vads_url_return":     r.ReturnURL,
		"vads_version":        "V2",
	}
	if r.CustomerEmail != "" {
		f["vads_cust_email"] = r.CustomerEmail
	}
	if len(r.Lang) == 2 {
		f["vads_language"] = strings.ToLower(r.Lang)
	}
	if r.ShopName != "" {
		f["vads_shop_name"] = r.ShopName
	}
	names := make([]string, 0, len(f)+1)
	for k := range f {
		names = append(names, k)
	}
	sort.Strings(names)
	form := &Form{Action: s.cfg.FormURL, Method: "POST", Fields: make([]Field, 0, len(names)+1)}
	for _, k := range names {
		form.Fields = append(form.Fields, Field{Name: k, Value: f[k]})
	}
	form.Fields = append(form.Fields, Field{Name: "signature", Value: SystempaySignature(s.cfg.Key, f)})
	return Instructions{Kind: InstructionsForm, Form: form}, nil
}

// SystempaySignature computes Systempay's HMAC-SHA-256 signature: the values
// of the vads_* fields sorted by field name, joined by "+", followed by "+"
// and the key, MACed with the key and Base64-encoded. Other fields are
// ignored, as the gateway does.
func SystempaySignature(key string, fields map[string]string) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		if strings.HasPrefix(k, "vads_") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var msg strings.Builder
	for _, k := range names {
		msg.WriteString(fields[k])
		msg.WriteByte('+')
	}
	msg.WriteString(key)
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Verify implements Verifier for Systempay IPNs (form-encoded POSTs).
func (s *Systempay) Verify(_ context.Context, w Webhook) (Notification, error) {
	v, err := url.ParseQuery(string(w.Body))
	if err != nil {
		return Notification{}, fmt.Errorf("%w: systempay IPN: %w", ErrMalformed, err)
	}
	fields := make(map[string]string, len(v))
	for k, vals := range v {
		if len(vals) != 1 {
			// A repeated field makes "the" signed value ambiguous.
			return Notification{}, fmt.Errorf("%w: systempay IPN field %q repeated", ErrMalformed, k)
		}
		fields[k] = vals[0]
	}
	sig, ok := fields["signature"]
	if !ok || sig == "" {
		return Notification{}, fmt.Errorf("%w: systempay IPN has no signature", ErrSignature)
	}
	if !hmac.Equal([]byte(sig), []byte(SystempaySignature(s.cfg.Key, fields))) {
		return Notification{}, fmt.Errorf("%w: systempay IPN signature mismatch", ErrSignature)
	}
	if fields["vads_site_id"] != s.cfg.SiteID {
		return Notification{}, fmt.Errorf("%w: systempay IPN for site %q, not %q", ErrMismatch, fields["vads_site_id"], s.cfg.SiteID)
	}
	raw := make(map[string]string, len(fields))
	for k, val := range fields {
		if k != "signature" {
			raw[k] = val
		}
	}
	status, uuid := fields["vads_trans_status"], fields["vads_trans_uuid"]
	n := Notification{Provider: checkout.PaymodeSystempay, TxID: fields["vads_order_id"], Raw: raw}
	switch status {
	case "AUTHORISED", "CAPTURED", "ACCEPTED":
		n.Outcome = Paid
	case "REFUSED":
		n.Outcome = Refused
	case "ABANDONED", "CANCELLED", "EXPIRED", "CAPTURE_FAILED":
		n.Outcome = Failed
	case "WAITING_AUTHORISATION", "WAITING_AUTHORISATION_TO_VALIDATE", "AUTHORISED_TO_VALIDATE",
		"UNDER_VERIFICATION", "INITIAL", "PRE_AUTHORISED", "WAITING_FOR_PAYMENT":
		n.Outcome = Pending
	default:
		n.Outcome = Ignored
	}
	if status == "" || uuid == "" || n.TxID == "" {
		return Notification{}, fmt.Errorf("%w: systempay IPN lacks vads_trans_status, vads_trans_uuid or vads_order_id", ErrMalformed)
	}
	// The gateway notifies again when a transaction changes status (e.g. a
	// delayed authorisation), keeping its uuid; the status keeps those
	// distinct while duplicates of one notification still collapse.
	n.EventID = uuid + ":" + status
	n.Reference = uuid
	if n.Outcome == Ignored {
		return n, nil
	}
	cur, ok := pricing.AcceptedCurrencyByNumeric(fields["vads_currency"])
	if !ok {
		return Notification{}, fmt.Errorf("%w: systempay IPN currency %q unsupported", ErrMalformed, fields["vads_currency"])
	}
	n.Currency = cur
	amt := fields["vads_amount"]
	if amt == "" || !allDigits(amt) {
		return Notification{}, fmt.Errorf("%w: systempay IPN amount %q", ErrMalformed, amt)
	}
	if n.Amount, err = strconv.ParseInt(amt, 10, 64); err != nil {
		return Notification{}, fmt.Errorf("%w: systempay IPN amount %q: %w", ErrMalformed, amt, err)
	}
	return n, nil
}
