// Package flow is the composition root of the post-placement functions that read the
// settings (payment providers, the LMS) or complete the state machine's task tokens:
// Payment, PaymentWebhook, Produce, Backoffice, Reconcile. It builds each one's workflow
// service (internal/workflow) through that service's constructor, with the Step
// Functions client (task tokens; the back office starts executions) and, from
// internal/wire/post, the services' common parts and the SES client.
package flow

import (
	"errors"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/stepfn"
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/mail"
	"github.com/lmsshop/checkout/internal/wire/order"
	"github.com/lmsshop/checkout/internal/wire/post"
	"github.com/lmsshop/checkout/internal/wire/settings"
	"github.com/lmsshop/checkout/internal/workflow"
)

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
	return workflow.NewPayment(post.Common(d), mail.Mailing(d), tokens(d), p).Handler(), nil
}

// PaymentWebhook builds the function of the providers' notifications.
func PaymentWebhook(d *wire.Deps) (lambda.Handler, error) {
	p, err := providers(d)
	if err != nil {
		return nil, err
	}
	return workflow.NewWebhooks(post.Common(d), mail.Mailing(d), tokens(d), p.Verifiers).Handler(), nil
}

// Produce builds the function of the production tasks.
func Produce(d *wire.Deps) (lambda.Handler, error) {
	hs, err := settings.ProductionHandlers(d)
	if err != nil {
		return nil, err
	}
	return workflow.NewProduction(post.Common(d), mail.Mailing(d), hs).Handler(), nil
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
	return workflow.NewBackoffice(post.Common(d), mail.Mailing(d), tokens(d), starter, p.Modes, hs).Handler(), nil
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
	r := workflow.NewReconcile(post.Common(d), mail.Mailing(d), tokens(d), post.WatchRule(d), payment.Listers(p.Modes), d.Cfg.ReconcileDays)
	return r.Handler(), nil
}
