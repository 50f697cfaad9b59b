package payment_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/payment/providertest"
)

const receiver = "shop@example.com"

func newPayPal(t *testing.T, verifyURL string) *payment.PayPal {
	t.Helper()
	p, err := payment.NewPayPal(payment.PayPalConfig{Business: receiver, WebURL: "https://www.sandbox.paypal.com/cgi-bin/webscr", VerifyURL: verifyURL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPayPalStartRedirect(t *testing.T) {
	p := newPayPal(t, "https://ipnpb.sandbox.paypal.com/cgi-bin/webscr")
	tests := []struct {
		amount int64
		cur    string
		want   string
	}{
		{1, "EUR", "0.01"}, {99, "EUR", "0.99"}, {100, "EUR", "1.00"}, {123456, "EUR", "1234.56"},
		{1, "JPY", "1"}, {123456, "JPY", "123456"},
	}
	for _, tt := range tests {
		r := baseRequest()
		r.Amount, r.Currency = tt.amount, tt.cur
		in, err := p.Start(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(in.RedirectURL)
		if err != nil || in.Kind != payment.InstructionsRedirect {
			t.Fatalf("instructions %+v: %v", in, err)
		}
		if u.Scheme+"://"+u.Host+u.Path != "https://www.sandbox.paypal.com/cgi-bin/webscr" {
			t.Errorf("redirect to %s", u)
		}
		q := u.Query()
		want := map[string]string{
			"cmd": "_xclick", "business": receiver, "amount": tt.want, "currency_code": tt.cur,
			"invoice": r.TxID, "custom": r.TxID, "notify_url": r.NotifyURL, "return": r.ReturnURL,
			"cancel_return": r.CancelURL, "item_name": "Learn Shop order " + r.TxID,
		}
		for k, v := range want {
			if q.Get(k) != v {
				t.Errorf("%d %s: %s = %q, want %q", tt.amount, tt.cur, k, q.Get(k), v)
			}
		}
	}
	zero := baseRequest()
	zero.Amount = 0
	if _, err := p.Start(context.Background(), zero); err == nil {
		t.Error("zero amount accepted")
	}
}

func TestPayPalVerify(t *testing.T) {
	fake := providertest.NewPayPalIPN(t)
	p := newPayPal(t, fake.URL)
	pay := func(status, gross, cur string) url.Values {
		return providertest.PayPalPayment(receiver, "8AB12345CD678901E", "TX1", gross, cur, status)
	}
	issued := func(v url.Values) []byte { return fake.Issue(v) }
	completed := issued(pay("Completed", "1234.56", "EUR"))
	otherReceiver := providertest.PayPalPayment("thief@example.com", "9", "TX1", "1.00", "EUR", "Completed")

	tests := []struct {
		name    string
		body    []byte
		want    payment.Outcome
		wantAmt int64
		wantCur string
		wantErr error
	}{
		{name: "completed", body: completed, want: payment.Paid, wantAmt: 123456, wantCur: "EUR"},
		{name: "pending", body: issued(pay("Pending", "1234.56", "EUR")), want: payment.Pending, wantAmt: 123456, wantCur: "EUR"},
		{name: "denied", body: issued(pay("Denied", "1234.56", "EUR")), want: payment.Refused, wantAmt: 123456, wantCur: "EUR"},
		{name: "failed", body: issued(pay("Failed", "1234.56", "EUR")), want: payment.Failed, wantAmt: 123456, wantCur: "EUR"},
		{name: "expired", body: issued(pay("Expired", "0.01", "EUR")), want: payment.Failed, wantAmt: 1, wantCur: "EUR"},
		{name: "refunded is ignored", body: issued(pay("Refunded", "-1234.56", "EUR")), want: payment.Ignored},
		{name: "yen", body: issued(pay("Completed", "1500", "JPY")), want: payment.Paid, wantAmt: 1500, wantCur: "JPY"},
		{name: "forged, never issued", body: providertest.PayPalIPNBody(providertest.PayPalPayment(receiver, "FORGED1", "TX1", "1234.56", "EUR", "Completed")), wantErr: payment.ErrSignature},
		{name: "tampered amount", body: bytes.Replace(completed, []byte("1234.56"), []byte("1.00"), 1), wantErr: payment.ErrSignature},
		{name: "other receiver", body: issued(otherReceiver), wantErr: payment.ErrMismatch},
		{name: "three decimals", body: issued(pay("Completed", "12.345", "EUR")), wantErr: payment.ErrMalformed},
		{name: "unknown currency", body: issued(pay("Completed", "12.34", "ABC")), wantErr: payment.ErrMalformed},
		{name: "no txn_id", body: issued(url.Values{"receiver_email": {receiver}, "payment_status": {"Completed"}}), wantErr: payment.ErrMalformed},
		{name: "malformed body", body: []byte("%zz"), wantErr: payment.ErrMalformed},
		{name: "empty body", body: nil, wantErr: payment.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(fake.Posts())
			n, err := p.Verify(context.Background(), payment.Webhook{Body: tt.body, Now: clock()})
			if posts := fake.Posts(); len(posts) > before && posts[len(posts)-1] != "cmd=_notify-validate&"+string(tt.body) {
				t.Errorf("verification post %q is not the prefix plus the exact body", posts[len(posts)-1])
			}
			if !verified(t, err, tt.wantErr) {
				return
			}
			if n.Provider != "paypal" || n.Outcome != tt.want || n.TxID != "TX1" || n.Amount != tt.wantAmt || n.Currency != tt.wantCur {
				t.Errorf("notification %+v; want %v %d %s", n, tt.want, tt.wantAmt, tt.wantCur)
			}
			if n.Raw["txn_id"] == "" {
				t.Errorf("raw fields not kept: %v", n.Raw)
			}
		})
	}
}

func TestPayPalEventIDsSeparateStatusChanges(t *testing.T) {
	fake := providertest.NewPayPalIPN(t)
	p := newPayPal(t, fake.URL)
	ids := map[string]bool{}
	for _, status := range []string{"Pending", "Completed", "Completed"} {
		body := fake.Issue(providertest.PayPalPayment(receiver, "TXN9", "TX1", "10.00", "EUR", status))
		n, err := p.Verify(context.Background(), payment.Webhook{Body: body})
		if err != nil {
			t.Fatal(err)
		}
		ids[n.EventID] = true
	}
	// A redelivered Completed must collapse; Pending then Completed must not.
	if len(ids) != 2 {
		t.Errorf("event ids %v: want one for Pending and one for Completed", ids)
	}
}

func TestPayPalVerifyEndpointTrouble(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"server error", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "oops", http.StatusInternalServerError) }},
		{"odd answer", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>maintenance</html>")) }},
	}
	body := providertest.PayPalIPNBody(providertest.PayPalPayment(receiver, "T", "TX1", "1.00", "EUR", "Completed"))
	for _, tt := range tests {
		srv := httptest.NewServer(tt.handler)
		_, err := newPayPal(t, srv.URL).Verify(context.Background(), payment.Webhook{Body: body})
		srv.Close()
		// Not a verdict on the message: the webhook must answer 5xx so that
		// PayPal retries, hence none of the 4xx sentinels.
		if err == nil || errors.Is(err, payment.ErrSignature) || errors.Is(err, payment.ErrMalformed) {
			t.Errorf("%s: err = %v, want a transient error", tt.name, err)
		}
	}
}
