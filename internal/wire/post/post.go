// Package post is the composition root of the post-placement functions that read no
// setting and complete no task token (Bill, Notify, Watch), and what every
// post-placement root shares: the services' common parts and the SES client. It imports
// neither the Secrets Manager nor the Step Functions client; internal/wire/flow builds
// the functions that need them.
package post

import (
	"errors"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/workflow"
)

// SES is the SES v2 client of d's function, built once. Its endpoint is not fixed like
// the others': the workflow sends at most a few e-mails per order, off the API's hot
// path, and the fixed resolver would cost its binaries code.
func SES(d *wire.Deps) *sesv2.Client {
	c, _ := d.Once("ses", func() (any, error) { return sesv2.NewFromConfig(d.AWS), nil })
	return c.(*sesv2.Client)
}

// Common is what every post-placement service holds.
func Common(d *wire.Deps) workflow.Common {
	return workflow.Common{
		Store: d.Store,
		Shops: &httpapi.ShopCache{Loader: d.Store, ShopID: d.Cfg.ShopID, TTL: d.Cfg.ShopCacheTTL, Now: d.Now},
		Now:   d.Now,
		Log:   d.Log,
	}
}

// Mailing is what the services that send e-mail hold: only they build the SES client.
func Mailing(d *wire.Deps) workflow.Mailing {
	return workflow.Mailing{
		Mail:          notify.NewSES(notify.SendEmailFunc(SES(d).SendEmail), ""),
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

// Notify builds the function of the notification task: workflow.Notification's
// NotifyTask (internal/workflow/notification.go). Rules: docs/spec.md#notifications.
func Notify(d *wire.Deps) (lambda.Handler, error) {
	return workflow.NewNotification(Common(d), Mailing(d)).Handler(), nil
}

// WatchRule is the rule of the orders waiting for an operator, shared by Watch and Reconcile.
func WatchRule(d *wire.Deps) *workflow.Watch {
	return &workflow.Watch{Store: d.Store, ShopID: d.Cfg.ShopID, Threshold: d.Cfg.OperatorWait, Now: d.Now, Log: d.Log}
}

// Watch builds the scheduled function that counts the orders waiting for an operator
// and publishes the count as a metric (workflow.Watch's Run, in
// internal/workflow/watch.go). It reads the table only.
func Watch(d *wire.Deps) (lambda.Handler, error) {
	if d.Cfg.OperatorWait <= 0 {
		return nil, errors.New("post: OPERATOR_WAIT_MINUTES must be a whole number of minutes, at least 1")
	}
	return WatchRule(d).Handler(), nil
}
