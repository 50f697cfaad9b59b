// Package ops is the composition root of the back office (the operators' /admin and
// /ops routes), and what it shares with internal/wire/flow: the task tokens and the
// payment providers. It imports no SES client: the back office hands its e-mails (a
// refund, a flagged payment) to the Notify function through the mail state machine, so
// its binary neither links nor initialises SES v2 (about 0.8 MB and 0.5 ms of cold start).
package ops

import (
	"errors"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lmsshop/checkout/internal/stepfn"
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/order"
	"github.com/lmsshop/checkout/internal/wire/post"
	"github.com/lmsshop/checkout/internal/wire/settings"
	"github.com/lmsshop/checkout/internal/workflow"
)

// Tokens completes the state machine's task tokens. Task tokens name their execution:
// completing one needs no state machine ARN.
func Tokens(d *wire.Deps) workflow.Tokens { return &stepfn.Workflow{API: order.SFN(d)} }

// Providers are the payment providers configured in the settings.
func Providers(d *wire.Deps) (workflow.Providers, error) {
	pm, err := settings.PaymentModes(d)
	if err != nil {
		return workflow.Providers{}, err
	}
	return workflow.Providers{Modes: pm.Modes, Verifiers: pm.Verifiers, TestProvider: pm.TestProvider}, nil
}

// Backoffice builds the function of the operators' /admin and /ops routes:
// workflow.Backoffice's serve checks the caller's roles, then routes sends each action
// to its admin* method (internal/workflow/backoffice.go, flags.go, refunds.go). Rules:
// docs/spec.md#back-office.
func Backoffice(d *wire.Deps) (lambda.Handler, error) {
	if d.Cfg.StateMachineARN == "" {
		return nil, errors.New("ops: the back office starts the workflow again for a delivered late payment: STATE_MACHINE_ARN must name the state machine")
	}
	if d.Cfg.MailStateMachineARN == "" {
		return nil, errors.New("ops: the back office hands its e-mails to the Notify function: MAIL_STATE_MACHINE_ARN must name the mail state machine")
	}
	p, err := Providers(d)
	if err != nil {
		return nil, err
	}
	// Catalog items are validated by their handlers, against the LMS production uses.
	hs, err := settings.ProductionHandlers(d)
	if err != nil {
		return nil, err
	}
	starter := &stepfn.Workflow{API: order.SFN(d), StateMachineARN: d.Cfg.StateMachineARN}
	m := post.MailSettings(d)
	m.Relay = &stepfn.Relay{API: order.SFN(d), StateMachineARN: d.Cfg.MailStateMachineARN}
	return workflow.NewBackoffice(post.Common(d), m, Tokens(d), starter, p.Modes, hs).Handler(), nil
}
