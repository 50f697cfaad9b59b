package sfnlocal

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
)

// stateError is a Step Functions error: a name that Retry/Catch match and a cause.
type stateError struct {
	Name  string
	Cause string
	// located is set once a States.Runtime cause names the state that failed, so that
	// the Parallel or Map around it does not name itself too.
	located bool
}

func (e *stateError) Error() string { return e.Name + ": " + e.Cause }

func failf(name, format string, a ...any) error {
	return &stateError{Name: name, Cause: fmt.Sprintf(format, a...)}
}

// asStateError classifies any error from a state into a Step Functions error.
func asStateError(err error) *stateError {
	var se *stateError
	if errors.As(err, &se) {
		return se
	}
	var ie *intrinsicError
	if errors.As(err, &ie) {
		return &stateError{Name: "States.IntrinsicFailure", Cause: ie.Error()}
	}
	return &stateError{Name: "States.Runtime", Cause: err.Error()}
}

// errorMatches applies ASL's error-name matching, including the States.ALL and
// States.TaskFailed wildcards. States.Runtime is never caught or retried, as in AWS.
func errorMatches(equals []string, name string) bool {
	if name == "States.Runtime" {
		return false
	}
	for _, want := range equals {
		switch {
		case want == name:
			return true
		case want == "States.ALL":
			return true
		case want == "States.TaskFailed" && name != "States.Timeout":
			return true
		}
	}
	return false
}

// runner executes the states of one execution.
type runner struct {
	e *Engine
	x *execution
}

// runMachine runs a (sub)machine from StartAt to its end and returns its output.
func (r *runner) runMachine(ctx context.Context, m *machine, input any) (any, error) {
	cur := m.StartAt
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		st := m.States[cur]
		out, next, err := r.runState(ctx, st, input)
		if err != nil {
			return nil, err
		}
		if next == "" {
			return out, nil
		}
		input, cur = out, next
	}
}

// contextObject builds $$ for a state.
func (r *runner) contextObject(st *state, entered time.Time, retryCount int, token string) map[string]any {
	x := r.x
	c := map[string]any{
		"Execution": map[string]any{
			"Id": x.arn, "Name": x.name, "Input": x.inputVal, "RoleArn": x.sm.roleArn,
			"StartTime": isoTime(x.start),
		},
		"StateMachine": map[string]any{"Id": x.sm.arn, "Name": x.sm.name},
		"State": map[string]any{
			"Name": st.name, "EnteredTime": isoTime(entered), "RetryCount": retryCount,
		},
	}
	if token != "" {
		c["Task"] = map[string]any{"Token": token}
	}
	return c
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// enter records that st was entered and returns when, with the event's ID.
func (r *runner) enter(st *state, input any) (time.Time, int64) {
	now := r.e.clock()
	r.x.mu.Lock()
	defer r.x.mu.Unlock()
	r.x.transitions++
	r.x.addEventLocked(now, st.Type+"StateEntered", map[string]any{
		"name": st.name, "input": encodeJSON(input), "inputDetails": map[string]any{"truncated": false},
	})
	return now, int64(len(r.x.events))
}

// located gives a States.Runtime failure of st the cause AWS gives it: the state and
// the ID of its StateEntered event, then what went wrong. States.Runtime is neither
// retried nor caught (errorMatches), so this is the execution's cause. Other errors,
// and a cancelled context, pass through unchanged.
func located(st *state, enteredID int64, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	se := asStateError(err)
	if se.Name != "States.Runtime" || se.located {
		return err
	}
	return &stateError{
		Name:    se.Name,
		Cause:   fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). %s", st.name, enteredID, se.Cause),
		located: true,
	}
}

// noResults is the States.Runtime failure of a path field (InputPath, OutputPath,
// ItemsPath) whose path selects nothing, worded as AWS words it.
func noResults(field string, err error) error {
	if p, ok := missingPath(err); ok {
		return failf("States.Runtime", "Invalid path '%s' : No results for path: %s", p.src, p.bracketed())
	}
	return failf("States.Runtime", "%s: %v", field, err)
}

func (r *runner) exit(st *state, output any) {
	r.x.addEvent(r.e.clock(), st.Type+"StateExited", map[string]any{
		"name": st.name, "output": encodeJSON(output), "outputDetails": map[string]any{"truncated": false},
	})
}

