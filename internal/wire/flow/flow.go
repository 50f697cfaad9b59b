// Package flow is the composition root of the post-placement functions that send
// e-mail with SES and read the settings (payment providers, the LMS) or complete the
// state machine's task tokens: Payment, PaymentWebhook, Produce, Reconcile. It builds
// each one's workflow service (internal/workflow) through that service's constructor,
// with the task tokens and the providers of internal/wire/ops (which builds the back
// office, whose e-mails the Notify function sends), the services' common parts of
// internal/wire/post and the SES sender of internal/wire/mail.
package flow

import (
	"errors"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/mail"
	"github.com/lmsshop/checkout/internal/wire/ops"
	"github.com/lmsshop/checkout/internal/wire/post"
	"github.com/lmsshop/checkout/internal/wire/settings"
	"github.com/lmsshop/checkout/internal/workflow"
)

// Payment builds the function of the payment task and the buyer's order routes:
// workflow.Payment's PaymentTask (start, awaitRetry, cancelUnpaid, fault), GetOrder,
// RetryPayment and TestPayment (internal/workflow/payment.go). Rules: docs/spec.md#payment-modes.
func Payment(d *wire.Deps) (lambda.Handler, error) {
	p, err := ops.Providers(d)
	if err != nil {
		return nil, err
	}
	return workflow.NewPayment(post.Common(d), mail.SESMailing(d), ops.Tokens(d), p).Handler(), nil
}

// PaymentWebhook builds the function of the providers' notifications: workflow.Webhooks'
// Webhook (internal/workflow/webhook.go). Rules: docs/spec.md#payment-modes.
func PaymentWebhook(d *wire.Deps) (lambda.Handler, error) {
	p, err := ops.Providers(d)
	if err != nil {
		return nil, err
	}
	return workflow.NewWebhooks(post.Common(d), mail.SESMailing(d), ops.Tokens(d), p.Verifiers).Handler(), nil
}

// Produce builds the function of the production tasks: workflow.Production's
// ProduceTask (produce, fault; internal/workflow/produce.go). Rules:
// docs/spec.md#production-and-product-handlers.
func Produce(d *wire.Deps) (lambda.Handler, error) {
	hs, err := settings.ProductionHandlers(d)
	if err != nil {
		return nil, err
	}
	return workflow.NewProduction(post.Common(d), mail.SESMailing(d), hs).Handler(), nil
}

// Reconcile builds the daily function that compares the providers' payments with the
// orders, flags the stuck ones and e-mails the report (workflow.Reconcile's Run, in
// internal/workflow/reconcile.go; docs/spec.md#every-payment-accounted-for). It reads
// the payment settings for the providers it asks, and the operator wait for the stuck
// orders, as Watch does.
func Reconcile(d *wire.Deps) (lambda.Handler, error) {
	watch, err := post.WatchRule(d)
	if err != nil {
		return nil, err
	}
	if d.Cfg.ReconcileDays <= 0 {
		return nil, errors.New("flow: RECONCILE_DAYS must be a whole number of days, at least 1")
	}
	p, err := ops.Providers(d)
	if err != nil {
		return nil, err
	}
	r := workflow.NewReconcile(post.Common(d), mail.SESMailing(d), ops.Tokens(d), watch, payment.Listers(p.Modes), d.Cfg.ReconcileDays)
	return r.Handler(), nil
}
