package cfn_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmsshop/checkout/internal/cfn"
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

// A rule invokes a function only when Lambda's resource policy lets EventBridge do so
// from that rule; a pattern rule is no schedule.
func TestRuleScheduleNeedsTheLambdaPermission(t *testing.T) {
	const base = `{"Resources": {
  "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["FnRole", "Arn"]}}},
  "FnRole": {"Type": "AWS::IAM::Role", "Properties": {}},
  "Nightly": {"Type": "AWS::Events::Rule", "Properties": {"ScheduleExpression": "cron(0 1 * * ? *)",
    "Targets": [{"Arn": {"Fn::GetAtt": ["Fn", "Arn"]}, "Id": "t", "Input": "{\"x\":1}"}]}},
  "OnEvent": {"Type": "AWS::Events::Rule", "Properties": {"EventPattern": {"source": ["x"]},
    "Targets": [{"Arn": {"Fn::GetAtt": ["Fn", "Arn"]}, "Id": "t"}]}}%s
}}`
	tests := []struct {
		name       string
		permission string
		want       bool
	}{
		{"no permission", "", false},
		{"permission from this rule", `,
  "Perm": {"Type": "AWS::Lambda::Permission", "Properties": {"Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "Fn"},
    "Principal": "events.amazonaws.com", "SourceArn": {"Fn::GetAtt": ["Nightly", "Arn"]}}}`, true},
		{"permission from another rule", `,
  "Perm": {"Type": "AWS::Lambda::Permission", "Properties": {"Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "Fn"},
    "Principal": "events.amazonaws.com", "SourceArn": {"Fn::GetAtt": ["OnEvent", "Arn"]}}}`, false},
		{"permission for another principal", `,
  "Perm": {"Type": "AWS::Lambda::Permission", "Properties": {"Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "Fn"},
    "Principal": "s3.amazonaws.com"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "t.json")
			if err := os.WriteFile(path, []byte(fmt.Sprintf(base, tt.permission)), 0o644); err != nil {
				t.Fatal(err)
			}
			tpl, err := cfn.Load(path, testOptions())
			if err != nil {
				t.Fatal(err)
			}
			got, err := tpl.Schedules()
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].LogicalID != "Nightly" || got[0].Input != `{"x":1}` || got[0].Role != "" {
				t.Fatalf("schedules %+v, want the Nightly rule alone, with its input", got)
			}
			if got[0].Permitted != tt.want {
				t.Errorf("permitted = %v, want %v", got[0].Permitted, tt.want)
			}
		})
	}
}
