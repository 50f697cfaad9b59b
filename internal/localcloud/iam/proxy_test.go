package iam_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"

	"github.com/lmsshop/checkout/internal/localcloud/dynamotest"
	"github.com/lmsshop/checkout/internal/localcloud/iam"
	"github.com/lmsshop/checkout/internal/localcloud/secretslocal"
)

const (
	account = "123456789012"
	region  = "us-east-1"
	smARN   = "arn:aws:states:us-east-1:123456789012:stateMachine:shop-checkout"
)

// recorder is a fake upstream that counts the requests reaching it.
type recorder struct {
	mu   sync.Mutex
	hits []string
	body string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.hits = append(r.hits, req.Header.Get("X-Amz-Target")+req.URL.Path)
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(r.body))
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.hits)
}

type clients struct {
	ddb *dynamodb.Client
	sfn *sfn.Client
	ses *sesv2.Client
	sm  *secretsmanager.Client
}

type fixture struct {
	table, tableARN string
	direct          *dynamodb.Client // straight to DynamoDB Local, to look behind the proxy
	writer, reader  clients
	stranger, forge clients // unknown access key; known key with the wrong secret
	states, mail    *recorder
	auth            *iam.Authorizer
	secretARN       string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{}
	f.direct = dynamotest.Client(t)
	f.table = dynamotest.CreateTable(t, f.direct)
	f.tableARN = "arn:aws:dynamodb:us-east-1:123456789012:table/" + f.table

	secrets := secretslocal.New(region, account)
	f.secretARN, _, _ = secrets.Put("shop-checkout-settings", `{"MOODLE_TOKEN":"t0k"}`)
	if _, _, err := secrets.Put("other-secret", "x"); err != nil {
		t.Fatal(err)
	}

	a, err := iam.New(iam.Config{Account: account, Region: region, SecretARN: secrets.ARN})
	if err != nil {
		t.Fatal(err)
	}
	f.auth = a
	writer, err := iam.ParsePolicy("WriterPolicy", []byte(`{"Version":"2012-10-17","Statement":[
		{"Sid":"Table","Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem","dynamodb:Query","dynamodb:UpdateItem","dynamodb:DeleteItem"],
		 "Resource":["`+f.tableARN+`","`+f.tableARN+`/index/*"]},
		{"Sid":"NoDelete","Effect":"Deny","Action":"dynamodb:DeleteItem","Resource":"*"},
		{"Sid":"Start","Effect":"Allow","Action":"states:StartExecution","Resource":"`+smARN+`"},
		{"Sid":"Tokens","Effect":"Allow","Action":["states:SendTaskSuccess","states:SendTaskFailure"],"Resource":"*"},
		{"Sid":"Mail","Effect":"Allow","Action":"ses:SendEmail","Resource":"arn:aws:ses:us-east-1:123456789012:identity/*",
		 "Condition":{"StringEquals":{"ses:FromAddress":"shop@example.com"}}},
		{"Sid":"Settings","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:123456789012:secret:shop-checkout-settings-*"},
		{"Sid":"NeverUsed","Effect":"Allow","Action":"dynamodb:DeleteTable","Resource":"`+f.tableARN+`"}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	reader, err := iam.ParsePolicy("ReaderPolicy", []byte(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query"],"Resource":"`+f.tableARN+`"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	basic, err := iam.ManagedPolicy("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		a.AddRole("WriterRole", writer, basic),
		a.AddRole("ReaderRole", reader, basic),
		a.AddKey("AKIDWRITER", "writer-secret", "WriterRole", "WriterFunction"),
		a.AddKey("AKIDREADER", "reader-secret", "ReaderRole", "ReaderFunction"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}

	f.states = &recorder{body: `{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:shop-checkout:TX1","startDate":1767225600}`}
	f.mail = &recorder{body: `{"MessageId":"m-1"}`}
	ddbURL := proxyURL(t, a, iam.DynamoDB, dynamotest.Endpoint(t))
	sfnURL := proxyURL(t, a, iam.StepFunctions, serverURL(t, f.states))
	sesURL := proxyURL(t, a, iam.SESv2, serverURL(t, f.mail))
	smURL := proxyURL(t, a, iam.SecretsManager, serverURL(t, secrets))

	mk := func(key, secret string) clients {
		cfg := aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""), RetryMaxAttempts: 1}
		return clients{
			ddb: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ddbURL) }),
			sfn: sfn.NewFromConfig(cfg, func(o *sfn.Options) { o.BaseEndpoint = aws.String(sfnURL) }),
			ses: sesv2.NewFromConfig(cfg, func(o *sesv2.Options) { o.BaseEndpoint = aws.String(sesURL) }),
			sm:  secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(smURL) }),
		}
	}
	f.writer = mk("AKIDWRITER", "writer-secret")
	f.reader = mk("AKIDREADER", "reader-secret")
	f.stranger = mk("AKIDNOBODY", "whatever")
	f.forge = mk("AKIDWRITER", "guessed")
	return f
}

