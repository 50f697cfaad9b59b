package sfnlocal

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// createTyped registers def as a machine of typ run by role.
func createTyped(t *testing.T, e *Engine, name, typ, role, def string) string {
	t.Helper()
	arn, err := e.CreateMachine(Machine{Name: name, Definition: []byte(def), RoleArn: role, Type: typ})
	if err != nil {
		t.Fatalf("CreateMachine %s: %v", name, err)
	}
	return arn
}

func TestExpressRefusesWaitingPatterns(t *testing.T) {
	task := func(res string) string {
		return `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + res + `","Parameters":{"FunctionName":"f","StateMachineArn":"arn:aws:states:eu-west-1:111122223333:stateMachine:c"},"End":true}}}`
	}
	tests := []struct {
		name, def string
		refused   bool
	}{
		{"lambda request response", task("arn:aws:states:::lambda:invoke"), false},
		{"start request response", task("arn:aws:states:::states:startExecution"), false},
		{"send task failure", task("arn:aws:states:::aws-sdk:sfn:sendTaskFailure"), false},
		{"lambda callback", task("arn:aws:states:::lambda:invoke.waitForTaskToken"), true},
		{"start callback", task("arn:aws:states:::states:startExecution.waitForTaskToken"), true},
		{"start sync", task("arn:aws:states:::states:startExecution.sync"), true},
		{"start sync:2", task("arn:aws:states:::states:startExecution.sync:2"), true},
		{"sync inside a Parallel branch", `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[` +
			strings.TrimSuffix(strings.TrimPrefix(task("arn:aws:states:::states:startExecution.sync:2"), ""), "") + `]}}}`, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, nil, nil)
			_, err := e.CreateMachine(Machine{Name: "x" + strconv.Itoa(i), Definition: []byte(tt.def), Type: TypeExpress})
			var ae *APIError
			switch {
			case tt.refused && (!errors.As(err, &ae) || ae.Code != "InvalidDefinition" || !strings.Contains(ae.Message, "Request Response")):
				t.Fatalf("Express machine created with %v, want InvalidDefinition naming the pattern", err)
			case !tt.refused && err != nil:
				t.Fatalf("Express machine refused: %v", err)
			}
			// The same definition is a valid Standard machine.
			if _, err := e.CreateMachine(Machine{Name: "s" + strconv.Itoa(i), Definition: []byte(tt.def)}); err != nil {
				t.Fatalf("Standard machine refused: %v", err)
			}
		})
	}
}

// authLog records the integrations' authorization requests and denies the listed actions.
type authLog struct {
	mu     sync.Mutex
	deny   map[string]bool
	checks []string
}

func (a *authLog) authorize(_ context.Context, role, action, resource string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.checks = append(a.checks, role+" "+action+" "+resource)
	if a.deny[action] {
		return &ServiceError{Name: "StepFunctions.AWSStepFunctionsException", Cause: "not authorized to perform: " + action}
	}
	return nil
}

func (a *authLog) list() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.checks...)
}

const (
	parentRole = "arn:aws:iam::111122223333:role/parent"
	childRole  = "arn:aws:iam::111122223333:role/child"
)

// nestedEngine is an engine with an Express child machine "child" (ChildDef) and a
// Standard parent running one task of resource on it.
func nestedEngine(t *testing.T, auth *authLog, ft *fakeTime, fns map[string]fnFunc, childDef, resource, parentExtra string) (*Engine, string) {
	t.Helper()
	opts := Options{Invoker: newInvoker(fns), Now: fixedNow, Region: "eu-west-1", AccountID: "111122223333", Authorize: auth.authorize}
	if ft != nil {
		opts.After = ft.After
	}
	e := New(opts)
	t.Cleanup(func() { _ = e.Close() })
	child := createTyped(t, e, "child", TypeExpress, childRole, childDef)
	input := `{"txid.$":"$.txid"}`
	if strings.HasSuffix(resource, ".waitForTaskToken") {
		input = `{"txid.$":"$.txid","token.$":"$$.Task.Token"}`
	}
	parent := createTyped(t, e, "parent", TypeStandard, parentRole, `{"StartAt":"Run","States":{"Run":{"Type":"Task",
		"Resource":"`+resource+`","Parameters":{"StateMachineArn":"`+child+`","Input":`+input+`}`+parentExtra+`,"End":true}}}`)
	return e, parent
}

