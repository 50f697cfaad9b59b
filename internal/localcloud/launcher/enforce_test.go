package launcher

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lmsshop/checkout/internal/cfn"
)

// Each function has its own identity: no two share an access key, and the key is the
// same on every start (the IAM report and the logs name stable principals).
func TestFunctionCredentials(t *testing.T) {
	ids := []string{"ShopFunction", "OrderFunction", "PaymentFunction", "NotifyFunction"}
	seen := map[string]string{}
	for _, id := range ids {
		c := FunctionCredentials(id)
		if len(c.AccessKeyID) != 20 || c.AccessKeyID[:4] != "ASIA" || c.SecretAccessKey == "" {
			t.Errorf("%s: credentials %+v", id, c)
		}
		if c.AccessKeyID == AccessKeyID {
			t.Errorf("%s uses the operator's key", id)
		}
		if other, ok := seen[c.AccessKeyID]; ok {
			t.Errorf("%s and %s share access key %s", id, other, c.AccessKeyID)
		}
		seen[c.AccessKeyID] = id
		if again := FunctionCredentials(id); again != c {
			t.Errorf("%s: credentials change between calls", id)
		}
	}
}

func TestSecretContent(t *testing.T) {
	tests := []struct {
		name    string
		secret  cfn.Secret
		extra   map[string]string // Config.Settings
		want    map[string]bool   // keys expected
		literal string            // a non-JSON content kept as is
	}{
		{"empty object", cfn.Secret{SecretString: "{}"}, nil, map[string]bool{"PAYMENT_TEST_SECRET": true}, ""},
		{"operator keys kept", cfn.Secret{SecretString: `{"MOODLE_TOKEN":"t"}`}, nil, map[string]bool{"PAYMENT_TEST_SECRET": true, "MOODLE_TOKEN": true}, ""},
		{"generated key", cfn.Secret{Template: "{}", GenerateKey: "GENERATED_AT_CREATION"}, nil, map[string]bool{"PAYMENT_TEST_SECRET": true, "GENERATED_AT_CREATION": true}, ""},
		{"extra settings", cfn.Secret{SecretString: "{}"}, map[string]string{"PAYMENT_STRIPE_SECRET_KEY": "sk_test_1"}, map[string]bool{"PAYMENT_TEST_SECRET": true, "PAYMENT_STRIPE_SECRET_KEY": true}, ""},
		{"plain text", cfn.Secret{SecretString: "hunter2"}, nil, nil, "hunter2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := secretContent(tt.secret, tt.extra)
			if err != nil {
				t.Fatal(err)
			}
			if tt.literal != "" {
				if got != tt.literal {
					t.Errorf("content = %q, want %q", got, tt.literal)
				}
				return
			}
			var m map[string]string
			if err := json.Unmarshal([]byte(got), &m); err != nil {
				t.Fatalf("content %q: %v", got, err)
			}
			for k := range tt.want {
				if m[k] == "" {
					t.Errorf("content %s has no %s", got, k)
				}
			}
			if len(m) != len(tt.want) {
				t.Errorf("content %s, want exactly the keys %v", got, tt.want)
			}
		})
	}
}

// The engine's invocations are authorised first, by the function's full ARN; a refusal
// is returned as is and the function does not run.
func TestInvokerAuthorizes(t *testing.T) {
	ran := false
	inv := &Invoker{}
	inv.Set(map[string]lambda.Handler{"EchoFunction": lambda.NewHandler(func(context.Context, map[string]any) (any, error) {
		ran = true
		return nil, nil
	})})
	denied := errors.New("denied")
	var asked []string
	inv.Authorize = func(_ context.Context, arn string) error {
		asked = append(asked, arn)
		return denied
	}
	for _, ref := range []string{"EchoFunction", "arn:aws:lambda:us-east-1:000000000000:function:EchoFunction:$LATEST"} {
		if _, err := inv.Invoke(context.Background(), ref, []byte(`{}`)); !errors.Is(err, denied) {
			t.Errorf("Invoke(%s) err = %v, want the refusal", ref, err)
		}
	}
	if ran {
		t.Error("the function ran although the invocation was refused")
	}
	want := []string{"arn:aws:lambda:us-east-1:000000000000:function:EchoFunction", "arn:aws:lambda:us-east-1:000000000000:function:EchoFunction:$LATEST"}
	if len(asked) != 2 || asked[0] != want[0] || asked[1] != want[1] {
		t.Errorf("authorised %v, want %v", asked, want)
	}
	inv.Authorize = func(context.Context, string) error { return nil }
	if _, err := inv.Invoke(context.Background(), "EchoFunction", []byte(`{}`)); err != nil || !ran {
		t.Errorf("allowed Invoke: %v, ran %v", err, ran)
	}
}

// Each SDK client finds its service's endpoint as AWS_ENDPOINT_URL_<SERVICE> names it.
func TestServiceEndpointSource(t *testing.T) {
	src := serviceEndpointSource{"DYNAMODB": "http://d", "SFN": "http://s", "SESV2": "http://e", "SECRETS_MANAGER": "http://m"}
	for sdkID, want := range map[string]string{"DynamoDB": "http://d", "SFN": "http://s", "SESv2": "http://e", "Secrets Manager": "http://m"} {
		got, ok, err := src.GetServiceBaseEndpoint(context.Background(), sdkID)
		if err != nil || !ok || got != want {
			t.Errorf("%s: %q %v %v, want %q", sdkID, got, ok, err, want)
		}
	}
	if _, ok, _ := src.GetServiceBaseEndpoint(context.Background(), "S3"); ok {
		t.Error("an unknown service got an endpoint")
	}
}
