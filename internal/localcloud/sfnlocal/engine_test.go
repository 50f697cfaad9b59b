package sfnlocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestDataFlow(t *testing.T) {
	inv := newInvoker(map[string]fnFunc{
		"price": returns(`{"total":1999,"currency":"EUR","debug":"x"}`),
		"echo":  echo,
	})
	tests := []struct {
		name, def, input, want string
		check                  func(t *testing.T)
	}{
		{
			name: "lambda:invoke shape, ResultSelector, ResultPath, OutputPath",
			def: `{"StartAt":"Price","States":{"Price":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
				"InputPath":"$.order",
				"Parameters":{"FunctionName":"price","Payload":{"lines.$":"$.lines","tx.$":"$$.Execution.Name"}},
				"ResultSelector":{"total.$":"$.Payload.total","status.$":"$.StatusCode","version.$":"$.ExecutedVersion"},
				"ResultPath":"$.order.price","OutputPath":"$.order","End":true}}}`,
			input: `{"order":{"lines":[{"code":"C1","qty":2}]},"other":1}`,
			want:  `{"lines":[{"code":"C1","qty":2}],"price":{"total":1999,"status":200,"version":"$LATEST"}}`,
			check: func(t *testing.T) {
				p := inv.lastPayload(t, "price")
				if p["tx"] == "" || p["lines"] == nil {
					t.Fatalf("payload %v lacks tx or lines", p)
				}
			},
		},
		{
			name:  "ResultPath null keeps the input",
			def:   `{"StartAt":"E","States":{"E":{"Type":"Task","Resource":"arn:aws:lambda:eu-west-1:111122223333:function:price","ResultPath":null,"End":true}}}`,
			input: `{"keep":true}`,
			want:  `{"keep":true}`,
		},
		{
			name:  "plain function ARN returns the raw output",
			def:   `{"StartAt":"E","States":{"E":{"Type":"Task","Resource":"arn:aws:lambda:eu-west-1:111122223333:function:echo","Parameters":{"v.$":"$.a"},"End":true}}}`,
			input: `{"a":[1,2]}`,
			want:  `{"v":[1,2]}`,
		},
		{
			name: "Pass with Result, Parameters and context paths",
			def: `{"StartAt":"P1","States":{
				"P1":{"Type":"Pass","Result":{"x":1},"ResultPath":"$.r","Next":"P2"},
				"P2":{"Type":"Pass","Parameters":{"x.$":"$.r.x","state.$":"$$.State.Name","sum.$":"States.MathAdd($.r.x, 41)"},"Next":"P3"},
				"P3":{"Type":"Pass","InputPath":null,"ResultPath":"$.empty","Next":"Done"},
				"Done":{"Type":"Succeed"}}}`,
			input: `{"a":1}`,
			want:  `{"x":1,"state":"P2","sum":42,"empty":{}}`,
		},
		{
			name:  "Pass parameters",
			def:   `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x.$":"$.r","state.$":"$$.State.Name","sum.$":"States.MathAdd($.r, 41)"},"End":true}}}`,
			input: `{"r":1}`,
			want:  `{"x":1,"state":"P","sum":42}`,
		},
		{
			name:  "OutputPath null",
			def:   `{"StartAt":"P","States":{"P":{"Type":"Pass","OutputPath":null,"End":true}}}`,
			input: `{"a":1}`,
			want:  `{}`,
		},
		{
			name:  "money stays exact",
			def:   `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"cents.$":"$.cents"},"End":true}}}`,
			input: `{"cents":9007199254740993}`,
			want:  `{"cents":9007199254740993}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, inv, nil)
			info := runDef(t, e, tt.def, tt.input)
			if info.Status != StatusSucceeded {
				t.Fatalf("status %s (%s: %s)", info.Status, info.Error, info.Cause)
			}
			if tt.name == "money stays exact" && !strings.Contains(info.Output, "9007199254740993") {
				t.Fatalf("output %s lost precision", info.Output)
			}
			if !jsonEqual(t, info.Output, tt.want) {
				t.Fatalf("output %s, want %s", info.Output, tt.want)
			}
			if tt.check != nil {
				tt.check(t)
			}
		})
	}
}

func TestContextObject(t *testing.T) {
	e := newEngine(t, nil, nil)
	arn := mustCreate(t, e, `{"StartAt":"Look","States":{"Look":{"Type":"Pass","Parameters":{
		"id.$":"$$.Execution.Id","name.$":"$$.Execution.Name","input.$":"$$.Execution.Input",
		"started.$":"$$.Execution.StartTime","state.$":"$$.State.Name","entered.$":"$$.State.EnteredTime",
		"machine.$":"$$.StateMachine.Id"},"End":true}}}`)
	x, _, err := e.StartExecution(arn, "tx-9", `{"cart":"c1"}`)
	if err != nil {
		t.Fatal(err)
	}
	info := waitFor(t, e, x)
	want := fmt.Sprintf(`{"id":%q,"name":"tx-9","input":{"cart":"c1"},"started":"2026-03-01T12:00:00.000Z",
		"state":"Look","entered":"2026-03-01T12:00:00.000Z","machine":%q}`, x, arn)
	if !jsonEqual(t, info.Output, want) {
		t.Fatalf("output %s, want %s", info.Output, want)
	}
}

func TestRuntimeErrorsFailTheExecution(t *testing.T) {
	tests := []struct {
		name, def, wantErr, wantCause string
	}{
		{
			name:      "missing InputPath",
			def:       `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.nope","End":true}}}`,
			wantErr:   "States.Runtime",
			wantCause: "Invalid path '$.nope' : No results for path: $['nope']",
		},
		{
			name: "States.ALL does not catch States.Runtime",
			def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f","Payload.$":"$.nope"},"End":true,
				"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}]},"C":{"Type":"Succeed"}}}`,
			wantErr:   "States.Runtime",
			wantCause: "$.nope",
		},
		{
			name:      "no choice matched",
			def:       `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","NumericEquals":2,"Next":"S"}]},"S":{"Type":"Succeed"}}}`,
			wantErr:   "States.NoChoiceMatched",
			wantCause: `"C"`,
		},
		{
			name:      "Fail state",
			def:       `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Order.Refused","Cause":"card declined"}}}`,
			wantErr:   "Order.Refused",
			wantCause: "card declined",
		},
		{
			name:      "Fail state paths",
			def:       `{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e","CausePath":"$.c"}}}`,
			wantErr:   "Dyn.Error",
			wantCause: "dynamic cause",
		},
		{
			name:      "ResultPath through a scalar",
			def:       `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":1,"ResultPath":"$.a.b","End":true}}}`,
			wantErr:   "States.ResultPathMatchFailure",
			wantCause: "cannot add field",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, newInvoker(map[string]fnFunc{"f": echo}), nil)
			info := runDef(t, e, tt.def, `{"a":1,"e":"Dyn.Error","c":"dynamic cause"}`)
			if info.Status != StatusFailed || info.Error != tt.wantErr || !strings.Contains(info.Cause, tt.wantCause) {
				t.Fatalf("got %s %s %q, want FAILED %s with cause mentioning %q", info.Status, info.Error, info.Cause, tt.wantErr, tt.wantCause)
			}
		})
	}
}

