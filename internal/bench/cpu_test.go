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

// The binaries' target is the 10 MB in bytes, and the report says which unit
// each number is in: bytes, and MiB (2^20 bytes) where it shows MiB.
func TestBinaryTargetIsInBytes(t *testing.T) {
	mib := func(n int64) float64 { return float64(n) / (1 << 20) }
	for _, tc := range []struct {
		name     string
		bins     []Binary
		wantMet  bool
		measured string
		row      string
	}{
		{"over 10,000,000 bytes though under 10 MiB", []Binary{{"ShopFunction", 8_257_662, mib(8_257_662)}, {"PaymentFunction", 10_354_814, mib(10_354_814)}},
			false, "largest 10,354,814 bytes, 9.88 MiB (PaymentFunction)", "| PaymentFunction | 10,354,814 | 9.88 | +354,814 |"},
		{"within", []Binary{{"ShopFunction", 8_257_662, mib(8_257_662)}, {"BillFunction", 9_371_774, mib(9_371_774)}},
			true, "largest 9,371,774 bytes, 8.94 MiB (BillFunction)", "| ShopFunction | 8,257,662 | 7.88 | -1,742,338 |"},
		{"exactly 10,000,000 bytes", []Binary{{"WatchFunction", 10_000_000, mib(10_000_000)}},
			true, "largest 10,000,000 bytes, 9.54 MiB (WatchFunction)", "| WatchFunction | 10,000,000 | 9.54 | 0 |"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := Report{Binaries: tc.bins}
			var got *Target
			for _, tg := range targets(&rep) {
				if tg.Name == "bootstrap binaries" {
					got = &tg
				}
			}
			if got == nil {
				t.Fatal("no target for the binaries")
			}
			if got.Met != tc.wantMet || got.Measured != tc.measured {
				t.Errorf("met %v, measured %q; want %v, %q", got.Met, got.Measured, tc.wantMet, tc.measured)
			}
			var b strings.Builder
			if err := WriteMarkdown(&b, &rep); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), tc.row) {
				t.Errorf("the cold-start table has no row %q:\n%s", tc.row, b.String())
			}
			if strings.Contains(b.String(), "size MB") {
				t.Error("the table still labels its sizes MB")
			}
		})
	}
}
