package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/trace"
)

// TaskFunc runs one state machine task and returns its JSON output.
type TaskFunc func(ctx context.Context, t Task) (any, error)

// Handler is one Lambda function's handler: it serves the HTTP API's payload-2.0
// events with Router and the state machine's task payloads with Tasks; a function
// that has only one of them leaves the other nil. Payment and bill have both.
type Handler struct {
	Router *httpapi.Router
	Tasks  TaskFunc
	// Trace, when set, stores the trace lines the invocation's writes did not carry:
	// lines wait (trace.WithPending) for the next write on their transaction's items,
	// and what is left is written once the invocation is done, before it answers.
	Trace trace.BatchStore
	// TraceLog is where a trace line that could not be stored is logged (trace.Lost;
	// never fatal). Nil is slog.Default().
	TraceLog *slog.Logger
}

var _ lambda.Handler = (*Handler)(nil)

// envelope holds the fields that tell the two kinds of event apart.
type envelope struct {
	RouteKey       string          `json:"routeKey"`
	RequestContext json.RawMessage `json:"requestContext"`
	Action         string          `json:"action"`
	Event          string          `json:"event"`
}

// Invoke implements lambda.Handler. A task's failure is reported as Lambda reports
// errors to Step Functions, with errorType = ErrorName(err), so the state machine's
// Retry and Catch see PaymentFailed, Transient… rather than a Go type name.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if h.Trace != nil {
		p := &trace.Pending{}
		ctx = trace.WithPending(ctx, p)
		// Written before the answer: a Lambda may be frozen once it has answered.
		defer p.Flush(context.WithoutCancel(ctx), h.Trace, h.TraceLog)
	}
	var env envelope
	if err := json.Unmarshal(payload, &env); err != nil {
		return nil, messages.InvokeResponse_Error{Type: ErrTaskFailed, Message: "event is not a JSON object: " + err.Error()}
	}
	switch {
	case env.RouteKey != "" || len(env.RequestContext) > 0:
		if h.Router == nil {
			return nil, messages.InvokeResponse_Error{Type: ErrTaskFailed, Message: "this function serves no HTTP route"}
		}
		var req httpapi.Request
		if err := json.Unmarshal(payload, &req); err != nil {
			return nil, messages.InvokeResponse_Error{Type: ErrTaskFailed, Message: "malformed HTTP API event: " + err.Error()}
		}
		resp, _ := h.Router.Serve(ctx, req) // Serve answers every error itself
		return json.Marshal(resp)
	case env.Action != "" || env.Event != "":
		if h.Tasks == nil {
			return nil, messages.InvokeResponse_Error{Type: ErrTaskFailed, Message: "this function runs no state machine task"}
		}
		var t Task
		if err := json.Unmarshal(payload, &t); err != nil {
			return nil, messages.InvokeResponse_Error{Type: ErrTaskFailed, Message: "malformed task: " + err.Error()}
		}
		out, err := h.Tasks(ctx, t)
		if err != nil {
			return nil, messages.InvokeResponse_Error{Type: ErrorName(err), Message: err.Error()}
		}
		return json.Marshal(out)
	default:
		return nil, messages.InvokeResponse_Error{Type: ErrTaskFailed, Message: fmt.Sprintf("unrecognised event (%d bytes): neither an HTTP API request nor a task", len(payload))}
	}
}

// traced makes h keep its trace lines for the writes they describe (Handler.Trace).
func (s *core) traced(h *Handler) *Handler {
	if s.Store == nil {
		return h
	}
	h.Trace = s.Store
	h.TraceLog = s.log()
	return h
}