func TestChoiceStateRoutes(t *testing.T) {
	def := `{"StartAt":"Route","States":{
		"Route":{"Type":"Choice","Choices":[
			{"Variable":"$.paymode","StringEquals":"card","Next":"Card"},
			{"And":[{"Variable":"$.total","NumericGreaterThan":0},{"Variable":"$.invoice","IsPresent":true}],"Next":"Invoice"}
		],"Default":"Free"},
		"Card":{"Type":"Pass","Result":"card","End":true},
		"Invoice":{"Type":"Pass","Result":"invoice","End":true},
		"Free":{"Type":"Pass","Result":"free","End":true}}}`
	tests := []struct{ input, want string }{
		{`{"paymode":"card","total":5}`, `"card"`},
		{`{"paymode":"bank","total":5,"invoice":true}`, `"invoice"`},
		{`{"paymode":"bank","total":0,"invoice":true}`, `"free"`},
	}
	e := newEngine(t, nil, nil)
	arn := mustCreate(t, e, def)
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			x, _, err := e.StartExecution(arn, "", tt.input)
			if err != nil {
				t.Fatal(err)
			}
			info := waitFor(t, e, x)
			if info.Output != tt.want {
				t.Fatalf("output %s, want %s", info.Output, tt.want)
			}
			types, _ := e.HistoryEventTypes(x)
			if !slices.Contains(types, "ChoiceStateEntered") || !slices.Contains(types, "ChoiceStateExited") {
				t.Fatalf("history %v lacks Choice events", types)
			}
		})
	}
}

// flaky fails with errType the first n calls, then returns out.
func flaky(n int, errType, out string) (fnFunc, *atomic.Int32) {
	var calls atomic.Int32
	return func(context.Context, []byte) ([]byte, error) {
		if int(calls.Add(1)) <= n {
			return nil, &FunctionError{Type: errType, Message: "try again"}
		}
		return []byte(out), nil
	}, &calls
}

