package wire

import (
	"errors"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/stepfn"
	"github.com/lmsshop/checkout/internal/workflow"
)

// The post-placement functions are built here (internal/workflow).

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
// SETTINGS_SECRET (see settings); tests pass their own.
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

// configuredModes are the payment modes, verifiers and test provider the settings
// configure.
type configuredModes struct {
	modes        map[string]payment.Mode
	verifiers    map[string]payment.Verifier
	testProvider *payment.TestProvider
}

// paymentModes reads the payment settings (PaymentConfigFromEnv) and builds what they
// configure; a half-configured provider is an error.
func paymentModes(d *Deps) (configuredModes, error) {
	getenv, err := settings(d)
	if err != nil {
		return configuredModes{}, err
	}
	cfg := PaymentConfigFromEnv(getenv)
	cfg.Clock = d.Now
	var pm configuredModes
	if pm.modes, pm.verifiers, err = payment.NewModes(cfg); err != nil {
		return configuredModes{}, err
	}
	if cfg.Test != nil {
		if pm.testProvider, err = payment.NewTestProvider(*cfg.Test, d.Now); err != nil {
			return configuredModes{}, err
		}
	}
	return pm, nil
}

// common is what every post-placement service holds.
func common(d *Deps) workflow.Common {
	return workflow.Common{
		Store: d.Store,
		Shops: &httpapi.ShopCache{Loader: d.Store, ShopID: d.Cfg.ShopID, TTL: d.Cfg.ShopCacheTTL, Now: d.Now},
		Now:   d.Now,
		Log:   d.Log,
	}
}

// mailing is what the services that send e-mail hold: only they build the SES client.
func mailing(d *Deps) workflow.Mailing {
	return workflow.Mailing{
		Mail:          notify.NewSES(notify.SendEmailFunc(d.SES().SendEmail), ""),
		SenderEmail:   d.Cfg.SenderEmail,
		StorefrontURL: strings.TrimRight(d.Cfg.StorefrontURL, "/"),
		LinkTTL:       d.Cfg.LinkTTL,
	}
}

// tokens completes the state machine's task tokens. Task tokens name their execution:
// completing one needs no state machine ARN.
func tokens(d *Deps) workflow.Tokens { return &stepfn.Workflow{API: d.SFN()} }

// providers are the payment providers configured in the settings.
func providers(d *Deps) (workflow.Providers, error) {
	pm, err := paymentModes(d)
	if err != nil {
		return workflow.Providers{}, err
	}
	return workflow.Providers{Modes: pm.modes, Verifiers: pm.verifiers, TestProvider: pm.testProvider}, nil
}

// Payment builds the function of the payment task and the buyer's order routes.
func Payment(d *Deps) (lambda.Handler, error) {
	p, err := providers(d)
	if err != nil {
		return nil, err
	}
	return workflow.NewPayment(common(d), mailing(d), tokens(d), p).Handler(), nil
}

// PaymentWebhook builds the function of the providers' notifications.
func PaymentWebhook(d *Deps) (lambda.Handler, error) {
	p, err := providers(d)
	if err != nil {
		return nil, err
	}
	return workflow.NewWebhooks(common(d), mailing(d), tokens(d), p.Verifiers).Handler(), nil
}

// Produce builds the function of the production tasks.
func Produce(d *Deps) (lambda.Handler, error) {
	hs, err := ProductionHandlers(d)
	if err != nil {
		return nil, err
	}
	return workflow.NewProduction(common(d), mailing(d), hs).Handler(), nil
}

// Bill builds the function of the invoice task and the bill route.
func Bill(d *Deps) (lambda.Handler, error) {
	return workflow.NewBilling(common(d)).Handler(), nil
}

// Notify builds the function of the notification task.
func Notify(d *Deps) (lambda.Handler, error) {
	return workflow.NewNotification(common(d), mailing(d)).Handler(), nil
}

// Backoffice builds the function of the operators' /admin routes.
func Backoffice(d *Deps) (lambda.Handler, error) {
	if d.Cfg.StateMachineARN == "" {
		return nil, errors.New("wire: the back office starts the workflow again for a delivered late payment: STATE_MACHINE_ARN must name the state machine")
	}
	p, err := providers(d)
	if err != nil {
		return nil, err
	}
	// Catalog items are validated by their handlers, against the LMS production uses.
	hs, err := ProductionHandlers(d)
	if err != nil {
		return nil, err
	}
	starter := &stepfn.Workflow{API: d.SFN(), StateMachineARN: d.Cfg.StateMachineARN}
	return workflow.NewBackoffice(common(d), mailing(d), tokens(d), starter, p.Modes, hs).Handler(), nil
}

// watch is the rule of the orders waiting for an operator, shared by Watch and Reconcile.
func watch(d *Deps) *workflow.Watch {
	return &workflow.Watch{Store: d.Store, ShopID: d.Cfg.ShopID, Threshold: d.Cfg.OperatorWait, Now: d.Now, Log: d.Log}
}

// Watch builds the scheduled function that counts the orders waiting for an operator
// and publishes the count as a metric. It reads the table only.
func Watch(d *Deps) (lambda.Handler, error) {
	if d.Cfg.OperatorWait <= 0 {
		return nil, errors.New("wire: OPERATOR_WAIT_MINUTES must be a whole number of minutes, at least 1")
	}
	return watch(d).Handler(), nil
}

// Reconcile builds the daily function that compares the providers' payments with the
// orders, flags the stuck ones and e-mails the report (workflow.Reconcile). It reads
// the payment settings for the providers it asks, and the operator wait for the stuck
// orders, as Watch does.
func Reconcile(d *Deps) (lambda.Handler, error) {
	if d.Cfg.OperatorWait <= 0 {
		return nil, errors.New("wire: OPERATOR_WAIT_MINUTES must be a whole number of minutes, at least 1")
	}
	if d.Cfg.ReconcileDays <= 0 {
		return nil, errors.New("wire: RECONCILE_DAYS must be a whole number of days, at least 1")
	}
	p, err := providers(d)
	if err != nil {
		return nil, err
	}
	r := workflow.NewReconcile(common(d), mailing(d), tokens(d), watch(d), payment.Listers(p.Modes), d.Cfg.ReconcileDays)
	return r.Handler(), nil
}