// runOrder runs the parent for order tx-1 and waits for its end.
func runOrder(t *testing.T, e *Engine, parent string) (string, ExecutionInfo) {
	t.Helper()
	x, _, err := e.StartExecution(parent, "tx-1", `{"txid":"tx-1"}`)
	if err != nil {
		t.Fatal(err)
	}
	return x, waitFor(t, e, x)
}

const succeedChild = `{"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
	"Parameters":{"FunctionName":"work","Payload":{"txid.$":"$.txid"}},"ResultSelector":{"done.$":"$.Payload.done"},"End":true}}}`

const failChild = `{"StartAt":"Broken","States":{"Broken":{"Type":"Fail","Error":"CheckoutFailed","Cause":"See the order's trace."}}}`

func TestStartExecutionSync(t *testing.T) {
	tests := []struct {
		name, resource, child string
		wantStatus, wantError string
		check                 func(t *testing.T, output map[string]any, cause map[string]any)
	}{
		{
			name: "sync:2 returns the child's output as JSON", resource: "arn:aws:states:::states:startExecution.sync:2", child: succeedChild,
			wantStatus: StatusSucceeded,
			check: func(t *testing.T, out, _ map[string]any) {
				if out["Status"] != "SUCCEEDED" || !strings.Contains(out["ExecutionArn"].(string), ":express:child:") {
					t.Fatalf("output %v", out)
				}
				if o, ok := out["Output"].(map[string]any); !ok || o["done"] != true {
					t.Fatalf("Output %#v, want the child's output as an object", out["Output"])
				}
				if in, ok := out["Input"].(map[string]any); !ok || in["txid"] != "tx-1" {
					t.Fatalf("Input %#v, want the child's input as an object", out["Input"])
				}
			},
		},
		{
			name: "sync returns it as a string", resource: "arn:aws:states:::states:startExecution.sync", child: succeedChild,
			wantStatus: StatusSucceeded,
			check: func(t *testing.T, out, _ map[string]any) {
				if out["Output"] != `{"done":true}` {
					t.Fatalf("Output %#v, want the JSON text", out["Output"])
				}
			},
		},
		{
			name: "a failed child fails the task with States.TaskFailed and its error in the cause", resource: "arn:aws:states:::states:startExecution.sync:2", child: failChild,
			wantStatus: StatusFailed, wantError: "States.TaskFailed",
			check: func(t *testing.T, _, cause map[string]any) {
				if cause["Status"] != "FAILED" || cause["Error"] != "CheckoutFailed" || cause["Cause"] != "See the order's trace." {
					t.Fatalf("cause %v", cause)
				}
			},
		},
		{
			name: "request response returns the execution's ARN and start", resource: "arn:aws:states:::states:startExecution", child: succeedChild,
			wantStatus: StatusSucceeded,
			check: func(t *testing.T, out, _ map[string]any) {
				if !strings.Contains(out["ExecutionArn"].(string), ":express:child:") || out["StartDate"] == nil || out["Status"] != nil {
					t.Fatalf("output %v", out)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth := &authLog{}
			e, parent := nestedEngine(t, auth, nil, map[string]fnFunc{"work": returns(`{"done":true}`)}, tt.child, tt.resource, "")
			_, info := runOrder(t, e, parent)
			if info.Status != tt.wantStatus || info.Error != tt.wantError {
				t.Fatalf("parent %s %s (%s), want %s %s", info.Status, info.Error, info.Cause, tt.wantStatus, tt.wantError)
			}
			var out, cause map[string]any
			if info.Output != "" {
				_ = json.Unmarshal([]byte(info.Output), &out)
			}
			if info.Cause != "" {
				if err := json.Unmarshal([]byte(info.Cause), &cause); err != nil {
					t.Fatalf("cause is not the child's description: %s", info.Cause)
				}
			}
			tt.check(t, out, cause)
			// The child is an Express execution: one run, seen by the engine (as in
			// CloudWatch Logs), not billed by transitions in the parent.
			runs := e.Executions(strings.Replace(parent, ":parent", ":child", 1))
			if len(runs) != 1 || runs[0].Type != TypeExpress {
				t.Fatalf("child runs %+v", runs)
			}
			if info.StateTransitions != 1 {
				t.Fatalf("parent made %d transitions, want 1", info.StateTransitions)
			}
		})
	}
}

func TestNestedCallsAreAuthorizedAsTheirRoles(t *testing.T) {
	rule := "arn:aws:events:eu-west-1:111122223333:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"
	child := "arn:aws:states:eu-west-1:111122223333:stateMachine:child"
	tests := []struct {
		name, resource string
		deny           string
		wantError      string
		wantChecks     []string
	}{
		{
			name: "sync:2 asks for the start, the managed rule and the child's description", resource: "arn:aws:states:::states:startExecution.sync:2",
			wantChecks: []string{
				parentRole + " states:StartExecution " + child,
				parentRole + " events:PutTargets " + rule, parentRole + " events:PutRule " + rule, parentRole + " events:DescribeRule " + rule,
				parentRole + " states:DescribeExecution arn:aws:states:eu-west-1:111122223333:execution:child:",
			},
		},
		{
			name: "request response asks for the start only", resource: "arn:aws:states:::states:startExecution",
			wantChecks: []string{parentRole + " states:StartExecution " + child},
		},
		{
			name: "a denied start fails the task with the service's error", resource: "arn:aws:states:::states:startExecution.sync:2",
			deny: "states:StartExecution", wantError: "StepFunctions.AWSStepFunctionsException",
			wantChecks: []string{parentRole + " states:StartExecution " + child},
		},
		{
			name: "sync without the managed rule fails before starting the child", resource: "arn:aws:states:::states:startExecution.sync:2",
			deny: "events:PutRule", wantError: "StepFunctions.AWSStepFunctionsException",
			wantChecks: []string{parentRole + " states:StartExecution " + child, parentRole + " events:PutTargets " + rule, parentRole + " events:PutRule " + rule},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth := &authLog{deny: map[string]bool{tt.deny: true}}
			var roles []string
			var mu sync.Mutex
			work := func(ctx context.Context, _ []byte) ([]byte, error) {
				mu.Lock()
				roles = append(roles, ExecutionRole(ctx))
				mu.Unlock()
				return []byte(`{"done":true}`), nil
			}
			e, parent := nestedEngine(t, auth, nil, map[string]fnFunc{"work": work}, succeedChild, tt.resource, "")
			_, info := runOrder(t, e, parent)
			if info.Error != tt.wantError {
				t.Fatalf("parent %s %s, want error %q", info.Status, info.Error, tt.wantError)
			}
			got := auth.list()
			for i := range got {
				// The child's execution name is generated: compare up to it.
				if i < len(tt.wantChecks) && strings.HasSuffix(tt.wantChecks[i], ":execution:child:") {
					got[i] = got[i][:len(tt.wantChecks[i])]
				}
			}
			if !slices.Equal(got, tt.wantChecks) {
				t.Fatalf("authorized\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.wantChecks, "\n"))
			}
			if tt.wantError != "" {
				if n := len(e.Executions(child)); tt.deny == "events:PutRule" && n != 0 {
					t.Fatalf("%d child executions started without the managed rule", n)
				}
				return
			}
			// The child's own Lambda call is made as the child's role.
			if tt.resource == "arn:aws:states:::states:startExecution.sync:2" {
				mu.Lock()
				defer mu.Unlock()
				if !slices.Equal(roles, []string{childRole}) {
					t.Fatalf("work invoked as %v, want the child's role", roles)
				}
			}
		})
	}
}

func TestStartExecutionCallback(t *testing.T) {
	sendSuccess := `{"StartAt":"Answer","States":{"Answer":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sfn:sendTaskSuccess",
		"Parameters":{"TaskToken.$":"$.token","Output":"{\"paid\":true}"},"End":true}}}`
	sendFailure := `{"StartAt":"Answer","States":{"Answer":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sfn:sendTaskFailure",
		"Parameters":{"TaskToken.$":"$.token","Error":"ProductionFailed","Cause":"See the order's trace."},"End":true}}}`
	tests := []struct {
		name, child           string
		deny                  string
		wantStatus, wantError string
		wantOutput            string
	}{
		{name: "the child completes the token", child: sendSuccess, wantStatus: StatusSucceeded, wantOutput: `{"paid":true}`},
		{name: "the child fails the token", child: sendFailure, wantStatus: StatusFailed, wantError: "ProductionFailed"},
		{name: "the child's role may not answer: the parent waits until its timeout", child: sendSuccess, deny: "states:SendTaskSuccess",
			wantStatus: StatusFailed, wantError: "States.Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := newFakeTime()
			auth := &authLog{deny: map[string]bool{tt.deny: true}}
			if tt.deny != "" {
				ft.fire[30*time.Second] = true
			}
			e, parent := nestedEngine(t, auth, ft, nil, tt.child, "arn:aws:states:::states:startExecution.waitForTaskToken", `,"TimeoutSeconds":30`)
			x, info := runOrder(t, e, parent)
			if info.Status != tt.wantStatus || info.Error != tt.wantError {
				t.Fatalf("parent %s %s (%s), want %s %s", info.Status, info.Error, info.Cause, tt.wantStatus, tt.wantError)
			}
			if tt.wantOutput != "" && !jsonEqual(t, info.Output, tt.wantOutput) {
				t.Fatalf("output %s, want %s", info.Output, tt.wantOutput)
			}
			if types, _ := e.HistoryEventTypes(x); tt.deny == "" && !slices.Contains(types, "TaskSubmitted") {
				t.Fatalf("history %v lacks TaskSubmitted", types)
			}
		})
	}
}

