// Package stepfn is the Step Functions adapter: starting an order's workflow and
// completing the task tokens it waits on.
package stepfn

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/lmsshop/checkout/internal/checkout"
)

// API is the part of the SDK client used here.
type API interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, opts ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
}

var _ API = (*sfn.Client)(nil)

// Workflow starts and drives executions of the checkout state machine.
type Workflow struct {
	API             API
	StateMachineARN string
}

// encoder is an input that writes its own JSON, the same as json.Marshal would, in
// fewer passes.
type encoder interface {
	Encode() (json.RawMessage, error)
}

// Start starts the execution of an order, named by its transaction ID: Standard
// workflows refuse a second execution of the same name and input, and return the
// first, so a retried placement never runs the workflow twice. An input with an
// Encode method (checkout.ExecutionInput) encodes itself.
func (w *Workflow) Start(ctx context.Context, txid string, input any) (string, error) {
	var raw []byte
	var err error
	if e, ok := input.(encoder); ok {
		raw, err = e.Encode()
	} else {
		raw, err = json.Marshal(input)
	}
	if err != nil {
		return "", checkout.Wrap("workflow.start", err)
	}
	out, err := w.start(ctx, aws.String(txid), raw)
	var exists *types.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		return "", checkout.Errorf("workflow.start", checkout.ECONFLICT, "the workflow of %s already runs with another input", txid)
	}
	if err != nil {
		return "", &checkout.Error{Op: "workflow.start", Kind: checkout.EUNAVAILABLE, Message: "could not start the order's workflow; retry", Err: err}
	}
	return out, nil
}

// Relay starts runs of an Express state machine that hands work to a function (the
// back office's e-mails, to the Notify function). A type of its own, not a method of
// Workflow: the linker keeps every method of a type held in an interface whose name an
// interface call uses, and Workflow is held as the task tokens by functions that never
// relay (StartExecution's code would cost their binaries 0.1 MB).
type Relay Workflow

// Pass starts a run with input, under the name Step Functions gives it: an Express
// start is not idempotent by name, so what the run does must be (the Notify function
// claims each e-mail before sending it).
func (r *Relay) Pass(ctx context.Context, input any) (string, error) {
	raw, err := json.Marshal(input)
	if err != nil {
		return "", checkout.Wrap("workflow.pass", err)
	}
	out, err := (*Workflow)(r).start(ctx, nil, raw)
	if err != nil {
		return "", &checkout.Error{Op: "workflow.pass", Kind: checkout.EUNAVAILABLE, Message: "could not start the run; retry", Err: err}
	}
	return out, nil
}

// start starts an execution named name (nil: Step Functions names it) with input.
func (w *Workflow) start(ctx context.Context, name *string, input []byte) (string, error) {
	out, err := w.API.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(w.StateMachineARN), Name: name, Input: aws.String(string(input)),
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ExecutionArn), nil
}

// Succeed completes a waiting task with output.
func (w *Workflow) Succeed(ctx context.Context, token string, output any) error {
	raw, err := json.Marshal(output)
	if err != nil {
		return checkout.Wrap("workflow.succeed", err)
	}
	_, err = w.API.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(string(raw))})
	return tokenError("workflow.succeed", err)
}

// Fail completes a waiting task with an error name the state machine catches.
func (w *Workflow) Fail(ctx context.Context, token, errName, cause string) error {
	_, err := w.API.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String(errName), Cause: aws.String(cause)})
	return tokenError("workflow.fail", err)
}

// tokenError turns "that task is no longer waiting" into ECONFLICT: the event came
// too late or twice, which callers treat as already handled.
func tokenError(op string, err error) error {
	if err == nil {
		return nil
	}
	var gone *types.TaskDoesNotExist
	var timedOut *types.TaskTimedOut
	var invalid *types.InvalidToken
	if errors.As(err, &gone) || errors.As(err, &timedOut) || errors.As(err, &invalid) {
		return &checkout.Error{Op: op, Kind: checkout.ECONFLICT, Message: "the order is no longer waiting for this", Err: err}
	}
	return &checkout.Error{Op: op, Kind: checkout.EUNAVAILABLE, Message: "could not reach the workflow; retry", Err: err}
}
