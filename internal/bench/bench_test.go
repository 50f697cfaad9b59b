package bench

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/cfn"
	"github.com/lmsshop/checkout/internal/localcloud/faultproxy"
)

// TestMain lets the test binary play a Lambda bootstrap: with BENCH_FAKE_RUNTIME set, it
// speaks the Runtime API as aws-lambda-go does and exits, so ColdStartOf is tested on a
// real process.
func TestMain(m *testing.M) {
	if mode := os.Getenv("BENCH_FAKE_RUNTIME"); mode != "" {
		os.Exit(fakeRuntime(mode))
	}
	os.Exit(m.Run())
}

func fakeRuntime(mode string) int {
	if mode == "exit" {
		return 3
	}
	base := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/"
	resp, err := http.Get(base + "invocation/next")
	if err != nil {
		return 1
	}
	event, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
	path, body := "/response", string(event) // echo the event back
	if mode == "error" {
		path, body = "/error", `{"errorMessage":"boom","errorType":"errorString"}`
	}
	r, err := http.Post(base+"invocation/"+id+path, "application/json", strings.NewReader(body))
	if err != nil {
		return 1
	}
	r.Body.Close()
	time.Sleep(10 * time.Second) // a real runtime blocks on the next GET; ColdStartOf kills it
	return 0
}

func TestColdStartOf(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		mode, outcome string
		answered      bool
	}{
		{"response", "response", true},
		{"error", "error", true},
		{"exit", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			start := time.Now()
			cs := ColdStartOf(context.Background(), "Fake", exe, []byte(`{"routeKey":"GET /catalog"}`), []string{"BENCH_FAKE_RUNTIME=" + tc.mode})
			if cs.Outcome != tc.outcome {
				t.Fatalf("outcome = %q (error %q), want %q", cs.Outcome, cs.Error, tc.outcome)
			}
			if cs.Event != "GET /catalog" {
				t.Errorf("event = %q, want the route key", cs.Event)
			}
			if !tc.answered {
				if cs.Error == "" || cs.InitMs != 0 {
					t.Errorf("a bootstrap that exits at once: %+v, want an error and no init time", cs)
				}
				return
			}
			if cs.InitMs <= 0 || cs.FirstResponseMs < cs.InitMs || cs.FirstResponseMs > ms(time.Since(start)) {
				t.Errorf("init %.2f ms, first answer %.2f ms: want 0 < init ≤ first answer ≤ the call's %v", cs.InitMs, cs.FirstResponseMs, time.Since(start))
			}
			if tc.mode == "error" && !strings.Contains(cs.Error, "boom") {
				t.Errorf("error answer not reported: %+v", cs)
			}
			if time.Since(start) > 5*time.Second {
				t.Errorf("ColdStartOf took %v: it must stop the process after its first answer", time.Since(start))
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	var hundred []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		hundred = append(hundred, time.Duration(i)*time.Millisecond)
	}
	cases := []struct {
		name                string
		in                  []time.Duration
		p50, p95, p99, maxi float64
	}{
		{"empty", nil, 0, 0, 0, 0},
		{"one", []time.Duration{7 * time.Millisecond}, 7, 7, 7, 7},
		{"1..100 ms", hundred, 50, 95, 99, 100},
		{"two", []time.Duration{2 * time.Millisecond, time.Millisecond}, 1, 2, 2, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := summarize("s", tc.in)
			if l.N != len(tc.in) || l.P50 != tc.p50 || l.P95 != tc.p95 || l.P99 != tc.p99 || l.Max != tc.maxi {
				t.Errorf("summarize = %+v, want n %d p50 %v p95 %v p99 %v max %v", l, len(tc.in), tc.p50, tc.p95, tc.p99, tc.maxi)
			}
		})
	}
}

