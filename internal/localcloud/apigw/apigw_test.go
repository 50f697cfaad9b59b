package apigw_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/lmsshop/checkout/internal/cfn"
	"github.com/lmsshop/checkout/internal/localcloud/apigw"
)

var fixedNow = time.Date(2026, 3, 12, 19, 3, 58, 123e6, time.UTC)

// recorder is a fake function: it keeps the events and Lambda contexts it receives
// and answers with 200 and the route key, so a test can see which route ran.
type recorder struct {
	mu     sync.Mutex
	events []events.APIGatewayV2HTTPRequest
	lcs    []*lambdacontext.LambdaContext
}

func (rc *recorder) handler() lambda.Handler {
	return lambda.NewHandler(func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		lc, _ := lambdacontext.FromContext(ctx)
		rc.mu.Lock()
		rc.events = append(rc.events, ev)
		rc.lcs = append(rc.lcs, lc)
		rc.mu.Unlock()
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: ev.RouteKey}, nil
	})
}

func (rc *recorder) last(t *testing.T) events.APIGatewayV2HTTPRequest {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.events) == 0 {
		t.Fatal("function was not invoked")
	}
	return rc.events[len(rc.events)-1]
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// cartsServer serves GET /carts/{txid} with a recording ShopFunction, and returns the
// recorder and the server's URL.
func cartsServer(t *testing.T) (*recorder, *url.URL) {
	t.Helper()
	rec := &recorder{}
	routes := []cfn.Route{{Method: "GET", Path: "/carts/{txid}", Function: "ShopFunction"}}
	srv := newServer(t, routes, map[string]lambda.Handler{"ShopFunction": rec.handler()}, apigw.Options{})
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return rec, u
}

