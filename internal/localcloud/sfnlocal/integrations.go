package sfnlocal

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// The Step Functions integrations a Task may use besides Lambda: starting another
// state machine (optimized integration, three patterns) and the AWS SDK integration's
// SendTaskSuccess/SendTaskFailure, with which an Express run completes the callback
// of the Standard execution that started it.

// roleKey carries the calling execution's role in a task's context.
type roleKey struct{}

// ExecutionRole returns the execution role (ARN) of the state machine whose task made
// the call carried by ctx; an Invoker authorizes lambda:InvokeFunction as this role.
func ExecutionRole(ctx context.Context) string {
	s, _ := ctx.Value(roleKey{}).(string)
	return s
}

// managedRuleARN is the EventBridge rule Step Functions manages to learn that a child
// execution of a .sync task ended; the parent's role must be allowed to create and read
// it (events:PutTargets, events:PutRule, events:DescribeRule), as AWS documents.
func (e *Engine) managedRuleARN() string {
	return fmt.Sprintf("arn:aws:events:%s:%s:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule", e.region, e.account)
}

// authorizeAs asks the engine's Authorize hook whether role may do action on resource.
func (e *Engine) authorizeAs(ctx context.Context, role, action, resource string) *stateError {
	if e.authorize == nil {
		return nil
	}
	err := e.authorize(ctx, role, action, resource)
	if err == nil {
		return nil
	}
	var se *ServiceError
	if errors.As(err, &se) {
		return &stateError{Name: se.Name, Cause: se.Cause}
	}
	return &stateError{Name: "States.TaskFailed", Cause: err.Error()}
}

// isStart reports whether kind starts a state machine execution.
func isStart(kind string) bool {
	switch kind {
	case "start", "startSync", "startSync2", "startCallback":
		return true
	}
	return false
}

// waitingResources lists the Task resources of def (nested Parallel branches and Map
// processors included) that wait: .sync and .waitForTaskToken, which Express
// workflows do not support.
func waitingResources(m *machine) []string {
	var out []string
	for _, st := range m.States {
		if st.Type == "Task" && (strings.Contains(st.Resource, ".sync") || strings.HasSuffix(st.Resource, ".waitForTaskToken")) {
			out = append(out, fmt.Sprintf("%s (state %q)", st.Resource, st.name))
		}
		for _, b := range st.Branches {
			out = append(out, waitingResources(b)...)
		}
		if p := st.processor(); p != nil {
			out = append(out, waitingResources(p)...)
		}
	}
	return out
}

// startRequest is the Parameters of a states:startExecution task.
type startRequest struct {
	machine, name, input string
}

func parseStartRequest(in any) (startRequest, error) {
	params, ok := in.(map[string]any)
	if !ok {
		return startRequest{}, failf("States.Runtime", "states:startExecution Parameters must be an object")
	}
	var r startRequest
	r.machine, _ = params["StateMachineArn"].(string)
	if r.machine == "" {
		return r, failf("States.Runtime", "states:startExecution needs a StateMachineArn string")
	}
	if v, ok := params["Name"]; ok {
		if r.name, ok = v.(string); !ok {
			return r, failf("States.Runtime", "states:startExecution Name must be a string")
		}
	}
	switch v := params["Input"].(type) {
	case nil:
		r.input = "{}"
	case string:
		r.input = v // AWS passes a string Input as the child's JSON input text
	default:
		r.input = encodeJSON(v)
	}
	return r, nil
}

// stepFunctionsError names an API refusal the way the optimized integration reports it.
func stepFunctionsError(prefix string, err error) *stateError {
	var ae *APIError
	if errors.As(err, &ae) {
		// e.g. StepFunctions.ExecutionLimitExceeded, the name AWS's retry examples use.
		return &stateError{Name: prefix + "." + ae.Code, Cause: ae.Message}
	}
	return &stateError{Name: "States.TaskFailed", Cause: err.Error()}
}

// standardExecutionARN is the execution ARN IAM policies name for an execution of
// machine: arn:aws:states:…:execution:<machine name>:<execution name>.
func (e *Engine) standardExecutionARN(x *execution) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:execution:%s:%s", e.region, e.account, x.sm.name, x.name)
}