func TestExpressLimitsAndStops(t *testing.T) {
	waitLong := `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":400,"End":true}}}`
	t.Run("an Express run times out after five minutes whatever its definition says", func(t *testing.T) {
		ft := newFakeTime()
		ft.fire[5*time.Minute] = true
		e, parent := nestedEngine(t, &authLog{}, ft, nil, waitLong, "arn:aws:states:::states:startExecution.sync:2", "")
		_, info := runOrder(t, e, parent)
		var cause map[string]any
		_ = json.Unmarshal([]byte(info.Cause), &cause)
		if info.Error != "States.TaskFailed" || cause["Status"] != StatusTimedOut || cause["Error"] != "States.Timeout" {
			t.Fatalf("parent %s %s", info.Error, info.Cause)
		}
	})
	t.Run("a sync task that times out stops its child", func(t *testing.T) {
		ft := newFakeTime()
		ft.fire[10*time.Second] = true
		e, parent := nestedEngine(t, &authLog{}, ft, nil, waitLong, "arn:aws:states:::states:startExecution.sync:2", `,"TimeoutSeconds":10`)
		if _, info := runOrder(t, e, parent); info.Error != "States.Timeout" {
			t.Fatalf("parent %s %s", info.Status, info.Error)
		}
		child := strings.Replace(parent, ":parent", ":child", 1)
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			runs := e.Executions(child)
			if len(runs) == 1 && runs[0].Status == StatusAborted {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("child runs %+v, want one ABORTED", runs)
			}
		}
	})
}

