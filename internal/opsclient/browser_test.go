package opsclient_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/trace"
)

// jsSigner runs web/admin/sigv4.js under Node (whose WebCrypto is the browser's API)
// on a list of requests and returns the Authorization header it computes for each.
const jsSigner = `
import { signRequest } from %q;
let input = '';
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const r of JSON.parse(input)) {
  const h = await signRequest({ ...r, now: new Date(r.now) });
  out.push(h.Authorization);
}
process.stdout.write(JSON.stringify(out));
`

// TestBrowserSignerMatchesSDK checks the back-office page's signer against the AWS
// SDK's: same requests, same time, same key must give the same Authorization header,
// including the awkward parts (double-encoded paths, strict query encoding, spaces
// in header values, UTF-8 bodies, session tokens).
func TestBrowserSignerMatchesSDK(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 5, 7, 0, time.UTC)
	type request struct {
		Method      string            `json:"method"`
		URL         string            `json:"url"`
		Headers     map[string]string `json:"headers"`
		Body        string            `json:"body"`
		Region      string            `json:"region"`
		Credentials map[string]string `json:"credentials"`
		Now         string            `json:"now"`
	}
	local := map[string]string{"accessKeyId": "local", "secretAccessKey": "localsecret"}
	reqs := []request{
		{Method: "GET", URL: "http://127.0.0.1:3000/admin/orders"},
		{Method: "GET", URL: "http://127.0.0.1:3000/admin/orders?to=2026-07-28T23%3A59%3A59Z&status=PENDING&from=2026-07-27T00%3A00%3A00Z"},
		{Method: "GET", URL: "http://127.0.0.1:3000/admin/orders?b=x+y&a=2&a=1&c=%21%27%28%29%2A&d=caf%C3%A9"},
		{Method: "POST", URL: "http://127.0.0.1:3000/admin/orders/TU80WKRYTI9QUMJ4/payment-received",
			Headers: map[string]string{"Content-Type": "application/json"},
			Body:    `{"mode":"check","amount":12345,"reference":"Chèque n°1  BNP"}`},
		{Method: "PUT", URL: "http://127.0.0.1:3000/admin/catalog/items/A%20B%2FC",
			Headers: map[string]string{"Content-Type": "application/json;  charset=utf-8 "}, Body: `{"code":"A B/C"}`},
		{Method: "GET", URL: "https://abc123.execute-api.eu-west-3.amazonaws.com/admin/shop", Region: "eu-west-3",
			Credentials: map[string]string{"accessKeyId": "ASIAEXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "sessionToken": "FwoGZXIvYXdzE//token=="}},
	}
	want := make([]string, len(reqs))
	for i := range reqs {
		r := &reqs[i]
		if r.Region == "" {
			r.Region = "us-east-1"
		}
		if r.Credentials == nil {
			r.Credentials = local
		}
		r.Now = at.Format(time.RFC3339)
		req, err := http.NewRequest(r.Method, r.URL, strings.NewReader(r.Body))
		if err != nil {
			t.Fatal(err)
		}
		// The browser cannot sign Content-Length (fetch sets it after the script runs)
		// and the gateway checks only the headers a client lists; the SDK lists it
		// whenever it knows the length, so sign here without it.
		req.ContentLength = 0
		for k, v := range r.Headers {
			req.Header.Set(k, v)
		}
		sum := sha256.Sum256([]byte(r.Body))
		creds := aws.Credentials{AccessKeyID: r.Credentials["accessKeyId"], SecretAccessKey: r.Credentials["secretAccessKey"], SessionToken: r.Credentials["sessionToken"]}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "execute-api", r.Region, at); err != nil {
			t.Fatal(err)
		}
		want[i] = req.Header.Get("Authorization")
	}
	var got []string
	runNode(t, fmt.Sprintf(jsSigner, moduleURL(t, "sigv4.js")), reqs, &got)
	if len(got) != len(want) {
		t.Fatalf("node signed %d requests, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s %s:\n browser %s\n SDK     %s", reqs[i].Method, reqs[i].URL, got[i], want[i])
		}
	}
}

// runNode runs an ES module script under Node with input on stdin and decodes its JSON
// output into out; Node is part of what make deps installs.
func runNode(t *testing.T, script string, input, out any) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is required to run the page's modules (make deps)")
	}
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "--input-type=module", "-e", script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("node output: %v\n%s", err, raw)
	}
}

func moduleURL(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "web", "admin", name))
	if err != nil {
		t.Fatal(err)
	}
	return "file://" + filepath.ToSlash(p)
}

