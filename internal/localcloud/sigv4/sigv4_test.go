package sigv4_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/lmsshop/checkout/internal/localcloud/sigv4"
)

func TestVerifyService(t *testing.T) {
	now := time.Date(2026, 3, 12, 19, 3, 58, 0, time.UTC)
	secrets := map[string]string{"AKID": "secret"}
	secretOf := func(k string) (string, bool) { s, ok := secrets[k]; return s, ok }
	body := []byte(`{"TableName":"Checkout"}`)
	tests := []struct {
		name       string
		signAs     string // service the client signs for
		key        string
		secret     string
		noAuth     bool
		verifyAs   string
		wantReason sigv4.Reason
		wantMsg    string
	}{
		{name: "same service", signAs: "dynamodb", key: "AKID", secret: "secret", verifyAs: "dynamodb"},
		{name: "ses signing name", signAs: "ses", key: "AKID", secret: "secret", verifyAs: "ses"},
		{name: "signed for another service", signAs: "dynamodb", key: "AKID", secret: "secret", verifyAs: "states",
			wantReason: sigv4.Invalid, wantMsg: "Credential should be scoped to correct service: 'states'."},
		{name: "unknown key", signAs: "dynamodb", key: "AKIDX", secret: "secret", verifyAs: "dynamodb", wantReason: sigv4.UnknownKey},
		{name: "wrong secret", signAs: "dynamodb", key: "AKID", secret: "nope", verifyAs: "dynamodb", wantReason: sigv4.Invalid},
		{name: "unsigned", noAuth: true, verifyAs: "dynamodb", wantReason: sigv4.Missing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:8000/", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("X-Amz-Target", "DynamoDB_20120810.DescribeTable")
			if !tt.noAuth {
				sum := sha256.Sum256(body)
				err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: tt.key, SecretAccessKey: tt.secret},
					r, hex.EncodeToString(sum[:]), tt.signAs, "us-east-1", now)
				if err != nil {
					t.Fatal(err)
				}
			}
			key, f := sigv4.Verify(r, body, secretOf, "us-east-1", tt.verifyAs, now)
			if tt.wantReason == 0 {
				if f != nil || key != "AKID" {
					t.Fatalf("Verify = %q, %v; want AKID", key, f)
				}
				return
			}
			if f == nil || f.Reason != tt.wantReason || (tt.wantMsg != "" && f.Message != tt.wantMsg) {
				t.Fatalf("Verify failure = %+v, want reason %d %q", f, tt.wantReason, tt.wantMsg)
			}
		})
	}
}