func TestTaskFailuresIncludeTheRunsStarted(t *testing.T) {
	broken := func(context.Context, []byte) ([]byte, error) {
		return nil, &FunctionError{Type: "Transient", Message: "LMS down"}
	}
	child := `{"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"FunctionName":"work"},"End":true}}}`
	e, parent := nestedEngine(t, &authLog{}, nil, map[string]fnFunc{"work": broken}, child, "arn:aws:states:::states:startExecution.sync:2", "")
	// The nested start names its parent, as the checkout's definition does.
	def := `{"StartAt":"Run","States":{"Run":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2",
		"Parameters":{"StateMachineArn":"` + strings.Replace(parent, ":parent", ":child", 1) + `",
		"Input":{"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$":"$$.Execution.Id"}},"End":true}}}`
	named := createTyped(t, e, "named", TypeStandard, parentRole, def)
	x, _, err := e.StartExecution(named, "tx-1", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, e, x)
	got, err := e.TaskFailures(x)
	if err != nil {
		t.Fatal(err)
	}
	var summary []string
	for _, f := range got {
		summary = append(summary, f.State+" "+f.Error)
	}
	want := []string{"Run States.TaskFailed", "Work Transient"}
	if !slices.Equal(summary, want) {
		t.Fatalf("failures %v, want %v", summary, want)
	}
}