// TestBrowserTraceMatchesGo checks that the page renders trace lines exactly as
// trace.Line.Format does: same JSON in, same merchant trace text out.
func TestBrowserTraceMatchesGo(t *testing.T) {
	lines := []trace.Line{
		{At: time.Date(2016, 7, 27, 11, 32, 13, 753_999_999, time.UTC), TxID: "TU80WKRYTI9QUMJ4", Source: "Test Processing", Message: "paying"},
		{At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), TxID: "TU80WKRYTI9QUMJ4", Source: "Production Controller", Message: "Full production starting from SOLDOUT ..."},
		{At: time.Date(2026, 12, 31, 23, 59, 59, 1_000_000, time.UTC), Source: "Shop", Message: "cart created: <b>no txid</b> yet"},
		{At: time.Date(2026, 3, 9, 0, 0, 0, 40_000_000, time.FixedZone("CET", 3600)), TxID: "AB12CD34EF56GH78", Source: "Back office", Message: "é ü 漢"},
	}
	want := make([]string, len(lines))
	for i, l := range lines {
		want[i] = l.Format(time.UTC)
	}
	script := fmt.Sprintf(`
import { formatTraceLine } from %q;
let input = '';
for await (const chunk of process.stdin) input += chunk;
process.stdout.write(JSON.stringify(JSON.parse(input).map(formatTraceLine)));
`, moduleURL(t, "format.js"))
	var got []string
	runNode(t, script, lines, &got)
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("line %d:\n page %q\n Go   %q", i, got, want[i])
		}
	}
}

// TestBrowserTransitionsMatchGo checks the page offers exactly the transitions
// checkout.CanMove allows, for every pair of statuses.
func TestBrowserTransitionsMatchGo(t *testing.T) {
	script := fmt.Sprintf(`
import { STATUSES, allowedFrom } from %q;
const out = {};
for (const s of STATUSES) out[s] = allowedFrom(s);
process.stdout.write(JSON.stringify({ statuses: STATUSES, allowed: out }));
`, moduleURL(t, "format.js"))
	var got struct {
		Statuses []checkout.Status                     `json:"statuses"`
		Allowed  map[checkout.Status][]checkout.Status `json:"allowed"`
	}
	runNode(t, script, nil, &got)
	all := []checkout.Status{checkout.Working, checkout.Placed, checkout.Pending, checkout.PreProd, checkout.SoldOut, checkout.Partial,
		checkout.Complete, checkout.Payback, checkout.Failed, checkout.Refused, checkout.Cancelled}
	if fmt.Sprint(got.Statuses) != fmt.Sprint(all) {
		t.Errorf("page statuses %v, want %v", got.Statuses, all)
	}
	for _, from := range all {
		for _, to := range all {
			if page := slices.Contains(got.Allowed[from], to); page != checkout.CanMove(from, to) {
				t.Errorf("%s → %s: page offers %v, checkout.CanMove says %v", from, to, page, !page)
			}
		}
	}
}

// TestBrowserMoney checks the page's money helpers on the amounts an operator types.
func TestBrowserMoney(t *testing.T) {
	type fmtCase struct {
		Minor    int64  `json:"minor"`
		Currency string `json:"currency"`
		Want     string `json:"want"`
	}
	type parseCase struct {
		Text     string `json:"text"`
		Currency string `json:"currency"`
		Want     *int64 `json:"want"`
	}
	n := func(v int64) *int64 { return &v }
	input := map[string]any{
		"format": []fmtCase{{12345, "EUR", "123.45 EUR"}, {5, "EUR", "0.05 EUR"}, {-150, "USD", "-1.50 USD"}, {1235, "JPY", "1235 JPY"}, {12345, "KWD", "12.345 KWD"}},
		"parse": []parseCase{{"123.45", "EUR", n(12345)}, {"123,4", "EUR", n(12340)}, {" 7 ", "EUR", n(700)}, {"1235", "JPY", n(1235)},
			{"1.005", "EUR", nil}, {"12.5", "JPY", nil}, {"-3", "EUR", nil}, {"1e3", "EUR", nil}, {"", "EUR", nil}, {"99999999999999999", "EUR", nil}},
	}
	script := fmt.Sprintf(`
import { formatMoney, parseMoney } from %q;
let input = '';
for await (const chunk of process.stdin) input += chunk;
const { format, parse } = JSON.parse(input);
process.stdout.write(JSON.stringify({
  format: format.map((c) => formatMoney(c.minor, c.currency)),
  parse: parse.map((c) => parseMoney(c.text, c.currency)),
}));
`, moduleURL(t, "format.js"))
	var got struct {
		Format []string `json:"format"`
		Parse  []*int64 `json:"parse"`
	}
	runNode(t, script, input, &got)
	for i, c := range input["format"].([]fmtCase) {
		if i >= len(got.Format) || got.Format[i] != c.Want {
			t.Errorf("formatMoney(%d, %s) = %v, want %q", c.Minor, c.Currency, got.Format, c.Want)
		}
	}
	for i, c := range input["parse"].([]parseCase) {
		if i >= len(got.Parse) || fmt.Sprint(deref(got.Parse[i])) != fmt.Sprint(deref(c.Want)) {
			t.Errorf("parseMoney(%q, %s) = %v, want %v", c.Text, c.Currency, deref(got.Parse[i]), deref(c.Want))
		}
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
