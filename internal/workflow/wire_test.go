package workflow_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/all"
	"github.com/lmsshop/checkout/internal/wire/settings"
	"github.com/lmsshop/checkout/internal/workflow"
)

func TestPaymentConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		modes   []string // expected besides freeorder
		wantErr string
	}{
		{"nothing configured", nil, nil, ""},
		{"test and cheque", map[string]string{"PAYMENT_TEST_SECRET": "s", "PAYMENT_CHECK_PAYEE": "Shop", "PAYMENT_CHECK_ADDRESS": "1 rue X"}, []string{"test", "check"}, ""},
		{"stripe without its webhook secret", map[string]string{"PAYMENT_STRIPE_SECRET_KEY": "sk_test_1"}, nil, "WebhookSecret"},
		{"systempay complete", map[string]string{"PAYMENT_SYSTEMPAY_SITE_ID": "12345678", "PAYMENT_SYSTEMPAY_KEY": "k", "PAYMENT_SYSTEMPAY_CTX_MODE": "TEST",
			"PAYMENT_SYSTEMPAY_FORM_URL": "https://paiement.systempay.example/vads-payment/"}, []string{"systempay"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := settings.PaymentConfigFromEnv(func(k string) string { return tt.env[k] })
			modes, _, err := payment.NewModes(cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(modes) != len(tt.modes)+1 {
				t.Errorf("modes %v, want freeorder and %v", keys(modes), tt.modes)
			}
			for _, m := range tt.modes {
				if _, ok := modes[m]; !ok {
					t.Errorf("mode %s missing from %v", m, keys(modes))
				}
			}
		})
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestPostPlacementFunctionsBuild builds each function as functions/*/main.go does and
// checks it tells an HTTP event from a task: both kinds reach their own dispatcher.
func TestPostPlacementFunctionsBuild(t *testing.T) {
	t.Setenv("PAYMENT_TEST_SECRET", "s")
	cfg := wire.Config{TableName: "none", ShopID: "demo", SenderEmail: "shop@example.com", StorefrontURL: "https://shop.example", LMSAdapter: "local",
		StateMachineARN: "arn:aws:states:us-east-1:000000000000:stateMachine:checkout", MailStateMachineARN: "arn:aws:states:us-east-1:000000000000:stateMachine:mail"}
	awsCfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("x", "y", "")}
	d := wire.NewDeps(cfg, awsCfg, nil)
	tests := []struct {
		id         string
		route      string // a route it serves, "" if none
		taskAction string // a task it runs, "" if none
	}{
		{"PaymentFunction", "GET /orders/{txid}", "start"},
		{"PaymentWebhookFunction", "POST /webhooks/{provider}", ""},
		{"ProduceFunction", "", "prepay"},
		{"BillFunction", "GET /orders/{txid}/bill", "invoice"},
		{"NotifyFunction", "", "delivered"},
		{"BackofficeFunction", workflow.AdminRouteKey, ""},
	}
	for _, tt := range tests {
		h, err := all.Handler(tt.id, d)
		if err != nil {
			t.Fatalf("%s: %v", tt.id, err)
		}
		// An unknown route is answered by the function's router (404), not refused as
		// "no HTTP route", when the function serves HTTP.
		ev, _ := json.Marshal(events.APIGatewayV2HTTPRequest{RouteKey: "GET /nowhere", RawPath: "/nowhere"})
		out, err := h.Invoke(context.Background(), ev)
		servesHTTP := err == nil && strings.Contains(string(out), `"statusCode":404`)
		if servesHTTP != (tt.route != "") {
			t.Errorf("%s: HTTP event answered %s / %v", tt.id, out, err)
		}
		// A task with a malformed transaction ID is refused by the task dispatcher with
		// the state machine's TaskFailed, before any AWS call.
		payload := `{"action":"` + tt.taskAction + `","event":"` + tt.taskAction + `","txid":"bad"}`
		_, err = h.Invoke(context.Background(), []byte(payload))
		runsTasks := err != nil && strings.Contains(err.Error(), "is not a transaction ID")
		if runsTasks != (tt.taskAction != "") {
			t.Errorf("%s: task answered %v", tt.id, err)
		}
	}
}