func TestRetry(t *testing.T) {
	tests := []struct {
		name       string
		failures   int
		errType    string
		retry      string
		wantStatus string
		wantError  string
		wantCalls  int32
		wantDelays []time.Duration
	}{
		{
			name: "backoff grows", failures: 3, errType: "Lambda.ServiceException",
			retry:      `[{"ErrorEquals":["Lambda.ServiceException"],"IntervalSeconds":1,"MaxAttempts":3,"BackoffRate":2}]`,
			wantStatus: StatusSucceeded, wantCalls: 4,
			wantDelays: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
		},
		{
			name: "MaxDelaySeconds caps", failures: 4, errType: "Boom",
			retry:      `[{"ErrorEquals":["States.ALL"],"IntervalSeconds":2,"MaxAttempts":5,"BackoffRate":3,"MaxDelaySeconds":10}]`,
			wantStatus: StatusSucceeded, wantCalls: 5,
			wantDelays: []time.Duration{2 * time.Second, 6 * time.Second, 10 * time.Second, 10 * time.Second},
		},
		{
			name: "defaults: 3 attempts, 1s, x2", failures: 10, errType: "Boom",
			retry:      `[{"ErrorEquals":["States.TaskFailed"]}]`,
			wantStatus: StatusFailed, wantError: "Boom", wantCalls: 4,
			wantDelays: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
		},
		{
			name: "MaxAttempts 0 never retries", failures: 1, errType: "Boom",
			retry:      `[{"ErrorEquals":["Boom"],"MaxAttempts":0},{"ErrorEquals":["States.ALL"]}]`,
			wantStatus: StatusFailed, wantError: "Boom", wantCalls: 1,
		},
		{
			name: "non-matching retrier", failures: 1, errType: "Other",
			retry:      `[{"ErrorEquals":["Boom"]}]`,
			wantStatus: StatusFailed, wantError: "Other", wantCalls: 1,
		},
		{
			name: "first matching retrier wins", failures: 2, errType: "Boom",
			retry:      `[{"ErrorEquals":["Boom"],"IntervalSeconds":3,"MaxAttempts":5,"BackoffRate":1},{"ErrorEquals":["States.ALL"],"IntervalSeconds":7}]`,
			wantStatus: StatusSucceeded, wantCalls: 3,
			wantDelays: []time.Duration{3 * time.Second, 3 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn, calls := flaky(tt.failures, tt.errType, `{"ok":true}`)
			ft := newFakeTime()
			ft.fireAll = true
			e := newEngine(t, newInvoker(map[string]fnFunc{"f": fn}), ft)
			def := fmt.Sprintf(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
				"Parameters":{"FunctionName":"f"},"OutputPath":"$.Payload","Retry":%s,"End":true}}}`, tt.retry)
			info := runDef(t, e, def, `{}`)
			if info.Status != tt.wantStatus || info.Error != tt.wantError {
				t.Fatalf("got %s %s (%s), want %s %s", info.Status, info.Error, info.Cause, tt.wantStatus, tt.wantError)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Fatalf("function called %d times, want %d", got, tt.wantCalls)
			}
			if got := ft.durations(); !reflect.DeepEqual(got, tt.wantDelays) && !(len(got) == 0 && len(tt.wantDelays) == 0) {
				t.Fatalf("retry delays %v, want %v", got, tt.wantDelays)
			}
			// One transition for the state, one per retry.
			if want := 1 + len(tt.wantDelays); info.StateTransitions != want {
				t.Fatalf("%d state transitions, want %d", info.StateTransitions, want)
			}
		})
	}
}

func TestCatch(t *testing.T) {
	tests := []struct {
		name, catch, wantOutput, wantNext string
	}{
		{
			name:       "error object replaces input by default",
			catch:      `[{"ErrorEquals":["Nope"],"Next":"Other"},{"ErrorEquals":["Payment.Refused"],"Next":"Handled"}]`,
			wantOutput: `{"Error":"Payment.Refused","Cause":"{\"errorMessage\":\"card declined\",\"errorType\":\"Payment.Refused\"}"}`,
		},
		{
			name:       "ResultPath keeps the input",
			catch:      `[{"ErrorEquals":["Nope"],"Next":"Other"},{"ErrorEquals":["States.TaskFailed"],"ResultPath":"$.error","Next":"Handled"}]`,
			wantOutput: `{"order":"o-1","error":{"Error":"Payment.Refused","Cause":"{\"errorMessage\":\"card declined\",\"errorType\":\"Payment.Refused\"}"}}`,
		},
		{
			name:       "States.ALL",
			catch:      `[{"ErrorEquals":["Nope"],"Next":"Other"},{"ErrorEquals":["States.ALL"],"ResultPath":null,"Next":"Handled"}]`,
			wantOutput: `{"order":"o-1"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := newInvoker(map[string]fnFunc{"pay": func(context.Context, []byte) ([]byte, error) {
				return nil, &FunctionError{Type: "Payment.Refused", Message: "card declined"}
			}})
			e := newEngine(t, inv, nil)
			def := fmt.Sprintf(`{"StartAt":"Pay","States":{
				"Pay":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"pay"},"Catch":%s,"End":true},
				"Other":{"Type":"Fail","Error":"Wrong"},
				"Handled":{"Type":"Pass","End":true}}}`, tt.catch)
			info := runDef(t, e, def, `{"order":"o-1"}`)
			if info.Status != StatusSucceeded {
				t.Fatalf("status %s %s %s", info.Status, info.Error, info.Cause)
			}
			if !jsonEqual(t, info.Output, tt.wantOutput) {
				t.Fatalf("output %s, want %s", info.Output, tt.wantOutput)
			}
			// The catcher's state ran, although the failed state is an End state.
			if types, _ := e.HistoryEventTypes(info.ExecutionArn); !slices.Contains(types, "PassStateEntered") {
				t.Fatalf("history %v: the catcher's Next never ran", types)
			}
		})
	}
}

