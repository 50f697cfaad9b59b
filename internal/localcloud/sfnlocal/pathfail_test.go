package sfnlocal

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPathFailuresFailTheExecution: a path that selects nothing in a state's input, in
// any field of any kind of state or integration, fails the execution at once with
// States.Runtime, as AWS does: no Retry (not even on States.ALL) runs it again, no
// Catch sends it elsewhere, no function is invoked and no child execution is started
// with a half-built request, and the cause names the state and the path.
func TestPathFailuresFailTheExecution(t *testing.T) {
	// caught wraps a state S in a machine whose Retry and Catch would take any other
	// error: a retry asks the clock for its 7 s back-off, a catch ends in Caught.
	const policies = `,"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":7}],"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Caught"}]`
	machine := func(s string) string {
		return `{"StartAt":"S","States":{"S":` + s + `,"Caught":{"Type":"Succeed"}}}`
	}
	alone := func(s string) string { return `{"StartAt":"S","States":{"S":` + s + `}}` }
	invoke := func(extra string) string {
		return machine(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f","Payload":{"txid.$":"$.txid"}}` + extra + policies + `,"End":true}`)
	}
	start := func(resource string) string {
		token := ""
		if strings.HasSuffix(resource, ".waitForTaskToken") {
			token = `,"token.$":"$$.Task.Token"`
		}
		return machine(`{"Type":"Task","Resource":"` + resource + `","Parameters":{"StateMachineArn":"CHILD","Input":{"txid.$":"$.txid","order.$":"$.order"` + token + `}}` + policies + `,"End":true}`)
	}
	const (
		inS        = "An error occurred while executing the state 'S' (entered at the event id #2). "
		orderField = "The JSONPath '$.order' specified for the field 'order.$' could not be found in the input '{\"items\":[1,2],\"n\":\"x\",\"txid\":\"tx-1\"}'"
		noOrder    = "Invalid path '$.order' : No results for path: $['order']"
	)
	tests := []struct {
		name, def, wantCause string
		wantCalls            int // invocations of function f
	}{
		{name: "Pass Parameters", def: alone(`{"Type":"Pass","Parameters":{"order.$":"$.order"},"End":true}`), wantCause: inS + orderField},
		{name: "Pass InputPath", def: alone(`{"Type":"Pass","InputPath":"$.order","End":true}`), wantCause: inS + noOrder},
		{name: "Pass OutputPath", def: alone(`{"Type":"Pass","OutputPath":"$.order","End":true}`), wantCause: inS + noOrder},
		{name: "Pass Parameters, a context path", def: alone(`{"Type":"Pass","Parameters":{"x.$":"$$.Execution.Nope"},"End":true}`),
			wantCause: inS + "The JSONPath '$$.Execution.Nope' specified for the field 'x.$' could not be found in the input"},
		{name: "Pass Parameters, an intrinsic's argument", def: alone(`{"Type":"Pass","Parameters":{"s.$":"States.Format('{}', $.order)"},"End":true}`),
			wantCause: inS + "The JSONPath '$.order' specified for the field 's.$' could not be found"},
		{name: "lambda:invoke Parameters", def: invoke(`,"InputPath":"$"`), wantCause: "", wantCalls: 1}, // control: the function runs
		{name: "lambda:invoke Payload", def: machine(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f","Payload":{"order.$":"$.order"}}` + policies + `,"End":true}`),
			wantCause: inS + orderField},
		{name: "lambda:invoke InputPath", def: invoke(`,"InputPath":"$.order"`), wantCause: inS + noOrder},
		{name: "lambda:invoke ResultSelector", def: invoke(`,"ResultSelector":{"done.$":"$.Payload.done"}`), wantCalls: 1,
			wantCause: inS + "The JSONPath '$.Payload.done' specified for the field 'done.$' could not be found in the input"},
		{name: "lambda:invoke OutputPath", def: invoke(`,"OutputPath":"$.order"`), wantCalls: 1, wantCause: inS + noOrder},
		{name: "lambda:invoke TimeoutSecondsPath", def: invoke(`,"TimeoutSecondsPath":"$.order"`), wantCause: inS + noOrder},
		{name: "lambda:invoke.waitForTaskToken Parameters", def: machine(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"f","Payload":{"order.$":"$.order","token.$":"$$.Task.Token"}}` + policies + `,"End":true}`),
			wantCause: inS + orderField},
		{name: "function ARN Parameters", def: machine(`{"Type":"Task","Resource":"arn:aws:lambda:eu-west-1:111122223333:function:f","Parameters":{"order.$":"$.order"}` + policies + `,"End":true}`),
			wantCause: inS + orderField},
		{name: "startExecution Parameters", def: start("arn:aws:states:::states:startExecution"), wantCause: inS + orderField},
		{name: "startExecution.sync Parameters", def: start("arn:aws:states:::states:startExecution.sync"), wantCause: inS + orderField},
		{name: "startExecution.sync:2 Parameters", def: start("arn:aws:states:::states:startExecution.sync:2"), wantCause: inS + orderField},
		{name: "startExecution.waitForTaskToken Parameters", def: start("arn:aws:states:::states:startExecution.waitForTaskToken"), wantCause: inS + orderField},
		{name: "aws-sdk:sfn:sendTaskSuccess Parameters", def: machine(`{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sfn:sendTaskSuccess","Parameters":{"TaskToken.$":"$.token","Output":"{}"}` + policies + `,"End":true}`),
			wantCause: inS + "The JSONPath '$.token' specified for the field 'TaskToken.$' could not be found"},
		{name: "Choice Variable", def: machine(`{"Type":"Choice","Choices":[{"Variable":"$.order.total","NumericGreaterThan":0,"Next":"Caught"}],"Default":"Caught"}`),
			wantCause: inS + "Invalid path '$.order.total': The choice state's condition path references an invalid value."},
		{name: "Choice Variable inside Not", def: machine(`{"Type":"Choice","Choices":[{"Not":{"Variable":"$.order","IsNull":true},"Next":"Caught"}],"Default":"Caught"}`),
			wantCause: inS + "Invalid path '$.order'"},
		{name: "Choice ...Path operand", def: machine(`{"Type":"Choice","Choices":[{"Variable":"$.n","StringEqualsPath":"$.order","Next":"Caught"}],"Default":"Caught"}`),
			wantCause: inS + noOrder},
		{name: "Choice InputPath", def: machine(`{"Type":"Choice","InputPath":"$.order","Choices":[{"Variable":"$.n","IsPresent":true,"Next":"Caught"}],"Default":"Caught"}`),
			wantCause: inS + noOrder},
		{name: "Wait SecondsPath", def: alone(`{"Type":"Wait","SecondsPath":"$.order","End":true}`), wantCause: inS + noOrder},
		{name: "Wait TimestampPath", def: alone(`{"Type":"Wait","TimestampPath":"$.order","End":true}`), wantCause: inS + noOrder},
		{name: "Wait InputPath", def: alone(`{"Type":"Wait","Seconds":0,"InputPath":"$.order","End":true}`), wantCause: inS + noOrder},
		{name: "Succeed OutputPath", def: alone(`{"Type":"Succeed","OutputPath":"$.order"}`), wantCause: inS + noOrder},
		{name: "Fail CausePath", def: alone(`{"Type":"Fail","Error":"CheckoutFailed","CausePath":"$.order"}`), wantCause: inS + noOrder},
		{name: "Parallel Parameters", def: machine(`{"Type":"Parallel","Parameters":{"order.$":"$.order"},"Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}]` + policies + `,"End":true}`),
			wantCause: inS + orderField},
		{name: "Parallel ResultSelector", def: machine(`{"Type":"Parallel","ResultSelector":{"order.$":"$[0].order"},"Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}]` + policies + `,"End":true}`),
			wantCause: inS + "The JSONPath '$[0].order' specified for the field 'order.$' could not be found"},
		{name: "a state of a Parallel branch", def: machine(`{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","InputPath":"$.order","End":true}}}]` + policies + `,"End":true}`),
			wantCause: "An error occurred while executing the state 'B' (entered at the event id #4). " + noOrder},
		{name: "Map ItemsPath", def: machine(`{"Type":"Map","ItemsPath":"$.order","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}}` + policies + `,"End":true}`),
			wantCause: inS + noOrder},
		{name: "Map ItemSelector", def: machine(`{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"order.$":"$.order"},"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}}` + policies + `,"End":true}`),
			wantCause: inS + orderField},
		{name: "Map ResultSelector", def: machine(`{"Type":"Map","ItemsPath":"$.items","ResultSelector":{"order.$":"$.order"},"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}}` + policies + `,"End":true}`),
			wantCause: inS + "The JSONPath '$.order' specified for the field 'order.$' could not be found in the input '[1,2]'"},
		{name: "a state of a Map iteration", def: machine(`{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":1,"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","Parameters":{"order.$":"$.order"},"End":true}}}` + policies + `,"End":true}`),
			wantCause: "An error occurred while executing the state 'I' (entered at the event id #"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFakeTime()
			inv := newInvoker(map[string]fnFunc{"f": returns(`{"ok":true}`)})
			e := newEngine(t, inv, ft)
			child := mustCreate(t, e, `{"StartAt":"C","States":{"C":{"Type":"Succeed"}}}`)
			info := runDef(t, e, strings.ReplaceAll(tt.def, "CHILD", child), `{"txid":"tx-1","items":[1,2],"n":"x"}`)
			if tt.wantCause == "" { // the control case: the same machine runs when its paths resolve
				if info.Status != StatusSucceeded {
					t.Fatalf("control run %s %s %q", info.Status, info.Error, info.Cause)
				}
			} else if info.Status != StatusFailed || info.Error != "States.Runtime" || !strings.Contains(info.Cause, tt.wantCause) {
				t.Fatalf("got %s %s %q,\nwant FAILED States.Runtime with cause containing %q", info.Status, info.Error, info.Cause, tt.wantCause)
			}
			if n := len(inv.calls["f"]); n != tt.wantCalls {
				t.Fatalf("function invoked %d times, want %d", n, tt.wantCalls)
			}
			if tt.wantCause != "" && slices.Contains(ft.durations(), 7*time.Second) {
				t.Fatalf("a States.Runtime failure was retried: back-offs asked %v", ft.durations())
			}
			if n := len(e.Executions(child)); n != 0 {
				t.Fatalf("%d child executions started, want none", n)
			}
		})
	}
}

// TestCallbackChildFailingOnAPathWaitsForTheTimeout: a child started with
// startExecution.waitForTaskToken that fails on a path (States.Runtime, which its own
// Catch cannot turn into a SendTaskFailure) never answers the token. AWS does not tie a
// callback task to the child it started, so the parent waits for its TimeoutSeconds and
// then fails with States.Timeout, which its Catch may handle. Without a timeout it
// would wait as long as AWS lets a Standard execution run: a definition that starts a
// callback child must give the task a timeout, as the checkout's Payment state does.
func TestCallbackChildFailingOnAPathWaitsForTheTimeout(t *testing.T) {
	tests := []struct {
		name, timeout, wantStatus, wantError string
	}{
		{name: "the parent's timeout ends the wait", timeout: `,"TimeoutSeconds":30,"Catch":[{"ErrorEquals":["PaymentRefused"],"Next":"Unpaid"}]`, wantStatus: StatusFailed, wantError: "States.Timeout"},
		{name: "a Catch on States.Timeout handles it", timeout: `,"TimeoutSeconds":30,"Catch":[{"ErrorEquals":["States.Timeout"],"ResultPath":"$.error","Next":"Unpaid"}]`, wantStatus: StatusSucceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFakeTime()
			inv := newInvoker(map[string]fnFunc{"f": returns(`{}`)})
			e := newEngine(t, inv, ft)
			// The child's Catch on States.ALL would answer the token for any other error.
			child := createTyped(t, e, "prepare", TypeExpress, "", `{"StartAt":"Produce","States":{
				"Produce":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f","Payload":{"order.$":"$.order"}},
					"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Report"}],"End":true},
				"Report":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sfn:sendTaskFailure","Parameters":{"TaskToken.$":"$.token","Error":"ProductionFailed"},"End":true}}}`)
			parent := mustCreate(t, e, `{"StartAt":"Payment","States":{
				"Payment":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.waitForTaskToken",
					"Parameters":{"StateMachineArn":"`+child+`","Input":{"txid.$":"$.txid","token.$":"$$.Task.Token"}}`+tt.timeout+`,"End":true},
				"Unpaid":{"Type":"Succeed"}}}`)
			x, _, err := e.StartExecution(parent, "tx-1", `{"txid":"tx-1"}`)
			if err != nil {
				t.Fatal(err)
			}
			// The parent still waits once its child has failed; then its 30 s elapse.
			var childRun string
			for deadline := time.Now().Add(10 * time.Second); childRun == ""; time.Sleep(time.Millisecond) {
				if runs := e.Executions(child); len(runs) > 0 {
					childRun = runs[0].ExecutionArn
				} else if time.Now().After(deadline) {
					t.Fatal("the parent never started its child")
				}
			}
			waitFor(t, e, childRun)
			if info, _ := e.DescribeExecution(x); info.Status != StatusRunning {
				t.Fatalf("parent %s before its timeout, want RUNNING", info.Status)
			}
			for r := range ft.requests {
				if r.d == 30*time.Second {
					r.ch <- time.Time{}
					break
				}
			}
			info := waitFor(t, e, x)
			if info.Status != tt.wantStatus || info.Error != tt.wantError {
				t.Fatalf("parent %s %s %q, want %s %s", info.Status, info.Error, info.Cause, tt.wantStatus, tt.wantError)
			}
			runs := e.Executions(child)
			if len(runs) != 1 || runs[0].Status != StatusFailed || runs[0].Error != "States.Runtime" ||
				!strings.Contains(runs[0].Cause, "The JSONPath '$.order' specified for the field 'order.$' could not be found") {
				t.Fatalf("child runs %+v, want one FAILED with States.Runtime on $.order", runs)
			}
			if n := len(inv.calls["f"]); n != 0 {
				t.Fatalf("the child invoked its function %d times, want 0", n)
			}
		})
	}
}
