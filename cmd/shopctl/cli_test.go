package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/opsclient/opstest"
)

// testApp runs shopctl against s with the local key and a clock 49 hours after the
// first order.
func testApp(s *opstest.Server, secret string) (*app, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	env := map[string]string{"CHECKOUT_API": s.URL, "SHOPCTL_AUTH": "sigv4"}
	a := newApp(&out, &errOut, func(k string) string { return env[k] })
	a.now = func() time.Time { return opstest.PlacedAt.Add(49 * time.Hour) }
	a.loadCreds = func(context.Context, string) (aws.CredentialsProvider, string, error) {
		return credentials.NewStaticCredentialsProvider(opstest.AccessKeyID, secret, ""), "", nil
	}
	return a, &out, &errOut
}

const traceUTC = "-- 2026-7-27 11:32:13 753 -- [TU80WKRYTI9QUMJ4] Test Processing : paying\n" +
	"-- 2026-7-27 11:32:14 761 -- [TU80WKRYTI9QUMJ4] Production Controller : Full production starting from SOLDOUT ...\n"

func TestCommands(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    []string // substrings of stdout, in order
		exactOut   string
		wantErr    string // substring of stderr
		wantStatus checkout.Status
		wantQuery  string // query of the one request sent
	}{
		{name: "trace", args: []string{"trace", opstest.TxPending}, exactOut: traceUTC},
		{name: "trace in Paris", args: []string{"trace", "--tz", "Europe/Paris", opstest.TxPending},
			exactOut: strings.ReplaceAll(strings.ReplaceAll(traceUTC, " 11:32:13 ", " 13:32:13 "), " 11:32:14 ", " 13:32:14 ")},
		{name: "trace, flag after the txid", args: []string{"trace", opstest.TxPending, "-tz=UTC"}, exactOut: traceUTC},
		{name: "trace of an unknown order", args: []string{"trace", "ZZZZZZZZZZZZZZZZ"}, wantCode: exitFail, wantErr: "404 not_found: no order ZZZZZZZZZZZZZZZZ"},
		{name: "orders", args: []string{"orders"},
			wantOut: []string{"TRANSACTION", "STATUS", opstest.TxPlaced, "PLACED", "5.00 EUR", "2026-07-29 11:32", "bob@example.org", opstest.TxPending, "PENDING", "123.45 EUR"}},
		{name: "orders by status", args: []string{"orders", "--status", "pending"}, wantOut: []string{opstest.TxPending}, wantQuery: "status=PENDING"},
		{name: "orders since 24h", args: []string{"orders", "--since", "24h"}, wantOut: []string{opstest.TxPlaced},
			wantQuery: "from=2026-07-28T12%3A32%3A13Z"},
		{name: "orders between days", args: []string{"orders", "--from", "2026-07-27", "--to", "2026-07-28"}, wantOut: []string{opstest.TxPending},
			wantQuery: "from=2026-07-27T00%3A00%3A00Z&to=2026-07-28T23%3A59%3A59Z"},
		{name: "no orders", args: []string{"orders", "--status", "REFUSED"}, exactOut: "no orders\n"},
		{name: "order", args: []string{"order", opstest.TxPending},
			wantOut: []string{"Order", opstest.TxPending, "Status", "PENDING", "Customer", "Ada Lovelace <ada@example.org> FR", "Total", "123.45 EUR",
				"Lines (1)", "COURSE-101", "Go for teachers", "Payments (0)", "Products (0)", "Trace (2)", strings.Split(traceUTC, "\n")[1]}},
		{name: "record a cheque", args: []string{"record-payment", opstest.TxPending, "--mode", "check", "--amount", "12345", "--reference", "CHQ-1"},
			exactOut: opstest.TxPending + ": check payment of 123.45 EUR recorded (reference CHQ-1); order is SOLDOUT\n", wantStatus: checkout.SoldOut},
		{name: "cheque of the wrong amount", args: []string{"record-payment", opstest.TxPending, "--mode=check", "--amount=12344", "--reference=CHQ-1"},
			exactOut: opstest.TxPending + ": check payment of 123.44 EUR recorded (reference CHQ-1); order is PENDING\n" +
				opstest.TxPending + ": the payment did not pay the order: see 'shopctl flags'\n", wantStatus: checkout.Pending},
		{name: "cancel", args: []string{"cancel", opstest.TxPending}, exactOut: opstest.TxPending + ": order is CANCELLED\n", wantStatus: checkout.Cancelled},
		{name: "transition", args: []string{"transition", opstest.TxPending, "failed"}, exactOut: opstest.TxPending + ": order is FAILED\n", wantStatus: checkout.Failed},
		{name: "transition refused", args: []string{"transition", opstest.TxPending, "COMPLETE"}, wantCode: exitFail,
			wantErr: "409 conflict: order TU80WKRYTI9QUMJ4 cannot move from PENDING to COMPLETE", wantStatus: checkout.Pending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := opstest.NewSeededServer(t)
			a, out, errOut := testApp(s, opstest.SecretAccessKey)
			code := a.run(context.Background(), tt.args)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.wantCode, errOut)
			}
			if tt.exactOut != "" && out.String() != tt.exactOut {
				t.Errorf("stdout:\n%s\nwant:\n%s", out, tt.exactOut)
			}
			rest := out.String()
			for _, w := range tt.wantOut {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stdout lacks %q (in order):\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
			if tt.wantErr != "" && !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr = %q, want %q", errOut, tt.wantErr)
			}
			if tt.wantCode == exitOK && errOut.Len() > 0 {
				t.Errorf("stderr on success: %s", errOut)
			}
			if tt.wantStatus != "" {
				if o, _ := s.Order(opstest.TxPending); o.Status != tt.wantStatus {
					t.Errorf("order is %s, want %s", o.Status, tt.wantStatus)
				}
			}
			reqs := s.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests reached the API, want 1", len(reqs))
			}
			if q := reqs[0].Query.Encode(); tt.wantQuery != "" && q != tt.wantQuery {
				t.Errorf("query = %q, want %q", q, tt.wantQuery)
			}
		})
	}
}

