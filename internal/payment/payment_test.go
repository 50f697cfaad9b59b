package payment_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/payment"
)

// clock is the fixed time the tests run at.
var clock = func() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }

func baseRequest() payment.Request {
	return payment.Request{
		TxID: "TU80WKRYTI9QUMJ4", Amount: 123456, Currency: "EUR", Lang: "fr",
		CustomerEmail: "buyer@example.com", ReturnURL: "https://shop.example/return",
		CancelURL: "https://shop.example/cancel", NotifyURL: "https://api.example/webhooks/x",
		ShopName: "Learn Shop",
	}
}

func fullConfig() payment.Config {
	return payment.Config{
		Clock:     clock,
		Test:      &payment.TestConfig{Secret: "test-secret"},
		Check:     &payment.CheckConfig{Payee: "Learn SARL", Address: "1 rue de la Paix\n75002 Paris"},
		Transfer:  &payment.TransferConfig{Payee: "Learn SARL", IBAN: "FR76 3000 6000 0112 3456 7890 189", BIC: "BNPAFRPP"},
		PayPal:    &payment.PayPalConfig{Business: "shop@example.com", WebURL: "https://www.sandbox.paypal.com/cgi-bin/webscr", VerifyURL: "https://ipnpb.sandbox.paypal.com/cgi-bin/webscr"},
		Stripe:    &payment.StripeConfig{SecretKey: "sk_test_x", WebhookSecret: "whsec_x"},
		Systempay: &payment.SystempayConfig{SiteID: "12345678", Key: "k", CtxMode: "TEST", FormURL: "https://paiement.systempay.fr/vads-payment/"},
	}
}

func TestNewModesOffersConfiguredModes(t *testing.T) {
	modes, verifiers, err := payment.NewModes(fullConfig())
	if err != nil {
		t.Fatal(err)
	}
	wantKinds := map[string]payment.Kind{
		"test": payment.KindInstant, "freeorder": payment.KindInstant, "check": payment.KindOffline,
		"transfer": payment.KindOffline, "paypal": payment.KindOnline, "stripe": payment.KindOnline,
		"systempay": payment.KindOnline,
	}
	if len(modes) != len(wantKinds) {
		t.Errorf("got %d modes, want %d", len(modes), len(wantKinds))
	}
	for name, kind := range wantKinds {
		m, ok := modes[name]
		if !ok {
			t.Errorf("mode %s missing", name)
			continue
		}
		if m.Name() != name || m.Kind() != kind {
			t.Errorf("mode %s: Name %q Kind %v, want %s", name, m.Name(), m.Kind(), kind)
		}
	}
	for _, name := range []string{"test", "paypal", "stripe", "systempay"} {
		if verifiers[name] == nil {
			t.Errorf("verifier %s missing", name)
		}
	}
	if len(verifiers) != 4 {
		t.Errorf("got %d verifiers, want 4", len(verifiers))
	}
}

