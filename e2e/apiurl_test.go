package e2e_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lmsshop/checkout/internal/localcloud/cloudtest"
)

// The functions are not told the API's URL: placement takes it from the request as
// the API Gateway emulation builds it (domainName from the Host it was reached on,
// x-forwarded-proto and -port), stores it on the order and passes it in the execution
// input, and the test mode's callback is addressed to it. Reached as 127.0.0.1 or as
// localhost, the order keeps the address the buyer used.
func TestPlacementTakesTheAPIURLFromTheRequest(t *testing.T) {
	c := cloudtest.Start(t)
	for _, api := range []string{c.APIURL, strings.Replace(c.APIURL, "127.0.0.1", "localhost", 1)} {
		t.Run(api, func(t *testing.T) {
			b := newBuyer(t)
			b.API = api
			placed := b.placeOne("GO-101", "test")
			order, _ := placed.body["order"].(map[string]any)
			if got := order["apiUrl"]; got != api {
				t.Errorf("order's apiUrl = %v, want %s", got, api)
			}
			arn := strings.Replace(c.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + b.TxID
			exec, err := c.SFN.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
			if err != nil {
				t.Fatal(err)
			}
			var input struct {
				APIURL string `json:"apiUrl"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(exec.Input)), &input); err != nil || input.APIURL != api {
				t.Errorf("execution input %s: apiUrl = %q (%v), want %s", aws.ToString(exec.Input), input.APIURL, err, api)
			}
			b.waitFor("PENDING", "payment")
			deferred := b.must(202, "POST", "/orders/{txid}/payment/test", `{"action":"defer"}`)
			cb, _ := deferred.body["callback"].(map[string]any)
			if got := cb["url"]; got != api+"/webhooks/test" {
				t.Errorf("callback url = %v, want %s/webhooks/test", got, api)
			}
		})
	}
}
