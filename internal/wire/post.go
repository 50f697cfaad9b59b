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
	if v, ok := get("PAYPAL", "BUSINESS", "WEB_URL", "VERIFY_URL"); ok {
		cfg.PayPal = &payment.PayPalConfig{Business: v["BUSINESS"], WebURL: v["WEB_URL"], VerifyURL: v["VERIFY_URL"]}
	}
	if v, ok := get("STRIPE", "SECRET_KEY", "WEBHOOK_SECRET", "API_URL"); ok {
		cfg.Stripe = &payment.StripeConfig{SecretKey: v["SECRET_KEY"], WebhookSecret: v["WEBHOOK_SECRET"], APIURL: v["API_URL"]}
	}
	if v, ok := get("SYSTEMPAY", "SITE_ID", "KEY", "CTX_MODE", "FORM_URL"); ok {
		cfg.Systempay = &payment.SystempayConfig{SiteID: v["SITE_ID"], Key: v["KEY"], CtxMode: v["CTX_MODE"], FormURL: v["FORM_URL"]}
	}
	return cfg
}

// workflowService builds the post-placement service from the dependencies. withModes
// adds the payment modes and verifiers (payment, webhook, back office), withProducers
// the production handlers (produce, back office's item validation).
func workflowService(d *Deps, withModes, withProducers bool) (*workflow.Service, error) {
	s := &workflow.Service{
		Store: d.Store,
		// Task tokens name their execution: completing one needs no state machine ARN.
		Tokens:        &stepfn.Workflow{API: d.SFN()},
		Shops:         &httpapi.ShopCache{Loader: d.Store, ShopID: d.Cfg.ShopID, TTL: d.Cfg.ShopCacheTTL, Now: d.Now},
		Mail:          notify.NewSES(notify.SendEmailFunc(d.SES().SendEmail), ""),
		SenderEmail:   d.Cfg.SenderEmail,
		StorefrontURL: strings.TrimRight(d.Cfg.StorefrontURL, "/"),
		LinkTTL:       d.Cfg.LinkTTL,
		Now:           d.Now,
		Log:           d.Log,
	}
	// The back office starts an order's workflow again when an operator delivers a late
	// payment; the other functions have no state machine ARN and need none.
	if d.Cfg.StateMachineARN != "" {
		s.Starter = &stepfn.Workflow{API: d.SFN(), StateMachineARN: d.Cfg.StateMachineARN}
	}
	if withModes {
		if err := addPaymentModes(d, s); err != nil {
			return nil, err
		}
	}
	if withProducers {
		hs, err := ProductionHandlers(d)
		if err != nil {
			return nil, err
		}
		s.Producers = hs
	}
	return s, nil
}

// addPaymentModes gives s the payment modes and verifiers configured in the PAYMENT_*
// settings (environment, then the settings secret).
func addPaymentModes(d *Deps, s *workflow.Service) error {
	getenv, err := settings(d)
	if err != nil {
		return err
	}
	cfg := PaymentConfigFromEnv(getenv)
	cfg.Clock = d.Now
	modes, verifiers, err := payment.NewModes(cfg)
	if err != nil {
		return err
	}
	s.Modes, s.Verifiers = modes, verifiers
	if cfg.Test != nil {
		if s.TestProvider, err = payment.NewTestProvider(*cfg.Test, d.Now); err != nil {
			return err
		}
	}
	return nil
}

// Payment builds the function of the payment task and the buyer's order routes.
func Payment(d *Deps) (lambda.Handler, error) {
	s, err := workflowService(d, true, false)
	if err != nil {
		return nil, err
	}
	return s.PaymentHandler(), nil
}

// PaymentWebhook builds the function of the providers' notifications.
func PaymentWebhook(d *Deps) (lambda.Handler, error) {
	s, err := workflowService(d, true, false)
	if err != nil {
		return nil, err
	}
	return s.WebhookHandler(), nil
}

// Produce builds the function of the production tasks.
func Produce(d *Deps) (lambda.Handler, error) {
	s, err := workflowService(d, false, true)
	if err != nil {
		return nil, err
	}
	return s.ProduceHandler(), nil
}

// Bill builds the function of the invoice task and the bill route.
func Bill(d *Deps) (lambda.Handler, error) {
	s, err := workflowService(d, false, false)
	if err != nil {
		return nil, err
	}
	return s.BillHandler(), nil
}

// Notify builds the function of the notification task.
func Notify(d *Deps) (lambda.Handler, error) {
	s, err := workflowService(d, false, false)
	if err != nil {
		return nil, err
	}
	return s.NotifyHandler(), nil
}

// Backoffice builds the function of the operators' /admin routes.
func Backoffice(d *Deps) (lambda.Handler, error) {
	if d.Cfg.StateMachineARN == "" {
		return nil, errors.New("wire: the back office starts the workflow again for a delivered late payment: STATE_MACHINE_ARN must name the state machine")
	}
	s, err := workflowService(d, true, false)
	if err != nil {
		return nil, err
	}
	// Catalog items are validated by their handlers, against the LMS production uses.
	hs, err := ProductionHandlers(d)
	if err != nil {
		return nil, err
	}
	s.Producers = hs
	return s.BackofficeHandler(), nil
}

// Watch builds the scheduled function that counts the orders waiting for an operator
// and publishes the count as a metric. It reads the table only.
func Watch(d *Deps) (lambda.Handler, error) {
	if d.Cfg.OperatorWait <= 0 {
		return nil, errors.New("wire: OPERATOR_WAIT_MINUTES must be a whole number of minutes, at least 1")
	}
	w := &workflow.Watch{Store: d.Store, ShopID: d.Cfg.ShopID, Threshold: d.Cfg.OperatorWait, Now: d.Now, Log: d.Log}
	return w.Handler(), nil
}
