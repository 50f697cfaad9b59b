package sfnlocal

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

const passDef = `{"StartAt":"Greet","States":{"Greet":{"Type":"Pass","Parameters":{"hello.$":"$.name"},"End":true}}}`

func createViaAPI(t *testing.T, c *sfn.Client, name, def string) string {
	t.Helper()
	out, err := c.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::111122223333:role/sfn"),
	})
	if err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	if out.CreationDate == nil || !out.CreationDate.Equal(testEpoch) {
		t.Fatalf("creation date %v, want %v", out.CreationDate, testEpoch)
	}
	return aws.ToString(out.StateMachineArn)
}

func TestAPIExecutionLifecycle(t *testing.T) {
	e := newEngine(t, nil, nil)
	c := newClient(t, e)
	ctx := context.Background()
	smArn := createViaAPI(t, c, "greeter", passDef)

	start, err := c.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(smArn), Name: aws.String("tx-42"), Input: aws.String(`{"name":"Ada"}`),
	})
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	wantArn := "arn:aws:states:eu-west-1:111122223333:execution:greeter:tx-42"
	if aws.ToString(start.ExecutionArn) != wantArn || !start.StartDate.Equal(testEpoch) {
		t.Fatalf("got %s at %v, want %s at %v", aws.ToString(start.ExecutionArn), start.StartDate, wantArn, testEpoch)
	}
	waitFor(t, e, wantArn)

	desc, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: start.ExecutionArn})
	if err != nil {
		t.Fatalf("DescribeExecution: %v", err)
	}
	if desc.Status != types.ExecutionStatusSucceeded || aws.ToString(desc.Output) != `{"hello":"Ada"}` ||
		aws.ToString(desc.Input) != `{"name":"Ada"}` || aws.ToString(desc.Name) != "tx-42" ||
		aws.ToString(desc.StateMachineArn) != smArn || desc.StopDate == nil {
		t.Fatalf("unexpected description: status %s output %s input %s name %s stop %v",
			desc.Status, aws.ToString(desc.Output), aws.ToString(desc.Input), aws.ToString(desc.Name), desc.StopDate)
	}

	hist, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: start.ExecutionArn})
	if err != nil {
		t.Fatalf("GetExecutionHistory: %v", err)
	}
	var got []string
	for _, ev := range hist.Events {
		got = append(got, string(ev.Type))
	}
	want := []string{"ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("history %v, want %v", got, want)
	}
	if d := hist.Events[1].StateEnteredEventDetails; d == nil || aws.ToString(d.Name) != "Greet" || aws.ToString(d.Input) != `{"name":"Ada"}` {
		t.Fatalf("StateEntered details %+v", d)
	}
	if d := hist.Events[3].ExecutionSucceededEventDetails; d == nil || aws.ToString(d.Output) != `{"hello":"Ada"}` {
		t.Fatalf("ExecutionSucceeded details %+v", d)
	}
	if hist.Events[2].Id != 3 || hist.Events[2].PreviousEventId != 2 {
		t.Fatalf("event ids %d/%d, want 3/2", hist.Events[2].Id, hist.Events[2].PreviousEventId)
	}

	// Paging and reverse order.
	page1, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: start.ExecutionArn, MaxResults: 3, ReverseOrder: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(page1.Events) != 3 || page1.Events[0].Type != types.HistoryEventTypeExecutionSucceeded || page1.NextToken == nil {
		t.Fatalf("first reverse page: %d events, first %s, next %v", len(page1.Events), page1.Events[0].Type, page1.NextToken)
	}
	page2, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: start.ExecutionArn, MaxResults: 3, ReverseOrder: true, NextToken: page1.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(page2.Events) != 1 || page2.Events[0].Type != types.HistoryEventTypeExecutionStarted || page2.NextToken != nil {
		t.Fatalf("second reverse page: %+v", page2.Events)
	}

	list, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(smArn)})
	if err != nil {
		t.Fatalf("ListExecutions: %v", err)
	}
	if len(list.Executions) != 1 || aws.ToString(list.Executions[0].ExecutionArn) != wantArn || list.Executions[0].Status != types.ExecutionStatusSucceeded {
		t.Fatalf("ListExecutions: %+v", list.Executions)
	}
}