func TestUnknownFunctionIsALambdaError(t *testing.T) {
	e := newEngine(t, newInvoker(nil), nil)
	info := runDef(t, e, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"ghost"},"End":true}}}`, `{}`)
	if info.Status != StatusFailed || info.Error != "Lambda.ResourceNotFoundException" {
		t.Fatalf("got %s %s, want FAILED Lambda.ResourceNotFoundException", info.Status, info.Error)
	}
}

func TestTaskTimeout(t *testing.T) {
	tests := []struct {
		name, timeout, catch, wantStatus, wantError string
		wantTransitions                             int
	}{
		{name: "TimeoutSeconds fails with States.Timeout", timeout: `"TimeoutSeconds":30`, wantStatus: StatusFailed, wantError: "States.Timeout", wantTransitions: 1},
		{name: "TimeoutSecondsPath", timeout: `"TimeoutSecondsPath":"$.limit"`, wantStatus: StatusFailed, wantError: "States.Timeout", wantTransitions: 1},
		{name: "caught by name", timeout: `"TimeoutSeconds":30`, catch: `,"Catch":[{"ErrorEquals":["States.Timeout"],"Next":"Late"}]`, wantStatus: StatusSucceeded, wantTransitions: 2},
		{name: "TaskFailed does not match timeouts", timeout: `"TimeoutSeconds":30`, catch: `,"Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"Late"}]`, wantStatus: StatusFailed, wantError: "States.Timeout", wantTransitions: 1},
		{name: "retried on States.Timeout", timeout: `"TimeoutSeconds":30`, catch: `,"Retry":[{"ErrorEquals":["States.Timeout"],"MaxAttempts":2}]`, wantStatus: StatusFailed, wantError: "States.Timeout", wantTransitions: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFakeTime()
			ft.fire[30*time.Second] = true
			ft.fire[time.Second], ft.fire[2*time.Second] = true, true // retry back-off
			e := newEngine(t, newInvoker(map[string]fnFunc{"slow": blocks}), ft)
			def := fmt.Sprintf(`{"StartAt":"T","States":{
				"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"slow"},%s,"Next":"Late"%s},
				"Late":{"Type":"Succeed"}}}`, tt.timeout, tt.catch)
			info := runDef(t, e, def, `{"limit":30}`)
			if info.Status != tt.wantStatus || info.Error != tt.wantError {
				t.Fatalf("got %s %s, want %s %s", info.Status, info.Error, tt.wantStatus, tt.wantError)
			}
			if info.StateTransitions != tt.wantTransitions {
				t.Fatalf("%d state transitions, want %d", info.StateTransitions, tt.wantTransitions)
			}
			types, _ := e.HistoryEventTypes(info.ExecutionArn)
			if !slices.Contains(types, "TaskTimedOut") {
				t.Fatalf("history %v lacks TaskTimedOut", types)
			}
		})
	}
}

// callbackDef is a Payment step like the checkout's: invoke with the token, then wait.
const callbackDef = `{"StartAt":"Payment","States":{
	"Payment":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
		"Parameters":{"FunctionName":"payment","Payload":{"tx.$":"$.tx","taskToken.$":"$$.Task.Token"}},
		"ResultPath":"$.payment","TimeoutSeconds":3600,"HeartbeatSeconds":600,"End":true}}}`

