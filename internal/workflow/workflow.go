// Package workflow is everything that happens to an order after placement (docs/spec.md):
// the tasks the state machine runs (PAYMENT → PRODUCE → BILL → notify), the buyer's
// post-placement routes (order status, retry, test buttons, bill), the payment
// providers' webhooks, and the back office.
//
// The order itself lives in DynamoDB; every task reads it by transaction ID and moves
// it along the transition table (docs/spec.md#statuses-and-transitions) with one
// conditional write, so a task that Step Functions retries finds its work done and
// changes nothing. Waits (payment, retry)
// are Step Functions task tokens kept on the order; whoever settles the wait (the
// buyer's test buttons, a webhook, an operator) completes the token.
package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/trace"
)

// Tokens completes the task tokens the state machine waits on (stepfn.Workflow, built
// by internal/wire/flow). This package does not import stepfn: its Step Functions
// client would be linked into Bill, Notify and Watch, which complete no token.
type Tokens interface {
	Succeed(ctx context.Context, token string, output any) error
	Fail(ctx context.Context, token, errName, cause string) error
}

// Shops gives the shop and the catalog it sells (checkout.ShopCache in the functions).
type Shops interface {
	Get(ctx context.Context) (*checkout.Shop, *checkout.Catalog, error)
	Invalidate()
}

var _ Shops = (*checkout.ShopCache)(nil)

// giveBackTimeout bounds a give-back write (giveBack): a few seconds, DynamoDB's
// answer with its retries, not the work it cleans up.
const giveBackTimeout = 5 * time.Second

// giveBack runs write, which gives back what this caller took for a call that then
// failed (an e-mail's once-only claim, the buyer's retry wait), so that a retry may
// take it again. That call most often failed because ctx ended (the invocation's
// deadline, the caller gone), and a write under ctx would then fail too and leave the
// thing held for good: write runs under ctx's values (the trace's pending lines) but
// not its cancellation, with a deadline of its own.
func (s *core) giveBack(ctx context.Context, write func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), giveBackTimeout)
	defer cancel()
	return write(ctx)
}

func (s *core) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

func (s *core) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// tracer returns the trace writer of one source; a lost trace line is logged, never fatal.
func (s *core) tracer(source string) *trace.Tracer {
	return &trace.Tracer{Store: s.Store, Source: source, Now: s.Now, Log: s.log()}
}

// Error names the state machine catches (statemachine/checkout.asl.json).
const (
	ErrPaymentFailed  = "PaymentFailed"
	ErrPaymentRefused = "PaymentRefused"
	ErrOrderCancelled = "OrderCancelled"
	ErrTransient      = "Transient"
	// ErrTaskFailed is any other failure: not retried, caught into the fault path.
	ErrTaskFailed = "TaskFailed"
)

// TaskError is a task's failure under the name the state machine's Retry and Catch
// match: the Lambda handler reports Name as the errorType (see Handler).
type TaskError struct {
	Name string
	Msg  string
	Err  error
}

// Error reports the name, the message and the cause.
func (e *TaskError) Error() string {
	if e.Err != nil {
		return e.Name + ": " + e.Msg + ": " + e.Err.Error()
	}
	return e.Name + ": " + e.Msg
}

// Unwrap returns the cause.
func (e *TaskError) Unwrap() error { return e.Err }

// ErrorName is the errorType a task failure is reported under: a TaskError's own name;
// a dependency that is down or an unexpected error is Transient (the state machine
// retries it with backoff); anything the domain refused is TaskFailed.
func ErrorName(err error) string {
	var te *TaskError
	if errors.As(err, &te) {
		return te.Name
	}
	switch checkout.KindOf(err) {
	case checkout.EUNAVAILABLE, checkout.EINTERNAL:
		return ErrTransient
	default:
		return ErrTaskFailed
	}
}

