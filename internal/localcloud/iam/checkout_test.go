package iam_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/localcloud/dynamotest"
	"github.com/lmsshop/checkout/internal/localcloud/iam"
	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/notify/sesmail"
	"github.com/lmsshop/checkout/internal/stepfn"
	"github.com/lmsshop/checkout/internal/store"
)

// TestCheckoutAdapters runs the checkout's own adapters (store, stepfn, notify) through
// the proxies, with grants shaped as the SAM transform and the template write them: the
// calls the checkout makes are classified as AWS classifies them, so the grants that
// suffice in AWS suffice here, and those that do not, fail here too.
func TestCheckoutAdapters(t *testing.T) {
	direct := dynamotest.Client(t)
	table := dynamotest.CreateTable(t, direct)
	tableARN := "arn:aws:dynamodb:us-east-1:123456789012:table/" + table
	a, err := iam.New(iam.Config{Account: account, Region: region})
	if err != nil {
		t.Fatal(err)
	}
	// DynamoDBCrudPolicy as SAM expands it, on the table only or on the table and its indexes.
	crud := func(resources ...string) string {
		return `{"Statement":[{"Action":["dynamodb:GetItem","dynamodb:DeleteItem","dynamodb:PutItem","dynamodb:Scan","dynamodb:Query","dynamodb:UpdateItem",` +
			`"dynamodb:BatchWriteItem","dynamodb:BatchGetItem","dynamodb:DescribeTable","dynamodb:ConditionCheckItem"],"Effect":"Allow","Resource":["` +
			strings.Join(resources, `","`) + `"]}]}`
	}
	roles := map[string][]string{
		"OrderFunctionRole": {crud(tableARN, tableARN+"/index/*"),
			`{"Statement":[{"Effect":"Allow","Action":"states:StartExecution","Resource":"` + smARN + `"}]}`},
		"NoIndexRole": {crud(tableARN)},
		"PaymentWebhookFunctionRole": {crud(tableARN, tableARN+"/index/*"),
			`{"Statement":[{"Effect":"Allow","Action":["states:SendTaskSuccess","states:SendTaskFailure"],"Resource":"*"}]}`},
		"NotifyFunctionRole": {crud(tableARN, tableARN+"/index/*"),
			`{"Statement":[{"Effect":"Allow","Action":"ses:SendEmail","Resource":"arn:aws:ses:us-east-1:123456789012:identity/*",` +
				`"Condition":{"StringEquals":{"ses:FromAddress":"sales@shop.example"}}}]}`},
	}
	for name, docs := range roles {
		var pols []*iam.Policy
		for i, d := range docs {
			p, err := iam.ParsePolicy(name+"Policy"+string(rune('0'+i)), []byte(d))
			if err != nil {
				t.Fatal(err)
			}
			pols = append(pols, p)
		}
		if err := a.AddRole(name, pols...); err != nil {
			t.Fatal(err)
		}
		if err := a.AddKey("AK"+name, "secret-"+name, name, strings.TrimSuffix(name, "Role")); err != nil {
			t.Fatal(err)
		}
	}
	states := &recorder{body: `{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:shop-checkout:TX","startDate":1767225600}`}
	mail := &recorder{body: `{"MessageId":"m-1"}`}
	url := func(svc iam.Service, upstream string) string { return proxyURL(t, a, svc, upstream) }
	ddbURL, sfnURL, sesURL := url(iam.DynamoDB, dynamotest.Endpoint(t)), url(iam.StepFunctions, serverURL(t, states)), url(iam.SESv2, serverURL(t, mail))
	cfg := func(role string) aws.Config {
		return aws.Config{Region: region, RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider("AK"+role, "secret-"+role, "")}
	}
	storeAs := func(role string) *store.Store {
		return store.New(dynamodb.NewFromConfig(cfg(role), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ddbURL) }), table)
	}
	workflowAs := func(role string) *stepfn.Workflow {
		return &stepfn.Workflow{StateMachineARN: smARN,
			API: sfn.NewFromConfig(cfg(role), func(o *sfn.Options) { o.BaseEndpoint = aws.String(sfnURL) })}
	}
	mailerAs := func(role string) *sesmail.SES {
		return sesmail.NewSES(sesv2.NewFromConfig(cfg(role), func(o *sesv2.Options) { o.BaseEndpoint = aws.String(sesURL) }), "")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	cart := func(txid string) *checkout.Cart {
		return &checkout.Cart{TxID: txid, TokenHash: checkout.HashToken("tok"), ShopID: "demo", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	msg := notify.Email{To: []string{"ada@example.org"}, Subject: "Your order", Text: "Thanks"}

	tests := []struct {
		name    string
		call    func() error
		denied  string // the action refused, "" when allowed
		reached func() bool
	}{
		{"Order creates a cart (PutItem)", func() error { return storeAs("OrderFunctionRole").CreateCart(ctx, cart("TXORDER000000001")) }, "",
			func() bool {
				_, err := storeAs("OrderFunctionRole").GetCart(ctx, "TXORDER000000001", checkout.HashToken("tok"))
				return err == nil
			}},
		{"Order lists orders by status (Query on gsi1)", func() error {
			_, err := storeAs("OrderFunctionRole").ListOrders(ctx, checkout.Pending, now.Add(-time.Hour), time.Time{}, 10)
			return err
		}, "", nil},
		{"a table-only grant cannot query the index", func() error {
			_, err := storeAs("NoIndexRole").ListOrders(ctx, checkout.Pending, now.Add(-time.Hour), time.Time{}, 10)
			return err
		}, "dynamodb:Query on resource: " + tableARN + "/index/gsi1", nil},
		{"Order starts the workflow", func() error {
			_, err := workflowAs("OrderFunctionRole").Start(ctx, "TXORDER000000001", map[string]string{})
			return err
		},
			"", func() bool { return states.count() == 1 }},
		{"Notify cannot start the workflow", func() error {
			_, err := workflowAs("NotifyFunctionRole").Start(ctx, "TXORDER000000002", map[string]string{})
			return err
		},
			"states:StartExecution on resource: " + smARN, func() bool { return states.count() == 1 }},
		{"the webhook completes a task token", func() error {
			return workflowAs("PaymentWebhookFunctionRole").Succeed(ctx, "token", map[string]string{})
		},
			"", func() bool { return states.count() == 2 }},
		{"Order cannot complete a task token", func() error { return workflowAs("OrderFunctionRole").Fail(ctx, "token", "PaymentRefused", "no") },
			"states:SendTaskFailure on resource: *", func() bool { return states.count() == 2 }},
		{"Notify sends from the sender address", func() error {
			_, err := mailerAs("NotifyFunctionRole").Send(ctx, "Shop <sales@shop.example>", msg)
			return err
		},
			"", func() bool { return mail.count() == 1 }},
		{"Notify cannot send from another address of the domain", func() error {
			_, err := mailerAs("NotifyFunctionRole").Send(ctx, "Shop <ceo@shop.example>", msg)
			return err
		}, "ses:SendEmail on resource: arn:aws:ses:us-east-1:123456789012:identity/ceo@shop.example", func() bool { return mail.count() == 1 }},
		{"Order cannot send e-mail", func() error { _, err := mailerAs("OrderFunctionRole").Send(ctx, "sales@shop.example", msg); return err },
			"ses:SendEmail on resource: arn:aws:ses:us-east-1:123456789012:identity/sales@shop.example", func() bool { return mail.count() == 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.denied == "" {
				if err != nil {
					t.Fatalf("call failed: %v", err)
				}
			} else {
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" || !strings.Contains(apiErr.ErrorMessage(), tt.denied) {
					t.Fatalf("err = %v, want AccessDeniedException on %s", err, tt.denied)
				}
			}
			if tt.reached != nil && !tt.reached() {
				t.Error("the upstream is not in the expected state")
			}
		})
	}
}
