// Package flow is the composition root of the post-placement functions (Payment,
// PaymentWebhook, Produce, Bill, Notify, Backoffice, Watch, Reconcile): it builds each
// one's workflow service (internal/workflow) through that service's constructor, with
// the Step Functions client (task tokens; the back office starts executions) and the
// SES client for the services that send e-mail.
package flow

import (
	"errors"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/stepfn"
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/order"
	"github.com/lmsshop/checkout/internal/wire/settings"
	"github.com/lmsshop/checkout/internal/workflow"
)

// SES is the SES v2 client of d's function, built once. Its endpoint is not fixed like
// the others': the workflow sends at most a few e-mails per order, off the API's hot
// path, and the fixed resolver would cost its binaries code.
func SES(d *wire.Deps) *sesv2.Client {
	c, _ := d.Once("ses", func() (any, error) { return sesv2.NewFromConfig(d.AWS), nil })
	return c.(*sesv2.Client)
}

// common is what every post-placement service holds.
func common(d *wire.Deps) workflow.Common {
	return workflow.Common{
		Store: d.Store,
		Shops: &httpapi.ShopCache{Loader: d.Store, ShopID: d.Cfg.ShopID, TTL: d.Cfg.ShopCacheTTL, Now: d.Now},
		Now:   d.Now,
		Log:   d.Log,
	}
}

// mailing is what the services that send e-mail hold: only they build the SES client.
func mailing(d *wire.Deps) workflow.Mailing {
	return workflow.Mailing{
		Mail:          notify.NewSES(notify.SendEmailFunc(SES(d).SendEmail), ""),
		SenderEmail:   d.Cfg.SenderEmail,
		StorefrontURL: strings.TrimRight(d.Cfg.StorefrontURL, "/"),
		LinkTTL:       d.Cfg.LinkTTL,
	}
}

// tokens completes the state machine's task tokens. Task tokens name their execution:
// completing one needs no state machine ARN.
func tokens(d *wire.Deps) workflow.Tokens { return &stepfn.Workflow{API: order.SFN(d)} }

// providers are the payment providers configured in the settings.
func providers(d *wire.Deps) (workflow.Providers, error) {
	pm, err := settings.PaymentModes(d)
	if err != nil {
		return workflow.Providers{}, err
	}
	return workflow.Providers{Modes: pm.Modes, Verifiers: pm.Verifiers, TestProvider: pm.TestProvider}, nil
}

// Payment builds the function of the payment task and the buyer's order routes.
func Payment(d *wire.Deps) (lambda.Handler, error) {
	p, err := providers(d)
	if err != nil {
		return nil, err
	}
	return workflow.NewPayment(common(d), mailing(d), tokens(d), p).Handler(), nil
}

// PaymentWebhook builds the function of the providers' notifications.
func PaymentWebhook(d *wire.Deps) (lambda.Handler, error) {
	p, err := providers(d)
	if err != nil {
		return nil, err
	}
	return workflow.NewWebhooks(common(d), mailing(d), tokens(d), p.Verifiers).Handler(), nil
}

// Produce builds the function of the production tasks.
func Produce(d *wire.Deps) (lambda.Handler, error) {
	hs, err := settings.ProductionHandlers(d)
	if err != nil {
		return nil, err
	}
	return workflow.NewProduction(common(d), mailing(d), hs).Handler(), nil
}

// Bill builds the function of the invoice task and the bill route.
func Bill(d *wire.Deps) (lambda.Handler, error) {
	return workflow.NewBilling(common(d)).Handler(), nil
}

// Notify builds the function of the notification task.
func Notify(d *wire.Deps) (lambda.Handler, error) {
	return workflow.NewNotification(common(d), mailing(d)).Handler(), nil
}

// Backoffice builds the function of the operators' /admin routes.
func Backoffice(d *wire.Deps) (lambda.Handler, error) {
	if d.Cfg.StateMachineARN == "" {
		return nil, errors.New("flow: the back office starts the workflow again for a delivered late payment: STATE_MACHINE_ARN must name the state machine")
	}
	p, err := providers(d)
	if err != nil {
		return nil, err
	}
	// Catalog items are validated by their handlers, against the LMS production uses.
	hs, err := settings.ProductionHandlers(d)
	if err != nil {
		return nil, err
	}
	starter := &stepfn.Workflow{API: order.SFN(d), StateMachineARN: d.Cfg.StateMachineARN}
	return workflow.NewBackoffice(common(d), mailing(d), tokens(d), starter, p.Modes, hs).Handler(), nil
}

// watch is the rule of the orders waiting for an operator, shared by Watch and Reconcile.
func watch(d *wire.Deps) *workflow.Watch {
	return &workflow.Watch{Store: d.Store, ShopID: d.Cfg.ShopID, Threshold: d.Cfg.OperatorWait, Now: d.Now, Log: d.Log}
}

// Watch builds the scheduled function that counts the orders waiting for an operator
// and publishes the count as a metric. It reads the table only.
func Watch(d *wire.Deps) (lambda.Handler, error) {
	if d.Cfg.OperatorWait <= 0 {
		return nil, errors.New("flow: OPERATOR_WAIT_MINUTES must be a whole number of minutes, at least 1")
	}
	return watch(d).Handler(), nil
}

// Reconcile builds the daily function that compares the providers' payments with the
// orders, flags the stuck ones and e-mails the report (workflow.Reconcile). It reads
// the payment settings for the providers it asks, and the operator wait for the stuck
// orders, as Watch does.
func Reconcile(d *wire.Deps) (lambda.Handler, error) {
	if d.Cfg.OperatorWait <= 0 {
		return nil, errors.New("flow: OPERATOR_WAIT_MINUTES must be a whole number of minutes, at least 1")
	}
	if d.Cfg.ReconcileDays <= 0 {
		return nil, errors.New("flow: RECONCILE_DAYS must be a whole number of days, at least 1")
	}
	p, err := providers(d)
	if err != nil {
		return nil, err
	}
	r := workflow.NewReconcile(common(d), mailing(d), tokens(d), watch(d), payment.Listers(p.Modes), d.Cfg.ReconcileDays)
	return r.Handler(), nil
}
