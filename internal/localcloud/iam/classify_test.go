package iam

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// captured is a request as an SDK client sent it.
type captured struct {
	req  *http.Request
	body []byte
}

// capture returns a server that records the SDK's requests and refuses them with a
// non-retryable error, and the aws.Config to reach it.
func capture(t *testing.T) (*[]captured, aws.Config, string) {
	t.Helper()
	var got []captured
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, captured{req: r.Clone(context.Background()), body: b})
		w.Header().Set("x-amzn-ErrorType", "ValidationException")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"ValidationException","message":"captured"}`))
	}))
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")}
	return &got, cfg, srv.URL
}

func TestClassify(t *testing.T) {
	a, err := New(Config{Account: "123456789012", Region: "us-east-1", SecretARN: func(id string) (string, bool) {
		if id == "shop-checkout-settings" {
			return "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop-checkout-settings-AbCdEf", true
		}
		return "", false
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, cfg, url := capture(t)
	ddb := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(url) })
	states := sfn.NewFromConfig(cfg, func(o *sfn.Options) { o.BaseEndpoint = aws.String(url) })
	ses := sesv2.NewFromConfig(cfg, func(o *sesv2.Options) { o.BaseEndpoint = aws.String(url) })
	sm := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(url) })
	ctx := context.Background()
	key := map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "TX#1"}, "sk": &ddbtypes.AttributeValueMemberS{Value: "CART"}}

	const (
		tbl   = "arn:aws:dynamodb:us-east-1:123456789012:table/Checkout"
		other = "arn:aws:dynamodb:us-east-1:123456789012:table/Other"
		sm1   = "arn:aws:states:us-east-1:123456789012:stateMachine:shop-checkout"
		exe   = "arn:aws:states:us-east-1:123456789012:execution:shop-checkout:TX1"
		sec   = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop-checkout-settings-AbCdEf"
		idA   = "arn:aws:ses:us-east-1:123456789012:identity/shop@example.com"
		idD   = "arn:aws:ses:us-east-1:123456789012:identity/example.com"
	)
	noDDB := map[string][]string{"dynamodb:ReturnValues": nil, "dynamodb:ReturnConsumedCapacity": nil, "dynamodb:Select": nil}
	withRV := func(rv string) map[string][]string {
		return map[string][]string{"dynamodb:ReturnValues": {rv}, "dynamodb:ReturnConsumedCapacity": nil, "dynamodb:Select": nil}
	}
	smCtx := func(arn string) map[string][]string {
		return map[string][]string{"secretsmanager:SecretId": {arn}, "secretsmanager:VersionId": nil, "secretsmanager:VersionStage": nil}
	}
	sesCtx := func(display string, rcpt ...string) map[string][]string {
		c := map[string][]string{"ses:FromAddress": {"shop@example.com"}, "ses:FromDisplayName": nil, "ses:Recipients": rcpt, "ses:FeedbackAddress": nil, "ses:ApiVersion": {"2"}}
		if display != "" {
			c["ses:FromDisplayName"] = []string{display}
		}
		return c
	}

	tests := []struct {
		name string
		svc  Service
		call func() error
		want []check
	}{
		{"GetItem", DynamoDB, func() error {
			_, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Checkout"), Key: key})
			return err
		}, []check{{"dynamodb:GetItem", []string{tbl}, noDDB}}},
		{"PutItem", DynamoDB, func() error {
			_, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Checkout"), Item: key})
			return err
		}, []check{{"dynamodb:PutItem", []string{tbl}, noDDB}}},
		{"UpdateItem returning ALL_NEW", DynamoDB, func() error {
			_, err := ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("Checkout"), Key: key,
				UpdateExpression: aws.String("SET v = :v"), ReturnValues: ddbtypes.ReturnValueAllNew,
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":v": &ddbtypes.AttributeValueMemberN{Value: "1"}}})
			return err
		}, []check{{"dynamodb:UpdateItem", []string{tbl}, withRV("ALL_NEW")}}},
		{"DeleteItem", DynamoDB, func() error {
			_, err := ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("Checkout"), Key: key})
			return err
		}, []check{{"dynamodb:DeleteItem", []string{tbl}, noDDB}}},
		{"Query on the table", DynamoDB, func() error {
			_, err := ddb.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Checkout"), KeyConditionExpression: aws.String("pk = :p"),
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": &ddbtypes.AttributeValueMemberS{Value: "SHOP"}}})
			return err
		}, []check{{"dynamodb:Query", []string{tbl}, noDDB}}},
		{"Query on an index", DynamoDB, func() error {
			_, err := ddb.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Checkout"), IndexName: aws.String("gsi1"), KeyConditionExpression: aws.String("gsi1pk = :p"),
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": &ddbtypes.AttributeValueMemberS{Value: "ORDERS#PAID"}}})
			return err
		}, []check{{"dynamodb:Query", []string{tbl + "/index/gsi1"}, noDDB}}},
		{"Scan on an index", DynamoDB, func() error {
			_, err := ddb.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("Checkout"), IndexName: aws.String("gsi1")})
			return err
		}, []check{{"dynamodb:Scan", []string{tbl + "/index/gsi1"}, noDDB}}},
		{"TransactWriteItems item by item", DynamoDB, func() error {
			_, err := ddb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
				{Put: &ddbtypes.Put{TableName: aws.String("Checkout"), Item: key}},
				{Update: &ddbtypes.Update{TableName: aws.String("Checkout"), Key: key, UpdateExpression: aws.String("SET v = :v"),
					ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":v": &ddbtypes.AttributeValueMemberN{Value: "1"}}}},
				{ConditionCheck: &ddbtypes.ConditionCheck{TableName: aws.String("Other"), Key: key, ConditionExpression: aws.String("attribute_exists(pk)")}},
				{Delete: &ddbtypes.Delete{TableName: aws.String("Checkout"), Key: key}},
			}})
			return err
		}, []check{
			{"dynamodb:PutItem", []string{tbl}, noDDB},
			{"dynamodb:UpdateItem", []string{tbl}, noDDB},
			{"dynamodb:ConditionCheckItem", []string{other}, noDDB},
			{"dynamodb:DeleteItem", []string{tbl}, noDDB},
		}},
		{"TransactGetItems as GetItem", DynamoDB, func() error {
			_, err := ddb.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []ddbtypes.TransactGetItem{
				{Get: &ddbtypes.Get{TableName: aws.String("Checkout"), Key: key}},
			}})
			return err
		}, []check{{"dynamodb:GetItem", []string{tbl}, noDDB}}},
		{"BatchWriteItem on each table", DynamoDB, func() error {
			_, err := ddb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{
				"Checkout": {{PutRequest: &ddbtypes.PutRequest{Item: key}}},
				"Other":    {{DeleteRequest: &ddbtypes.DeleteRequest{Key: key}}},
			}})
			return err
		}, []check{{"dynamodb:BatchWriteItem", []string{tbl}, noDDB}, {"dynamodb:BatchWriteItem", []string{other}, noDDB}}},
		{"BatchGetItem", DynamoDB, func() error {
			_, err := ddb.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]ddbtypes.KeysAndAttributes{
				"Checkout": {Keys: []map[string]ddbtypes.AttributeValue{key}},
			}})
			return err
		}, []check{{"dynamodb:BatchGetItem", []string{tbl}, noDDB}}},
		{"DescribeTable", DynamoDB, func() error {
			_, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Checkout")})
			return err
		}, []check{{"dynamodb:DescribeTable", []string{tbl}, noDDB}}},
		{"ListTables has no resource", DynamoDB, func() error {
			_, err := ddb.ListTables(ctx, &dynamodb.ListTablesInput{})
			return err
		}, []check{{"dynamodb:ListTables", []string{"*"}, noDDB}}},
		{"StartExecution", StepFunctions, func() error {
			_, err := states.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm1), Name: aws.String("TX1"), Input: aws.String("{}")})
			return err
		}, []check{{"states:StartExecution", []string{sm1}, nil}}},
		{"SendTaskSuccess on *", StepFunctions, func() error {
			_, err := states.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("tok"), Output: aws.String("{}")})
			return err
		}, []check{{"states:SendTaskSuccess", []string{"*"}, nil}}},
		{"SendTaskFailure on *", StepFunctions, func() error {
			_, err := states.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String("tok"), Error: aws.String("E")})
			return err
		}, []check{{"states:SendTaskFailure", []string{"*"}, nil}}},
		{"SendTaskHeartbeat on *", StepFunctions, func() error {
			_, err := states.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String("tok")})
			return err
		}, []check{{"states:SendTaskHeartbeat", []string{"*"}, nil}}},
		{"DescribeExecution", StepFunctions, func() error {
			_, err := states.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(exe)})
			return err
		}, []check{{"states:DescribeExecution", []string{exe}, nil}}},
		{"StopExecution", StepFunctions, func() error {
			_, err := states.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(exe)})
			return err
		}, []check{{"states:StopExecution", []string{exe}, nil}}},
		{"GetExecutionHistory", StepFunctions, func() error {
			_, err := states.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(exe)})
			return err
		}, []check{{"states:GetExecutionHistory", []string{exe}, nil}}},
		{"SendEmail on the address or the domain identity", SESv2, func() error {
			_, err := ses.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String(`"Shop" <shop@example.com>`),
				Destination: &sestypes.Destination{ToAddresses: []string{"ada@example.org"}, BccAddresses: []string{"Bob <bob@example.net>"}},
				Content:     &sestypes.EmailContent{Simple: &sestypes.Message{Subject: &sestypes.Content{Data: aws.String("s")}, Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String("b")}}}}})
			return err
		}, []check{{"ses:SendEmail", []string{idA, idD}, sesCtx("Shop", "ada@example.org", "bob@example.net")}}},
		{"SendEmail with a configuration set", SESv2, func() error {
			_, err := ses.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("shop@example.com"), ConfigurationSetName: aws.String("cs"),
				Destination: &sestypes.Destination{ToAddresses: []string{"ada@example.org"}},
				Content:     &sestypes.EmailContent{Simple: &sestypes.Message{Subject: &sestypes.Content{Data: aws.String("s")}, Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String("b")}}}}})
			return err
		}, []check{
			{"ses:SendEmail", []string{idA, idD}, sesCtx("", "ada@example.org")},
			{"ses:SendEmail", []string{"arn:aws:ses:us-east-1:123456789012:configuration-set/cs"}, sesCtx("", "ada@example.org")},
		}},
		{"SendEmail as a named identity", SESv2, func() error {
			_, err := ses.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("shop@example.com"), FromEmailAddressIdentityArn: aws.String(idD),
				Destination: &sestypes.Destination{ToAddresses: []string{"ada@example.org"}},
				Content:     &sestypes.EmailContent{Simple: &sestypes.Message{Subject: &sestypes.Content{Data: aws.String("s")}, Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String("b")}}}}})
			return err
		}, []check{{"ses:SendEmail", []string{idD}, sesCtx("", "ada@example.org")}}},
		{"SendEmail raw, sender in the message", SESv2, func() error {
			_, err := ses.SendEmail(ctx, &sesv2.SendEmailInput{
				Destination: &sestypes.Destination{ToAddresses: []string{"ada@example.org"}},
				Content:     &sestypes.EmailContent{Raw: &sestypes.RawMessage{Data: []byte("From: shop@example.com\r\nTo: ada@example.org\r\nSubject: s\r\n\r\nbody")}}})
			return err
		}, []check{{"ses:SendEmail", []string{idA, idD}, sesCtx("", "ada@example.org")}}},
		{"GetSecretValue by ARN", SecretsManager, func() error {
			_, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(sec)})
			return err
		}, []check{{"secretsmanager:GetSecretValue", []string{sec}, smCtx(sec)}}},
		{"GetSecretValue by name resolves the ARN", SecretsManager, func() error {
			_, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("shop-checkout-settings")})
			return err
		}, []check{{"secretsmanager:GetSecretValue", []string{sec}, smCtx(sec)}}},
		{"GetSecretValue of an unknown name: ARN without suffix", SecretsManager, func() error {
			_, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("nope")})
			return err
		}, []check{{"secretsmanager:GetSecretValue", []string{"arn:aws:secretsmanager:us-east-1:123456789012:secret:nope"},
			smCtx("arn:aws:secretsmanager:us-east-1:123456789012:secret:nope")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			*got = nil
			if err := tt.call(); err == nil {
				t.Fatal("the capture server should refuse")
			}
			if len(*got) != 1 {
				t.Fatalf("%d requests captured, want 1", len(*got))
			}
			c := (*got)[0]
			checks, err := a.classify(tt.svc, c.req, c.body)
			if err != nil {
				t.Fatalf("classify: %v (body %s)", err, c.body)
			}
			if !reflect.DeepEqual(checks, tt.want) {
				t.Errorf("classify =\n%+v\nwant\n%+v", checks, tt.want)
			}
		})
	}
}

func TestClassifyRefuses(t *testing.T) {
	a, _ := New(Config{Account: "123456789012", Region: "us-east-1"})
	tests := []struct {
		name   string
		svc    Service
		method string
		path   string
		target string
		body   string
		code   string
	}{
		{"unknown target prefix", DynamoDB, "POST", "/", "DynamoDBStreams_20120810.GetRecords", `{}`, "UnknownOperationException"},
		{"no target", StepFunctions, "POST", "/", "", `{}`, "UnknownOperationException"},
		{"body not JSON", DynamoDB, "POST", "/", "DynamoDB_20120810.PutItem", `{"TableName":`, "SerializationException"},
		{"TableName not a string", DynamoDB, "POST", "/", "DynamoDB_20120810.PutItem", `{"TableName":1}`, "SerializationException"},
		{"transaction without items", DynamoDB, "POST", "/", "DynamoDB_20120810.TransactWriteItems", `{"TransactItems":[]}`, "SerializationException"},
		{"transaction item with two operations", DynamoDB, "POST", "/", "DynamoDB_20120810.TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"a"},"Delete":{"TableName":"a"}}]}`, "SerializationException"},
		{"Get inside TransactWriteItems", DynamoDB, "POST", "/", "DynamoDB_20120810.TransactWriteItems", `{"TransactItems":[{"Get":{"TableName":"a"}}]}`, "SerializationException"},
		{"transaction item without table", DynamoDB, "POST", "/", "DynamoDB_20120810.TransactWriteItems", `{"TransactItems":[{"Put":{}}]}`, "SerializationException"},
		{"SES sender not an address", SESv2, "POST", "/v2/email/outbound-emails", "", `{"FromEmailAddress":"nobody"}`, "BadRequestException"},
		{"SES unknown route", SESv2, "DELETE", "/v2/email/identities/x", "", ``, "NotFoundException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, bytes.NewReader([]byte(tt.body)))
			if tt.target != "" {
				r.Header.Set("X-Amz-Target", tt.target)
			}
			_, err := a.classify(tt.svc, r, []byte(tt.body))
			ce, ok := err.(*classifyError)
			if !ok || ce.code != tt.code {
				t.Fatalf("classify error = %v, want %s", err, tt.code)
			}
		})
	}
}