// runState runs one state and returns its output and the next state's name ("" at an end).
func (r *runner) runState(ctx context.Context, st *state, input any) (any, string, error) {
	entered, enteredID := r.enter(st, input)
	var (
		out  any
		next = st.Next
		err  error
	)
	switch st.Type {
	case "Pass":
		out, err = r.pass(st, input, entered)
	case "Choice":
		out, next, err = r.choice(st, input, entered)
	case "Wait":
		out, err = r.wait(ctx, st, input, entered)
	case "Succeed":
		out, err = r.succeed(st, input)
		next = ""
	case "Fail":
		return nil, "", located(st, enteredID, r.fail(st, input))
	case "Task", "Parallel", "Map":
		out, next, err = r.withRetry(ctx, st, input, entered)
	default:
		err = failf("States.Runtime", "unsupported state type %q", st.Type)
	}
	if err != nil {
		return nil, "", located(st, enteredID, err)
	}
	r.exit(st, out)
	// An End state ends the machine, unless its Catch sent it elsewhere.
	if st.End && next == st.Next {
		next = ""
	}
	return out, next, nil
}

// effectiveInput applies InputPath then Parameters.
func (r *runner) effectiveInput(st *state, raw any, ctxObj map[string]any) (any, error) {
	in, err := applyInputPath(st.InputPath, raw)
	if err != nil {
		return nil, err
	}
	if st.Parameters == nil || st.Type == "Map" {
		return in, nil
	}
	return applyTemplate(st.Parameters, scope{input: in, ctx: ctxObj})
}

func applyInputPath(p optPath, raw any) (any, error) {
	switch {
	case !p.set:
		return raw, nil
	case p.null:
		return map[string]any{}, nil
	}
	v, err := p.path.get(raw)
	if err != nil {
		return nil, noResults("InputPath", err)
	}
	return v, nil
}

// applyResultPath merges a result into the raw state input.
func applyResultPath(p optPath, raw, result any) (any, error) {
	switch {
	case !p.set:
		return result, nil
	case p.null:
		return raw, nil
	}
	v, err := p.path.set(raw, result)
	if err != nil {
		return nil, failf("States.ResultPathMatchFailure", "ResultPath: %v", err)
	}
	return v, nil
}

func applyOutputPath(p optPath, v any) (any, error) {
	switch {
	case !p.set:
		return v, nil
	case p.null:
		return map[string]any{}, nil
	}
	out, err := p.path.get(v)
	if err != nil {
		return nil, noResults("OutputPath", err)
	}
	return out, nil
}

// finishOutput applies ResultSelector, ResultPath and OutputPath to a state's result.
func (r *runner) finishOutput(st *state, raw, result any, ctxObj map[string]any) (any, error) {
	if st.ResultSelector != nil {
		sel, err := applyTemplate(st.ResultSelector, scope{input: result, ctx: ctxObj})
		if err != nil {
			return nil, err
		}
		result = sel
	}
	merged, err := applyResultPath(st.ResultPath, raw, result)
	if err != nil {
		return nil, err
	}
	return applyOutputPath(st.OutputPath, merged)
}

func (r *runner) pass(st *state, raw any, entered time.Time) (any, error) {
	ctxObj := r.contextObject(st, entered, 0, "")
	in, err := r.effectiveInput(st, raw, ctxObj)
	if err != nil {
		return nil, err
	}
	result := in
	if len(st.Result) > 0 {
		if result, err = decodeJSON(st.Result); err != nil {
			return nil, failf("States.Runtime", "Result: %v", err)
		}
	}
	merged, err := applyResultPath(st.ResultPath, raw, result)
	if err != nil {
		return nil, err
	}
	return applyOutputPath(st.OutputPath, merged)
}

func (r *runner) choice(st *state, raw any, entered time.Time) (any, string, error) {
	in, err := applyInputPath(st.InputPath, raw)
	if err != nil {
		return nil, "", err
	}
	sc := scope{input: in, ctx: r.contextObject(st, entered, 0, "")}
	next := st.Default
	for _, rule := range st.Choices {
		ok, err := rule.eval(sc)
		if err != nil {
			return nil, "", asStateError(err) // a plain error is States.Runtime
		}
		if ok {
			next = rule.Next
			break
		}
	}
	if next == "" {
		return nil, "", failf("States.NoChoiceMatched", "no Choice rule of state %q matched and it has no Default", st.name)
	}
	out, err := applyOutputPath(st.OutputPath, in)
	return out, next, err
}

