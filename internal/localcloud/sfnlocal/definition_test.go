package sfnlocal

import (
	"errors"
	"strings"
	"testing"
)

func TestCreateStateMachineValidates(t *testing.T) {
	tests := []struct {
		name, def, wantErr string
	}{
		{name: "not JSON", def: `{`, wantErr: "not valid ASL JSON"},
		{name: "no states", def: `{"StartAt":"A","States":{}}`, wantErr: "States must not be empty"},
		{name: "bad StartAt", def: `{"StartAt":"X","States":{"A":{"Type":"Succeed"}}}`, wantErr: `StartAt "X" is not a state`},
		{name: "unknown type", def: `{"StartAt":"A","States":{"A":{"Type":"Sleep","End":true}}}`, wantErr: `unknown Type "Sleep"`},
		{name: "missing Next/End", def: `{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`, wantErr: "needs Next or End"},
		{name: "Next and End", def: `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B","End":true},"B":{"Type":"Succeed"}}}`, wantErr: "both Next and End"},
		{name: "dangling Next", def: `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}`, wantErr: `Next "Nowhere" is not a state`},
		{name: "unreachable", def: `{"StartAt":"A","States":{"A":{"Type":"Succeed"},"B":{"Type":"Succeed"}}}`, wantErr: `"B" is not reachable`},
		{name: "Succeed with Next", def: `{"StartAt":"A","States":{"A":{"Type":"Succeed","Next":"A"}}}`, wantErr: "neither Next nor End"},
		{name: "Choice dangling", def: `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","IsPresent":true,"Next":"Z"}]}}}`, wantErr: `Choices[0].Next "Z"`},
		{name: "Choice no rules", def: `{"StartAt":"A","States":{"A":{"Type":"Choice","Default":"B"},"B":{"Type":"Succeed"}}}`, wantErr: `state "A": Choice needs at least one rule in Choices`},
		{name: "Choice null rule", def: `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[null],"Default":"B"},"B":{"Type":"Succeed"}}}`, wantErr: `state "A" Choices[0] is null`},
		{name: "Catch dangling", def: `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Q"}]}}}`, wantErr: `Catch[0].Next "Q"`},
		{name: "States.ALL not last", def: `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,"Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}]}}}`, wantErr: "States.ALL must appear alone"},
		{name: "bad resource", def: `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","End":true}}}`, wantErr: "unsupported Task Resource"},
		{name: "heartbeat not below timeout", def: `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,"TimeoutSeconds":5,"HeartbeatSeconds":5}}}`, wantErr: "HeartbeatSeconds must be smaller"},
		{name: "Wait two fields", def: `{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}}}`, wantErr: "exactly one of Seconds"},
		{name: "Parallel no branches", def: `{"StartAt":"A","States":{"A":{"Type":"Parallel","End":true}}}`, wantErr: `state "A": Parallel needs Branches`},
		{name: "Parallel null branch", def: `{"StartAt":"A","States":{"A":{"Type":"Parallel","End":true,"Branches":[null]}}}`, wantErr: `state "A" Branches[0] is null`},
		{name: "bad branch", def: `{"StartAt":"A","States":{"A":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass"}}}]}}}`, wantErr: `Branches[0]: state "B": needs Next or End`},
		{name: "Map without processor", def: `{"StartAt":"A","States":{"A":{"Type":"Map","End":true}}}`, wantErr: "needs ItemProcessor"},
		{name: "bad path", def: `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"x","End":true}}}`, wantErr: "must start with $"},
		{name: "JSONata", def: `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Succeed"}}}`, wantErr: "only JSONPath"},
		{name: "Retry on Pass", def: `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Retry":[{"ErrorEquals":["X"]}]}}}`, wantErr: "only allowed on Task"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(Options{})
			_, err := e.CreateStateMachine("m", []byte(tt.def))
			var ae *APIError
			if !errors.As(err, &ae) || ae.Code != "InvalidDefinition" {
				t.Fatalf("got %v, want InvalidDefinition", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q does not mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestCreateStateMachineNames(t *testing.T) {
	e := New(Options{Region: "eu-west-1", AccountID: "111122223333"})
	def := []byte(`{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`)
	arn, err := e.CreateStateMachine("checkout", def)
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:states:eu-west-1:111122223333:stateMachine:checkout"; arn != want {
		t.Fatalf("arn %q, want %q", arn, want)
	}
	if again, err := e.CreateStateMachine("checkout", def); err != nil || again != arn {
		t.Fatalf("same definition again: %q, %v; want the same ARN", again, err)
	}
	var ae *APIError
	_, err = e.CreateStateMachine("checkout", []byte(`{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}`))
	if !errors.As(err, &ae) || ae.Code != "StateMachineAlreadyExists" {
		t.Fatalf("different definition: %v, want StateMachineAlreadyExists", err)
	}
	_, err = e.CreateStateMachine("bad name", def)
	if !errors.As(err, &ae) || ae.Code != "InvalidName" {
		t.Fatalf("name with space: %v, want InvalidName", err)
	}
}
