package settings

import (
	"strings"

	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/wire"
)

// PaymentConfigFromEnv reads the payment providers' settings from PAYMENT_* variables.
// A provider's section exists when any of its variables is set, and payment.NewModes
// then reports every missing one, so a half-configured provider fails at start-up
// rather than in front of a buyer:
//
//	PAYMENT_TEST_SECRET
//	PAYMENT_CHECK_PAYEE, PAYMENT_CHECK_ADDRESS, PAYMENT_CHECK_TEXT
//	PAYMENT_TRANSFER_PAYEE, PAYMENT_TRANSFER_ADDRESS, PAYMENT_TRANSFER_IBAN, PAYMENT_TRANSFER_BIC, PAYMENT_TRANSFER_TEXT
//	PAYMENT_PAYPAL_BUSINESS, PAYMENT_PAYPAL_WEB_URL, PAYMENT_PAYPAL_VERIFY_URL
//	PAYMENT_PAYPAL_API_URL, PAYMENT_PAYPAL_API_USER, PAYMENT_PAYPAL_API_PASSWORD, PAYMENT_PAYPAL_API_SIGNATURE (reconciliation, refunds)
//	PAYMENT_STRIPE_SECRET_KEY, PAYMENT_STRIPE_WEBHOOK_SECRET, PAYMENT_STRIPE_API_URL
//	PAYMENT_SYSTEMPAY_SITE_ID, PAYMENT_SYSTEMPAY_KEY, PAYMENT_SYSTEMPAY_CTX_MODE, PAYMENT_SYSTEMPAY_FORM_URL
//
// getenv looks in the environment, then in the settings secret named by
// SETTINGS_SECRET (see Lookup); tests pass their own.
func PaymentConfigFromEnv(getenv func(string) string) payment.Config {
	var cfg payment.Config
	get := func(section string, names ...string) (map[string]string, bool) {
		v, set := map[string]string{}, false
		for _, n := range names {
			v[n] = strings.TrimSpace(getenv("PAYMENT_" + section + "_" + n))
			set = set || v[n] != ""
		}
		return v, set
	}
	if v, ok := get("TEST", "SECRET"); ok {
		cfg.Test = &payment.TestConfig{Secret: v["SECRET"]}
	}
	if v, ok := get("CHECK", "PAYEE", "ADDRESS", "TEXT"); ok {
		cfg.Check = &payment.CheckConfig{Payee: v["PAYEE"], Address: v["ADDRESS"], Text: v["TEXT"]}
	}
	if v, ok := get("TRANSFER", "PAYEE", "ADDRESS", "IBAN", "BIC", "TEXT"); ok {
		cfg.Transfer = &payment.TransferConfig{Payee: v["PAYEE"], Address: v["ADDRESS"], IBAN: v["IBAN"], BIC: v["BIC"], Text: v["TEXT"]}
	}
	if v, ok := get("PAYPAL", "BUSINESS", "WEB_URL", "VERIFY_URL", "API_URL", "API_USER", "API_PASSWORD", "API_SIGNATURE"); ok {
		cfg.PayPal = &payment.PayPalConfig{Business: v["BUSINESS"], WebURL: v["WEB_URL"], VerifyURL: v["VERIFY_URL"],
			APIURL: v["API_URL"], APIUser: v["API_USER"], APIPassword: v["API_PASSWORD"], APISignature: v["API_SIGNATURE"]}
	}
	if v, ok := get("STRIPE", "SECRET_KEY", "WEBHOOK_SECRET", "API_URL"); ok {
		cfg.Stripe = &payment.StripeConfig{SecretKey: v["SECRET_KEY"], WebhookSecret: v["WEBHOOK_SECRET"], APIURL: v["API_URL"]}
	}
	if v, ok := get("SYSTEMPAY", "SITE_ID", "KEY", "CTX_MODE", "FORM_URL"); ok {
		cfg.Systempay = &payment.SystempayConfig{SiteID: v["SITE_ID"], Key: v["KEY"], CtxMode: v["CTX_MODE"], FormURL: v["FORM_URL"]}
	}
	return cfg
}

// Modes are the payment modes, verifiers and test provider the settings
// configure.
type Modes struct {
	Modes        map[string]payment.Mode
	Verifiers    map[string]payment.Verifier
	TestProvider *payment.TestProvider
}

// PaymentModes reads the payment settings (PaymentConfigFromEnv) and builds what they
// configure; a half-configured provider is an error.
func PaymentModes(d *wire.Deps) (Modes, error) {
	getenv, err := Lookup(d)
	if err != nil {
		return Modes{}, err
	}
	cfg := PaymentConfigFromEnv(getenv)
	cfg.Clock = d.Now
	var pm Modes
	if pm.Modes, pm.Verifiers, err = payment.NewModes(cfg); err != nil {
		return Modes{}, err
	}
	if cfg.Test != nil {
		if pm.TestProvider, err = payment.NewTestProvider(*cfg.Test, d.Now); err != nil {
			return Modes{}, err
		}
	}
	return pm, nil
}