func TestOrdersJSON(t *testing.T) {
	s := opstest.NewSeededServer(t)
	a, out, errOut := testApp(s, opstest.SecretAccessKey)
	if code := a.run(context.Background(), []string{"orders", "--json"}); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var orders []checkout.Order
	if err := json.Unmarshal(out.Bytes(), &orders); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(orders) != 2 || orders[0].TxID != opstest.TxPlaced || orders[1].Totals.Final != 12345 {
		t.Errorf("orders = %+v", orders)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no command", nil, "no command"},
		{"unknown command", []string{"reimburse", opstest.TxPending}, `unknown command "reimburse"`},
		{"unknown global flag", []string{"--verbose", "orders"}, "flag provided but not defined: -verbose"},
		{"unknown command flag", []string{"cancel", "--force", opstest.TxPending}, "flag provided but not defined: -force"},
		{"missing txid", []string{"trace"}, "missing <txid>"},
		{"not a txid", []string{"order", "TU80"}, `"TU80" is not a transaction ID`},
		{"extra argument", []string{"cancel", opstest.TxPending, opstest.TxPlaced}, `unexpected argument "AB12CD34EF56GH78"`},
		{"missing status", []string{"transition", opstest.TxPending}, "missing <STATUS>"},
		{"unknown status", []string{"transition", opstest.TxPending, "PAID"}, `unknown status "PAID" (one of WORKING, PLACED`},
		{"unknown status filter", []string{"orders", "--status", "PAID"}, `unknown status "PAID"`},
		{"bad since", []string{"orders", "--since", "yesterday"}, `--since "yesterday"`},
		{"negative since", []string{"orders", "--since", "-2d"}, `--since "-2d"`},
		{"since and from", []string{"orders", "--since", "24h", "--from", "2026-07-01"}, "choose one"},
		{"bad day", []string{"orders", "--from", "27/07/2026"}, `--from "27/07/2026"`},
		{"to before from", []string{"orders", "--from", "2026-07-28", "--to", "2026-07-27"}, "--to is before"},
		{"bad zone", []string{"trace", opstest.TxPending, "--tz", "Mars/Olympus"}, `unknown time zone`},
		{"payment without mode", []string{"record-payment", opstest.TxPending, "--amount", "12345", "--reference", "R"}, "--mode must be check or transfer"},
		{"payment by card", []string{"record-payment", opstest.TxPending, "--mode", "stripe", "--amount", "12345", "--reference", "R"}, "--mode must be check or transfer"},
		{"decimal amount", []string{"record-payment", opstest.TxPending, "--mode", "check", "--amount", "123.45", "--reference", "R"}, `--amount "123.45"`},
		{"zero amount", []string{"record-payment", opstest.TxPending, "--mode", "check", "--amount", "0", "--reference", "R"}, `--amount "0"`},
		{"blank reference", []string{"record-payment", opstest.TxPending, "--mode", "check", "--amount", "12345", "--reference", " "}, "--reference is required"},
		{"bad endpoint", []string{"--endpoint", "ftp://example.org", "orders"}, `--endpoint "ftp://example.org" is not an http(s) URL`},
		{"settle without action", []string{"settle", opstest.TxPending}, "missing deliver|refund"},
		{"settle with another action", []string{"settle", opstest.TxPending, "keep"}, `must be deliver or refund, not "keep"`},
		{"refund with two orders", []string{"refund", opstest.TxPending, opstest.TxPlaced}, `unexpected argument "AB12CD34EF56GH78"`},
		{"flags with an argument", []string{"flags", opstest.TxPending}, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := opstest.NewSeededServer(t)
			a, out, errOut := testApp(s, opstest.SecretAccessKey)
			if code := a.run(context.Background(), tt.args); code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr: %s", code, exitUsage, errOut)
			}
			if !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr = %q, want %q", errOut, tt.wantErr)
			}
			if !strings.Contains(errOut.String(), "Usage: shopctl") && !strings.Contains(errOut.String(), "shopctl -h") {
				t.Errorf("stderr shows no usage: %q", errOut)
			}
			if out.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", out)
			}
			if n := len(s.Requests()) + s.Refused(); n != 0 {
				t.Errorf("%d requests sent for a wrong command line", n)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"-h"}, []string{"Usage: shopctl", "--endpoint URL", "record-payment <txid> --mode check|transfer", "shopctl login", "--sigv4", "Statuses: WORKING"}},
		{[]string{"record-payment", "-h"}, []string{"Usage: shopctl record-payment", "-amount CENTS", "-reference REFERENCE"}},
	}
	for _, tt := range tests {
		s := opstest.NewSeededServer(t)
		a, out, _ := testApp(s, opstest.SecretAccessKey)
		if code := a.run(context.Background(), tt.args); code != exitOK {
			t.Fatalf("%v: exit %d", tt.args, code)
		}
		for _, w := range tt.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v: help lacks %q:\n%s", tt.args, w, out)
			}
		}
	}
}