func item(pk string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: pk}, "sk": &ddbtypes.AttributeValueMemberS{Value: "CART"}}
}

// stored reports whether DynamoDB Local holds the item, asked directly.
func (f *fixture) stored(t *testing.T, pk string) bool {
	t.Helper()
	out, err := f.direct.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(f.table), Key: item(pk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item != nil
}

func email(from string) *sesv2.SendEmailInput {
	return &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(from),
		Destination:      &sestypes.Destination{ToAddresses: []string{"ada@example.org"}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String("Your order")},
			Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String("Thanks")}},
		}},
	}
}

func TestProxyWithSDKClients(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	denied := func(role, session, action, resource string) string {
		return "User: arn:aws:sts::123456789012:assumed-role/" + role + "/" + session + " is not authorized to perform: " +
			action + " on resource: " + resource + " because no identity-based policy allows the " + action + " action"
	}
	putItem := func(c clients, pk string) func() error {
		return func() error {
			_, err := c.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: item(pk)})
			return err
		}
	}
	gsiQuery := func(c clients) func() error {
		return func() error {
			_, err := c.ddb.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(f.table), IndexName: aws.String("gsi1"),
				KeyConditionExpression:    aws.String("gsi1pk = :p"),
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": &ddbtypes.AttributeValueMemberS{Value: "ORDERS#PAID"}}})
			return err
		}
	}
	start := func(c clients) func() error {
		return func() error {
			_, err := c.sfn.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(smARN), Name: aws.String("TX1"), Input: aws.String("{}")})
			return err
		}
	}
	send := func(c clients, from string) func() error {
		return func() error {
			_, err := c.ses.SendEmail(ctx, email(from))
			return err
		}
	}
	secret := func(c clients, id string) func() error {
		return func() error {
			out, err := c.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
			if err == nil && aws.ToString(out.SecretString) != `{"MOODLE_TOKEN":"t0k"}` {
				return errors.New("wrong secret value " + aws.ToString(out.SecretString))
			}
			return err
		}
	}

	tests := []struct {
		name     string
		call     func() error
		code     string // "" when allowed
		status   int
		message  string
		upstream func() bool // true when the call reached the upstream (checked after the call)
	}{
		{name: "PutItem allowed and stored", call: putItem(f.writer, "TX#W1"), upstream: func() bool { return f.stored(t, "TX#W1") }},
		{name: "PutItem denied, nothing stored", call: putItem(f.reader, "TX#R1"), code: "AccessDeniedException", status: 400,
			message:  denied("ReaderRole", "ReaderFunction", "dynamodb:PutItem", f.tableARN),
			upstream: func() bool { return f.stored(t, "TX#R1") }},
		{name: "TransactWriteItems denied item by item, nothing stored", call: func() error {
			_, err := f.reader.ddb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
				{Put: &ddbtypes.Put{TableName: aws.String(f.table), Item: item("TX#R2")}}}})
			return err
		}, code: "AccessDeniedException", status: 400, message: denied("ReaderRole", "ReaderFunction", "dynamodb:PutItem", f.tableARN),
			upstream: func() bool { return f.stored(t, "TX#R2") }},
		{name: "TransactWriteItems allowed through PutItem", call: func() error {
			_, err := f.writer.ddb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
				{Put: &ddbtypes.Put{TableName: aws.String(f.table), Item: item("TX#W2")}}}})
			return err
		}, upstream: func() bool { return f.stored(t, "TX#W2") }},
		{name: "explicit deny wins", call: func() error {
			_, err := f.writer.ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(f.table), Key: item("TX#W1")})
			return err
		}, code: "AccessDeniedException", status: 400,
			message:  "User: arn:aws:sts::123456789012:assumed-role/WriterRole/WriterFunction is not authorized to perform: dynamodb:DeleteItem on resource: " + f.tableARN + " with an explicit deny in an identity-based policy",
			upstream: func() bool { return !f.stored(t, "TX#W1") }},
		{name: "Query on an index needs the index ARN", call: gsiQuery(f.reader), code: "AccessDeniedException", status: 400,
			message: denied("ReaderRole", "ReaderFunction", "dynamodb:Query", f.tableARN+"/index/gsi1")},
		{name: "Query on an index allowed by index/*", call: gsiQuery(f.writer)},
		{name: "unknown access key", call: putItem(f.stranger, "TX#S1"), code: "UnrecognizedClientException", status: 400,
			message: "The security token included in the request is invalid.", upstream: func() bool { return f.stored(t, "TX#S1") }},
		{name: "wrong secret key", call: putItem(f.forge, "TX#F1"), code: "InvalidSignatureException", status: 400,
			message: "The request signature we calculated does not match", upstream: func() bool { return f.stored(t, "TX#F1") }},
		{name: "StartExecution allowed", call: start(f.writer), upstream: func() bool { return f.states.count() == 1 }},
		{name: "StartExecution denied", call: start(f.reader), code: "AccessDeniedException", status: 400,
			message: denied("ReaderRole", "ReaderFunction", "states:StartExecution", smARN), upstream: func() bool { return f.states.count() != 1 }},
		{name: "SendTaskSuccess allowed on *", call: func() error {
			_, err := f.writer.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("tok"), Output: aws.String("{}")})
			return err
		}, upstream: func() bool { return f.states.count() == 2 }},
		{name: "SendTaskFailure denied", call: func() error {
			_, err := f.reader.sfn.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String("tok"), Error: aws.String("E")})
			return err
		}, code: "AccessDeniedException", status: 400, message: denied("ReaderRole", "ReaderFunction", "states:SendTaskFailure", "*"),
			upstream: func() bool { return f.states.count() != 2 }},
		{name: "SendEmail from the granted address", call: send(f.writer, "Shop <shop@example.com>"), upstream: func() bool { return f.mail.count() == 1 }},
		{name: "SendEmail from another address", call: send(f.writer, "evil@example.com"), code: "AccessDeniedException", status: 403,
			message:  denied("WriterRole", "WriterFunction", "ses:SendEmail", "arn:aws:ses:us-east-1:123456789012:identity/evil@example.com"),
			upstream: func() bool { return f.mail.count() != 1 }},
		{name: "SendEmail without any grant", call: send(f.reader, "shop@example.com"), code: "AccessDeniedException", status: 403,
			message:  denied("ReaderRole", "ReaderFunction", "ses:SendEmail", "arn:aws:ses:us-east-1:123456789012:identity/shop@example.com"),
			upstream: func() bool { return f.mail.count() != 1 }},
		{name: "SendEmail unsigned key", call: send(f.stranger, "shop@example.com"), code: "UnrecognizedClientException", status: 403,
			upstream: func() bool { return f.mail.count() != 1 }},
		{name: "GetSecretValue by name", call: secret(f.writer, "shop-checkout-settings")},
		{name: "GetSecretValue by ARN", call: secret(f.writer, f.secretARN)},
		{name: "GetSecretValue denied", call: secret(f.reader, "shop-checkout-settings"), code: "AccessDeniedException", status: 400,
			message: denied("ReaderRole", "ReaderFunction", "secretsmanager:GetSecretValue", f.secretARN)},
		{name: "GetSecretValue of a secret not granted", call: secret(f.writer, "other-secret"), code: "AccessDeniedException", status: 400,
			message: "secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:other-secret-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.code == "" {
				if err != nil {
					t.Fatalf("call failed: %v", err)
				}
				if tt.upstream != nil && !tt.upstream() {
					t.Error("the allowed call did not take effect upstream")
				}
				return
			}
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.code {
				t.Fatalf("err = %v, want API error %s", err, tt.code)
			}
			if !strings.Contains(apiErr.ErrorMessage(), tt.message) {
				t.Errorf("message = %q, want it to contain %q", apiErr.ErrorMessage(), tt.message)
			}
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != tt.status {
				t.Errorf("status = %v, want %d", err, tt.status)
			}
			if tt.upstream != nil && tt.upstream() {
				t.Error("the refused call reached the upstream")
			}
		})
	}

	rep := f.auth.Usage()
	has := func(u iam.Use) bool {
		for _, a := range rep.Allowed {
			if a.Role == u.Role && a.Action == u.Action && a.Resource == u.Resource && a.Count > 0 {
				return true
			}
		}
		return false
	}
	for _, want := range []iam.Use{
		{Role: "WriterRole", Action: "dynamodb:PutItem", Resource: f.tableARN},
		{Role: "WriterRole", Action: "dynamodb:Query", Resource: f.tableARN + "/index/gsi1"},
		{Role: "WriterRole", Action: "ses:SendEmail", Resource: "arn:aws:ses:us-east-1:123456789012:identity/shop@example.com"},
		{Role: "WriterRole", Action: "secretsmanager:GetSecretValue", Resource: f.secretARN},
	} {
		if !has(want) {
			t.Errorf("usage report lacks %+v: %+v", want, rep.Allowed)
		}
	}
	for _, a := range rep.Allowed {
		if a.Role == "ReaderRole" {
			t.Errorf("usage report shows a denied call as allowed: %+v", a)
		}
	}
	unused := map[string]bool{}
	for _, s := range rep.Unused {
		unused[s.Role+"/"+s.Policy+"/"+s.Sid] = true
	}
	if !unused["WriterRole/WriterPolicy/NeverUsed"] || unused["WriterRole/WriterPolicy/Mail"] || unused["WriterRole/WriterPolicy/NoDelete"] {
		t.Errorf("unused statements = %+v, want NeverUsed and not Mail or NoDelete", rep.Unused)
	}
	if !unused["WriterRole/arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole/"] {
		t.Errorf("the managed logs statement is not reported unused: %+v", rep.Unused)
	}
	var table *iam.StatementUse
	for i := range rep.Partial {
		if rep.Partial[i].Role == "WriterRole" && rep.Partial[i].Sid == "Table" {
			table = &rep.Partial[i]
		}
	}
	if table == nil || strings.Join(table.UnusedActions, ",") != "dynamodb:GetItem,dynamodb:UpdateItem,dynamodb:DeleteItem" || len(table.UnusedResources) != 0 {
		t.Errorf("partial use of Table = %+v, want GetItem, UpdateItem and DeleteItem unused", table)
	}

	iam.TextReportHas(t, rep,
		"WriterRole  dynamodb:PutItem  "+f.tableARN+"  ×2",
		"WriterRole  WriterPolicy  statement 6 (NeverUsed) Allow\n",
		"WriterRole  arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole  statement 0 Allow [AWS managed]",
		"WriterRole  WriterPolicy  statement 0 (Table) Allow  unused actions: dynamodb:GetItem, dynamodb:UpdateItem, dynamodb:DeleteItem\n",
	)
}

