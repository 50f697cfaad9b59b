package launcher

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/lmsshop/checkout/internal/localcloud/apigw"
	"github.com/lmsshop/checkout/internal/localcloud/sfnlocal"
)

// Invoker runs a function's in-process handler for the Step Functions engine, as
// Lambda's Invoke API would: by ARN (arn:aws:lambda:…:function:Name[:qualifier]),
// partial ARN or bare name.
type Invoker struct {
	// Authorize, if set, is asked before each invocation whether the caller may invoke
	// the function (by its full ARN), as Lambda checks lambda:InvokeFunction.
	Authorize func(ctx context.Context, functionARN string) error

	mu       sync.RWMutex
	handlers map[string]lambda.Handler
}

var _ sfnlocal.Invoker = (*Invoker)(nil)

// Set installs the handlers, keyed by logical ID. The engine exists before the
// handlers (they need its state machine ARN), so they arrive late.
func (i *Invoker) Set(handlers map[string]lambda.Handler) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.handlers = handlers
}

// Invoke runs function with payload, under a fresh Lambda request ID.
func (i *Invoker) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	return i.invokeAs(ctx, i.Authorize, function, payload)
}

// invokeAs is Invoke for a caller that authorize checks (nil: no check).
func (i *Invoker) invokeAs(ctx context.Context, authorize func(context.Context, string) error, function string, payload []byte) ([]byte, error) {
	name := FunctionName(function)
	i.mu.RLock()
	h, ok := i.handlers[name]
	i.mu.RUnlock()
	if authorize != nil {
		arn := function
		if !strings.HasPrefix(arn, "arn:") {
			arn = apigw.FunctionARN(Region, AccountID, name)
		}
		if err := authorize(ctx, arn); err != nil {
			return nil, err
		}
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", sfnlocal.ErrFunctionNotFound, function)
	}
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       requestID(),
		InvokedFunctionArn: apigw.FunctionARN(Region, AccountID, name),
	})
	return invoke(ctx, h, payload)
}

// invoke runs h and reports its failure as Lambda reports it to Step Functions: a
// *sfnlocal.FunctionError whose Type is the Go error's type name (what aws-lambda-go
// puts in errorType), so Retry and Catch match the same names locally as in AWS. A
// panic is such an error too, rather than the end of the whole local cloud.
func invoke(ctx context.Context, h lambda.Handler, payload []byte) ([]byte, error) {
	out, err := apigw.Invoke(ctx, h, payload)
	if err == nil {
		return out, nil
	}
	var ive messages.InvokeResponse_Error
	if errors.As(err, &ive) {
		return nil, &sfnlocal.FunctionError{Type: ive.Type, Message: ive.Message}
	}
	var pe *apigw.PanicError
	if errors.As(err, &pe) {
		return nil, &sfnlocal.FunctionError{Type: typeName(pe.Value), Message: fmt.Sprint(pe.Value)}
	}
	return nil, &sfnlocal.FunctionError{Type: typeName(err), Message: err.Error()}
}

// TimedOut is the errorType Lambda reports for an invocation its function's Timeout
// ended; Step Functions shows it as the task's error, so Retry and Catch name it.
const TimedOut = "Sandbox.Timedout"

// Timed returns h run as Lambda runs it: its context carries the function's Timeout
// as its deadline, and the invocation fails with TimedOut at that deadline even if
// the handler ignores its context. Every local caller (API Gateway, Step Functions,
// schedules) invokes through it, so a function too slow for AWS fails locally too.
func Timed(h lambda.Handler, timeout time.Duration) lambda.Handler {
	return timed{h: h, timeout: timeout}
}

type timed struct {
	h       lambda.Handler
	timeout time.Duration
}

func (t timed) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	out, err := apigw.Invoke(ctx, t.h, payload)
	// Only this deadline is the function's timeout: a caller's own end (the gateway's
	// integration timeout, an aborted execution) stays the caller's error.
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && parent.Err() == nil {
		id := ""
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			id = lc.AwsRequestID
		}
		return nil, messages.InvokeResponse_Error{
			Type:    TimedOut,
			Message: fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", id, t.timeout.Seconds()),
		}
	}
	return out, err
}

// typeName mirrors aws-lambda-go's getErrorType.
func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return "error"
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// FunctionName extracts the function name from the forms Lambda's Invoke accepts:
// "arn:aws:lambda:us-east-1:000000000000:function:Name:qualifier",
// "000000000000:function:Name", "Name:qualifier" and "Name".
func FunctionName(ref string) string {
	if i := strings.Index(ref, "function:"); i >= 0 {
		ref = ref[i+len("function:"):]
	}
	name, _, _ := strings.Cut(ref, ":")
	return name
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
