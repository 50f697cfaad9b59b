// Package post is the composition root of the post-placement functions that read no
// setting, complete no task token and send no e-mail (Bill, Watch), and what every
// post-placement root shares: the services' common parts. It imports no SDK client but
// DynamoDB's; internal/wire/mail builds the SES client and the Notify function,
// internal/wire/flow the functions that also need Secrets Manager or Step Functions.
package post

import (
	"errors"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/workflow"
)

// Common is what every post-placement service holds.
func Common(d *wire.Deps) workflow.Common {
	return workflow.Common{
		Store: d.Store,
		Shops: wire.Shops(d),
		Now:   d.Now,
		Log:   d.Log,
	}
}

// MailSettings is a workflow.Mailing without its way of sending: the From address and the
// e-mailed links, which every service that sends e-mail holds. internal/wire/mail's
// SESMailing adds the SES sender; internal/wire/ops gives the back office a relay to
// the Notify function instead.
func MailSettings(d *wire.Deps) workflow.Mailing {
	return workflow.Mailing{
		SenderEmail:   d.Cfg.SenderEmail,
		StorefrontURL: strings.TrimRight(d.Cfg.StorefrontURL, "/"),
		LinkTTL:       d.Cfg.LinkTTL,
	}
}

// Bill builds the function of the invoice task and the bill route: workflow.Billing's
// BillTask (invoice, fault) and GetBill (internal/workflow/bill.go). Rules:
// docs/spec.md#bill-invoices-and-credit-notes.
func Bill(d *wire.Deps) (lambda.Handler, error) {
	return workflow.NewBilling(Common(d)).Handler(), nil
}

// WatchRule is the rule of the orders waiting for an operator, shared by Watch and
// Reconcile: a malformed OPERATOR_WAIT_MINUTES fails the cold start of both.
func WatchRule(d *wire.Deps) (*workflow.Watch, error) {
	if d.Cfg.OperatorWait <= 0 {
		return nil, errors.New("post: OPERATOR_WAIT_MINUTES must be a whole number of minutes, at least 1")
	}
	return &workflow.Watch{Store: d.Store, ShopID: d.Cfg.ShopID, Threshold: d.Cfg.OperatorWait, Now: d.Now, Log: d.Log}, nil
}

// Watch builds the scheduled function that counts the orders waiting for an operator
// and publishes the count as a metric (workflow.Watch's Run, in
// internal/workflow/watch.go). It reads the table only. Rules:
// docs/spec.md#orders-waiting-for-an-operator.
func Watch(d *wire.Deps) (lambda.Handler, error) {
	w, err := WatchRule(d)
	if err != nil {
		return nil, err
	}
	return w.Handler(), nil
}
