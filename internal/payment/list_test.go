package payment_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/payment/providertest"
)

// A webhook and the provider's list name the same payment by the same reference: the
// Checkout Session's ID (what Verify puts in Notification.Reference).
func TestStripeListPaymentsPagesThroughPaidSessions(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	tests := []struct {
		name  string
		paid  int // complete and paid sessions in the window
		since time.Time
	}{
		{"none", 0, now.Add(-time.Hour)},
		{"one page", 3, now.Add(-time.Hour)},
		{"exactly a page", 100, now.Add(-time.Hour)},
		{"three pages", 230, now.Add(-time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := providertest.NewStripeServer(t, stripeKey)
			s := newStripe(t, srv.URL)
			// Outside the window, or not paid: never listed.
			srv.AddPaid("OLDORDER00000000", 500, "EUR", tt.since.Add(-time.Second))
			r := baseRequest()
			if _, err := s.Start(context.Background(), r); err != nil { // open, unpaid
				t.Fatal(err)
			}
			want := map[string]string{}
			for i := range tt.paid {
				tx := fmt.Sprintf("ORDER%011d", i)
				want[srv.AddPaid(tx, int64(100+i), "EUR", now.Add(-time.Duration(i)*time.Second))] = tx
			}
			got, err := s.ListPayments(context.Background(), tt.since)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.paid {
				t.Fatalf("%d payments listed, want %d", len(got), tt.paid)
			}
			for _, p := range got {
				if want[p.Reference] != p.TxID || p.Provider != "stripe" || p.Currency != "EUR" || p.Amount < 100 {
					t.Errorf("listed %+v, not a paid session of the window", p)
				}
				delete(want, p.Reference)
			}
			if len(want) != 0 {
				t.Errorf("sessions never listed: %v", want)
			}
		})
	}
}

func TestStripeListPaymentsSeesASessionPaidWithoutWebhook(t *testing.T) {
	srv := providertest.NewStripeServer(t, stripeKey)
	s := newStripe(t, srv.URL)
	r := baseRequest()
	if _, err := s.Start(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	id := srv.Sessions()[0].ID
	before, err := s.ListPayments(context.Background(), time.Now().Add(-time.Hour))
	if err != nil || len(before) != 0 {
		t.Fatalf("open session listed as paid: %+v %v", before, err)
	}
	srv.Pay(id)
	after, err := s.ListPayments(context.Background(), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 1 || after[0].Reference != id || after[0].TxID != r.TxID || after[0].Amount != r.Amount {
		t.Errorf("after payment: %+v, want session %s for %s, %d", after, id, r.TxID, r.Amount)
	}
}

func TestStripeListPaymentsWrongKey(t *testing.T) {
	srv := providertest.NewStripeServer(t, "sk_test_other")
	s := newStripe(t, srv.URL)
	if _, err := s.ListPayments(context.Background(), time.Now().Add(-time.Hour)); err == nil || !strings.Contains(err.Error(), "Invalid API Key") {
		t.Errorf("wrong key: %v, want Stripe's refusal", err)
	}
}

func newPayPalAPI(t *testing.T, apiURL string) *payment.PayPal {
	t.Helper()
	p, err := payment.NewPayPal(payment.PayPalConfig{Business: "seller@example.com", WebURL: "https://paypal.test/cgi-bin/webscr",
		VerifyURL: "https://ipn.paypal.test/cgi-bin/webscr", APIURL: apiURL, APIUser: "api_user", APIPassword: "api_pwd", APISignature: "api_sig"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPayPalListPaymentsSearchesPastTruncation(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	tests := []struct {
		name       string
		completed  int
		maxResults int
	}{
		{"none", 0, 100},
		{"one answer", 3, 100},
		{"truncated twice", 7, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nvp := providertest.NewPayPalNVP(t, "api_user", "api_pwd", "api_sig")
			nvp.MaxResults = tt.maxResults
			p := newPayPalAPI(t, nvp.URL)
			want := map[string]string{}
			for i := range tt.completed {
				id, tx := fmt.Sprintf("TXN%014d", i), fmt.Sprintf("ORDER%011d", i)
				nvp.Add(providertest.PayPalTransaction{ID: id, TxID: tx, Gross: "12.34", Currency: "EUR", Status: "Completed",
					Receiver: "seller@example.com", At: now.Add(-time.Duration(i) * time.Minute)})
				want[id] = tx
			}
			// Not this shop's money, not completed, or before the window: never listed.
			nvp.Add(providertest.PayPalTransaction{ID: "PENDING0000000000", TxID: "ORDERPENDING0000", Gross: "1.00", Currency: "EUR", Status: "Pending", Receiver: "seller@example.com", At: now})
			nvp.Add(providertest.PayPalTransaction{ID: "OTHER000000000000", TxID: "ORDEROTHER000000", Gross: "1.00", Currency: "EUR", Status: "Completed", Receiver: "other@example.com", At: now})
			nvp.Add(providertest.PayPalTransaction{ID: "OLD00000000000000", TxID: "ORDEROLD00000000", Gross: "1.00", Currency: "EUR", Status: "Completed", Receiver: "seller@example.com", At: now.Add(-48 * time.Hour)})
			got, err := p.ListPayments(context.Background(), now.Add(-24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.completed {
				t.Fatalf("%d payments listed, want %d: %+v", len(got), tt.completed, got)
			}
			for _, r := range got {
				if want[r.Reference] != r.TxID || r.Amount != 1234 || r.Currency != "EUR" || r.Provider != "paypal" {
					t.Errorf("listed %+v", r)
				}
			}
			for _, c := range nvp.Calls() {
				if c.Get("USER") != "api_user" || c.Get("SIGNATURE") != "api_sig" || c.Get("VERSION") == "" {
					t.Errorf("call without the signature credentials: %v", c)
				}
			}
		})
	}
}

func TestPayPalListPaymentsRefusedCredentials(t *testing.T) {
	nvp := providertest.NewPayPalNVP(t, "api_user", "other", "api_sig")
	p := newPayPalAPI(t, nvp.URL)
	if _, err := p.ListPayments(context.Background(), time.Now().Add(-time.Hour)); err == nil || !strings.Contains(err.Error(), "10002") {
		t.Errorf("refused credentials: %v, want PayPal's 10002", err)
	}
}

func TestPayPalAPISettingsGoTogether(t *testing.T) {
	_, err := payment.NewPayPal(payment.PayPalConfig{Business: "seller@example.com", WebURL: "https://paypal.test/x",
		VerifyURL: "https://ipn.paypal.test/x", APIURL: "https://api-3t.paypal.test/nvp"}, nil)
	if err == nil || !strings.Contains(err.Error(), "PayPal.APIUser is required") {
		t.Errorf("half the API settings: %v, want a refusal", err)
	}
}

func TestListersAreTheProvidersThatCanList(t *testing.T) {
	modes := map[string]payment.Mode{"stripe": newStripe(t, "http://127.0.0.1:1"), "paypal": newPayPal(t, "http://127.0.0.1:1"), "freeorder": payment.FreeOrder{}}
	if got := payment.Listers(modes); len(got) != 1 || got["stripe"] == nil {
		t.Errorf("listers %v, want stripe only (PayPal without API credentials)", got)
	}
	modes["paypal"] = newPayPalAPI(t, "http://127.0.0.1:1")
	if got := payment.Listers(modes); len(got) != 2 {
		t.Errorf("listers %v, want stripe and paypal", got)
	}
}
