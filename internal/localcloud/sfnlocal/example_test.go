package sfnlocal_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lmsshop/checkout/internal/localcloud/sfnlocal"
)

// greeter is a stand-in for the local cloud's Lambda invoker.
type greeter struct{}

func (greeter) Invoke(_ context.Context, function string, payload []byte) ([]byte, error) {
	return []byte(`{"greeting":"hello from ` + function + `"}`), nil
}

// Example shows the local cloud's wiring: an engine served over HTTP and driven by the
// real AWS SDK client through an endpoint override.
func Example() {
	engine := sfnlocal.New(sfnlocal.Options{Invoker: greeter{}})
	defer engine.Close()
	smArn, err := engine.CreateStateMachine("hello", []byte(`{
		"StartAt": "Greet",
		"States": {"Greet": {
			"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
			"Parameters": {"FunctionName": "greeter", "Payload.$": "$"},
			"OutputPath": "$.Payload", "End": true}}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(engine)
	defer srv.Close()

	client := sfn.New(sfn.Options{
		BaseEndpoint: aws.String(srv.URL),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	ctx := context.Background()
	out, err := client.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(smArn), Name: aws.String("tx-1"), Input: aws.String(`{}`),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	info, err := engine.WaitExecution(ctx, aws.ToString(out.ExecutionArn))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(info.Status, info.Output, info.StateTransitions)
	// Output: SUCCEEDED {"greeting":"hello from greeter"} 1
}