func TestEndpointPrecedence(t *testing.T) {
	s := opstest.NewSeededServer(t)
	a, out, errOut := testApp(s, opstest.SecretAccessKey)
	a.getenv = func(k string) string {
		if k == "CHECKOUT_API" {
			return "http://127.0.0.1:1" // nothing listens there: the flag must win
		}
		return ""
	}
	if code := a.run(context.Background(), []string{"--endpoint", s.URL, "--sigv4", "cancel", opstest.TxPending}); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out.String(), "CANCELLED") {
		t.Errorf("stdout = %q", out)
	}
}

func TestWrongKeyGetsTheLocalHint(t *testing.T) {
	s := opstest.NewSeededServer(t)
	a, _, errOut := testApp(s, "not-the-secret")
	if code := a.run(context.Background(), []string{"orders"}); code != exitFail {
		t.Fatalf("exit %d, want %d", code, exitFail)
	}
	for _, w := range []string{"403 gateway: The request signature we calculated does not match", "AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=localsecret"} {
		if !strings.Contains(errOut.String(), w) {
			t.Errorf("stderr = %q, want %q", errOut, w)
		}
	}
}

// TestStandardAWSConfiguration runs the real credential chain: the local key from the
// environment signs, and a profile that does not exist is a clear failure.
func TestStandardAWSConfiguration(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_ACCESS_KEY_ID", opstest.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", opstest.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"environment credentials, local region", []string{"cancel", opstest.TxPending}, exitOK, ""},
		{"explicit region is used", []string{"--region", "eu-west-3", "cancel", opstest.TxPending}, exitFail, "Credential should be scoped to a valid region"},
		{"missing profile", []string{"--profile", "nope", "cancel", opstest.TxPending}, exitFail, "load AWS configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := opstest.NewSeededServer(t)
			var out, errOut bytes.Buffer
			a := newApp(&out, &errOut, func(k string) string {
				if k == "CHECKOUT_API" {
					return s.URL
				}
				return ""
			})
			if code := a.run(context.Background(), append([]string{"--sigv4"}, tt.args...)); code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.wantCode, errOut.String())
			}
			if !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr = %q, want %q", errOut.String(), tt.wantErr)
			}
		})
	}
}
