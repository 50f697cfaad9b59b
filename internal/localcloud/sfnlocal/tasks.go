package sfnlocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// pendingTask is a task waiting for SendTaskSuccess/Failure on its token.
type pendingTask struct {
	x         *execution
	outcome   chan taskOutcome // buffered(1): the first SendTask{Success,Failure} wins
	heartbeat chan struct{}    // buffered(1): SendTaskHeartbeat resets the heartbeat clock
}

type taskOutcome struct {
	output any
	err    *stateError
}

// tokenEnd records why a token stopped waiting, so later calls get AWS's answer.
type tokenEnd int

const (
	tokenDone     tokenEnd = iota + 1 // completed, failed or its execution ended → TaskDoesNotExist
	tokenTimedOut                     // the task timed out → TaskTimedOut
)

func (e *Engine) registerToken(x *execution) (string, *pendingTask) {
	tok := newToken()
	p := &pendingTask{x: x, outcome: make(chan taskOutcome, 1), heartbeat: make(chan struct{}, 1)}
	e.mu.Lock()
	e.tokens[tok] = p
	e.mu.Unlock()
	return tok, p
}

func (e *Engine) endToken(tok string, why tokenEnd) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.tokens[tok]; ok {
		delete(e.tokens, tok)
		e.ended[tok] = why
	}
}

// releaseTokens ends every token of a finished execution.
func (e *Engine) releaseTokens(x *execution) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for tok, p := range e.tokens {
		if p.x == x {
			delete(e.tokens, tok)
			e.ended[tok] = tokenDone
		}
	}
}

