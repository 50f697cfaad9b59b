package wire_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/mail"
	"github.com/lmsshop/checkout/internal/wire/order"
)

// A Lambda binary reads its region, its role's session and the endpoint variables from
// the environment the runtime gives it; a missing one fails the cold start by name.
func TestLambdaAWSConfig(t *testing.T) {
	full := map[string]string{
		"AWS_REGION": "eu-west-3", "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
	}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range full {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr string
		ddb     string // the DynamoDB client's endpoint
		sfn     string
	}{
		{"AWS", full, "", "https://dynamodb.eu-west-3.amazonaws.com", "https://states.eu-west-3.amazonaws.com"},
		{"default region", with("AWS_REGION", "", "AWS_DEFAULT_REGION", "us-east-1"), "", "https://dynamodb.us-east-1.amazonaws.com", "https://states.us-east-1.amazonaws.com"},
		{"local endpoints", with("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000", "AWS_ENDPOINT_URL_SFN", "http://127.0.0.1:8083"), "", "http://127.0.0.1:8000", "http://127.0.0.1:8083"},
		{"one endpoint for all", with("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"), "", "http://127.0.0.1:4566", "http://127.0.0.1:4566"},
		{"no region", with("AWS_REGION", ""), "AWS_REGION", "", ""},
		{"no key", with("AWS_ACCESS_KEY_ID", ""), "AWS_ACCESS_KEY_ID", "", ""},
		{"no secret", with("AWS_SECRET_ACCESS_KEY", ""), "AWS_SECRET_ACCESS_KEY", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := wire.LambdaAWSConfig(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			creds, err := cfg.Credentials.Retrieve(context.Background())
			if err != nil || creds.AccessKeyID != "ASIAEXAMPLE" || creds.SessionToken != "token" {
				t.Errorf("credentials = %+v, %v", creds, err)
			}
			// The endpoint is resolved once, when the client is built: the fixed
			// resolver answers the same URL whatever the call's parameters.
			d := wire.NewDeps(wire.Config{TableName: "t"}, cfg, nil)
			ddb := d.DB.Options()
			if _, ok := ddb.EndpointResolverV2.(*wire.FixedEndpoint[dynamodb.EndpointParameters]); !ok {
				t.Fatalf("DynamoDB resolver is %T, want the fixed one", ddb.EndpointResolverV2)
			}
			ep, err := ddb.EndpointResolverV2.ResolveEndpoint(context.Background(), dynamodb.EndpointParameters{})
			if err != nil || ep.URI.String() != tc.ddb {
				t.Errorf("DynamoDB endpoint = %q, %v; want %q", ep.URI.String(), err, tc.ddb)
			}
			sf := order.SFN(d).Options()
			if _, ok := sf.EndpointResolverV2.(*wire.FixedEndpoint[sfn.EndpointParameters]); !ok {
				t.Fatalf("Step Functions resolver is %T, want the fixed one", sf.EndpointResolverV2)
			}
			ep, err = sf.EndpointResolverV2.ResolveEndpoint(context.Background(), sfn.EndpointParameters{})
			if err != nil || ep.URI.String() != tc.sfn {
				t.Errorf("Step Functions endpoint = %q, %v; want %q", ep.URI.String(), err, tc.sfn)
			}
		})
	}
}

// Calls through clients with fixed endpoints reach that endpoint, operation after
// operation (the SDK copies and compares a client's options on each call).
func TestFixedEndpointCalls(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Amz-Target"))
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if strings.HasPrefix(r.URL.Path, "/v2/email") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"MessageId":"m-1"}`))
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	cfg, err := wire.LambdaAWSConfig(func(k string) string {
		return map[string]string{"AWS_REGION": "eu-west-3", "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "S", "AWS_ENDPOINT_URL": srv.URL}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	d := wire.NewDeps(wire.Config{TableName: "t"}, cfg, nil)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if _, err := d.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "x"}}}); err != nil {
			t.Fatalf("GetItem: %v", err)
		}
		if _, err := mail.SES(d).SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("a@b.c"), Content: &sestypes.EmailContent{Raw: &sestypes.RawMessage{Data: []byte("x")}}}); err != nil {
			t.Fatalf("SendEmail: %v", err)
		}
		if _, err := order.SFN(d).SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String("tok")}); err != nil {
			t.Fatalf("SendTaskHeartbeat: %v", err)
		}
	}
	want := []string{"POST / DynamoDB_20120810.GetItem", "POST /v2/email/outbound-emails ", "POST / AWSStepFunctions.SendTaskHeartbeat"}
	if len(paths) != 6 || paths[0] != want[0] || paths[1] != want[1] || paths[2] != want[2] || paths[3] != want[0] {
		t.Errorf("calls = %q, want %q twice", paths, want)
	}
}
