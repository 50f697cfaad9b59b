package wire_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lmsshop/checkout/internal/localcloud/dynamotest"
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/all"
)

// BenchmarkCartHandlers invokes the ShopFunction's real handler as the Lambda runtime
// does (an HTTP API payload 2.0 event in JSON) against DynamoDB Local: a cart created,
// a line set, the cart read. Run with -benchmem, or -memprofile to see where each
// request's allocations go (docs/bench/report.md's notes summarise one).
func BenchmarkCartHandlers(b *testing.B) {
	_, table := dynamotest.NewTable(b)
	awsCfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "localsecret", ""),
		BaseEndpoint: aws.String(dynamotest.Endpoint(b)),
	}
	cfg := wire.Config{TableName: table, ShopID: "demo", ShopCacheTTL: 1 << 62, CartTTL: 1 << 40, StorefrontURL: "http://127.0.0.1:8080"}
	ctx := context.Background()
	if err := all.SeedDemo(ctx, cfg, awsCfg); err != nil {
		b.Fatal(err)
	}
	h, err := all.Handler("ShopFunction", wire.NewDeps(cfg, awsCfg, slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		b.Fatal(err)
	}
	invoke := func(b *testing.B, routeKey, path string, params map[string]string, token, body string, want int) string {
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
		out, err := h.Invoke(ctx, ev)
		if err != nil {
			b.Fatal(err)
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != want {
			b.Fatalf("%s = %d %s, want %d", routeKey, resp.StatusCode, resp.Body, want)
		}
		return resp.Body
	}
	create := func(b *testing.B) (string, string) {
		var c struct{ TransactionID, CartToken string }
		_ = json.Unmarshal([]byte(invoke(b, "POST /carts", "/carts", nil, "", "", http.StatusCreated)), &c)
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
			invoke(b, "PUT /carts/{txid}/lines/{code}", "/carts/"+tx+"/lines/GO-101", map[string]string{"txid": tx, "code": "GO-101"},
				token, `{"quantity":`+string(rune('0'+q))+`}`, http.StatusOK)
		}
	})
	b.Run("get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			invoke(b, "GET /carts/{txid}", "/carts/"+tx, map[string]string{"txid": tx}, token, "", http.StatusOK)
		}
	})
}