// startCallback starts callbackDef and returns the execution and the token the function got.
func startCallback(t *testing.T, e *Engine, tokens chan string) string {
	t.Helper()
	arn := mustCreate(t, e, callbackDef)
	x, _, err := e.StartExecution(arn, "tx-1", `{"tx":"tx-1"}`)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func tokenCatcher() (fnFunc, chan string) {
	tokens := make(chan string, 4)
	return func(_ context.Context, p []byte) ([]byte, error) {
		var in struct{ TaskToken string }
		if err := json.Unmarshal(p, &in); err != nil {
			return nil, err
		}
		tokens <- in.TaskToken
		return []byte(`{"started":true}`), nil
	}, tokens
}

func recvToken(t *testing.T, tokens chan string) string {
	t.Helper()
	select {
	case tok := <-tokens:
		return tok
	case <-time.After(5 * time.Second):
		t.Fatal("the function never received a task token")
		return ""
	}
}

func TestTaskTokens(t *testing.T) {
	tests := []struct {
		name       string
		act        func(e *Engine, tok string) error
		wantStatus string
		wantError  string
		wantOutput string
	}{
		{
			name:       "success",
			act:        func(e *Engine, tok string) error { return e.SendTaskSuccess(tok, `{"paid":1999}`) },
			wantStatus: StatusSucceeded, wantOutput: `{"tx":"tx-1","payment":{"paid":1999}}`,
		},
		{
			name:       "failure",
			act:        func(e *Engine, tok string) error { return e.SendTaskFailure(tok, "Payment.Refused", "declined") },
			wantStatus: StatusFailed, wantError: "Payment.Refused",
		},
		{
			name: "heartbeat then success",
			act: func(e *Engine, tok string) error {
				if err := e.SendTaskHeartbeat(tok); err != nil {
					return err
				}
				return e.SendTaskSuccess(tok, `"ok"`)
			},
			wantStatus: StatusSucceeded, wantOutput: `{"tx":"tx-1","payment":"ok"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn, tokens := tokenCatcher()
			e := newEngine(t, newInvoker(map[string]fnFunc{"payment": fn}), newFakeTime())
			x := startCallback(t, e, tokens)
			tok := recvToken(t, tokens)
			if err := tt.act(e, tok); err != nil {
				t.Fatal(err)
			}
			info := waitFor(t, e, x)
			if info.Status != tt.wantStatus || info.Error != tt.wantError {
				t.Fatalf("got %s %s, want %s %s", info.Status, info.Error, tt.wantStatus, tt.wantError)
			}
			if tt.wantOutput != "" && !jsonEqual(t, info.Output, tt.wantOutput) {
				t.Fatalf("output %s, want %s", info.Output, tt.wantOutput)
			}
			// The token is spent: using it again is TaskDoesNotExist, as in AWS.
			var ae *APIError
			if err := e.SendTaskSuccess(tok, `{}`); !errors.As(err, &ae) || ae.Code != "TaskDoesNotExist" {
				t.Fatalf("reusing the token: %v, want TaskDoesNotExist", err)
			}
			types, _ := e.HistoryEventTypes(x)
			if !slices.Contains(types, "TaskSubmitted") {
				t.Fatalf("history %v lacks TaskSubmitted", types)
			}
		})
	}
}

func TestHeartbeatWithoutHeartbeatSeconds(t *testing.T) {
	fn, tokens := tokenCatcher()
	ft := newFakeTime()
	ft.fireAll = true // any clock the task starts would elapse at once
	e := newEngine(t, newInvoker(map[string]fnFunc{"payment": fn}), ft)
	arn := mustCreate(t, e, `{"StartAt":"P","States":{"P":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
		"Parameters":{"FunctionName":"payment","Payload":{"taskToken.$":"$$.Task.Token"}},"End":true}}}`)
	x, _, err := e.StartExecution(arn, "", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	tok := recvToken(t, tokens)
	for i := 0; i < 3; i++ {
		if err := e.SendTaskHeartbeat(tok); err != nil {
			t.Fatalf("heartbeat %d: %v", i, err)
		}
	}
	if err := e.SendTaskSuccess(tok, `{"ok":true}`); err != nil {
		t.Fatal(err)
	}
	if info := waitFor(t, e, x); info.Status != StatusSucceeded || info.Output != `{"ok":true}` {
		t.Fatalf("got %s %s %s, want SUCCEEDED with the task's output", info.Status, info.Error, info.Output)
	}
	if d := ft.durations(); len(d) != 0 {
		t.Fatalf("clocks %v started for a task without timeouts", d)
	}
}

func TestTaskTokenTimeouts(t *testing.T) {
	tests := []struct {
		name       string
		fire       time.Duration // which timer the test lets elapse
		heartbeats int           // heartbeats sent before it elapses
		wantError  string
	}{
		{name: "task timeout", fire: time.Hour, wantError: "States.Timeout"},
		{name: "heartbeat timeout", fire: 10 * time.Minute, wantError: "States.HeartbeatTimeout"},
		{name: "heartbeat resets the clock", fire: 10 * time.Minute, heartbeats: 2, wantError: "States.HeartbeatTimeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn, tokens := tokenCatcher()
			ft := newFakeTime()
			e := newEngine(t, newInvoker(map[string]fnFunc{"payment": fn}), ft)
			x := startCallback(t, e, tokens)
			tok := recvToken(t, tokens)
			timers := map[time.Duration]chan time.Time{}
			collect := func(n int) {
				t.Helper()
				for len(timers) < n {
					select {
					case r := <-ft.requests:
						timers[r.d] = r.ch
					case <-time.After(5 * time.Second):
						t.Fatalf("only timers %v were started", ft.durations())
					}
				}
			}
			collect(2) // the task timeout and the first heartbeat clock
			for i := 0; i < tt.heartbeats; i++ {
				if err := e.SendTaskHeartbeat(tok); err != nil {
					t.Fatal(err)
				}
				// Each heartbeat starts a fresh heartbeat clock; the stale one must not fire.
				old := timers[10*time.Minute]
				delete(timers, 10*time.Minute)
				collect(2)
				old <- time.Time{}
			}
			timers[tt.fire] <- time.Time{}
			info := waitFor(t, e, x)
			if info.Status != StatusFailed || info.Error != tt.wantError {
				t.Fatalf("got %s %s, want FAILED %s", info.Status, info.Error, tt.wantError)
			}
			wantHeartbeatClocks := 1 + tt.heartbeats
			got := 0
			for _, d := range ft.durations() {
				if d == 10*time.Minute {
					got++
				}
			}
			if got != wantHeartbeatClocks {
				t.Fatalf("%d heartbeat clocks started, want %d", got, wantHeartbeatClocks)
			}
			var ae *APIError
			if err := e.SendTaskSuccess(tok, `{}`); !errors.As(err, &ae) || ae.Code != "TaskTimedOut" {
				t.Fatalf("late success: %v, want TaskTimedOut", err)
			}
		})
	}
}

func TestSendTaskErrors(t *testing.T) {
	e := newEngine(t, nil, nil)
	var ae *APIError
	if err := e.SendTaskSuccess("not-a-token", `{}`); !errors.As(err, &ae) || ae.Code != "InvalidToken" {
		t.Fatalf("malformed token: %v, want InvalidToken", err)
	}
	if err := e.SendTaskHeartbeat(newToken()); !errors.As(err, &ae) || ae.Code != "TaskDoesNotExist" {
		t.Fatalf("unknown token: %v, want TaskDoesNotExist", err)
	}
	if err := e.SendTaskSuccess(newToken(), `{`); !errors.As(err, &ae) || ae.Code != "InvalidOutput" {
		t.Fatalf("bad output: %v, want InvalidOutput", err)
	}
}

func TestParallel(t *testing.T) {
	inv := newInvoker(map[string]fnFunc{
		"a":    returns(`"A"`),
		"b":    returns(`"B"`),
		"boom": func(context.Context, []byte) ([]byte, error) { return nil, &FunctionError{Type: "Boom", Message: "x"} },
		"slow": blocks,
	})
	task := func(fn string) string {
		return fmt.Sprintf(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:eu-west-1:111122223333:function:%s","End":true}}}`, fn)
	}
	tests := []struct {
		name, branches, extra, wantStatus, wantOutput, wantError string
	}{
		{name: "outputs in branch order", branches: task("a") + "," + task("b"), wantStatus: StatusSucceeded, wantOutput: `["A","B"]`},
		{name: "input shared and untouched", branches: `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":1,"ResultPath":"$.x","End":true}}},{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`,
			wantStatus: StatusSucceeded, wantOutput: `[{"in":0,"x":1},{"in":0}]`},
		{name: "a failing branch fails the state and stops the others", branches: task("boom") + "," + task("slow"), wantStatus: StatusFailed, wantError: "Boom"},
		{name: "failure caught", branches: task("boom"), extra: `,"Catch":[{"ErrorEquals":["Boom"],"Next":"C"}]`, wantStatus: StatusSucceeded, wantOutput: `{"Error":"Boom","Cause":"{\"errorMessage\":\"x\",\"errorType\":\"Boom\"}"}`},
		{name: "ResultSelector", branches: task("a") + "," + task("b"), extra: `,"ResultSelector":{"first.$":"$[0]"}`, wantStatus: StatusSucceeded, wantOutput: `{"first":"A"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, inv, nil)
			def := fmt.Sprintf(`{"StartAt":"Par","States":{"Par":{"Type":"Parallel","Branches":[%s],"Next":"C"%s},"C":{"Type":"Pass","End":true}}}`, tt.branches, tt.extra)
			info := runDef(t, e, def, `{"in":0}`)
			if info.Status != tt.wantStatus || info.Error != tt.wantError {
				t.Fatalf("got %s %s (%s), want %s %s", info.Status, info.Error, info.Cause, tt.wantStatus, tt.wantError)
			}
			if tt.wantOutput != "" && !jsonEqual(t, info.Output, tt.wantOutput) {
				t.Fatalf("output %s, want %s", info.Output, tt.wantOutput)
			}
		})
	}
}

func TestMap(t *testing.T) {
	var running, peak atomic.Int32
	inv := newInvoker(map[string]fnFunc{
		"double": func(_ context.Context, p []byte) ([]byte, error) {
			n := running.Add(1)
			defer running.Add(-1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond) // give other iterations a chance to overlap
			var in struct{ Qty int }
			if err := json.Unmarshal(p, &in); err != nil {
				return nil, err
			}
			if in.Qty < 0 {
				return nil, &FunctionError{Type: "Qty.Negative", Message: "negative"}
			}
			return []byte(fmt.Sprint(in.Qty * 2)), nil
		},
	})
	proc := `{"StartAt":"D","States":{"D":{"Type":"Task","Resource":"arn:aws:lambda:eu-west-1:111122223333:function:double","End":true}}}`
	tests := []struct {
		name, fields, input, wantStatus, wantOutput, wantError string
		maxPeak                                                int32
	}{
		{name: "ItemsPath and ItemProcessor", fields: `"ItemsPath":"$.lines","ItemProcessor":` + proc,
			input: `{"lines":[{"qty":1},{"qty":2},{"qty":3}]}`, wantStatus: StatusSucceeded, wantOutput: `[2,4,6]`},
		{name: "ItemSelector with Map.Item context", fields: `"ItemsPath":"$.lines","ItemSelector":{"qty.$":"$$.Map.Item.Value.qty","idx.$":"$$.Map.Item.Index","tx.$":"$.tx"},"Iterator":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`,
			input: `{"tx":"t1","lines":[{"qty":1},{"qty":5}]}`, wantStatus: StatusSucceeded, wantOutput: `[{"qty":1,"idx":0,"tx":"t1"},{"qty":5,"idx":1,"tx":"t1"}]`},
		{name: "legacy Parameters as item selector", fields: `"ItemsPath":"$.lines","Parameters":{"qty.$":"$$.Map.Item.Index"},"Iterator":` + proc,
			input: `{"lines":["a","b","c"]}`, wantStatus: StatusSucceeded, wantOutput: `[0,2,4]`},
		{name: "MaxConcurrency 1 runs one at a time", fields: `"ItemsPath":"$.lines","MaxConcurrency":1,"ItemProcessor":` + proc,
			input: `{"lines":[{"qty":1},{"qty":2},{"qty":3},{"qty":4}]}`, wantStatus: StatusSucceeded, wantOutput: `[2,4,6,8]`, maxPeak: 1},
		{name: "empty array", fields: `"ItemsPath":"$.lines","ItemProcessor":` + proc,
			input: `{"lines":[]}`, wantStatus: StatusSucceeded, wantOutput: `[]`},
		{name: "failing iteration fails the Map", fields: `"ItemsPath":"$.lines","ItemProcessor":` + proc,
			input: `{"lines":[{"qty":1},{"qty":-1}]}`, wantStatus: StatusFailed, wantError: "Qty.Negative"},
		{name: "items not an array", fields: `"ItemsPath":"$.lines","ItemProcessor":` + proc,
			input: `{"lines":{"qty":1}}`, wantStatus: StatusFailed, wantError: "States.Runtime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peak.Store(0)
			e := newEngine(t, inv, nil)
			def := fmt.Sprintf(`{"StartAt":"M","States":{"M":{"Type":"Map",%s,"End":true}}}`, tt.fields)
			info := runDef(t, e, def, tt.input)
			if info.Status != tt.wantStatus || info.Error != tt.wantError {
				t.Fatalf("got %s %s (%s), want %s %s", info.Status, info.Error, info.Cause, tt.wantStatus, tt.wantError)
			}
			if tt.wantOutput != "" && !jsonEqual(t, info.Output, tt.wantOutput) {
				t.Fatalf("output %s, want %s", info.Output, tt.wantOutput)
			}
			if tt.maxPeak > 0 && peak.Load() > tt.maxPeak {
				t.Fatalf("%d iterations ran at once, MaxConcurrency is %d", peak.Load(), tt.maxPeak)
			}
		})
	}
}

func TestWait(t *testing.T) {
	tests := []struct {
		name, fields string
		want         time.Duration
	}{
		{name: "Seconds", fields: `"Seconds":90`, want: 90 * time.Second},
		{name: "SecondsPath", fields: `"SecondsPath":"$.delay"`, want: 5 * time.Second},
		{name: "Timestamp", fields: `"Timestamp":"2026-03-01T12:10:00Z"`, want: 10 * time.Minute},
		{name: "TimestampPath", fields: `"TimestampPath":"$.until"`, want: time.Hour},
		{name: "Timestamp in the past does not wait", fields: `"Timestamp":"2020-01-01T00:00:00Z"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFakeTime()
			ft.fireAll = true
			e := newEngine(t, nil, ft)
			def := fmt.Sprintf(`{"StartAt":"W","States":{"W":{"Type":"Wait",%s,"Next":"S"},"S":{"Type":"Succeed"}}}`, tt.fields)
			info := runDef(t, e, def, `{"delay":5,"until":"2026-03-01T13:00:00Z"}`)
			if info.Status != StatusSucceeded {
				t.Fatalf("status %s %s %s", info.Status, info.Error, info.Cause)
			}
			var want []time.Duration
			if tt.want > 0 {
				want = []time.Duration{tt.want}
			}
			if got := ft.durations(); !reflect.DeepEqual(got, want) {
				t.Fatalf("waited %v, want %v", got, want)
			}
			if info.StateTransitions != 2 {
				t.Fatalf("%d transitions, want 2 (Wait, Succeed)", info.StateTransitions)
			}
		})
	}
}

