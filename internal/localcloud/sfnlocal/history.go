package sfnlocal

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// event is one history event, shaped like the API's HistoryEvent.
type event struct {
	Timestamp time.Time
	Type      string
	ID        int64
	PrevID    int64
	Details   map[string]any // serialised under "<type>EventDetails"
}

// detailsKey names the HistoryEvent member carrying an event's details, e.g.
// TaskScheduled → taskScheduledEventDetails and every *StateEntered → stateEnteredEventDetails.
func detailsKey(typ string) string {
	switch {
	case strings.HasSuffix(typ, "StateEntered"):
		return "stateEnteredEventDetails"
	case strings.HasSuffix(typ, "StateExited"):
		return "stateExitedEventDetails"
	}
	return strings.ToLower(typ[:1]) + typ[1:] + "EventDetails"
}

func (ev *event) MarshalJSON() ([]byte, error) {
	m := map[string]any{
		"timestamp":       epochSeconds(ev.Timestamp),
		"type":            ev.Type,
		"id":              ev.ID,
		"previousEventId": ev.PrevID,
	}
	if ev.Details != nil {
		m[detailsKey(ev.Type)] = ev.Details
	}
	return json.Marshal(m)
}

// epochSeconds renders a time the way the AWS JSON protocol does: seconds since the
// epoch as a JSON number with millisecond precision.
// epochMillis is a timestamp as the integrations' outputs give it (StartDate,
// StopDate): milliseconds since the epoch.
func epochMillis(t time.Time) json.Number {
	return json.Number(strconv.FormatInt(t.UnixMilli(), 10))
}

func epochSeconds(t time.Time) json.Number {
	return json.Number(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64))
}

func (x *execution) addEvent(ts time.Time, typ string, details map[string]any) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.addEventLocked(ts, typ, details)
}

func (x *execution) addEventLocked(ts time.Time, typ string, details map[string]any) {
	// Once an execution has ended (a stop can race its still-unwinding states), only
	// the Execution* event that records the end may follow, as in AWS.
	if x.status != StatusRunning && !strings.HasPrefix(typ, "Execution") {
		return
	}
	id := int64(len(x.events) + 1)
	x.events = append(x.events, &event{Timestamp: ts, Type: typ, ID: id, PrevID: id - 1, Details: details})
}

// history returns a copy of an execution's events in order.
func (e *Engine) history(executionArn string) ([]*event, error) {
	x, err := e.execution(executionArn)
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]*event(nil), x.events...), nil
}

// HistoryEventTypes returns the type of every history event of an execution in order,
// e.g. ExecutionStarted, TaskStateEntered, TaskScheduled, ... — handy in tests.
func (e *Engine) HistoryEventTypes(executionArn string) ([]string, error) {
	evs, err := e.history(executionArn)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Type
	}
	return out, nil
}

// LambdaInvocations counts the Lambda invocations an execution scheduled (retries
// included): Express runs included, whose history the API does not serve.
func (e *Engine) LambdaInvocations(executionArn string) (int, error) {
	evs, err := e.history(executionArn)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ev := range evs {
		if ev.Type == "LambdaFunctionScheduled" || ev.Type == "TaskScheduled" && ev.Details["resourceType"] == "lambda" {
			n++
		}
	}
	return n, nil
}

// Failure is a failed task attempt: the execution, the state it ran in, its error.
type Failure struct {
	ExecutionArn, State, Error, Cause string
}

// TaskFailures lists the failed task attempts of an execution and of the runs it
// started (those whose input names it in AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID,
// as a nested start passes it), in order: what an operator reads in the Standard
// execution's history and the Express runs' logs.
func (e *Engine) TaskFailures(executionArn string) ([]Failure, error) {
	evs, err := e.history(executionArn)
	if err != nil {
		return nil, err
	}
	var out []Failure
	state := ""
	for _, ev := range evs {
		if strings.HasSuffix(ev.Type, "StateEntered") {
			state, _ = ev.Details["name"].(string)
		}
		if ev.Type == "TaskFailed" || ev.Type == "LambdaFunctionFailed" {
			name, _ := ev.Details["error"].(string)
			cause, _ := ev.Details["cause"].(string)
			out = append(out, Failure{ExecutionArn: executionArn, State: state, Error: name, Cause: cause})
		}
	}
	e.mu.Lock()
	all := append([]*execution(nil), e.execOrder...)
	e.mu.Unlock()
	for _, x := range all {
		if in, ok := x.inputVal.(map[string]any); ok && in["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] == executionArn {
			more, err := e.TaskFailures(x.arn)
			if err != nil {
				return nil, err
			}
			out = append(out, more...)
		}
	}
	return out, nil
}
