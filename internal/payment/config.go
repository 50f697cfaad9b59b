package payment

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
)

// Config holds every provider's settings. A nil section means the mode is not
// configured and is simply not offered; a present section with a missing or
// invalid setting is an error, because a half-configured provider would fail
// in front of a buyer.
type Config struct {
	// Clock returns the current time; nil means time.Now. Tests pin it.
	Clock func() time.Time
	// HTTPClient is used for provider calls (Stripe API, PayPal IPN
	// verification); nil means http.DefaultClient.
	HTTPClient *http.Client

	Test      *TestConfig
	Check     *CheckConfig
	Transfer  *TransferConfig
	PayPal    *PayPalConfig
	Stripe    *StripeConfig
	Systempay *SystempayConfig
}

// TestConfig configures the "test" mode and its simulated provider.
type TestConfig struct {
	// Secret signs and verifies simulated provider callbacks.
	Secret string
}

// CheckConfig configures payment by cheque.
type CheckConfig struct {
	Payee   string // whom the cheque is made out to
	Address string // where to post it
	Text    string // optional extra instructions
}

// TransferConfig configures payment by bank transfer.
type TransferConfig struct {
	Payee   string
	Address string // optional payee address
	IBAN    string
	BIC     string
	Text    string // optional extra instructions
}

// PayPalConfig configures PayPal Payments Standard with IPN.
type PayPalConfig struct {
	// Business is the merchant's PayPal e-mail: the payment receiver, checked
	// against receiver_email in every IPN.
	Business string
	// WebURL is where buyers are sent, e.g.
	// https://www.paypal.com/cgi-bin/webscr (sandbox:
	// https://www.sandbox.paypal.com/cgi-bin/webscr).
	WebURL string
	// VerifyURL receives IPN validation posts, e.g.
	// https://ipnpb.paypal.com/cgi-bin/webscr.
	VerifyURL string
	// APIURL, APIUser, APIPassword and APISignature are the classic API's NVP endpoint
	// (https://api-3t.paypal.com/nvp; sandbox: https://api-3t.sandbox.paypal.com/nvp) and
	// signature credentials: reconciliation searches the account's transactions with
	// them and refunds go through RefundTransaction. Optional, all four or none: without
	// them the account is not reconciled and the operator refunds in PayPal and records it.
	APIURL, APIUser, APIPassword, APISignature string
}

// StripeConfig configures Stripe Checkout.
type StripeConfig struct {
	SecretKey     string // sk_live_... or sk_test_...
	WebhookSecret string // whsec_..., the endpoint's signing secret
	// APIURL overrides https://api.stripe.com (tests point it at a fake).
	APIURL string
}

// SystempayConfig configures the Systempay (Lyra) payment form.
type SystempayConfig struct {
	SiteID string // 8 digits
	Key    string // the test or production key matching CtxMode
	// CtxMode is "TEST" or "PRODUCTION".
	CtxMode string
	// FormURL is where the form posts, e.g.
	// https://paiement.systempay.fr/vads-payment/.
	FormURL string
}

// NewModes builds the payment modes and notification verifiers that cfg
// configures, keyed by name ("stripe", ...). freeorder needs no settings and
// is always present. The error lists every missing or invalid setting.
func NewModes(cfg Config) (map[string]Mode, map[string]Verifier, error) {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	modes := map[string]Mode{checkout.PaymodeFreeOrder: FreeOrder{}}
	verifiers := map[string]Verifier{}
	var errs []error
	if c := cfg.Test; c != nil {
		p, err := NewTestProvider(*c, cfg.Clock)
		if err != nil {
			errs = append(errs, err)
		} else {
			modes[checkout.PaymodeTest] = TestMode{}
			verifiers[checkout.PaymodeTest] = p
		}
	}
	if c := cfg.Check; c != nil {
		m, err := NewCheck(*c)
		if err != nil {
			errs = append(errs, err)
		} else {
			modes[checkout.PaymodeCheck] = m
		}
	}
	if c := cfg.Transfer; c != nil {
		m, err := NewTransfer(*c)
		if err != nil {
			errs = append(errs, err)
		} else {
			modes[checkout.PaymodeTransfer] = m
		}
	}
	if c := cfg.PayPal; c != nil {
		m, err := NewPayPal(*c, cfg.HTTPClient)
		if err != nil {
			errs = append(errs, err)
		} else {
			modes[checkout.PaymodePayPal] = m
			verifiers[checkout.PaymodePayPal] = m
		}
	}
	if c := cfg.Stripe; c != nil {
		m, err := NewStripe(*c, cfg.HTTPClient)
		if err != nil {
			errs = append(errs, err)
		} else {
			modes[checkout.PaymodeStripe] = m
			verifiers[checkout.PaymodeStripe] = m
		}
	}
	if c := cfg.Systempay; c != nil {
		m, err := NewSystempay(*c, cfg.Clock)
		if err != nil {
			errs = append(errs, err)
		} else {
			modes[checkout.PaymodeSystempay] = m
			verifiers[checkout.PaymodeSystempay] = m
		}
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("payment config: %w", errors.Join(errs...))
	}
	return modes, verifiers, nil
}

// missing returns an error naming each empty setting of section, or nil.
// settings alternates setting names and values.
func missing(section string, settings ...string) error {
	var errs []error
	for i := 0; i+1 < len(settings); i += 2 {
		if settings[i+1] == "" {
			errs = append(errs, fmt.Errorf("%s.%s is required", section, settings[i]))
		}
	}
	return errors.Join(errs...)
}