func TestAuthorize(t *testing.T) {
	a, err := iam.New(iam.Config{Account: account, Region: region})
	if err != nil {
		t.Fatal(err)
	}
	const fn = "arn:aws:lambda:us-east-1:123456789012:function:ProduceFunction"
	p, err := iam.ParsePolicy("Invoke", []byte(`{"Statement":[{"Effect":"Allow","Action":["lambda:InvokeFunction"],"Resource":"`+fn+`*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddRole("CheckoutStateMachineRole", p); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		principal, resource string
		want                string // "" when allowed
	}{
		{"CheckoutStateMachineRole", fn, ""},
		{"CheckoutStateMachineRole", fn + ":live", ""},
		{"CheckoutStateMachineRole/exec-1", "arn:aws:lambda:us-east-1:123456789012:function:BillFunction",
			"User: arn:aws:sts::123456789012:assumed-role/CheckoutStateMachineRole/exec-1 is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:BillFunction because no identity-based policy allows the lambda:InvokeFunction action"},
		{"UnknownRole", fn, "assumed-role/UnknownRole/UnknownRole is not authorized"},
	}
	for _, tt := range tests {
		t.Run(tt.principal+" "+tt.resource, func(t *testing.T) {
			err := a.Authorize(tt.principal, "lambda:InvokeFunction", tt.resource)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ad *iam.AccessDenied
			if !errors.As(err, &ad) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want an AccessDenied containing %q", err, tt.want)
			}
		})
	}
}

// proxyURL serves a's IAM-enforcing proxy of svc in front of upstream for the test.
func proxyURL(t *testing.T, a *iam.Authorizer, svc iam.Service, upstream string) string {
	t.Helper()
	h, err := a.Proxy(svc, upstream)
	if err != nil {
		t.Fatal(err)
	}
	return serverURL(t, h)
}

// serverURL serves h for the test.
func serverURL(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