func TestNewModesEmptyConfigOffersFreeOrderOnly(t *testing.T) {
	modes, verifiers, err := payment.NewModes(payment.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if len(modes) != 1 || modes["freeorder"] == nil || len(verifiers) != 0 {
		t.Errorf("modes %v verifiers %v; want only freeorder", modes, verifiers)
	}
}

func TestNewModesNamesBadSettings(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*payment.Config)
		wants []string
	}{
		{"stripe secrets", func(c *payment.Config) { c.Stripe = &payment.StripeConfig{} },
			[]string{"Stripe.SecretKey is required", "Stripe.WebhookSecret is required"}},
		{"paypal urls", func(c *payment.Config) { c.PayPal = &payment.PayPalConfig{Business: "a@b.c"} },
			[]string{"PayPal.WebURL is required", "PayPal.VerifyURL is required"}},
		{"paypal relative url", func(c *payment.Config) { c.PayPal.VerifyURL = "/verify" }, []string{"PayPal.VerifyURL"}},
		{"test secret", func(c *payment.Config) { c.Test = &payment.TestConfig{} }, []string{"Test.Secret is required"}},
		{"check address", func(c *payment.Config) { c.Check.Address = "" }, []string{"Check.Address is required"}},
		{"transfer iban checksum", func(c *payment.Config) { c.Transfer.IBAN = "FR76 3000 6000 0112 3456 7890 188" }, []string{"Transfer.IBAN", "checksum"}},
		{"transfer bic", func(c *payment.Config) { c.Transfer.BIC = "BNP" }, []string{"Transfer.BIC"}},
		{"systempay site", func(c *payment.Config) { c.Systempay.SiteID = "12ab" }, []string{"Systempay.SiteID"}},
		{"systempay mode", func(c *payment.Config) { c.Systempay.CtxMode = "test" }, []string{"Systempay.CtxMode"}},
		{"systempay key", func(c *payment.Config) { c.Systempay.Key = "" }, []string{"Systempay.Key is required"}},
		{"stripe url", func(c *payment.Config) { c.Stripe.APIURL = "not a url" }, []string{"Stripe.APIURL"}},
		{"two sections at once", func(c *payment.Config) { c.Check.Payee = ""; c.Stripe.SecretKey = "" },
			[]string{"Check.Payee is required", "Stripe.SecretKey is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fullConfig()
			tt.edit(&cfg)
			modes, _, err := payment.NewModes(cfg)
			if err == nil {
				t.Fatalf("want error, got modes %v", modes)
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestNotificationCheck(t *testing.T) {
	paid := payment.Notification{TxID: "T1", Outcome: payment.Paid, Amount: 1000, Currency: "EUR"}
	failed := payment.Notification{TxID: "T1", Outcome: payment.Failed}
	tests := []struct {
		name    string
		n       payment.Notification
		tx      string
		amount  int64
		cur     string
		wantErr bool
	}{
		{"paid matches", paid, "T1", 1000, "EUR", false},
		{"other transaction", paid, "T2", 1000, "EUR", true},
		{"amount short", paid, "T1", 1001, "EUR", true},
		{"other currency", paid, "T1", 1000, "USD", true},
		{"failure without amount", failed, "T1", 1000, "EUR", false},
		{"failure of other transaction", failed, "T2", 1000, "EUR", true},
	}
	for _, tt := range tests {
		err := tt.n.Check(tt.tx, tt.amount, tt.cur)
		if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, payment.ErrMismatch)) {
			t.Errorf("%s: Check = %v, want error %v (ErrMismatch)", tt.name, err, tt.wantErr)
		}
	}
}

func TestRequestValidation(t *testing.T) {
	modes, _, err := payment.NewModes(fullConfig())
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]func(*payment.Request){
		"no txid":          func(r *payment.Request) { r.TxID = "" },
		"negative amount":  func(r *payment.Request) { r.Amount = -1 },
		"unknown currency": func(r *payment.Request) { r.Currency = "EURO" },
		"lower-case code":  func(r *payment.Request) { r.Currency = "eur" },
		"negative attempt": func(r *payment.Request) { r.Attempt = -1 },
	}
	for name, edit := range bad {
		for _, m := range modes {
			r := baseRequest()
			edit(&r)
			if _, err := m.Start(context.Background(), r); err == nil {
				t.Errorf("%s: mode %s accepted the request", name, m.Name())
			}
		}
	}
}

func TestFreeOrder(t *testing.T) {
	tests := []struct {
		amount  int64
		wantErr bool
	}{{0, false}, {1, true}, {123456, true}}
	for _, tt := range tests {
		r := baseRequest()
		r.Amount = tt.amount
		in, err := payment.FreeOrder{}.Start(context.Background(), r)
		if (err != nil) != tt.wantErr {
			t.Errorf("amount %d: err %v, want error %v", tt.amount, err, tt.wantErr)
		}
		if err == nil && in.Kind != payment.InstructionsInstant {
			t.Errorf("amount %d: kind %q, want instant", tt.amount, in.Kind)
		}
	}
}

func TestNames(t *testing.T) {
	for got, want := range map[string]string{
		payment.KindInstant.String(): "instant", payment.KindOffline.String(): "offline", payment.KindOnline.String(): "online",
		payment.Kind(9).String(): "Kind(9)", payment.Paid.String(): "paid", payment.Failed.String(): "failed",
		payment.Refused.String(): "refused", payment.Pending.String(): "pending", payment.Ignored.String(): "ignored",
		payment.Outcome(0).String(): "Outcome(0)",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