// Offered lists the payment modes a buyer may choose for an order of this total in
// this shop (payment.Offered, over this deployment's modes).
func (s *Payment) Offered(shop *checkout.Shop, total int64) []string {
	return payment.Offered(shop, total, s.Modes)
}

// Task is the payload the state machine gives a task (see the ASL's Parameters).
type Task struct {
	Action string          `json:"action"`
	Event  string          `json:"event"`
	TxID   string          `json:"txid"`
	Token  string          `json:"token"`
	Reason string          `json:"reason"`
	State  string          `json:"state"`
	Error  json.RawMessage `json:"error"`
	// Order is the execution input's copy of the order (checkout.ExecutionInput),
	// null when the order was too large to carry or the task was invoked without it.
	Order *checkout.Order `json:"order"`
	// Products are the references of the instances production delivered for the
	// order (Produced.Products), given to billing; nil when not told.
	Products []string `json:"products"`
	// Mail is the e-mail of an EventMail task.
	Mail *Mail `json:"mail,omitempty"`
}

// order is the task's order: the execution input's copy, whose lines, customer and
// totals are the stored order's (they do not change after placement), or the stored
// order when the task has no copy. A copy's status is the one it was started with:
// a decision on the current status belongs in the condition of the task's write.
func (s *core) order(ctx context.Context, t Task) (o *checkout.Order, copied bool, err error) {
	if t.Order != nil && t.Order.TxID == t.TxID {
		return t.Order, true, nil
	}
	o, err = s.Store.GetOrder(ctx, t.TxID, "")
	return o, false, err
}

// stateError is what a Catch puts in $.error.
type stateError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

func (t Task) stateError() stateError {
	var e stateError
	if len(t.Error) > 0 && json.Unmarshal(t.Error, &e) != nil {
		e.Cause = string(t.Error)
	}
	return e
}

func (t Task) validate() error {
	if !trace.ValidTxID(t.TxID) {
		return &TaskError{Name: ErrTaskFailed, Msg: fmt.Sprintf("task %q: %q is not a transaction ID", t.Action+t.Event, t.TxID)}
	}
	return nil
}

// fault traces a task that ended in the state machine's fault path.
//
// The answer says whether the order is paid all the same (a payment that landed while
// the Payment state failed): the state machine then goes on to production and billing
// rather than ending with a paid order undelivered. "paid" is always present.
func (s *core) fault(ctx context.Context, source string, t Task) (map[string]bool, error) {
	e := t.stateError()
	o, err := s.Store.GetOrder(ctx, t.TxID, "")
	if err != nil && checkout.KindOf(err) != checkout.ENOTFOUND {
		return nil, err
	}
	isPaid := err == nil && paid(o.Status)
	if isPaid && source == trace.SourcePayment {
		s.tracer(source).Printf(ctx, t.TxID, "FAULT in state %s: %s %s; the order is %s all the same: on to production and billing", t.State, e.Error, e.Cause, o.Status)
	} else {
		s.tracer(source).Printf(ctx, t.TxID, "FAULT in state %s: %s %s; the order stays as it is for an operator", t.State, e.Error, e.Cause)
	}
	s.log().Error("workflow fault", "txid", t.TxID, "state", t.State, "error", e.Error, "cause", e.Cause, "paid", isPaid)
	return map[string]bool{"traced": true, "paid": isPaid}, nil
}

// paid reports whether an order's payment is settled and kept (checkout.Paid).
func paid(s checkout.Status) bool { return slices.Contains(checkout.Paid, s) }

// attempt numbers the payment attempts of an order: one more per failed or refused one.
func attempt(o *checkout.Order) int {
	n := 0
	for _, p := range o.Payments {
		if p.Outcome == payment.Failed.String() || p.Outcome == payment.Refused.String() {
			n++
		}
	}
	return n
}

func header(r map[string]string, name string) string {
	for k, v := range r {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func httpHeader(h map[string]string) http.Header {
	out := http.Header{}
	for k, v := range h {
		out.Set(k, v)
	}
	return out
}