func TestAPIStartExecutionIdempotency(t *testing.T) {
	fn, tokens := tokenCatcher()
	e := newEngine(t, newInvoker(map[string]fnFunc{"payment": fn}), newFakeTime())
	c := newClient(t, e)
	ctx := context.Background()
	waiting := createViaAPI(t, c, "waiting", callbackDef)
	quick := createViaAPI(t, c, "quick", passDef)

	first, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(waiting), Name: aws.String("tx-1"), Input: aws.String(`{"tx":"tx-1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	recvToken(t, tokens)
	done, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(quick), Name: aws.String("tx-2"), Input: aws.String(`{"name":"x"}`)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, e, aws.ToString(done.ExecutionArn))

	tests := []struct {
		name, sm, execName, input string
		wantArn                   string
		wantErr                   any
	}{
		{name: "same name and input while running returns the same execution", sm: waiting, execName: "tx-1", input: `{"tx":"tx-1"}`, wantArn: aws.ToString(first.ExecutionArn)},
		{name: "same name, different input", sm: waiting, execName: "tx-1", input: `{"tx":"other"}`, wantErr: new(types.ExecutionAlreadyExists)},
		{name: "same name and input after the execution closed", sm: quick, execName: "tx-2", input: `{"name":"x"}`, wantErr: new(types.ExecutionAlreadyExists)},
		{name: "invalid name", sm: quick, execName: "has space", input: `{}`, wantErr: new(types.InvalidName)},
		{name: "invalid input", sm: quick, execName: "tx-3", input: `{"a":`, wantErr: new(types.InvalidExecutionInput)},
		{name: "unknown state machine", sm: quick + "-nope", execName: "tx-4", input: `{}`, wantErr: new(types.StateMachineDoesNotExist)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(tt.sm), Name: aws.String(tt.execName), Input: aws.String(tt.input)})
			if tt.wantErr != nil {
				assertAPIError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.ExecutionArn) != tt.wantArn || !out.StartDate.Equal(*first.StartDate) {
				t.Fatalf("got %s, want %s", aws.ToString(out.ExecutionArn), tt.wantArn)
			}
		})
	}
	list, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(waiting), StatusFilter: types.ExecutionStatusRunning})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Executions) != 1 {
		t.Fatalf("%d running executions, want exactly 1 (no duplicate started)", len(list.Executions))
	}
}

// assertAPIError checks that err is the SDK's typed error of the same type as want.
func assertAPIError(t *testing.T, err error, want any) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %T", want)
	}
	var ok bool
	switch want.(type) {
	case *types.ExecutionAlreadyExists:
		var target *types.ExecutionAlreadyExists
		ok = errors.As(err, &target)
	case *types.InvalidName:
		var target *types.InvalidName
		ok = errors.As(err, &target)
	case *types.InvalidExecutionInput:
		var target *types.InvalidExecutionInput
		ok = errors.As(err, &target)
	case *types.StateMachineDoesNotExist:
		var target *types.StateMachineDoesNotExist
		ok = errors.As(err, &target)
	case *types.InvalidDefinition:
		var target *types.InvalidDefinition
		ok = errors.As(err, &target)
	case *types.InvalidToken:
		var target *types.InvalidToken
		ok = errors.As(err, &target)
	case *types.TaskDoesNotExist:
		var target *types.TaskDoesNotExist
		ok = errors.As(err, &target)
	case *types.TaskTimedOut:
		var target *types.TaskTimedOut
		ok = errors.As(err, &target)
	case *types.ExecutionDoesNotExist:
		var target *types.ExecutionDoesNotExist
		ok = errors.As(err, &target)
	default:
		t.Fatalf("assertAPIError does not know %T", want)
	}
	if !ok {
		t.Fatalf("got %v, want %T", err, want)
	}
}

func TestAPITaskTokens(t *testing.T) {
	fn, tokens := tokenCatcher()
	ft := newFakeTime()
	e := newEngine(t, newInvoker(map[string]fnFunc{"payment": fn}), ft)
	c := newClient(t, e)
	ctx := context.Background()
	sm := createViaAPI(t, c, "pay", callbackDef)

	start := func(name string) (string, string) {
		t.Helper()
		out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String(name), Input: aws.String(`{"tx":"` + name + `"}`)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ExecutionArn), recvToken(t, tokens)
	}

	// Success through the API, with a heartbeat first.
	x1, tok1 := start("ok")
	if _, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(tok1)}); err != nil {
		t.Fatalf("SendTaskHeartbeat: %v", err)
	}
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok1), Output: aws.String(`{"paid":true}`)}); err != nil {
		t.Fatalf("SendTaskSuccess: %v", err)
	}
	if info := waitFor(t, e, x1); info.Status != StatusSucceeded || !jsonEqual(t, info.Output, `{"tx":"ok","payment":{"paid":true}}`) {
		t.Fatalf("got %s %s", info.Status, info.Output)
	}

	// Failure through the API.
	x2, tok2 := start("refused")
	if _, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(tok2), Error: aws.String("Payment.Refused"), Cause: aws.String("declined")}); err != nil {
		t.Fatalf("SendTaskFailure: %v", err)
	}
	if info := waitFor(t, e, x2); info.Status != StatusFailed || info.Error != "Payment.Refused" || info.Cause != "declined" {
		t.Fatalf("got %s %s %s", info.Status, info.Error, info.Cause)
	}

	// A task that timed out answers TaskTimedOut. Forget the earlier executions' timers
	// first, so the one released below is this execution's.
	for len(ft.requests) > 0 {
		<-ft.requests
	}
	x3, tok3 := start("late")
	for {
		r := <-ft.requests
		if r.d == time.Hour {
			r.ch <- time.Time{}
			break
		}
	}
	if info := waitFor(t, e, x3); info.Error != "States.Timeout" {
		t.Fatalf("got %s %s, want States.Timeout", info.Status, info.Error)
	}

	tests := []struct {
		name string
		call func() error
		want any
	}{
		{name: "success on a spent token", want: new(types.TaskDoesNotExist), call: func() error {
			_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok1), Output: aws.String(`{}`)})
			return err
		}},
		{name: "failure on a timed-out token", want: new(types.TaskTimedOut), call: func() error {
			_, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(tok3), Error: aws.String("X")})
			return err
		}},
		{name: "heartbeat on a malformed token", want: new(types.InvalidToken), call: func() error {
			_, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String("garbage")})
			return err
		}},
		{name: "success on an unknown token", want: new(types.TaskDoesNotExist), call: func() error {
			_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(newToken()), Output: aws.String(`{}`)})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertAPIError(t, tt.call(), tt.want) })
	}

	// State transitions can be counted from the history, as the benchmark does.
	hist, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(x1)})
	if err != nil {
		t.Fatal(err)
	}
	entered := 0
	var sched *types.TaskScheduledEventDetails
	for _, ev := range hist.Events {
		if strings.HasSuffix(string(ev.Type), "StateEntered") {
			entered++
		}
		if ev.TaskScheduledEventDetails != nil {
			sched = ev.TaskScheduledEventDetails
		}
	}
	n, err := e.StateTransitions(x1)
	if err != nil || n != entered || n != 1 {
		t.Fatalf("StateTransitions %d (%v), history shows %d states entered, want 1", n, err, entered)
	}
	if sched == nil || aws.ToString(sched.Resource) != "invoke.waitForTaskToken" || aws.ToString(sched.ResourceType) != "lambda" ||
		aws.ToInt64(sched.TimeoutInSeconds) != 3600 || aws.ToInt64(sched.HeartbeatInSeconds) != 600 ||
		!strings.Contains(aws.ToString(sched.Parameters), `"FunctionName":"payment"`) {
		t.Fatalf("TaskScheduled details %+v", sched)
	}
}

func TestAPIStopExecution(t *testing.T) {
	fn, tokens := tokenCatcher()
	e := newEngine(t, newInvoker(map[string]fnFunc{"payment": fn}), newFakeTime())
	c := newClient(t, e)
	ctx := context.Background()
	sm := createViaAPI(t, c, "pay", callbackDef)
	out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("cancel-me"), Input: aws.String(`{"tx":"c"}`)})
	if err != nil {
		t.Fatal(err)
	}
	tok := recvToken(t, tokens)
	if _, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: out.ExecutionArn, Error: aws.String("Order.Cancelled"), Cause: aws.String("operator")}); err != nil {
		t.Fatalf("StopExecution: %v", err)
	}
	desc, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	if desc.Status != types.ExecutionStatusAborted || aws.ToString(desc.Error) != "Order.Cancelled" {
		t.Fatalf("after stop: %s %s", desc.Status, aws.ToString(desc.Error))
	}
	waitFor(t, e, aws.ToString(out.ExecutionArn))
	_, err = c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{}`)})
	assertAPIError(t, err, new(types.TaskDoesNotExist))
	_, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(aws.ToString(out.ExecutionArn) + "x")})
	assertAPIError(t, err, new(types.ExecutionDoesNotExist))
}

