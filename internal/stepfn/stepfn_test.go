package stepfn_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lmsshop/checkout/internal/stepfn"
)

// starts records the inputs of StartExecution.
type starts struct {
	stepfn.API
	inputs []string
}

func (s *starts) StartExecution(_ context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	s.inputs = append(s.inputs, aws.ToString(in.Input))
	return &sfn.StartExecutionOutput{ExecutionArn: aws.String("arn:" + aws.ToString(in.Name))}, nil
}

// selfEncoded writes its own JSON, differently from json.Marshal, so the test sees
// which of the two Start used.
type selfEncoded struct {
	TxID string `json:"txid"`
}

func (e selfEncoded) Encode() (json.RawMessage, error) {
	return json.RawMessage(`{"txid":"` + e.TxID + `","own":true}`), nil
}

// Start sends an input that encodes itself as it encodes itself, and any other input as
// json.Marshal writes it.
func TestStartEncodesTheInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input any
		want  string
	}{
		{"an input that encodes itself", selfEncoded{TxID: "T1"}, `{"txid":"T1","own":true}`},
		{"any other input", struct {
			TxID string `json:"txid"`
		}{"T1"}, `{"txid":"T1"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &starts{}
			w := &stepfn.Workflow{API: api, StateMachineARN: "arn:sm"}
			arn, err := w.Start(context.Background(), "T1", tc.input)
			if err != nil || arn != "arn:T1" {
				t.Fatalf("Start = %q, %v", arn, err)
			}
			if len(api.inputs) != 1 || api.inputs[0] != tc.want {
				t.Errorf("inputs sent = %q, want [%s]", api.inputs, tc.want)
			}
		})
	}
}
