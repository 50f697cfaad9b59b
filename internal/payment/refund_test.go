package payment_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/payment/providertest"
)

// TestStripeRefund: the refund goes to the session's payment intent with the
// idempotency key; a retry with the same key gets the same refund and refunds nothing
// more; what Stripe refuses comes back as ErrRefundRefused, nothing refunded.
func TestStripeRefund(t *testing.T) {
	ctx := context.Background()
	srv := providertest.NewStripeServer(t, stripeKey)
	s := newStripe(t, srv.URL)
	pi := srv.Paid("cs_test_PAID", 12000, "EUR")
	srv.Paid("cs_test_OTHER", 5000, "EUR")
	req := payment.RefundRequest{TxID: "TX1", Reference: "cs_test_PAID", Amount: 12000, Currency: "EUR", IdempotencyKey: "refund-TX1-stripe#cs_test_PAID"}

	first, err := s.Refund(ctx, req)
	if err != nil || !strings.HasPrefix(first.ID, "re_") || first.Status != "succeeded" {
		t.Fatalf("Refund = %+v, %v", first, err)
	}
	again, err := s.Refund(ctx, req)
	if err != nil || again.ID != first.ID {
		t.Fatalf("retried refund = %+v, %v; want the first one (%s) again", again, err, first.ID)
	}
	refunds := srv.Refunds()
	if len(refunds) != 1 || refunds[0].PaymentIntent != pi || refunds[0].Amount != 12000 || refunds[0].IdempotencyKey != req.IdempotencyKey ||
		refunds[0].Form.Get("metadata[txid]") != "TX1" {
		t.Fatalf("fake refunds %+v: want one of 12000 on %s under the key", refunds, pi)
	}

	tests := []struct {
		name string
		edit func(*payment.RefundRequest)
	}{
		{"already refunded, under a new key", func(r *payment.RefundRequest) { r.IdempotencyKey = "another" }},
		{"the same key for another amount", func(r *payment.RefundRequest) { r.Amount = 100 }},
		{"more than was paid", func(r *payment.RefundRequest) {
			r.Reference, r.Amount, r.IdempotencyKey = "cs_test_OTHER", 5001, "k-over"
		}},
		{"an unknown session", func(r *payment.RefundRequest) { r.Reference, r.IdempotencyKey = "cs_test_NOPE", "k-nope" }},
		{"no idempotency key", func(r *payment.RefundRequest) { r.Reference, r.IdempotencyKey = "cs_test_OTHER", "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := req
			tt.edit(&r)
			if _, err := s.Refund(ctx, r); !errors.Is(err, payment.ErrRefundRefused) {
				t.Fatalf("Refund = %v, want ErrRefundRefused", err)
			}
			if n := len(srv.Refunds()); n != 1 {
				t.Fatalf("fake made %d refunds, want still 1", n)
			}
		})
	}
}

func TestTestModeRefundIsStable(t *testing.T) {
	req := payment.RefundRequest{TxID: "TX1", Reference: "evt", Amount: 100, Currency: "EUR", IdempotencyKey: "k"}
	a, err := payment.TestMode{}.Refund(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := payment.TestMode{}.Refund(context.Background(), req)
	if a.ID != b.ID || !strings.HasPrefix(a.ID, "test_re_") {
		t.Fatalf("test refunds %q and %q: want one stable ID", a.ID, b.ID)
	}
}

const (
	nvpUser, nvpPwd, nvpSig = "seller_api1.example.com", "PWD123", "SIG-abc"
)

func newPayPalRefunder(t *testing.T, apiURL, pwd string) *payment.PayPal {
	t.Helper()
	p, err := payment.NewPayPal(payment.PayPalConfig{Business: "seller@example.com", WebURL: "https://paypal.example/cgi-bin/webscr",
		VerifyURL: "https://ipn.example/cgi-bin/webscr", APIUser: nvpUser, APIPassword: pwd, APISignature: nvpSig, APIURL: apiURL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPayPalRefund: a PayPal payment is refunded with RefundTransaction; a retry under
// the same key (MSGSUBID) gets the first refund back and refunds nothing more; what
// PayPal refuses, forged credentials included, is ErrRefundRefused with nothing refunded.
func TestPayPalRefund(t *testing.T) {
	ctx := context.Background()
	nvp := providertest.NewPayPalNVP(t, nvpUser, nvpPwd, nvpSig)
	nvp.Completed("5TY05013RG002845M", "120.00", "EUR")
	p := newPayPalRefunder(t, nvp.URL, nvpPwd)
	req := payment.RefundRequest{TxID: "TX1", Reference: "5TY05013RG002845M", Amount: 12000, Currency: "EUR",
		IdempotencyKey: "refund-TU80WKRYTI9QUMJ4-paypal#5TY05013RG002845M"}

	first, err := p.Refund(ctx, req)
	if err != nil || first.ID == "" || first.Status != "instant" {
		t.Fatalf("Refund = %+v, %v", first, err)
	}
	again, err := p.Refund(ctx, req)
	if err != nil || again.ID != first.ID {
		t.Fatalf("retried refund = %+v, %v; want %s again", again, err, first.ID)
	}
	refunds := nvp.Refunds()
	if len(refunds) != 1 || refunds[0].TransactionID != req.Reference || refunds[0].InvoiceID != "TX1" || len(refunds[0].MsgSubID) > 38 {
		t.Fatalf("fake refunds %+v: want one of the payment, under a MSGSUBID of at most 38 characters", refunds)
	}

	tests := []struct {
		name string
		p    *payment.PayPal
		edit func(*payment.RefundRequest)
	}{
		{"already refunded, under a new key", p, func(r *payment.RefundRequest) { r.IdempotencyKey = "another" }},
		{"an unknown transaction", p, func(r *payment.RefundRequest) { r.Reference, r.IdempotencyKey = "0000000000000000X", "k2" }},
		{"forged credentials", newPayPalRefunder(t, nvp.URL, "guess"), func(r *payment.RefundRequest) { r.IdempotencyKey = "k3" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := req
			tt.edit(&r)
			if _, err := tt.p.Refund(ctx, r); !errors.Is(err, payment.ErrRefundRefused) {
				t.Fatalf("Refund = %v, want ErrRefundRefused", err)
			}
			if n := len(nvp.Refunds()); n != 1 {
				t.Fatalf("fake made %d refunds, want still 1", n)
			}
		})
	}

	t.Run("no API credentials: the operator refunds", func(t *testing.T) {
		plain, err := payment.NewPayPal(payment.PayPalConfig{Business: "seller@example.com", WebURL: "https://paypal.example/x", VerifyURL: "https://ipn.example/x"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := plain.Refund(ctx, req); !errors.Is(err, payment.ErrNoRefundAPI) {
			t.Fatalf("Refund = %v, want ErrNoRefundAPI", err)
		}
	})
	t.Run("half the API credentials refuse to start", func(t *testing.T) {
		_, err := payment.NewPayPal(payment.PayPalConfig{Business: "seller@example.com", WebURL: "https://paypal.example/x", VerifyURL: "https://ipn.example/x", APIUser: nvpUser}, nil)
		if err == nil || !strings.Contains(err.Error(), "APIPassword") {
			t.Fatalf("NewPayPal = %v, want the missing settings named", err)
		}
	})
}