func TestExecutionTimeoutAndClose(t *testing.T) {
	ft := newFakeTime()
	ft.fire[time.Minute] = true
	e := newEngine(t, newInvoker(map[string]fnFunc{"slow": blocks}), ft)
	def := `{"StartAt":"T","TimeoutSeconds":60,"States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"slow"},"End":true}}}`
	info := runDef(t, e, def, `{}`)
	if info.Status != StatusTimedOut || info.Error != "States.Timeout" {
		t.Fatalf("got %s %s, want TIMED_OUT States.Timeout", info.Status, info.Error)
	}

	e2 := New(Options{Invoker: newInvoker(map[string]fnFunc{"slow": blocks})})
	arn, err := e2.CreateStateMachine("m", []byte(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"slow"},"End":true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	x, _, err := e2.StartExecution(arn, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e2.Close(); err != nil {
		t.Fatal(err)
	}
	if info, _ := e2.DescribeExecution(x); info.Status != StatusAborted {
		t.Fatalf("after Close: %s, want ABORTED", info.Status)
	}
	if _, _, err := e2.StartExecution(arn, "", ""); err == nil {
		t.Fatal("StartExecution after Close succeeded")
	}
}

// Close lets a Lambda invocation in flight finish (up to CloseGrace) before it aborts
// the executions: in AWS nothing cancels a running invocation but its own timeout, and
// a local cloud that stopped cancelled its functions mid-call (seen in a bench as an
// e-mail failed with "context canceled" and its claim never given back). A function
// still running when the grace is over is cancelled, as before.
func TestCloseLetsInvocationsFinish(t *testing.T) {
	const grace = 10 * time.Second
	tests := []struct {
		name        string
		graceOver   bool
		wantStatus  string
		wantCancels bool
	}{
		// The execution may end either way: Close aborts it once the function returned,
		// perhaps before its task recorded the result. What counts is the function's call.
		{name: "finishes within the grace"},
		{name: "still running when the grace is over", graceOver: true, wantStatus: StatusAborted, wantCancels: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFakeTime()
			ft.fire[grace] = tt.graceOver
			started, release, ended := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			inv := newInvoker(map[string]fnFunc{"mail": func(ctx context.Context, _ []byte) ([]byte, error) {
				close(started)
				select {
				case <-release:
					ended <- nil
					return []byte(`"sent"`), nil
				case <-ctx.Done():
					ended <- ctx.Err()
					return nil, ctx.Err()
				}
			}})
			e := New(Options{Invoker: inv, After: ft.After, CloseGrace: grace})
			arn := mustCreate(t, e, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"mail"},"End":true}}}`)
			probe := mustCreate(t, e, `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
			x, _, err := e.StartExecution(arn, "", "{}")
			if err != nil {
				t.Fatal(err)
			}
			<-started
			closed := make(chan error, 1)
			go func() { closed <- e.Close() }()
			if !tt.graceOver {
				// Released once Close has begun (it refuses new executions first).
				for {
					if _, _, err := e.StartExecution(probe, "", "{}"); err != nil {
						break
					}
				}
				close(release)
			}
			if err := <-closed; err != nil {
				t.Fatal(err)
			}
			if err := <-ended; (err != nil) != tt.wantCancels {
				t.Fatalf("the function ended with %v; want cancelled: %v", err, tt.wantCancels)
			}
			if info, _ := e.DescribeExecution(x); tt.wantStatus != "" && info.Status != tt.wantStatus {
				t.Fatalf("after Close: %s, want %s", info.Status, tt.wantStatus)
			}
		})
	}
}
