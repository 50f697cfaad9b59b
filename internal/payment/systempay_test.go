package payment_test

import (
	"bytes"
	"context"
	"net/url"
	"sort"
	"strconv"
	"testing"

	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/payment/providertest"
)

const (
	spSite = "12345678"
	spKey  = "1122334455667788"
)

func newSystempay(t *testing.T) *payment.Systempay {
	t.Helper()
	s, err := payment.NewSystempay(payment.SystempayConfig{SiteID: spSite, Key: spKey, CtxMode: "TEST", FormURL: "https://paiement.systempay.fr/vads-payment/"}, clock)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSystempayStartForm(t *testing.T) {
	s := newSystempay(t)
	tests := []struct {
		amount  int64
		cur     string
		numeric string
	}{{1, "EUR", "978"}, {99, "EUR", "978"}, {100, "EUR", "978"}, {123456, "EUR", "978"}, {123456, "JPY", "392"}, {5, "USD", "840"}}
	for _, tt := range tests {
		r := baseRequest()
		r.Amount, r.Currency = tt.amount, tt.cur
		in, err := s.Start(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		f := in.Form
		if in.Kind != payment.InstructionsForm || f == nil || f.Action != "https://paiement.systempay.fr/vads-payment/" || f.Method != "POST" {
			t.Fatalf("instructions %+v", in)
		}
		got := url.Values{}
		var names []string
		for _, fd := range f.Fields {
			got.Set(fd.Name, fd.Value)
			names = append(names, fd.Name)
		}
		if names[len(names)-1] != "signature" || !sort.StringsAreSorted(names[:len(names)-1]) {
			t.Errorf("field order %v: want vads_* sorted, then signature", names)
		}
		want := map[string]string{
			"vads_site_id": spSite, "vads_ctx_mode": "TEST", "vads_amount": strconv.FormatInt(tt.amount, 10),
			"vads_currency": tt.numeric, "vads_action_mode": "INTERACTIVE", "vads_page_action": "PAYMENT",
			"vads_payment_config": "SINGLE", "vads_version": "V2", "vads_order_id": r.TxID,
			"vads_trans_date": "20240102030405", "vads_trans_id": payment.SystempayTransID(r.TxID, 0),
			"vads_url_check": r.NotifyURL, "vads_url_return": r.ReturnURL, "vads_url_cancel": r.CancelURL,
			"vads_cust_email": r.CustomerEmail, "vads_language": "fr",
		}
		for k, v := range want {
			if got.Get(k) != v {
				t.Errorf("%d %s: %s = %q, want %q", tt.amount, tt.cur, k, got.Get(k), v)
			}
		}
		// The gateway's own computation (reimplemented in providertest) must
		// agree with the form's signature.
		sig := got.Get("signature")
		got.Del("signature")
		want2, _ := url.ParseQuery(string(providertest.SystempayIPN(spKey, got)))
		if sig == "" || sig != want2.Get("signature") {
			t.Errorf("signature %q, gateway computes %q", sig, want2.Get("signature"))
		}
	}
}

func TestSystempayTransID(t *testing.T) {
	a := payment.SystempayTransID("TU80WKRYTI9QUMJ4", 0)
	if a != payment.SystempayTransID("TU80WKRYTI9QUMJ4", 0) {
		t.Error("not deterministic")
	}
	seen := map[string]bool{}
	for attempt := range 20 {
		id := payment.SystempayTransID("TU80WKRYTI9QUMJ4", attempt)
		n, err := strconv.Atoi(id)
		if len(id) != 6 || err != nil || n >= 900000 {
			t.Errorf("attempt %d: trans id %q is not 6 digits below 900000", attempt, id)
		}
		seen[id] = true
	}
	if len(seen) < 19 {
		t.Errorf("only %d distinct ids for 20 attempts", len(seen))
	}
}

func TestSystempayVerify(t *testing.T) {
	s := newSystempay(t)
	ipn := func(status string, edit func(url.Values)) []byte {
		v := providertest.SystempayPayment(spSite, "TX1", "a1b2c3d4e5f6", status, 123456, "978")
		if edit != nil {
			edit(v)
		}
		return providertest.SystempayIPN(spKey, v)
	}
	authorised := ipn("AUTHORISED", nil)
	tests := []struct {
		name    string
		body    []byte
		want    payment.Outcome
		wantErr error
	}{
		{name: "authorised", body: authorised, want: payment.Paid},
		{name: "captured", body: ipn("CAPTURED", nil), want: payment.Paid},
		{name: "accepted", body: ipn("ACCEPTED", nil), want: payment.Paid},
		{name: "refused", body: ipn("REFUSED", nil), want: payment.Refused},
		{name: "abandoned", body: ipn("ABANDONED", nil), want: payment.Failed},
		{name: "cancelled", body: ipn("CANCELLED", nil), want: payment.Failed},
		{name: "expired", body: ipn("EXPIRED", nil), want: payment.Failed},
		{name: "waiting", body: ipn("WAITING_AUTHORISATION", nil), want: payment.Pending},
		{name: "under verification", body: ipn("UNDER_VERIFICATION", nil), want: payment.Pending},
		{name: "unknown status ignored", body: ipn("SUSPENDED", nil), want: payment.Ignored},
		{name: "tampered amount", body: bytes.Replace(authorised, []byte("vads_amount=123456"), []byte("vads_amount=1"), 1), wantErr: payment.ErrSignature},
		{name: "wrong key", body: providertest.SystempayIPN("otherkey", providertest.SystempayPayment(spSite, "TX1", "u", "AUTHORISED", 1, "978")), wantErr: payment.ErrSignature},
		{name: "no signature", body: []byte(providertest.SystempayPayment(spSite, "TX1", "u", "AUTHORISED", 1, "978").Encode()), wantErr: payment.ErrSignature},
		{name: "other site", body: ipn("AUTHORISED", func(v url.Values) { v.Set("vads_site_id", "87654321") }), wantErr: payment.ErrMismatch},
		{name: "no uuid", body: ipn("AUTHORISED", func(v url.Values) { v.Del("vads_trans_uuid") }), wantErr: payment.ErrMalformed},
		{name: "unknown currency", body: ipn("AUTHORISED", func(v url.Values) { v.Set("vads_currency", "999") }), wantErr: payment.ErrMalformed},
		{name: "amount not a number", body: ipn("AUTHORISED", func(v url.Values) { v.Set("vads_amount", "12.34") }), wantErr: payment.ErrMalformed},
		{name: "repeated field", body: append(append([]byte{}, authorised...), "&vads_amount=1"...), wantErr: payment.ErrMalformed},
		{name: "malformed body", body: []byte("vads_amount=%zz"), wantErr: payment.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := s.Verify(context.Background(), payment.Webhook{Body: tt.body, Now: clock()})
			if !verified(t, err, tt.wantErr) {
				return
			}
			if n.Provider != "systempay" || n.Outcome != tt.want || n.TxID != "TX1" || n.EventID == "" || n.Raw["vads_trans_status"] == "" {
				t.Fatalf("notification %+v, want outcome %v", n, tt.want)
			}
			if n.Outcome != payment.Ignored && (n.Amount != 123456 || n.Currency != "EUR") {
				t.Errorf("amount %d %s, want 123456 EUR", n.Amount, n.Currency)
			}
		})
	}
}

func TestSystempaySignatureKnownAnswer(t *testing.T) {
	// Computed outside Go (Python's hmac module) as
	// Base64(HMAC-SHA-256("k", "1+2+k")); "other" is not a vads_ field.
	got := payment.SystempaySignature("k", map[string]string{"vads_b": "2", "vads_a": "1", "other": "x"})
	if want := "ecbQLbwXuJnbSXgD86kj/qyMWVvNLS/eIEAzbTRZrSs="; got != want {
		t.Errorf("signature %q, want %q", got, want)
	}
}
