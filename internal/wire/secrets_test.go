package wire

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// secretsServer answers GetSecretValue as Secrets Manager does (AWS JSON 1.1), for
// one secret: Secrets Manager has no local stand-in.
func secretsServer(t *testing.T, name, value string, calls *atomic.Int32) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var in struct{ SecretId string }
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || in.SecretId != name {
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`)
			return
		}
		out, _ := json.Marshal(map[string]string{"Name": name, "SecretString": value})
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPaymentSettingsComeFromTheSecretAfterTheEnvironment(t *testing.T) {
	var calls atomic.Int32
	srv := secretsServer(t, "checkout/payment", `{"PAYMENT_STRIPE_SECRET_KEY":"sk_test_from_secret","PAYMENT_TEST_SECRET":"from-secret"}`, &calls)
	t.Setenv("PAYMENT_TEST_SECRET", "from-env")
	d := NewDeps(Config{PaymentSecrets: "checkout/payment"}, aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), BaseEndpoint: aws.String(srv.URL),
	}, nil)
	for i := 0; i < 3; i++ {
		get, err := paymentSettings(d)
		if err != nil {
			t.Fatal(err)
		}
		if got := get("PAYMENT_STRIPE_SECRET_KEY"); got != "sk_test_from_secret" {
			t.Errorf("stripe key = %q, want the secret's", got)
		}
		if got := get("PAYMENT_TEST_SECRET"); got != "from-env" {
			t.Errorf("test secret = %q, want the environment's to win", got)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("Secrets Manager called %d times, want once per cold start", n)
	}
}

func TestPaymentSettingsRefuseAMissingOrMalformedSecret(t *testing.T) {
	for _, tc := range []struct{ name, secretName, value, want string }{
		{"missing", "other", `{}`, "read secret"},
		{"not JSON", "checkout/payment", `sk_live_123`, "not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := secretsServer(t, tc.secretName, tc.value, &calls)
			d := NewDeps(Config{PaymentSecrets: "checkout/payment"}, aws.Config{
				Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
			}, nil)
			if _, err := paymentSettings(d); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}
