package bench

import (
	"strings"
	"testing"

	"github.com/lmsshop/checkout/internal/cfn"
)

// The CPU measurement's events carry the route key and path parameters API Gateway
// gives the function for a concrete path.
func TestMatchRoute(t *testing.T) {
	routes := []cfn.Route{
		{Method: "POST", Path: "/carts", Function: "ShopFunction"},
		{Method: "PUT", Path: "/carts/{txid}/lines/{code}", Function: "ShopFunction"},
		{Method: "GET", Path: "/orders/{txid}", Function: "PaymentFunction"},
		{Method: "POST", Path: "/orders/{txid}/payment/test", Function: "PaymentFunction"},
	}
	for _, tc := range []struct {
		method, path, key string
		params            map[string]string
	}{
		{"POST", "/carts", "POST /carts", map[string]string{}},
		{"PUT", "/carts/TX/lines/GO-101", "PUT /carts/{txid}/lines/{code}", map[string]string{"txid": "TX", "code": "GO-101"}},
		{"POST", "/orders/TX/payment/test", "POST /orders/{txid}/payment/test", map[string]string{"txid": "TX"}},
		{"GET", "/orders/TX", "GET /orders/{txid}", map[string]string{"txid": "TX"}},
		{"DELETE", "/orders/TX", "", nil},
		{"GET", "/orders/TX/other", "", nil},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r, params, ok := matchRoute(routes, tc.method, tc.path)
			if ok != (tc.key != "") || (ok && r.Key() != tc.key) {
				t.Fatalf("route = %q, %v; want %q", r.Key(), ok, tc.key)
			}
			for k, v := range tc.params {
				if params[k] != v {
					t.Errorf("%s = %q, want %q", k, params[k], v)
				}
			}
		})
	}
}

// A step meets its CPU target at 2 × floor × its DynamoDB calls or less; init time
// is compared with the hello-world's.
func TestCPUAndInitTargets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rep     Report
		target  string
		wantMet bool
	}{
		{"CPU within", Report{CPU: &CPU{Floor: CPUSample{N: 1, MeanMs: 0.4}, Steps: []CPUSteps{{Step: "line", CPUSample: CPUSample{N: 1, MeanMs: 1.5}, Calls: 2, LimitMs: 1.6}}}},
			"step line: CPU per request", true},
		{"CPU over", Report{CPU: &CPU{Floor: CPUSample{N: 1, MeanMs: 0.4}, Steps: []CPUSteps{{Step: "place", CPUSample: CPUSample{N: 1, MeanMs: 1.7}, Calls: 2, LimitMs: 1.6}}}},
			"step place: CPU per request", false},
		{"CPU not measured", Report{CPU: &CPU{Steps: []CPUSteps{{Step: "view"}}}}, "step view: CPU per request", false},
		{"init within", Report{ColdStarts: []ColdStart{{Function: HelloID, InitMs: 5}, {Function: "ShopFunction", InitMs: 6}}},
			"init time vs hello-world aws-lambda-go", true},
		{"init over", Report{ColdStarts: []ColdStart{{Function: HelloID, InitMs: 5}, {Function: "ShopFunction", InitMs: 6}, {Function: "OrderFunction", InitMs: 6.5}}},
			"init time vs hello-world aws-lambda-go", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got *Target
			for _, tg := range targets(&tc.rep) {
				if tg.Name == tc.target {
					got = &tg
				}
			}
			if got == nil {
				t.Fatalf("no target %q", tc.target)
			}
			if got.Met != tc.wantMet {
				t.Errorf("met = %v (%s), want %v", got.Met, got.Measured, tc.wantMet)
			}
			if !got.Met && strings.TrimSpace(got.Note) == "" {
				t.Error("a missed target says nothing about why")
			}
		})
	}
}
