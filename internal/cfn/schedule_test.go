package cfn_test

import (
	"strings"
	"testing"
)

// The template's scheduled functions, as the transform makes them: Watch by an
// EventBridge rule Lambda's resource policy lets invoke it, Reconcile by an EventBridge
// Scheduler schedule and the role it invokes the function as.
func TestSchedulesFromTheTransformedTemplate(t *testing.T) {
	tpl := transformed(t)
	got, err := tpl.Schedules()
	if err != nil {
		t.Fatal(err)
	}
	byFunction := map[string]int{}
	for _, s := range got {
		name := s.FunctionARN[strings.LastIndex(s.FunctionARN, ":")+1:]
		byFunction[name]++
		switch name {
		case "WatchFunction":
			if !s.Permitted || s.Role != "" || s.Expression != "rate(5 minutes)" || !strings.HasPrefix(s.ARN, "arn:aws:events:") {
				t.Errorf("Watch's schedule %+v, want a permitted rule every 5 minutes", s)
			}
		case "ReconcileFunction":
			if s.Role == "" || !strings.HasPrefix(s.Expression, "cron(") || s.ARN != "arn:aws:scheduler:us-east-1:000000000000:schedule/default/local-reconcile" {
				t.Errorf("Reconcile's schedule %+v, want a daily Scheduler schedule with its role", s)
			}
		default:
			t.Errorf("unexpected schedule %+v", s)
		}
	}
	if byFunction["WatchFunction"] != 1 || byFunction["ReconcileFunction"] != 1 {
		t.Errorf("schedules by function %v, want one each for Watch and Reconcile", byFunction)
	}
}