func newServer(t *testing.T, routes []cfn.Route, handlers map[string]lambda.Handler, opts apigw.Options) *httptest.Server {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	srv := httptest.NewServer(apigw.New(routes, handlers, opts))
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestEventFields(t *testing.T) {
	rec := &recorder{}
	routes := []cfn.Route{
		{Method: "GET", Path: "/carts/{txid}", Function: "ShopFunction"},
		{Method: "PUT", Path: "/carts/{txid}/lines/{code}", Function: "ShopFunction"},
		{Method: "POST", Path: "/webhooks/{provider}", Function: "ShopFunction"},
	}
	srv := newServer(t, routes, map[string]lambda.Handler{"ShopFunction": rec.handler()}, apigw.Options{})

	type want struct {
		routeKey, rawPath, rawQuery string
		query, params               map[string]string
		headers                     map[string]string // subset that must be present
		cookies                     []string
		body                        string
		base64                      bool
	}
	tests := []struct {
		name    string
		method  string
		path    string
		headers [][2]string
		body    string
		want    want
	}{
		{
			name: "path, query and repeated headers", method: "GET", path: "/carts/TU80WKRYTI9QUMJ4?x=1&x=2&y=a%20b",
			headers: [][2]string{{"X-Custom", "a"}, {"X-Custom", "b"}, {"Authorization", "Bearer tok"}},
			want: want{
				routeKey: "GET /carts/{txid}", rawPath: "/carts/TU80WKRYTI9QUMJ4", rawQuery: "x=1&x=2&y=a%20b",
				query:   map[string]string{"x": "1,2", "y": "a b"},
				params:  map[string]string{"txid": "TU80WKRYTI9QUMJ4"},
				headers: map[string]string{"x-custom": "a,b", "authorization": "Bearer tok"},
			},
		},
		{
			name: "cookies leave the headers", method: "GET", path: "/carts/A",
			headers: [][2]string{{"Cookie", "a=1; b=2"}, {"Cookie", "c=3"}},
			want: want{
				routeKey: "GET /carts/{txid}", rawPath: "/carts/A", params: map[string]string{"txid": "A"},
				cookies: []string{"a=1", "b=2", "c=3"},
			},
		},
		{
			name: "two path parameters, escaped value decoded", method: "PUT", path: "/carts/A/lines/C%2B1",
			headers: [][2]string{{"Content-Type", "application/json"}}, body: `{"quantity":2}`,
			want: want{
				routeKey: "PUT /carts/{txid}/lines/{code}", rawPath: "/carts/A/lines/C%2B1",
				params:  map[string]string{"txid": "A", "code": "C+1"},
				headers: map[string]string{"content-type": "application/json", "content-length": "14"},
				body:    `{"quantity":2}`,
			},
		},
		{
			name: "form post is base64 as HTTP API sends it", method: "POST", path: "/webhooks/stripe",
			headers: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}, body: "a=1&b=%C3%A9",
			want: want{
				routeKey: "POST /webhooks/{provider}", rawPath: "/webhooks/stripe", params: map[string]string{"provider": "stripe"},
				body: base64.StdEncoding.EncodeToString([]byte("a=1&b=%C3%A9")), base64: true,
			},
		},
		{
			name: "text with charset is text", method: "POST", path: "/webhooks/p",
			headers: [][2]string{{"Content-Type", "text/plain; charset=utf-8"}}, body: "héllo",
			want: want{routeKey: "POST /webhooks/{provider}", rawPath: "/webhooks/p", params: map[string]string{"provider": "p"}, body: "héllo"},
		},
		{
			name: "vendor json is text", method: "POST", path: "/webhooks/p",
			headers: [][2]string{{"Content-Type", "application/vnd.api+json"}}, body: `{}`,
			want: want{routeKey: "POST /webhooks/{provider}", rawPath: "/webhooks/p", params: map[string]string{"provider": "p"}, body: `{}`},
		},
		{
			name: "binary is base64", method: "POST", path: "/webhooks/p",
			headers: [][2]string{{"Content-Type", "application/octet-stream"}}, body: "\x00\x01\xff",
			want: want{routeKey: "POST /webhooks/{provider}", rawPath: "/webhooks/p", params: map[string]string{"provider": "p"},
				body: base64.StdEncoding.EncodeToString([]byte("\x00\x01\xff")), base64: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("User-Agent", "apigw-test/1")
			for _, h := range tt.headers {
				req.Header.Add(h[0], h[1])
			}
			resp, got := do(t, req)
			if resp.StatusCode != 200 || got != tt.want.routeKey {
				t.Fatalf("response = %d %q, want 200 %q", resp.StatusCode, got, tt.want.routeKey)
			}
			ev := rec.last(t)
			w := tt.want
			if ev.Version != "2.0" || ev.RouteKey != w.routeKey || ev.RequestContext.RouteKey != w.routeKey {
				t.Errorf("version/routeKey = %q %q %q", ev.Version, ev.RouteKey, ev.RequestContext.RouteKey)
			}
			if ev.RawPath != w.rawPath || ev.RawQueryString != w.rawQuery {
				t.Errorf("rawPath/rawQueryString = %q %q, want %q %q", ev.RawPath, ev.RawQueryString, w.rawPath, w.rawQuery)
			}
			if !reflect.DeepEqual(ev.QueryStringParameters, w.query) {
				t.Errorf("queryStringParameters = %v, want %v", ev.QueryStringParameters, w.query)
			}
			if !reflect.DeepEqual(ev.PathParameters, w.params) {
				t.Errorf("pathParameters = %v, want %v", ev.PathParameters, w.params)
			}
			if !reflect.DeepEqual(ev.Cookies, w.cookies) {
				t.Errorf("cookies = %q, want %q", ev.Cookies, w.cookies)
			}
			if _, ok := ev.Headers["cookie"]; ok {
				t.Errorf("headers still hold cookie: %v", ev.Headers)
			}
			for k, v := range w.headers {
				if ev.Headers[k] != v {
					t.Errorf("headers[%q] = %q, want %q", k, ev.Headers[k], v)
				}
			}
			for k := range ev.Headers {
				if k != strings.ToLower(k) {
					t.Errorf("header %q not lower-cased", k)
				}
			}
			if ev.Headers["host"] == "" || ev.Headers["user-agent"] != "apigw-test/1" {
				t.Errorf("host/user-agent headers = %q %q", ev.Headers["host"], ev.Headers["user-agent"])
			}
			if ev.Body != w.body || ev.IsBase64Encoded != w.base64 {
				t.Errorf("body = %q base64=%v, want %q base64=%v", ev.Body, ev.IsBase64Encoded, w.body, w.base64)
			}
			rc := ev.RequestContext
			if rc.Stage != "$default" || rc.AccountID != apigw.DefaultAccountID || rc.APIID != apigw.DefaultAPIID {
				t.Errorf("stage/accountId/apiId = %q %q %q", rc.Stage, rc.AccountID, rc.APIID)
			}
			if rc.DomainName != "127.0.0.1" {
				t.Errorf("domainName = %q", rc.DomainName)
			}
			wantHTTP := events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: tt.method, Path: strings.SplitN(tt.path, "?", 2)[0], Protocol: "HTTP/1.1", SourceIP: "127.0.0.1", UserAgent: "apigw-test/1",
			}
			wantHTTP.Path = mustUnescape(t, wantHTTP.Path)
			if rc.HTTP != wantHTTP {
				t.Errorf("http = %+v, want %+v", rc.HTTP, wantHTTP)
			}
			if rc.Time != "12/Mar/2026:19:03:58 +0000" || rc.TimeEpoch != fixedNow.UnixMilli() {
				t.Errorf("time = %q %d", rc.Time, rc.TimeEpoch)
			}
			if rc.RequestID == "" || resp.Header.Get("Apigw-Requestid") != rc.RequestID {
				t.Errorf("requestId = %q, response header %q", rc.RequestID, resp.Header.Get("Apigw-Requestid"))
			}
			if rc.Authorizer != nil {
				t.Errorf("public route carries an authorizer: %+v", rc.Authorizer)
			}
		})
	}
}