func TestAPIRejectsBadRequests(t *testing.T) {
	e := newEngine(t, nil, nil)
	c := newClient(t, e)
	_, err := c.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name: aws.String("broken"), Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`), RoleArn: aws.String("r"),
	})
	assertAPIError(t, err, new(types.InvalidDefinition))

	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	tests := []struct {
		name, method, target, body, wantType string
		wantStatus                           int
	}{
		{name: "unknown operation", method: http.MethodPost, target: "AWSStepFunctions.DeleteEverything", body: `{}`, wantType: "UnknownOperationException", wantStatus: 400},
		{name: "no target", method: http.MethodPost, body: `{}`, wantType: "UnknownOperationException", wantStatus: 400},
		{name: "malformed body", method: http.MethodPost, target: "AWSStepFunctions.StartExecution", body: `{"stateMachineArn":`, wantType: "ValidationException", wantStatus: 400},
		{name: "missing arn", method: http.MethodPost, target: "AWSStepFunctions.StartExecution", body: `{}`, wantType: "ValidationException", wantStatus: 400},
		{name: "GET", method: http.MethodGet, target: "AWSStepFunctions.StartExecution", wantType: "InvalidAction", wantStatus: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/x-amz-json-1.0")
			if tt.target != "" {
				req.Header.Set("X-Amz-Target", tt.target)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Type string `json:"__type"`
			}
			_ = jsonDecode(resp, &body)
			if resp.StatusCode != tt.wantStatus || body.Type != tt.wantType {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, body.Type, tt.wantStatus, tt.wantType)
			}
		})
	}
}

func TestAPIRefusesExpressExecutions(t *testing.T) {
	e := newEngine(t, newInvoker(map[string]fnFunc{"work": returns(`{"done":true}`)}), nil)
	express := createTyped(t, e, "child", TypeExpress, "", succeedChild)
	x, _, err := e.StartExecution(express, "", `{"txid":"tx-1"}`)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, e, x)
	c := newClient(t, e)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"DescribeExecution", func() error {
			_, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(x)})
			return err
		}, "InvalidArn"},
		{"GetExecutionHistory", func() error {
			_, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(x)})
			return err
		}, "InvalidArn"},
		{"ListExecutions", func() error {
			_, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(express)})
			return err
		}, "StateMachineTypeNotSupported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || !strings.Contains(err.Error(), tt.code) {
				t.Fatalf("%s on an Express execution: %v, want %s", tt.name, err, tt.code)
			}
		})
	}
	// Express starts are not idempotent: the same name runs again.
	a, _, err1 := e.StartExecution(express, "same", `{}`)
	b, _, err2 := e.StartExecution(express, "same", `{}`)
	if err1 != nil || err2 != nil || a == b {
		t.Fatalf("two starts named alike: %s %v, %s %v; want two executions", a, err1, b, err2)
	}
}
