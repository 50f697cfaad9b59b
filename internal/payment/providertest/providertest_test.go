package providertest_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v84/webhook"

	"github.com/lmsshop/checkout/internal/payment/providertest"
)

func post(t *testing.T, u, auth, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPayPalIPNAnswers(t *testing.T) {
	p := providertest.NewPayPalIPN(t)
	body := string(p.Issue(providertest.PayPalPayment("s@example.com", "T1", "TX", "1.00", "EUR", "Completed")))
	tests := []struct {
		name, body, want string
	}{
		{"issued", "cmd=_notify-validate&" + body, "VERIFIED"},
		{"issued without prefix", body, "INVALID"},
		{"altered", "cmd=_notify-validate&" + strings.Replace(body, "1.00", "2.00", 1), "INVALID"},
		{"never issued", "cmd=_notify-validate&txn_id=X", "INVALID"},
	}
	for _, tt := range tests {
		if _, got := post(t, p.URL, "", tt.body); got != tt.want {
			t.Errorf("%s: answer %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestStripeServerValidatesRequests(t *testing.T) {
	s := providertest.NewStripeServer(t, "sk_test_1")
	ok := url.Values{
		"mode": {"payment"}, "success_url": {"https://x/ok"}, "line_items[0][quantity]": {"1"},
		"line_items[0][price_data][currency]": {"eur"}, "line_items[0][price_data][unit_amount]": {"100"},
		"line_items[0][price_data][product_data][name]": {"Order"},
	}
	if code, body := post(t, s.URL+"/v1/checkout/sessions", "Bearer sk_test_2", ok.Encode()); code != http.StatusUnauthorized {
		t.Errorf("wrong key: %d %s", code, body)
	}
	missing := url.Values{"mode": {"payment"}}
	if code, body := post(t, s.URL+"/v1/checkout/sessions", "Bearer sk_test_1", missing.Encode()); code != http.StatusBadRequest || !strings.Contains(body, "success_url") {
		t.Errorf("missing params: %d %s", code, body)
	}
	if code, body := post(t, s.URL+"/v1/checkout/sessions", "Bearer sk_test_1", ok.Encode()); code != http.StatusOK || !strings.Contains(body, `"url":"`+s.URL) {
		t.Errorf("valid: %d %s", code, body)
	}
	if n := len(s.Sessions()); n != 1 {
		t.Errorf("%d sessions recorded, want 1", n)
	}
}

func TestSignStripeVerifiesWithStripeGo(t *testing.T) {
	payload := providertest.CheckoutSessionEvent("evt_1", "checkout.session.completed", "TX", 100, "EUR", "paid")
	h := providertest.SignStripe(payload, "whsec_1", time.Now())
	if _, err := webhook.ConstructEvent(payload, h, "whsec_1"); err != nil {
		t.Errorf("stripe-go rejects the fake's event: %v", err)
	}
}

func TestSystempayIPNSignature(t *testing.T) {
	// Known answer from the documented algorithm:
	// HMAC-SHA-256("k", "1+2+k") for vads_a=1, vads_b=2 (other fields ignored).
	body := providertest.SystempayIPN("k", url.Values{"vads_b": {"2"}, "vads_a": {"1"}, "other": {"x"}})
	v, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v.Get("signature"), knownSignature; got != want {
		t.Errorf("signature %q, want %q", got, want)
	}
}

// knownSignature was computed outside Go (Python's hmac module).
const knownSignature = "ecbQLbwXuJnbSXgD86kj/qyMWVvNLS/eIEAzbTRZrSs="

// TestStripeFakeRefusesForgedRefunds: the fake, like Stripe, refuses a refund without
// the secret key, so a test cannot pass against a client that sends none.
func TestStripeFakeRefusesForgedRefunds(t *testing.T) {
	srv := providertest.NewStripeServer(t, "sk_test_refunds")
	srv.Paid("cs_test_PAID", 12000, "EUR")
	for _, auth := range []string{"", "Bearer sk_test_wrong"} {
		if status, _ := post(t, srv.URL+"/v1/refunds", auth, url.Values{"payment_intent": {"pi_test_PAID"}}.Encode()); status != http.StatusUnauthorized {
			t.Errorf("refund with %q = %d, want 401", auth, status)
		}
	}
	if n := len(srv.Refunds()); n != 0 {
		t.Fatalf("forged requests made %d refunds", n)
	}
}