// The headers that say how the API was reached are the gateway's: the client cannot
// choose the scheme or the port a function builds the API's URL from, and its own
// X-Forwarded-For gets the source address appended, as HTTP API does.
func TestForwardedHeadersAreTheGateways(t *testing.T) {
	rec, u := cartsServer(t)
	for _, tt := range []struct {
		name   string
		host   string // Host header; "" = the listener's address
		client map[string]string
		want   map[string]string
		domain string
	}{
		{"plain request", "", nil,
			map[string]string{"x-forwarded-for": "127.0.0.1", "x-forwarded-proto": "http", "x-forwarded-port": u.Port()}, "127.0.0.1"},
		{"client's forwarded headers", "", map[string]string{"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"},
			map[string]string{"x-forwarded-for": "203.0.113.7, 127.0.0.1", "x-forwarded-proto": "http", "x-forwarded-port": u.Port()}, "127.0.0.1"},
		{"reached as localhost", "localhost:" + u.Port(), nil,
			map[string]string{"x-forwarded-proto": "http", "x-forwarded-port": u.Port()}, "localhost"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", u.String()+"/carts/A", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			for k, v := range tt.client {
				req.Header.Set(k, v)
			}
			if resp, body := do(t, req); resp.StatusCode != 200 {
				t.Fatalf("response = %d %s", resp.StatusCode, body)
			}
			ev := rec.last(t)
			for k, v := range tt.want {
				if ev.Headers[k] != v {
					t.Errorf("headers[%q] = %q, want %q", k, ev.Headers[k], v)
				}
			}
			if ev.RequestContext.DomainName != tt.domain {
				t.Errorf("domainName = %q, want %q", ev.RequestContext.DomainName, tt.domain)
			}
		})
	}
}

