package apigw_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/lmsshop/checkout/internal/cfn"
	"github.com/lmsshop/checkout/internal/localcloud/apigw"
)

// sign signs req as an SDK client would for execute-api.
func sign(t *testing.T, req *http.Request, body []byte, key, secret, region string, at time.Time) {
	t.Helper()
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "execute-api", region, at); err != nil {
		t.Fatal(err)
	}
}

func TestSigV4(t *testing.T) {
	rec := &recorder{}
	routes := []cfn.Route{
		{Method: "ANY", Path: "/admin/{proxy+}", Function: "BackofficeFunction", IAM: true},
		{Method: "GET", Path: "/catalog", Function: "BackofficeFunction"},
	}
	srv := newServer(t, routes, map[string]lambda.Handler{"BackofficeFunction": rec.handler()},
		apigw.Options{Credentials: map[string]string{"local": "localsecret"}})

	const badSig = "The request signature we calculated does not match"
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		prepare func(t *testing.T, req *http.Request, body []byte)
		status  int
		message string // substring of the 403 body
	}{
		{
			name: "signed GET with query", method: "GET", path: "/admin/orders?status=PAID&from=2026-01-01",
			prepare: func(t *testing.T, r *http.Request, b []byte) {
				sign(t, r, b, "local", "localsecret", "us-east-1", fixedNow)
			},
			status: 200,
		},
		{
			name: "signed POST with JSON body", method: "POST", path: "/admin/orders/A/payments", body: `{"amount":1000}`,
			prepare: func(t *testing.T, r *http.Request, b []byte) {
				sign(t, r, b, "local", "localsecret", "us-east-1", fixedNow)
			},
			status: 200,
		},
		{
			name: "signed four minutes ago", method: "GET", path: "/admin/orders",
			prepare: func(t *testing.T, r *http.Request, b []byte) {
				sign(t, r, b, "local", "localsecret", "us-east-1", fixedNow.Add(-4*time.Minute))
			},
			status: 200,
		},
		{
			name: "unsigned", method: "GET", path: "/admin/orders",
			prepare: func(*testing.T, *http.Request, []byte) {},
			status:  403, message: `{"message":"Forbidden"}`,
		},
		{
			name: "wrong secret", method: "GET", path: "/admin/orders",
			prepare: func(t *testing.T, r *http.Request, b []byte) { sign(t, r, b, "local", "guess", "us-east-1", fixedNow) },
			status:  403, message: badSig,
		},
		{
			name: "unknown access key", method: "GET", path: "/admin/orders",
			prepare: func(t *testing.T, r *http.Request, b []byte) {
				sign(t, r, b, "AKIDOTHER", "localsecret", "us-east-1", fixedNow)
			},
			status: 403, message: "The security token included in the request is invalid.",
		},
		{
			name: "wrong region", method: "GET", path: "/admin/orders",
			prepare: func(t *testing.T, r *http.Request, b []byte) {
				sign(t, r, b, "local", "localsecret", "eu-west-3", fixedNow)
			},
			status: 403, message: "Credential should be scoped to a valid region.",
		},
		{
			name: "body tampered after signing", method: "POST", path: "/admin/orders/A/payments", body: `{"amount":1000}`,
			prepare: func(t *testing.T, r *http.Request, _ []byte) {
				sign(t, r, []byte(`{"amount":1}`), "local", "localsecret", "us-east-1", fixedNow)
			},
			status: 403, message: badSig,
		},
		{
			name: "query tampered after signing", method: "GET", path: "/admin/orders?status=PAID",
			prepare: func(t *testing.T, r *http.Request, b []byte) {
				sign(t, r, b, "local", "localsecret", "us-east-1", fixedNow)
				r.URL.RawQuery = "status=CANCELLED"
			},
			status: 403, message: badSig,
		},
		{
			name: "path tampered after signing", method: "GET", path: "/admin/orders/A",
			prepare: func(t *testing.T, r *http.Request, b []byte) {
				sign(t, r, b, "local", "localsecret", "us-east-1", fixedNow)
				r.URL.Path = "/admin/orders/B"
			},
			status: 403, message: badSig,
		},
		{
			name: "signed header changed", method: "POST", path: "/admin/orders/A/payments", body: `{}`,
			prepare: func(t *testing.T, r *http.Request, b []byte) {
				sign(t, r, b, "local", "localsecret", "us-east-1", fixedNow)
				r.Header.Set("Content-Type", "text/plain")
			},
			status: 403, message: badSig,
		},
		{
			name: "expired", method: "GET", path: "/admin/orders",
			prepare: func(t *testing.T, r *http.Request, b []byte) {
				sign(t, r, b, "local", "localsecret", "us-east-1", fixedNow.Add(-6*time.Minute))
			},
			status: 403, message: "Signature expired: 20260312T185758Z is now earlier than 20260312T185858Z",
		},
		{
			name: "from the future", method: "GET", path: "/admin/orders",
			prepare: func(t *testing.T, r *http.Request, b []byte) {
				sign(t, r, b, "local", "localsecret", "us-east-1", fixedNow.Add(6*time.Minute))
			},
			status: 403, message: "Signature not yet current",
		},
		{
			name: "garbage authorization", method: "GET", path: "/admin/orders",
			prepare: func(_ *testing.T, r *http.Request, _ []byte) {
				r.Header.Set("Authorization", "AWS4-HMAC-SHA256 nonsense")
			},
			status: 403, message: "Authorization header requires",
		},
		{
			name: "public route needs no signature", method: "GET", path: "/catalog",
			prepare: func(*testing.T, *http.Request, []byte) {},
			status:  200,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec.events = nil
			body := []byte(tt.body)
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if len(body) > 0 {
				req.Header.Set("Content-Type", "application/json")
			}
			tt.prepare(t, req, body)
			resp, got := do(t, req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d (%s), want %d", resp.StatusCode, got, tt.status)
			}
			if tt.status == 403 {
				if !strings.Contains(got, tt.message) {
					t.Errorf("body = %s, want it to contain %q", got, tt.message)
				}
				if len(rec.events) != 0 {
					t.Error("function invoked despite a refused signature")
				}
				return
			}
			ev := rec.last(t)
			if strings.HasPrefix(tt.path, "/admin") {
				a := ev.RequestContext.Authorizer
				if a == nil || a.IAM == nil || a.IAM.AccessKey != "local" || a.IAM.AccountID != apigw.DefaultAccountID {
					t.Errorf("authorizer = %+v, want iam with access key local", a)
				}
			}
		})
	}
}
