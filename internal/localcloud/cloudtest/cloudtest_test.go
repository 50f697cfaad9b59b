package cloudtest_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lmsshop/checkout/internal/localcloud/cloudtest"
)

func TestMain(m *testing.M) { cloudtest.Main(m) }

func TestStartIsShared(t *testing.T) {
	a, b := cloudtest.Start(t), cloudtest.Start(t)
	if a != b {
		t.Fatal("two Start calls under Main started two clouds")
	}
}

func TestServicesAnswer(t *testing.T) {
	c := cloudtest.Start(t)
	ctx := context.Background()

	if _, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(c.Table)}); err != nil {
		t.Errorf("table %s: %v", c.Table, err)
	}
	exec, err := c.SFN.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(c.StateMachineARN), Name: aws.String("CLOUDTEST0000001"), Input: aws.String(`{}`)})
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	if got, err := c.Engine.DescribeExecution(aws.ToString(exec.ExecutionArn)); err != nil || got.Name != "CLOUDTEST0000001" {
		t.Errorf("engine sees %+v, %v", got, err)
	}

	// The Express machines of the template, each with its type and its own role.
	want := map[string]string{
		c.StateMachineARN: "STANDARD local-CheckoutStateMachineRole",
		c.ExpressMachineARNs["PrepareStateMachine"]: "EXPRESS local-PrepareStateMachineRole",
		c.ExpressMachineARNs["DeliverStateMachine"]: "EXPRESS local-DeliverStateMachineRole",
		c.ExpressMachineARNs["MailStateMachine"]:    "EXPRESS local-MailStateMachineRole",
	}
	if len(c.ExpressMachineARNs) != 3 || len(want) != 4 {
		t.Fatalf("Express machines %v, want the prepare, deliver and mail machines", c.ExpressMachineARNs)
	}
	for arn, w := range want {
		out, err := c.SFN.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("DescribeStateMachine %s: %v", arn, err)
		}
		role := aws.ToString(out.RoleArn)
		if got := string(out.Type) + " " + role[strings.LastIndex(role, "/")+1:]; got != w {
			t.Errorf("%s: %s, want %s", arn, got, w)
		}
	}

	resp, err := http.Get(c.APIURL + "/no/such/route")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown route: %d, want 404", resp.StatusCode)
	}
}

func TestMail(t *testing.T) {
	c := cloudtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.ClearMail(ctx); err != nil {
		t.Fatal(err)
	}
	// Sent through the real SES v2 client with the functions' configuration.
	_, err := sesv2.NewFromConfig(c.AWS).SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("shop@example.com"),
		Destination:      &sestypes.Destination{ToAddresses: []string{"buyer@example.com"}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String("Order placed")},
			Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String("Thank you")}},
		}},
	})
	if err != nil {
		t.Fatalf("SendEmail: %v", err)
	}
	mail, err := c.Mail(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(mail) != 1 || mail[0].Subject != "Order placed" || len(mail[0].Destination.To) != 1 || mail[0].Destination.To[0] != "buyer@example.com" {
		t.Errorf("mail = %+v, want the one sent", mail)
	}
}

// TestOperatorRequest: each local operator's token passes the gateway's JWT
// authorizer, and the API sees their group.
func TestOperatorRequest(t *testing.T) {
	c := cloudtest.Start(t)
	for _, group := range []string{"shop-admin", "sales", "accounting"} {
		resp, err := http.DefaultClient.Do(c.OperatorRequest(t, group, "GET", "/admin/me", nil))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"groups":["`+group+`"]`) {
			t.Errorf("%s: %d %s", group, resp.StatusCode, b)
		}
	}
}

func TestSignedRequest(t *testing.T) {
	c := cloudtest.Start(t)
	tests := []struct {
		name   string
		signed bool
		method string
		body   []byte
	}{
		{"signed GET", true, "GET", nil},
		{"signed POST with body", true, "POST", []byte(`{"note":"cheque received"}`)},
		{"unsigned", false, "GET", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req *http.Request
			var err error
			if tt.signed {
				req, err = c.SignedRequest(tt.method, "/ops/orders?status=PAID", tt.body)
			} else {
				req, err = http.NewRequest(tt.method, c.APIURL+"/ops/orders", nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			// Past the gateway's signature check the backoffice answers (whatever its
			// verdict on the request); before it, 403 with API Gateway's own message.
			refused := resp.StatusCode == http.StatusForbidden && strings.HasPrefix(string(b), `{"message":`)
			if refused == tt.signed {
				t.Errorf("%s: %d %s", tt.name, resp.StatusCode, b)
			}
		})
	}
}
