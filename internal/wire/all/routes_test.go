package all_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lmsshop/checkout/internal/samtemplate"
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/all"
)

// Every HttpApi route of template.yaml reaches a handler of its function, and every
// function of the template can be built: the template and the code cannot drift apart.
func TestEveryTemplateRouteHasAHandler(t *testing.T) {
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Nothing listens on port 1: a handler that reaches for a service fails at once,
	// which is fine here; what matters is that the route is served at all.
	awsCfg := aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
		BaseEndpoint: aws.String("http://127.0.0.1:1"), RetryMaxAttempts: 1,
	}
	cfg := wire.Config{TableName: "t", ShopID: "demo", StateMachineARN: "arn:aws:states:us-east-1:000000000000:stateMachine:x", MailStateMachineARN: "arn:aws:states:us-east-1:000000000000:stateMachine:mail", LMSAdapter: "local", OperatorWait: time.Hour, ReconcileDays: 3}
	d := wire.NewDeps(cfg, awsCfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	built := map[string]bool{}
	for _, f := range tpl.Functions() {
		if _, err := all.Handler(f.LogicalID, d); err != nil {
			t.Errorf("%s cannot be built: %v", f.LogicalID, err)
			continue
		}
		built[f.LogicalID] = true
	}
	served := 0
	defer func() {
		if want := len(tpl.Routes()); served != want {
			t.Errorf("checked %d routes, want all %d of the template", served, want)
		}
	}()
	for _, r := range tpl.Routes() {
		if !built[r.Function] {
			continue
		}
		served++
		h, _ := all.Handler(r.Function, d)
		path := strings.NewReplacer("{txid}", "AAAAAAAAAAAAAAAA", "{code}", "GO-101", "{provider}", "test", "{proxy+}", "orders").Replace(r.Path)
		method := r.Method
		if method == "ANY" {
			method = "GET"
		}
		ev := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: r.Key(), RawPath: path, Headers: map[string]string{"content-type": "application/json"},
			PathParameters: map[string]string{"txid": "AAAAAAAAAAAAAAAA", "code": "GO-101", "provider": "test", "proxy": "orders"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{RouteKey: r.Key(), HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path}},
		}
		payload, _ := json.Marshal(ev)
		out, err := h.Invoke(context.Background(), payload)
		if err != nil {
			t.Errorf("%s: handler error %v", r.Key(), err)
			continue
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
			t.Errorf("%s: not an HTTP API response: %s", r.Key(), out)
			continue
		}
		if strings.Contains(resp.Body, "no route") {
			t.Errorf("%s: %s has no handler for it: %s", r.Key(), r.Function, resp.Body)
		}
	}
}
