// Package mail is the composition root of the SES client: what the post-placement
// services that send e-mail hold (SESMailing), and the Notify function. It is the one
// composition root that imports the SES v2 client (through internal/notify/sesmail), so
// that Bill and Watch (internal/wire/post), which send nothing, neither link nor
// initialise it; internal/wire/flow builds the other senders with SESMailing, but for the
// back office, which hands its e-mails to the Notify function.
package mail

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/lmsshop/checkout/internal/notify/sesmail"
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/post"
	"github.com/lmsshop/checkout/internal/workflow"
)

// SES is the SES v2 client of d's function, built once. Its endpoint is not fixed like
// the others': the workflow sends at most a few e-mails per order, off the API's hot
// path, and the fixed resolver would cost its binaries code.
func SES(d *wire.Deps) *sesv2.Client {
	c, _ := d.Once("ses", func() (any, error) { return sesv2.NewFromConfig(d.AWS), nil })
	return c.(*sesv2.Client)
}

// SESMailing is a workflow.Mailing that sends with SES, what the services that send
// e-mail themselves hold: only they build the SES client.
func SESMailing(d *wire.Deps) workflow.Mailing {
	m := post.MailSettings(d)
	m.Mail = sesmail.NewSES(sesmail.SendEmailFunc(SES(d).SendEmail), "")
	return m
}

// Notify builds the function of the notification task: workflow.Notification's
// NotifyTask (internal/workflow/notification.go), which also sends the e-mails the back
// office hands over. Rules: docs/spec.md#notifications.
func Notify(d *wire.Deps) (lambda.Handler, error) {
	return workflow.NewNotification(post.Common(d), SESMailing(d)).Handler(), nil
}