// The API answers only to its own names, as an API's domain does in AWS: a request
// naming another host is refused before any function runs.
func TestUnknownHostIsRefused(t *testing.T) {
	rec, u := cartsServer(t)
	for _, tt := range []struct {
		host string
		want int
	}{
		{"127.0.0.1:" + u.Port(), 200},
		{"localhost:" + u.Port(), 200},
		{"LOCALHOST", 200},
		{"[::1]:" + u.Port(), 200},
		{"attacker.example", 403},
		{"attacker.example:" + u.Port(), 403},
		{"127.0.0.1.attacker.example", 403},
	} {
		req, err := http.NewRequest("GET", u.String()+"/carts/A", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = tt.host
		resp, body := do(t, req)
		if resp.StatusCode != tt.want {
			t.Errorf("Host %s: %d %s, want %d", tt.host, resp.StatusCode, body, tt.want)
		}
		if tt.want == 403 && body != `{"message":"Forbidden"}` {
			t.Errorf("Host %s: body %s, want API Gateway's Forbidden", tt.host, body)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.events) != 4 {
		t.Errorf("function invoked %d times, want 4 (the known hosts only)", len(rec.events))
	}
}

func mustUnescape(t *testing.T, p string) string {
	t.Helper()
	u, err := http.NewRequest("GET", "http://x"+p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return u.URL.Path
}

func TestLambdaContextPerInvocation(t *testing.T) {
	rec := &recorder{}
	srv := newServer(t, []cfn.Route{{Method: "GET", Path: "/catalog", Function: "ShopFunction"}},
		map[string]lambda.Handler{"ShopFunction": rec.handler()}, apigw.Options{})
	for i := 0; i < 2; i++ {
		req, _ := http.NewRequest("GET", srv.URL+"/catalog", nil)
		do(t, req)
	}
	if len(rec.lcs) != 2 || rec.lcs[0] == nil || rec.lcs[1] == nil {
		t.Fatalf("lambda contexts = %v, want two", rec.lcs)
	}
	if rec.lcs[0].AwsRequestID == "" || rec.lcs[0].AwsRequestID == rec.lcs[1].AwsRequestID {
		t.Errorf("request IDs %q, %q: want fresh non-empty IDs", rec.lcs[0].AwsRequestID, rec.lcs[1].AwsRequestID)
	}
	if want := "arn:aws:lambda:us-east-1:000000000000:function:ShopFunction"; rec.lcs[0].InvokedFunctionArn != want {
		t.Errorf("function ARN = %q, want %q", rec.lcs[0].InvokedFunctionArn, want)
	}
}

func TestRoutePrecedence(t *testing.T) {
	rec := &recorder{}
	routes := []cfn.Route{
		{Method: "GET", Path: "/carts/{txid}", Function: "F"},
		{Method: "GET", Path: "/carts/new", Function: "F"},
		{Method: "ANY", Path: "/carts/{txid}/order", Function: "F"},
		{Method: "POST", Path: "/carts/{txid}/order", Function: "F"},
		{Method: "ANY", Path: "/admin/{proxy+}", Function: "F"},
		{Method: "GET", Path: "/admin/orders", Function: "F"},
		{Method: "GET", Path: "/", Function: "F"},
	}
	srv := newServer(t, routes, map[string]lambda.Handler{"F": rec.handler()}, apigw.Options{})
	tests := []struct {
		method, path string
		status       int
		routeKey     string
		params       map[string]string
	}{
		{"GET", "/carts/new", 200, "GET /carts/new", nil},
		{"GET", "/carts/X1", 200, "GET /carts/{txid}", map[string]string{"txid": "X1"}},
		{"POST", "/carts/X1/order", 200, "POST /carts/{txid}/order", map[string]string{"txid": "X1"}},
		{"GET", "/carts/X1/order", 200, "ANY /carts/{txid}/order", map[string]string{"txid": "X1"}},
		{"GET", "/admin/orders", 200, "GET /admin/orders", nil},
		{"DELETE", "/admin/orders", 200, "ANY /admin/{proxy+}", map[string]string{"proxy": "orders"}},
		{"GET", "/admin/orders/X1/trace", 200, "ANY /admin/{proxy+}", map[string]string{"proxy": "orders/X1/trace"}},
		{"GET", "/", 200, "GET /", nil},
		{"GET", "/admin", 404, "", nil},
		{"POST", "/carts/X1", 404, "", nil},
		{"GET", "/carts", 404, "", nil},
		{"GET", "/carts/X1/order/extra", 404, "", nil},
		{"GET", "/nothing", 404, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec.events = nil
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			resp, body := do(t, req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, tt.status, body)
			}
			if tt.status == 404 {
				if body != `{"message":"Not Found"}` || len(rec.events) != 0 {
					t.Errorf("404 body = %s, invocations = %d", body, len(rec.events))
				}
				return
			}
			ev := rec.last(t)
			if ev.RouteKey != tt.routeKey || !reflect.DeepEqual(ev.PathParameters, tt.params) {
				t.Errorf("matched %q %v, want %q %v", ev.RouteKey, ev.PathParameters, tt.routeKey, tt.params)
			}
		})
	}
}

func TestResponses(t *testing.T) {
	respond := func(v any, err error) lambda.Handler {
		return lambda.NewHandler(func(context.Context, events.APIGatewayV2HTTPRequest) (any, error) { return v, err })
	}
	tests := []struct {
		name       string
		handler    lambda.Handler
		status     int
		headers    map[string][]string
		body       string
		noHandlers bool
	}{
		{
			name: "structured with headers, multi-value headers and cookies",
			handler: respond(events.APIGatewayV2HTTPResponse{
				StatusCode:        201,
				Headers:           map[string]string{"Content-Type": "application/json", "Location": "/carts/A"},
				MultiValueHeaders: map[string][]string{"X-Multi": {"1", "2"}},
				Cookies:           []string{"a=1; Path=/", "b=2; HttpOnly"},
				Body:              `{"txid":"A"}`,
			}, nil),
			status: 201, body: `{"txid":"A"}`,
			headers: map[string][]string{
				"Content-Type": {"application/json"}, "Location": {"/carts/A"},
				"X-Multi": {"1", "2"}, "Set-Cookie": {"a=1; Path=/", "b=2; HttpOnly"},
			},
		},
		{
			name: "base64 body decoded",
			handler: respond(events.APIGatewayV2HTTPResponse{
				StatusCode: 200, Headers: map[string]string{"Content-Type": "application/pdf"},
				Body: base64.StdEncoding.EncodeToString([]byte("%PDF\x00\x01")), IsBase64Encoded: true,
			}, nil),
			status: 200, body: "%PDF\x00\x01", headers: map[string][]string{"Content-Type": {"application/pdf"}},
		},
		{
			name:    "redirect",
			handler: respond(events.APIGatewayV2HTTPResponse{StatusCode: 302, Headers: map[string]string{"Location": "http://127.0.0.1:8080/"}}, nil),
			status:  302, headers: map[string][]string{"Location": {"http://127.0.0.1:8080/"}},
		},
		{
			name:    "inferred format for an object",
			handler: respond(map[string]any{"ok": true, "n": 3}, nil),
			status:  200, body: `{"n":3,"ok":true}`, headers: map[string][]string{"Content-Type": {"application/json"}},
		},
		{
			name:    "inferred format for a string",
			handler: respond("Hello from Lambda!", nil),
			status:  200, body: "Hello from Lambda!", headers: map[string][]string{"Content-Type": {"application/json"}},
		},
		{
			name:    "function error",
			handler: respond(nil, errors.New("boom")),
			status:  500, body: `{"message":"Internal Server Error"}`,
		},
		{
			name:    "function panics",
			handler: lambda.NewHandler(func(context.Context, events.APIGatewayV2HTTPRequest) (string, error) { panic("nil map") }),
			status:  500, body: `{"message":"Internal Server Error"}`,
		},
		{
			name:    "invalid status code",
			handler: respond(map[string]any{"statusCode": 42}, nil),
			status:  500, body: `{"message":"Internal Server Error"}`,
		},
		{
			name:    "bad base64 body",
			handler: respond(map[string]any{"statusCode": 200, "body": "!!", "isBase64Encoded": true}, nil),
			status:  500, body: `{"message":"Internal Server Error"}`,
		},
		{
			name:       "no handler for the route's function",
			noHandlers: true,
			status:     500, body: `{"message":"Internal Server Error"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handlers := map[string]lambda.Handler{"F": tt.handler}
			if tt.noHandlers {
				handlers = nil
			}
			srv := newServer(t, []cfn.Route{{Method: "GET", Path: "/x", Function: "F"}}, handlers, apigw.Options{})
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Get(srv.URL + "/x")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || string(body) != tt.body {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, body, tt.status, tt.body)
			}
			for k, v := range tt.headers {
				if got := resp.Header.Values(k); !reflect.DeepEqual(got, v) {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	rec := &recorder{}
	srv := newServer(t, []cfn.Route{{Method: "POST", Path: "/x", Function: "F"}},
		map[string]lambda.Handler{"F": rec.handler()}, apigw.Options{MaxBody: 16})
	tests := []struct {
		size   int
		status int
	}{{16, 200}, {17, 413}}
	for _, tt := range tests {
		resp, err := http.Post(srv.URL+"/x", "text/plain", bytes.NewReader(make([]byte, tt.size)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%d bytes: status %d (%s), want %d", tt.size, resp.StatusCode, body, tt.status)
		}
		if tt.status == 413 && string(body) != `{"message":"Request Entity Too Large"}` {
			t.Errorf("413 body = %s", body)
		}
	}
}

func TestCORS(t *testing.T) {
	rec := &recorder{}
	cors := &apigw.CORS{
		AllowOrigins:  []string{"http://127.0.0.1:8080"},
		AllowMethods:  []string{"GET", "POST", "PUT", "DELETE"},
		AllowHeaders:  []string{"Content-Type", "Authorization"},
		ExposeHeaders: []string{"Location"},
		MaxAge:        600,
	}
	srv := newServer(t, []cfn.Route{{Method: "GET", Path: "/carts/{txid}", Function: "F"}},
		map[string]lambda.Handler{"F": rec.handler()}, apigw.Options{CORS: cors})
	tests := []struct {
		name       string
		method     string
		headers    map[string]string
		status     int
		wantHeader map[string]string // "" means absent
		invoked    bool
	}{
		{
			name: "allowed preflight", method: "OPTIONS",
			headers: map[string]string{"Origin": "http://127.0.0.1:8080", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type,authorization"},
			status:  204,
			wantHeader: map[string]string{
				"Access-Control-Allow-Origin": "http://127.0.0.1:8080", "Access-Control-Allow-Methods": "GET,POST,PUT,DELETE",
				"Access-Control-Allow-Headers": "content-type,authorization", "Access-Control-Max-Age": "600",
			},
		},
		{
			name: "preflight from another origin", method: "OPTIONS",
			headers:    map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "PUT"},
			status:     204,
			wantHeader: map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": ""},
		},
		{
			name: "preflight asking for a header not allowed", method: "OPTIONS",
			headers:    map[string]string{"Origin": "http://127.0.0.1:8080", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-secret"},
			status:     204,
			wantHeader: map[string]string{"Access-Control-Allow-Origin": ""},
		},
		{
			name: "actual request gets CORS headers", method: "GET",
			headers:    map[string]string{"Origin": "http://127.0.0.1:8080"},
			status:     200,
			wantHeader: map[string]string{"Access-Control-Allow-Origin": "http://127.0.0.1:8080", "Access-Control-Expose-Headers": "Location"},
			invoked:    true,
		},
		{
			name: "actual request from another origin gets none", method: "GET",
			headers:    map[string]string{"Origin": "http://evil.example"},
			status:     200,
			wantHeader: map[string]string{"Access-Control-Allow-Origin": ""},
			invoked:    true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec.events = nil
			req, _ := http.NewRequest(tt.method, srv.URL+"/carts/A", nil)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, _ := do(t, req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			for k, v := range tt.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if invoked := len(rec.events) > 0; invoked != tt.invoked {
				t.Errorf("function invoked = %v, want %v", invoked, tt.invoked)
			}
		})
	}
}

// TestEventJSONShape checks the wire names a handler in another language would see.
func TestEventJSONShape(t *testing.T) {
	var raw json.RawMessage
	h := lambda.NewHandler(func(_ context.Context, ev json.RawMessage) (string, error) { raw = ev; return "ok", nil })
	srv := newServer(t, []cfn.Route{{Method: "GET", Path: "/x/{id}", Function: "F"}}, map[string]lambda.Handler{"F": h}, apigw.Options{})
	req, _ := http.NewRequest("GET", srv.URL+"/x/7?q=1", nil)
	do(t, req)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "routeKey", "rawPath", "rawQueryString", "headers", "queryStringParameters", "pathParameters", "requestContext", "isBase64Encoded"} {
		if _, ok := m[k]; !ok {
			t.Errorf("event lacks %q: %s", k, raw)
		}
	}
	rc, _ := m["requestContext"].(map[string]any)
	for _, k := range []string{"accountId", "apiId", "domainName", "http", "requestId", "routeKey", "stage", "time", "timeEpoch"} {
		if _, ok := rc[k]; !ok {
			t.Errorf("requestContext lacks %q", k)
		}
	}
}

// TestCORSOverridesFunction: with a CorsConfiguration, HTTP API drops the function's
// own CORS headers, so a handler cannot widen what the template allows.
func TestCORSOverridesFunction(t *testing.T) {
	h := lambda.NewHandler(func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Access-Control-Allow-Origin": "*", "X-Kept": "yes"}}, nil
	})
	tests := []struct {
		name   string
		cors   *apigw.CORS
		origin string
		want   string
	}{
		{"configured: gateway's header wins", &apigw.CORS{AllowOrigins: []string{"http://127.0.0.1:8080"}}, "http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"configured, foreign origin: none", &apigw.CORS{AllowOrigins: []string{"http://127.0.0.1:8080"}}, "http://evil.example", ""},
		{"not configured: function's header passes", nil, "http://evil.example", "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, []cfn.Route{{Method: "GET", Path: "/x", Function: "F"}}, map[string]lambda.Handler{"F": h}, apigw.Options{CORS: tt.cors})
			req, _ := http.NewRequest("GET", srv.URL+"/x", nil)
			req.Header.Set("Origin", tt.origin)
			resp, _ := do(t, req)
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tt.want {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.want)
			}
			if resp.Header.Get("X-Kept") != "yes" {
				t.Error("other function headers were dropped")
			}
		})
	}
}

func TestIntegrationTimeout(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	tests := []struct {
		name    string
		handler lambda.Handler
	}{
		{"function honours its context", lambda.NewHandler(func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) (string, error) {
			<-ctx.Done()
			return "", ctx.Err()
		})},
		{"function ignores its context", lambda.NewHandler(func(context.Context, events.APIGatewayV2HTTPRequest) (string, error) {
			<-release
			return "late", nil
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, []cfn.Route{{Method: "GET", Path: "/slow", Function: "F"}},
				map[string]lambda.Handler{"F": tt.handler}, apigw.Options{Timeout: 50 * time.Millisecond})
			start := time.Now()
			req, _ := http.NewRequest("GET", srv.URL+"/slow", nil)
			resp, body := do(t, req)
			if resp.StatusCode != http.StatusServiceUnavailable || body != `{"message":"Service Unavailable"}` {
				t.Errorf("got %d %s, want 503 Service Unavailable", resp.StatusCode, body)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("answered after %s, want about the 50 ms timeout", d)
			}
		})
	}
}