func (r *runner) wait(ctx context.Context, st *state, raw any, entered time.Time) (any, error) {
	in, err := applyInputPath(st.InputPath, raw)
	if err != nil {
		return nil, err
	}
	var d time.Duration
	switch {
	case st.Seconds != nil:
		n, _ := toInt(*st.Seconds) // validated at creation
		d = time.Duration(n) * time.Second
	case st.SecondsPath != "":
		v, err := resolveRef(st.SecondsPath, in)
		if err != nil {
			return nil, noResults("SecondsPath", err)
		}
		n, err := toInt(v)
		if err != nil || n < 0 {
			return nil, failf("States.Runtime", "SecondsPath %s must select a non-negative integer", st.SecondsPath)
		}
		d = time.Duration(n) * time.Second
	default:
		ts := st.Timestamp
		if st.TimestampPath != "" {
			v, err := resolveRef(st.TimestampPath, in)
			if err != nil {
				return nil, noResults("TimestampPath", err)
			}
			s, ok := v.(string)
			if !ok {
				return nil, failf("States.Runtime", "TimestampPath %s must select a string", st.TimestampPath)
			}
			ts = s
		}
		t, err := parseTimestamp(ts)
		if err != nil {
			return nil, failf("States.Runtime", "%v", err)
		}
		d = t.Sub(entered)
	}
	if d > 0 {
		if err := r.sleep(ctx, d); err != nil {
			return nil, err
		}
	}
	return applyOutputPath(st.OutputPath, in)
}

func resolveRef(path string, doc any) (any, error) {
	p, err := parsePath(path)
	if err != nil {
		return nil, err
	}
	return p.get(doc)
}

func (r *runner) sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-r.e.after(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *runner) succeed(st *state, raw any) (any, error) {
	in, err := applyInputPath(st.InputPath, raw)
	if err != nil {
		return nil, err
	}
	return applyOutputPath(st.OutputPath, in)
}

func (r *runner) fail(st *state, raw any) error {
	se := &stateError{Name: st.Error, Cause: st.Cause}
	for _, f := range []struct {
		field, path string
		dst         *string
	}{{"ErrorPath", st.ErrorPath, &se.Name}, {"CausePath", st.CausePath, &se.Cause}} {
		if f.path == "" {
			continue
		}
		v, err := resolveRef(f.path, raw)
		if err != nil {
			return noResults(f.field, err)
		}
		s, ok := v.(string)
		if !ok {
			return failf("States.Runtime", "Fail state %q: %s must select a string", st.name, f.path)
		}
		*f.dst = s
	}
	return se
}

// withRetry runs a Task, Parallel or Map state with its Retry and Catch policies.
func (r *runner) withRetry(ctx context.Context, st *state, raw any, entered time.Time) (any, string, error) {
	attempts := make([]int, len(st.Retry))
	retries := 0
	for {
		out, err := r.attempt(ctx, st, raw, entered, retries)
		if err == nil {
			return out, st.Next, nil
		}
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		se := asStateError(err)
		if d, ok := retryDelay(st.Retry, attempts, se.Name); ok {
			r.e.log.Debug("retrying state", "execution", r.x.arn, "state", st.name, "error", se.Name, "delay", d)
			if err := r.sleep(ctx, d); err != nil {
				return nil, "", err
			}
			retries++
			r.x.mu.Lock()
			r.x.transitions++ // AWS bills each retry as a state transition
			r.x.mu.Unlock()
			continue
		}
		for _, c := range st.Catch {
			if !errorMatches(c.ErrorEquals, se.Name) {
				continue
			}
			out, perr := applyResultPath(c.ResultPath, raw, map[string]any{"Error": se.Name, "Cause": se.Cause})
			if perr != nil {
				return nil, "", perr
			}
			return out, c.Next, nil
		}
		return nil, "", se
	}
}

// retryDelay finds the first retrier matching name; if it has attempts left it counts
// one and returns the back-off delay. A matching but exhausted retrier ends retrying,
// as ASL specifies (later retriers are not consulted).
func retryDelay(retry []retrier, attempts []int, name string) (time.Duration, bool) {
	for i, rt := range retry {
		if !errorMatches(rt.ErrorEquals, name) {
			continue
		}
		maxAttempts, interval, backoff := 3, 1.0, 2.0
		if rt.MaxAttempts != nil {
			maxAttempts = *rt.MaxAttempts
		}
		if rt.IntervalSeconds != nil {
			interval = *rt.IntervalSeconds
		}
		if rt.BackoffRate != nil {
			backoff = *rt.BackoffRate
		}
		if attempts[i] >= maxAttempts {
			return 0, false
		}
		secs := interval * math.Pow(backoff, float64(attempts[i]))
		if rt.MaxDelaySeconds != nil && secs > *rt.MaxDelaySeconds {
			secs = *rt.MaxDelaySeconds
		}
		attempts[i]++
		return time.Duration(secs * float64(time.Second)), true
	}
	return 0, false
}

// attempt runs one try of a Task, Parallel or Map state and returns its output.
func (r *runner) attempt(ctx context.Context, st *state, raw any, entered time.Time, retryCount int) (any, error) {
	switch st.Type {
	case "Task":
		return r.task(ctx, st, raw, entered, retryCount)
	case "Parallel":
		return r.parallel(ctx, st, raw, entered, retryCount)
	default:
		return r.mapState(ctx, st, raw, entered, retryCount)
	}
}

