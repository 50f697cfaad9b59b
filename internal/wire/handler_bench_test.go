package wire_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lmsshop/checkout/internal/localcloud/dynamotest"
	"github.com/lmsshop/checkout/internal/localcloud/sfnlocal"
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/all"
)

// BenchmarkCartHandlers invokes the ShopFunction's real handler as the Lambda runtime
// does (an HTTP API payload 2.0 event in JSON) against DynamoDB Local: a cart created,
// a line set, the cart read. Run with -benchmem, or -memprofile to see where each
// request's allocations go (docs/bench/report.md's notes summarise one).
func BenchmarkCartHandlers(b *testing.B) {
	cfg, awsCfg := benchTable(b)
	shop := handlerOf(b, "ShopFunction", wire.NewDeps(cfg, awsCfg, discard))
	create := func(b *testing.B) (string, string) {
		var c struct{ TransactionID, CartToken string }
		_ = json.Unmarshal([]byte(invoke(b, shop, "POST /carts", "/carts", nil, "", "", http.StatusCreated)), &c)
		return c.TransactionID, c.CartToken
	}
	b.Run("create", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			create(b)
		}
	})
	tx, token := create(b)
	b.Run("line", func(b *testing.B) {
		b.ReportAllocs()
		q := 0
		for b.Loop() {
			q = q%5 + 1
			invoke(b, shop, "PUT /carts/{txid}/lines/{code}", "/carts/"+tx+"/lines/GO-101", map[string]string{"txid": tx, "code": "GO-101"},
				token, `{"quantity":`+string(rune('0'+q))+`}`, http.StatusOK)
		}
	})
	b.Run("get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			invoke(b, shop, "GET /carts/{txid}", "/carts/"+tx, map[string]string{"txid": tx}, token, "", http.StatusOK)
		}
	})
}

// BenchmarkPlacement invokes the OrderFunction's real handler on POST
// /carts/{txid}/order, each time on a new cart holding a line and a customer (made
// through the Shop and Customer functions, outside the timer), against DynamoDB Local
// and the repository's Step Functions engine running a one-state machine: the place
// step of make bench, alone. Profile it with -cpuprofile and -run X.
func BenchmarkPlacement(b *testing.B) {
	cfg, awsCfg := benchTable(b)
	engine := sfnlocal.New(sfnlocal.Options{})
	b.Cleanup(func() { _ = engine.Close() })
	arn, err := engine.CreateStateMachine("checkout", []byte(`{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}`))
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(engine)
	b.Cleanup(srv.Close)
	env := map[string]string{"TABLE_NAME": cfg.TableName, "SHOP_ID": cfg.ShopID, "STATE_MACHINE_ARN": arn,
		"PAYMENT_TEST_SECRET": "bench-secret", "SHOP_CACHE_TTL": cfg.ShopCacheTTL.String(), "CART_TTL": "1h"}
	d := wire.NewDeps(wire.ConfigFrom(func(k string) string { return env[k] }), awsCfg, discard)
	d.AWS.BaseEndpoint = aws.String(srv.URL) // the Step Functions client's; DynamoDB's is built already
	order := handlerOf(b, "OrderFunction", d)
	pre := wire.NewDeps(cfg, awsCfg, discard)
	shop, customer := handlerOf(b, "ShopFunction", pre), handlerOf(b, "CustomerFunction", pre)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var c struct{ TransactionID, CartToken string }
		_ = json.Unmarshal([]byte(invoke(b, shop, "POST /carts", "/carts", nil, "", `{"lines":[{"code":"GO-101","quantity":1}]}`, http.StatusCreated)), &c)
		tx, token := c.TransactionID, c.CartToken
		invoke(b, customer, "PUT /carts/{txid}/customer", "/carts/"+tx+"/customer", map[string]string{"txid": tx}, token,
			`{"email":"bench@example.com","lastName":"Lovelace","firstName":"Ada","address":"1 Analytical Row","zip":"75005","city":"Paris","country":"FR","lang":"en"}`, http.StatusOK)
		b.StartTimer()
		invoke(b, order, "POST /carts/{txid}/order", "/carts/"+tx+"/order", map[string]string{"txid": tx}, token,
			`{"acceptTerms":true,"paymode":"test"}`, http.StatusCreated)
	}
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// benchTable returns a configuration on a fresh DynamoDB Local table holding the demo
// shop, and the SDK configuration that reaches it.
func benchTable(b *testing.B) (wire.Config, aws.Config) {
	_, table := dynamotest.NewTable(b)
	awsCfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "localsecret", ""),
		BaseEndpoint: aws.String(dynamotest.Endpoint(b)),
	}
	cfg := wire.Config{TableName: table, ShopID: "demo", ShopCacheTTL: 1 << 62, CartTTL: 1 << 40, StorefrontURL: "http://127.0.0.1:8080"}
	if err := all.SeedDemo(context.Background(), cfg, awsCfg); err != nil {
		b.Fatal(err)
	}
	return cfg, awsCfg
}

func handlerOf(b *testing.B, function string, d *wire.Deps) lambda.Handler {
	h, err := all.Handler(function, d)
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// invoke sends h an HTTP API event as the Lambda runtime does and returns the answer's
// body, failing unless its status is want.
func invoke(b *testing.B, h lambda.Handler, routeKey, path string, params map[string]string, token, body string, want int) string {
	method := strings.Fields(routeKey)[0]
	headers := map[string]string{"x-forwarded-proto": "http", "content-type": "application/json"}
	if token != "" {
		headers["authorization"] = "Bearer " + token
	}
	ev, _ := json.Marshal(events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: routeKey, RawPath: path, Headers: headers, PathParameters: params, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RouteKey: routeKey, DomainName: "127.0.0.1",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path}},
	})
	out, err := h.Invoke(context.Background(), ev)
	if err != nil {
		b.Fatal(err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != want {
		b.Fatalf("%s = %d %s, want %d", routeKey, resp.StatusCode, resp.Body, want)
	}
	return resp.Body
}