func TestRoundTrips(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(from, to int) faultproxy.Record {
		return faultproxy.Record{Start: t0.Add(time.Duration(from) * time.Millisecond), End: t0.Add(time.Duration(to) * time.Millisecond)}
	}
	cases := []struct {
		name string
		recs []faultproxy.Record
		want int
	}{
		{"none", nil, 0},
		{"one", []faultproxy.Record{at(0, 2)}, 1},
		{"update with its trace line alongside", []faultproxy.Record{at(0, 3), at(1, 2)}, 1},
		{"one after the other", []faultproxy.Record{at(0, 1), at(1, 2), at(3, 4)}, 3},
		{"chain of overlaps", []faultproxy.Record{at(4, 6), at(0, 3), at(2, 5)}, 1},
		{"read, then write with trace", []faultproxy.Record{at(0, 1), at(2, 5), at(3, 4)}, 2},
	}
	for _, tc := range cases {
		if got := RoundTrips(tc.recs); got != tc.want {
			t.Errorf("%s: RoundTrips = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestExpressGBSeconds(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want float64
	}{
		{0, 0},
		{time.Millisecond, 0.1 * 0.0625}, // a started run is billed at least 100 ms
		{100 * time.Millisecond, 0.1 * 0.0625},
		{101 * time.Millisecond, 0.2 * 0.0625},
		{2345 * time.Millisecond, 2.4 * 0.0625},
	}
	for _, tt := range tests {
		if got := ExpressGBSeconds(tt.d); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("ExpressGBSeconds(%s) = %v, want %v", tt.d, got, tt.want)
		}
	}
}

func TestCostOf(t *testing.T) {
	p := Prices{LambdaRequest: 1e-6, LambdaGBSecond: 1e-5, HTTPAPIRequest: 2e-6, DynamoDBRead: 1e-7, DynamoDBWrite: 1e-6,
		StateTransition: 1e-5, ExpressRequest: 1e-6, ExpressGBSecond: 2e-5, Email: 1e-4}
	o := PerOrder{APIRequests: 6, TaskInvocations: 4, LambdaMs: 2000, ReadUnits: 10, WriteUnits: 20, StateTransitions: 2,
		ExpressRequests: 2, ExpressGBSeconds: 0.0125, Emails: 2}
	c := CostOf(o, 512, p)
	want := map[string]float64{
		"Lambda requests":                 1000 * 10 * 1e-6,
		"Lambda duration (arm64)":         1000 * 0.5 * 2 * 1e-5, // 0.5 GB × 2 s
		"HTTP API":                        1000 * 6 * 2e-6,
		"DynamoDB reads (on-demand)":      1000 * 10 * 1e-7,
		"DynamoDB writes (on-demand)":     1000 * 20 * 1e-6,
		"Step Functions Standard":         1000 * 2 * 1e-5,
		"Step Functions Express requests": 1000 * 2 * 1e-6,
		"Step Functions Express duration": 1000 * 0.0125 * 2e-5,
		"SES":                             1000 * 2 * 1e-4,
	}
	total := 0.0
	for _, l := range c.Lines {
		w, ok := want[l.Service]
		if !ok {
			t.Errorf("unexpected line %q", l.Service)
			continue
		}
		if math.Abs(l.Per1000-w) > 1e-12 {
			t.Errorf("%s = %v, want %v (%s)", l.Service, l.Per1000, w, l.Formula)
		}
		if l.Formula == "" {
			t.Errorf("%s has no formula", l.Service)
		}
		total += w
	}
	if len(c.Lines) != len(want) || math.Abs(c.Per1000-total) > 1e-12 {
		t.Errorf("total = %v over %d lines, want %v over %d", c.Per1000, len(c.Lines), total, len(want))
	}
}

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig("/repo")
	if err := good.Validate(); err != nil {
		t.Fatalf("default config refused: %v", err)
	}
	cases := []struct {
		name   string
		change func(*Config)
	}{
		{"no root", func(c *Config) { c.RepoRoot = "" }},
		{"no levels", func(c *Config) { c.Levels = nil }},
		{"first level not 1", func(c *Config) { c.Levels = []int{4, 16} }},
		{"zero level", func(c *Config) { c.Levels = []int{1, 0} }},
		{"fewer orders than buyers", func(c *Config) { c.Orders = func(int) int { return 2 }; c.Levels = []int{1, 4} }},
		{"no order count", func(c *Config) { c.Orders = nil }},
		{"no timeout", func(c *Config) { c.LevelTimeout = 0 }},
	}
	for _, tc := range cases {
		c := DefaultConfig("/repo")
		tc.change(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

func TestEventFor(t *testing.T) {
	routes := []cfn.Route{
		{Method: "PUT", Path: "/carts/{txid}/lines/{code}", Function: "ShopFunction"},
		{Method: "GET", Path: "/carts/{txid}", Function: "ShopFunction"},
		{Method: "POST", Path: "/webhooks/{provider}", Function: "PaymentWebhookFunction"},
		{Method: "ANY", Path: "/admin/{proxy+}", Function: "BackofficeFunction", IAM: true},
	}
	cases := []struct {
		fn, routeKey, method, path, body string
	}{
		{"ShopFunction", "GET /carts/{txid}", "GET", "/carts/AAAAAAAAAAAAAAAA", ""},
		{"PaymentWebhookFunction", "POST /webhooks/{provider}", "POST", "/webhooks/test", "{}"},
		{"BackofficeFunction", "ANY /admin/{proxy+}", "GET", "/admin/orders", ""},
		{"ProduceFunction", "", "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.fn, func(t *testing.T) {
			raw := EventFor(tc.fn, routes)
			if tc.routeKey == "" {
				if string(raw) != "{}" {
					t.Fatalf("event = %s, want {} for a function without routes", raw)
				}
				return
			}
			var ev struct {
				Version, RouteKey, RawPath, Body string
				RequestContext                   struct{ HTTP struct{ Method, Path string } }
			}
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Version != "2.0" || ev.RouteKey != tc.routeKey || ev.RawPath != tc.path || ev.RequestContext.HTTP.Method != tc.method || ev.Body != tc.body {
				t.Errorf("event = %s, want %s %s %s body %q", raw, tc.routeKey, tc.method, tc.path, tc.body)
			}
		})
	}
}