func (r *runner) parallel(ctx context.Context, st *state, raw any, entered time.Time, retryCount int) (any, error) {
	ctxObj := r.contextObject(st, entered, retryCount, "")
	in, err := r.effectiveInput(st, raw, ctxObj)
	if err != nil {
		return nil, err
	}
	r.x.addEvent(r.e.clock(), "ParallelStateStarted", nil)
	results := make([]any, len(st.Branches))
	err = runAll(ctx, len(st.Branches), 0, func(ctx context.Context, i int) error {
		out, err := r.runMachine(ctx, st.Branches[i], in)
		results[i] = out
		return err
	})
	if err != nil {
		r.x.addEvent(r.e.clock(), "ParallelStateFailed", nil)
		return nil, err
	}
	r.x.addEvent(r.e.clock(), "ParallelStateSucceeded", nil)
	return r.finishOutput(st, raw, results, ctxObj)
}

func (r *runner) mapState(ctx context.Context, st *state, raw any, entered time.Time, retryCount int) (any, error) {
	ctxObj := r.contextObject(st, entered, retryCount, "")
	in, err := applyInputPath(st.InputPath, raw)
	if err != nil {
		return nil, err
	}
	itemsVal := in
	if st.ItemsPath.set && !st.ItemsPath.null {
		if itemsVal, err = st.ItemsPath.path.get(in); err != nil {
			return nil, noResults("ItemsPath", err)
		}
	}
	items, ok := itemsVal.([]any)
	if !ok {
		return nil, failf("States.Runtime", "Map state %q: items must be an array, got %s", st.name, typeName(itemsVal))
	}
	r.x.addEvent(r.e.clock(), "MapStateStarted", map[string]any{"length": len(items)})
	tmpl := st.itemTemplate()
	results := make([]any, len(items))
	err = runAll(ctx, len(items), st.MaxConcurrency, func(ctx context.Context, i int) error {
		item := items[i]
		if tmpl != nil {
			itemCtx := r.contextObject(st, entered, retryCount, "")
			itemCtx["Map"] = map[string]any{"Item": map[string]any{"Index": i, "Value": item}}
			sel, err := applyTemplate(tmpl, scope{input: in, ctx: itemCtx})
			if err != nil {
				return err
			}
			item = sel
		}
		details := map[string]any{"name": st.name, "index": i}
		r.x.addEvent(r.e.clock(), "MapIterationStarted", details)
		out, err := r.runMachine(ctx, st.processor(), item)
		switch {
		case err == nil:
			r.x.addEvent(r.e.clock(), "MapIterationSucceeded", details)
		case ctx.Err() != nil:
			r.x.addEvent(r.e.clock(), "MapIterationAborted", details)
		default:
			r.x.addEvent(r.e.clock(), "MapIterationFailed", details)
		}
		results[i] = out
		return err
	})
	if err != nil {
		r.x.addEvent(r.e.clock(), "MapStateFailed", nil)
		return nil, err
	}
	r.x.addEvent(r.e.clock(), "MapStateSucceeded", nil)
	return r.finishOutput(st, raw, results, ctxObj)
}

// runAll runs fn for 0..n-1 with at most limit at once (0 = unlimited). The first
// failure cancels the rest and is returned, as a failing branch or iteration fails the
// whole Parallel or Map state.
func runAll(ctx context.Context, n, limit int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if limit <= 0 || limit > n {
		limit = n
	}
	sem := make(chan struct{}, max(limit, 1))
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				once.Do(func() { firstErr = err; cancel() })
			}
		}(i)
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// resourceKind classifies a Task Resource.
func resourceKind(res string) (string, bool) {
	switch {
	case res == "arn:aws:states:::lambda:invoke":
		return "invoke", true
	case res == "arn:aws:states:::lambda:invoke.waitForTaskToken":
		return "callback", true
	case strings.HasPrefix(res, "arn:aws:lambda:") && strings.Contains(res, ":function:"):
		return "function", true
	case res == "arn:aws:states:::states:startExecution":
		return "start", true
	case res == "arn:aws:states:::states:startExecution.sync":
		return "startSync", true
	case res == "arn:aws:states:::states:startExecution.sync:2":
		return "startSync2", true
	case res == "arn:aws:states:::states:startExecution.waitForTaskToken":
		return "startCallback", true
	case res == "arn:aws:states:::aws-sdk:sfn:sendTaskSuccess":
		return "sendTaskSuccess", true
	case res == "arn:aws:states:::aws-sdk:sfn:sendTaskFailure":
		return "sendTaskFailure", true
	}
	return "", false
}