// startChild runs a states:startExecution task: Request Response returns the new
// execution's ARN and start date; .waitForTaskToken returns the same and leaves the
// waiting to the caller; .sync and .sync:2 wait for the child and return its
// description (.sync:2 with Input and Output as JSON, .sync as strings), or fail the
// task with States.TaskFailed and the description as the cause when the child did not
// succeed. A .sync task that ends first (timeout, parent stopped) stops the child.
func (r *runner) startChild(ctx context.Context, kind string, req startRequest, ev *taskEvents) (any, *stateError) {
	role := r.x.sm.roleArn
	if se := r.e.authorizeAs(ctx, role, "states:StartExecution", req.machine); se != nil {
		return nil, se
	}
	sync := kind == "startSync" || kind == "startSync2"
	if sync {
		rule := r.e.managedRuleARN()
		for _, action := range []string{"events:PutTargets", "events:PutRule", "events:DescribeRule"} {
			if se := r.e.authorizeAs(ctx, role, action, rule); se != nil {
				return nil, se
			}
		}
	}
	child, err := r.e.startExecution(req.machine, req.name, req.input)
	if err != nil {
		return nil, stepFunctionsError("StepFunctions", err)
	}
	started := map[string]any{"ExecutionArn": child.arn, "StartDate": epochMillis(child.start)}
	if !sync {
		return started, nil
	}
	ev.submitted(started)
	if se := r.e.authorizeAs(ctx, role, "states:DescribeExecution", r.e.standardExecutionARN(child)); se != nil {
		return nil, se
	}
	select {
	case <-child.done:
	case <-ctx.Done():
		if r.e.authorizeAs(context.WithoutCancel(ctx), role, "states:StopExecution", r.e.standardExecutionARN(child)) == nil {
			_, _ = r.e.StopExecution(child.arn, "States.Aborted", "the parent task ended") // the child exists: only a closed one answers, with no error
		}
		return nil, &stateError{Name: "States.TaskFailed", Cause: "the parent task ended before the child execution"}
	}
	desc := childDescription(child.info(), kind == "startSync2")
	if desc["Status"] != StatusSucceeded {
		return nil, &stateError{Name: "States.TaskFailed", Cause: encodeJSON(desc)}
	}
	return desc, nil
}

// childDescription is the DescribeExecution answer a .sync task returns, with the
// SDK's capitalised field names; asJSON puts Input and Output as JSON (.sync:2).
func childDescription(info ExecutionInfo, asJSON bool) map[string]any {
	d := map[string]any{
		"ExecutionArn": info.ExecutionArn, "StateMachineArn": info.StateMachineArn, "Name": info.Name,
		"Status": info.Status, "StartDate": epochMillis(info.StartDate), "StopDate": epochMillis(info.StopDate),
		"Input": info.Input, "InputDetails": map[string]any{"Included": true},
	}
	if info.Status == StatusSucceeded {
		d["Output"], d["OutputDetails"] = info.Output, map[string]any{"Included": true}
	}
	if asJSON {
		for _, k := range []string{"Input", "Output"} {
			if s, ok := d[k].(string); ok {
				if v, err := decodeJSON([]byte(s)); err == nil {
					d[k] = v
				}
			}
		}
	}
	if info.Error != "" {
		d["Error"] = info.Error
	}
	if info.Cause != "" {
		d["Cause"] = info.Cause
	}
	return d
}

// sendTask runs arn:aws:states:::aws-sdk:sfn:sendTaskSuccess / sendTaskFailure: the
// SDK integration's call, authorized as the execution role (states:SendTask* on "*":
// task tokens have no ARN), answering {} like the API.
func (r *runner) sendTask(ctx context.Context, op string, in any) (any, *stateError) {
	params, ok := in.(map[string]any)
	if !ok {
		return nil, &stateError{Name: "States.Runtime", Cause: "aws-sdk:sfn Parameters must be an object"}
	}
	action := "states:SendTaskSuccess"
	if op == "sendTaskFailure" {
		action = "states:SendTaskFailure"
	}
	if se := r.e.authorizeAs(ctx, r.x.sm.roleArn, action, "*"); se != nil {
		return nil, se
	}
	token, _ := params["TaskToken"].(string)
	var err error
	if op == "sendTaskFailure" {
		name, _ := params["Error"].(string)
		cause, _ := params["Cause"].(string)
		err = r.e.SendTaskFailure(token, name, cause)
	} else {
		output, _ := params["Output"].(string)
		err = r.e.SendTaskSuccess(token, output)
	}
	if err != nil {
		return nil, stepFunctionsError("Sfn", err)
	}
	return map[string]any{}, nil
}