// lookupToken finds a waiting task or returns the API error AWS gives for that token.
func (e *Engine) lookupToken(tok string) (*pendingTask, error) {
	if !wellFormedToken(tok) {
		return nil, apiErrorf("InvalidToken", "invalid task token")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.tokens[tok]; ok {
		return p, nil
	}
	if e.ended[tok] == tokenTimedOut {
		return nil, apiErrorf("TaskTimedOut", "task timed out")
	}
	return nil, apiErrorf("TaskDoesNotExist", "task does not exist or has already completed")
}

// complete delivers an outcome for tok; only the first completion counts.
func (e *Engine) complete(tok string, o taskOutcome) error {
	p, err := e.lookupToken(tok)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, still := e.tokens[tok]; !still {
		return apiErrorf("TaskDoesNotExist", "task does not exist or has already completed")
	}
	delete(e.tokens, tok)
	e.ended[tok] = tokenDone
	p.outcome <- o
	return nil
}

// SendTaskSuccess completes the task waiting on token with output (JSON).
func (e *Engine) SendTaskSuccess(token, output string) error {
	v, err := decodeJSON([]byte(output))
	if err != nil {
		return apiErrorf("InvalidOutput", "output is not valid JSON: %v", err)
	}
	return e.complete(token, taskOutcome{output: v})
}

// SendTaskFailure fails the task waiting on token with the given error name and cause.
func (e *Engine) SendTaskFailure(token, errName, cause string) error {
	return e.complete(token, taskOutcome{err: &stateError{Name: errName, Cause: cause}})
}

// SendTaskHeartbeat tells the task waiting on token that its worker is alive.
func (e *Engine) SendTaskHeartbeat(token string) error {
	p, err := e.lookupToken(token)
	if err != nil {
		return err
	}
	select {
	case p.heartbeat <- struct{}{}:
	default: // a heartbeat is already pending; one reset is enough
	}
	return nil
}

// task runs one attempt of a Task state.
func (r *runner) task(ctx context.Context, st *state, raw any, entered time.Time, retryCount int) (any, error) {
	kind, _ := resourceKind(st.Resource) // validated at creation
	callback := kind == "callback" || kind == "startCallback"
	var (
		tok     string
		pending *pendingTask
	)
	if callback {
		// The token exists before Parameters are evaluated ($$.Task.Token) and before the
		// function runs, because the worker may answer before the invocation returns.
		tok, pending = r.e.registerToken(r.x)
		defer r.e.endToken(tok, tokenDone)
	}
	ctxObj := r.contextObject(st, entered, retryCount, tok)
	in, err := r.effectiveInput(st, raw, ctxObj)
	if err != nil {
		return nil, err
	}
	timeout, err := durationField(st.TimeoutSeconds, st.TimeoutSecondsPath, raw, "TimeoutSeconds")
	if err != nil {
		return nil, err
	}
	heartbeat, err := durationField(st.HeartbeatSeconds, st.HeartbeatSecondsPath, raw, "HeartbeatSeconds")
	if err != nil {
		return nil, err
	}
	ev := newTaskEvents(r, kind, st.Resource)
	call, err := r.request(kind, in, ev)
	if err != nil {
		return nil, err
	}
	ev.scheduled(in, timeout, heartbeat)

	tctx, cancel := context.WithCancel(context.WithValue(ctx, roleKey{}, r.x.sm.roleArn))
	defer cancel()
	type callResult struct {
		result any
		err    *stateError
	}
	invoked := make(chan callResult, 1)
	go func() {
		out, se := call(tctx)
		invoked <- callResult{out, se}
	}()
	var timeoutC, heartbeatC <-chan time.Time
	if timeout > 0 {
		timeoutC = r.e.after(timeout)
	}
	if heartbeat > 0 {
		heartbeatC = r.e.after(heartbeat)
	}
	var (
		outcomeC <-chan taskOutcome
		early    *taskOutcome
	)
	var heartbeatsC <-chan struct{}
	if pending != nil {
		outcomeC, heartbeatsC = pending.outcome, pending.heartbeat
	}
	for {
		select {
		case res := <-invoked:
			invoked = nil
			if res.err != nil {
				ev.failed(res.err)
				return nil, res.err
			}
			if !callback {
				ev.succeeded(res.result)
				return r.finishOutput(st, raw, res.result, ctxObj)
			}
			ev.submitted(res.result)
			if early != nil {
				return r.taskOutcome(st, raw, ctxObj, ev, *early)
			}
		case o := <-outcomeC:
			if invoked != nil {
				// The worker answered before the invocation returned (the function called
				// SendTask* itself). Hold the answer until the invocation ends so that a
				// failing invocation still fails the task and the history stays in order.
				early, outcomeC = &o, nil
				continue
			}
			return r.taskOutcome(st, raw, ctxObj, ev, o)
		case <-heartbeatsC:
			if heartbeat > 0 { // without HeartbeatSeconds a heartbeat only proves liveness
				heartbeatC = r.e.after(heartbeat)
			}
		case <-timeoutC:
			return nil, r.timedOut(ev, tok, "States.Timeout", fmt.Sprintf("task did not finish within %s", timeout))
		case <-heartbeatC:
			return nil, r.timedOut(ev, tok, "States.HeartbeatTimeout", fmt.Sprintf("no heartbeat within %s", heartbeat))
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// request checks a task's effective input for its resource and returns the call that
// runs it; a malformed request fails the state before anything is scheduled.
func (r *runner) request(kind string, in any, ev *taskEvents) (func(context.Context) (any, *stateError), error) {
	switch {
	case isStart(kind):
		req, err := parseStartRequest(in)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) (any, *stateError) { return r.startChild(ctx, kind, req, ev) }, nil
	case kind == "sendTaskSuccess" || kind == "sendTaskFailure":
		return func(ctx context.Context) (any, *stateError) { return r.sendTask(ctx, kind, in) }, nil
	}
	function, payload, err := lambdaRequest(kind, ev.resource, in)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (any, *stateError) {
		if r.e.invoker == nil {
			return nil, lambdaError(errors.New("the engine has no Invoker"))
		}
		defer r.e.invocation()()
		out, err := r.e.invoker.Invoke(ctx, function, payload)
		if err != nil {
			return nil, lambdaError(err)
		}
		result, err := lambdaResult(kind, out)
		if err != nil {
			return nil, asStateError(err)
		}
		return result, nil
	}, nil
}

func (r *runner) taskOutcome(st *state, raw any, ctxObj map[string]any, ev *taskEvents, o taskOutcome) (any, error) {
	if o.err != nil {
		ev.failed(o.err)
		return nil, o.err
	}
	ev.succeeded(o.output)
	return r.finishOutput(st, raw, o.output, ctxObj)
}

func (r *runner) timedOut(ev *taskEvents, tok, name, cause string) error {
	if tok != "" {
		r.e.endToken(tok, tokenTimedOut)
	}
	se := &stateError{Name: name, Cause: cause}
	ev.timedOut(se)
	return se
}

// durationField resolves TimeoutSeconds/HeartbeatSeconds or their ...Path variant, which
// is read from the state's raw input. Zero means "no limit".
func durationField(fixed *int, path string, raw any, field string) (time.Duration, error) {
	if fixed != nil {
		return time.Duration(*fixed) * time.Second, nil
	}
	if path == "" {
		return 0, nil
	}
	v, err := resolveRef(path, raw)
	if err != nil {
		return 0, noResults(field+"Path", err)
	}
	n, err := toInt(v)
	if err != nil || n <= 0 {
		return 0, failf("States.Runtime", "%sPath %s must select a positive integer", field, path)
	}
	return time.Duration(n) * time.Second, nil
}

// lambdaRequest extracts the function and payload a Task sends.
func lambdaRequest(kind, resource string, in any) (string, []byte, error) {
	if kind == "function" {
		return resource, []byte(encodeJSON(in)), nil
	}
	params, ok := in.(map[string]any)
	if !ok {
		return "", nil, failf("States.Runtime", "lambda:invoke Parameters must be an object")
	}
	fn, ok := params["FunctionName"].(string)
	if !ok || fn == "" {
		return "", nil, failf("States.Runtime", "lambda:invoke needs a FunctionName string")
	}
	payload := "{}"
	if p, ok := params["Payload"]; ok {
		payload = encodeJSON(p)
	}
	return fn, []byte(payload), nil
}

// lambdaResult shapes a function's output like the real integration.
func lambdaResult(kind string, out []byte) (any, error) {
	var payload any
	if len(out) > 0 {
		v, err := decodeJSON(out)
		if err != nil {
			return nil, failf("Lambda.SdkClientException", "function returned invalid JSON: %v", err)
		}
		payload = v
	}
	if kind != "invoke" {
		return payload, nil
	}
	return map[string]any{
		"ExecutedVersion": "$LATEST",
		"Payload":         payload,
		"StatusCode":      json.Number("200"),
		"SdkHttpMetadata": map[string]any{
			"HttpStatusCode": json.Number("200"),
			"HttpHeaders":    map[string]any{"Content-Type": "application/json", "X-Amz-Executed-Version": "$LATEST"},
		},
		"SdkResponseMetadata": map[string]any{"RequestId": newUUID()},
	}, nil
}

// lambdaError maps an Invoker error to the Step Functions error AWS would report.
func lambdaError(err error) *stateError {
	var fe *FunctionError
	var se *ServiceError
	switch {
	case errors.As(err, &se):
		return &stateError{Name: se.Name, Cause: se.Cause}
	case errors.As(err, &fe):
		name := fe.Type
		if name == "" {
			name = "Lambda.Unknown"
		}
		cause := encodeJSON(map[string]any{"errorMessage": fe.Message, "errorType": fe.Type})
		return &stateError{Name: name, Cause: cause}
	case errors.Is(err, ErrFunctionNotFound):
		return &stateError{Name: "Lambda.ResourceNotFoundException", Cause: err.Error()}
	default:
		return &stateError{Name: "Lambda.ServiceException", Cause: err.Error()}
	}
}

// taskEvents writes a Task's history events in the shape of its resource: Task* events
// for service integrations, LambdaFunction* events for a plain function ARN.
type taskEvents struct {
	r        *runner
	kind     string
	resource string
}

func newTaskEvents(r *runner, kind, resource string) *taskEvents {
	return &taskEvents{r: r, kind: kind, resource: resource}
}

func (t *taskEvents) base(extra map[string]any) map[string]any {
	// arn:aws:states:::lambda:invoke.waitForTaskToken → lambda, invoke.waitForTaskToken;
	// arn:aws:states:::aws-sdk:sfn:sendTaskFailure → aws-sdk:sfn, sendTaskFailure.
	rest := strings.TrimPrefix(t.resource, "arn:aws:states:::")
	typ, res, _ := strings.Cut(rest, ":")
	if typ == "aws-sdk" {
		i := strings.LastIndex(rest, ":")
		typ, res = rest[:i], rest[i+1:]
	}
	m := map[string]any{"resourceType": typ, "resource": res}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func (t *taskEvents) add(typ string, details map[string]any) {
	t.r.x.addEvent(t.r.e.clock(), typ, details)
}

func (t *taskEvents) scheduled(in any, timeout, heartbeat time.Duration) {
	if t.kind == "function" {
		d := map[string]any{"resource": t.resource, "input": encodeJSON(in)}
		if timeout > 0 {
			d["timeoutInSeconds"] = int64(timeout / time.Second)
		}
		t.add("LambdaFunctionScheduled", d)
		t.add("LambdaFunctionStarted", nil)
		return
	}
	d := t.base(map[string]any{"region": t.r.e.region, "parameters": encodeJSON(in)})
	if timeout > 0 {
		d["timeoutInSeconds"] = int64(timeout / time.Second)
	}
	if heartbeat > 0 {
		d["heartbeatInSeconds"] = int64(heartbeat / time.Second)
	}
	t.add("TaskScheduled", d)
	t.add("TaskStarted", t.base(nil))
}

func (t *taskEvents) submitted(result any) {
	t.add("TaskSubmitted", t.base(map[string]any{"output": encodeJSON(result)}))
}

func (t *taskEvents) succeeded(result any) {
	if t.kind == "function" {
		t.add("LambdaFunctionSucceeded", map[string]any{"output": encodeJSON(result)})
		return
	}
	t.add("TaskSucceeded", t.base(map[string]any{"output": encodeJSON(result)}))
}

func (t *taskEvents) failed(se *stateError) {
	if t.kind == "function" {
		t.add("LambdaFunctionFailed", map[string]any{"error": se.Name, "cause": se.Cause})
		return
	}
	t.add("TaskFailed", t.base(map[string]any{"error": se.Name, "cause": se.Cause}))
}

func (t *taskEvents) timedOut(se *stateError) {
	if t.kind == "function" {
		t.add("LambdaFunctionTimedOut", map[string]any{"error": se.Name, "cause": se.Cause})
		return
	}
	t.add("TaskTimedOut", t.base(map[string]any{"error": se.Name, "cause": se.Cause}))
}
