package opsclient_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // zone tests run on machines without zoneinfo

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/opsclient"
	"github.com/lmsshop/checkout/internal/opsclient/opstest"
	"github.com/lmsshop/checkout/internal/trace"
)

func localCreds() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(opstest.AccessKeyID, opstest.SecretAccessKey, "")
}

// tamper is a transport that changes a request after it was signed, as a
// man in the middle would.
type tamper func(*http.Request)

func (f tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	f(r)
	return http.DefaultTransport.RoundTrip(r)
}

func TestSignature(t *testing.T) {
	tests := []struct {
		name      string
		creds     aws.CredentialsProvider
		region    string
		transport http.RoundTripper
		wantErr   bool
	}{
		{name: "signed with the right key", creds: localCreds(), region: opstest.Region},
		{name: "session token is signed too", creds: credentials.NewStaticCredentialsProvider(opstest.AccessKeyID, opstest.SecretAccessKey, "tok"), region: opstest.Region},
		{name: "wrong secret", creds: credentials.NewStaticCredentialsProvider(opstest.AccessKeyID, "guess", ""), region: opstest.Region, wantErr: true},
		{name: "unknown key", creds: credentials.NewStaticCredentialsProvider("AKIDOTHER", opstest.SecretAccessKey, ""), region: opstest.Region, wantErr: true},
		{name: "wrong region", creds: localCreds(), region: "eu-west-3", wantErr: true},
		{name: "unsigned", creds: localCreds(), region: opstest.Region, wantErr: true,
			transport: tamper(func(r *http.Request) { r.Header.Del("Authorization") })},
		{name: "body changed after signing", creds: localCreds(), region: opstest.Region, wantErr: true,
			transport: tamper(func(r *http.Request) {
				b := []byte(`{"to":"SOLDOUT"}`)
				r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
			})},
		{name: "path changed after signing", creds: localCreds(), region: opstest.Region, wantErr: true,
			transport: tamper(func(r *http.Request) { r.URL.Path = "/ops/orders/" + opstest.TxPlaced + "/transition" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := opstest.NewSeededServer(t)
			c := opsclient.New(s.URL, tt.creds, tt.region, &http.Client{Transport: tt.transport})
			o, err := c.Transition(context.Background(), opstest.TxPending, checkout.Cancelled)
			if tt.wantErr {
				var apiErr *opsclient.APIError
				if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden || apiErr.Code != opsclient.CodeGateway {
					t.Fatalf("err = %v, want the gateway's 403", err)
				}
				if s.Refused() != 1 || len(s.Requests()) != 0 {
					t.Errorf("refused %d, accepted %d; want 1 refused, none accepted", s.Refused(), len(s.Requests()))
				}
				if got, _ := s.Order(opstest.TxPending); got.Status != checkout.Pending {
					t.Errorf("a refused request changed the order to %s", got.Status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != checkout.Cancelled {
				t.Errorf("status = %s, want CANCELLED", o.Status)
			}
			reqs := s.Requests()
			if len(reqs) != 1 || reqs[0].Body != `{"to":"CANCELLED"}` {
				t.Errorf("requests = %+v", reqs)
			}
		})
	}
}

func TestOrders(t *testing.T) {
	s := opstest.NewSeededServer(t)
	c := opsclient.New(s.URL+"/", localCreds(), opstest.Region, nil) // a trailing slash is tolerated
	tests := []struct {
		name     string
		status   checkout.Status
		from, to time.Time
		want     []string
		query    string
	}{
		{name: "all, newest first", want: []string{opstest.TxPlaced, opstest.TxPending}, query: ""},
		{name: "by status", status: checkout.Pending, want: []string{opstest.TxPending}, query: "status=PENDING"},
		{name: "since a time", from: opstest.PlacedAt.Add(time.Hour), want: []string{opstest.TxPlaced},
			query: "from=2026-07-27T12%3A32%3A13Z"},
		{name: "between, none", from: opstest.PlacedAt.Add(time.Hour), to: opstest.PlacedAt.Add(2 * time.Hour), want: nil,
			query: "from=2026-07-27T12%3A32%3A13Z&to=2026-07-27T13%3A32%3A13Z"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orders, err := c.Orders(context.Background(), tt.status, tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range orders {
				got = append(got, o.TxID)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("orders = %v, want %v", got, tt.want)
			}
			if q := s.Requests()[i].Query.Encode(); q != tt.query {
				t.Errorf("query = %q, want %q", q, tt.query)
			}
		})
	}
}

func TestOrderAndTrace(t *testing.T) {
	s := opstest.NewSeededServer(t)
	c := opsclient.New(s.URL, localCreds(), opstest.Region, nil)
	ctx := context.Background()

	d, err := c.Order(ctx, opstest.TxPending)
	if err != nil {
		t.Fatal(err)
	}
	if d.Order.TxID != opstest.TxPending || d.Order.Totals.Final != 12345 || len(d.Trace) != 2 {
		t.Errorf("order = %+v, trace %d lines", d.Order, len(d.Trace))
	}

	lines, err := c.Trace(ctx, opstest.TxPending)
	if err != nil {
		t.Fatal(err)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		loc  *time.Location
		want string
	}{
		{nil, "-- 2026-7-27 11:32:13 753 -- [TU80WKRYTI9QUMJ4] Test Processing : paying\n" +
			"-- 2026-7-27 11:32:14 761 -- [TU80WKRYTI9QUMJ4] Production Controller : Full production starting from SOLDOUT ...\n"},
		{paris, "-- 2026-7-27 13:32:13 753 -- [TU80WKRYTI9QUMJ4] Test Processing : paying\n" +
			"-- 2026-7-27 13:32:14 761 -- [TU80WKRYTI9QUMJ4] Production Controller : Full production starting from SOLDOUT ...\n"},
	}
	for _, tt := range tests {
		var b strings.Builder
		if err := opsclient.WriteTrace(&b, lines, tt.loc); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("trace in %v:\n%s\nwant:\n%s", tt.loc, b.String(), tt.want)
		}
	}
}

func TestMutations(t *testing.T) {
	tests := []struct {
		name       string
		call       func(*opsclient.Client) (*checkout.Order, error)
		wantStatus checkout.Status
		wantKind   checkout.Kind
		wantField  string
	}{
		{name: "cheque recorded", wantStatus: checkout.SoldOut, call: func(c *opsclient.Client) (*checkout.Order, error) {
			return c.RecordPayment(context.Background(), opstest.TxPending, opsclient.Payment{Mode: "check", Amount: 12345, Reference: "CHQ-1"})
		}},
		{name: "wrong amount", wantKind: checkout.EINVALID, wantField: "amount", call: func(c *opsclient.Client) (*checkout.Order, error) {
			return c.RecordPayment(context.Background(), opstest.TxPending, opsclient.Payment{Mode: "check", Amount: 0, Reference: "CHQ-1"})
		}},
		{name: "cancel", wantStatus: checkout.Cancelled, call: func(c *opsclient.Client) (*checkout.Order, error) {
			return c.Cancel(context.Background(), opstest.TxPending)
		}},
		{name: "allowed transition", wantStatus: checkout.Failed, call: func(c *opsclient.Client) (*checkout.Order, error) {
			return c.Transition(context.Background(), opstest.TxPending, checkout.Failed)
		}},
		{name: "refused transition", wantKind: checkout.ECONFLICT, call: func(c *opsclient.Client) (*checkout.Order, error) {
			return c.Transition(context.Background(), opstest.TxPending, checkout.Complete)
		}},
		{name: "unknown order", wantKind: checkout.ENOTFOUND, call: func(c *opsclient.Client) (*checkout.Order, error) {
			return c.Cancel(context.Background(), "ZZZZZZZZZZZZZZZZ")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := opstest.NewSeededServer(t)
			c := opsclient.New(s.URL, localCreds(), opstest.Region, nil)
			o, err := tt.call(c)
			if tt.wantKind != "" {
				var apiErr *opsclient.APIError
				if !errors.As(err, &apiErr) || apiErr.Code != tt.wantKind {
					t.Fatalf("err = %v, want kind %s", err, tt.wantKind)
				}
				if tt.wantField != "" && (len(apiErr.Fields) == 0 || apiErr.Fields[0].Field != tt.wantField) {
					t.Errorf("fields = %+v, want %s", apiErr.Fields, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			stored, _ := s.Order(opstest.TxPending)
			if o.Status != tt.wantStatus || stored.Status != tt.wantStatus {
				t.Errorf("answered %s, stored %s, want %s", o.Status, stored.Status, tt.wantStatus)
			}
			// The change is traced under the source the back office writes.
			lines, err := c.Trace(context.Background(), opstest.TxPending)
			if err != nil {
				t.Fatal(err)
			}
			if last := lines[len(lines)-1]; last.Source != trace.SourceBackOffice {
				t.Errorf("last trace line %+v, want source %q", last, trace.SourceBackOffice)
			}
		})
	}
}

func TestBadInputNeverLeaves(t *testing.T) {
	s := opstest.NewSeededServer(t)
	ctx := context.Background()
	c := opsclient.New(s.URL, localCreds(), opstest.Region, nil)
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"short txid", func() error { _, err := c.Order(ctx, "TU80"); return err }, "not a transaction ID"},
		{"path in txid", func() error { _, err := c.Trace(ctx, "../../catalog/xx"); return err }, "not a transaction ID"},
		{"lower-case txid", func() error { _, err := c.Cancel(ctx, strings.ToLower(opstest.TxPending)); return err }, "not a transaction ID"},
		{"no target status", func() error { _, err := c.Transition(ctx, opstest.TxPending, ""); return err }, "no target status"},
		{"item without code", func() error { _, err := c.PutItem(ctx, &checkout.Item{Name: "x"}); return err }, "no code"},
		{"no credentials", func() error {
			_, err := opsclient.New(s.URL, nil, opstest.Region, nil).Orders(ctx, "", time.Time{}, time.Time{})
			return err
		}, "no AWS credentials"},
		{"not an http endpoint", func() error {
			_, err := opsclient.New("ftp://example.org", localCreds(), opstest.Region, nil).Orders(ctx, "", time.Time{}, time.Time{})
			return err
		}, "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
	if n := len(s.Requests()) + s.Refused(); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

type staticToken string

func (s staticToken) Token(context.Context) (string, error) { return string(s), nil }

// An operator's client calls /admin with their bearer token and no signature; a wrong
// token is the gateway's 401 and changes nothing.
func TestOperatorToken(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		status int
	}{
		{"operator's token", opstest.OperatorToken, 0},
		{"another token", "forged", http.StatusUnauthorized},
		{"no token", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := opstest.NewSeededServer(t)
			c := opsclient.NewWithTokens(s.URL, staticToken(tt.token), nil)
			_, err := c.Cancel(context.Background(), opstest.TxPending)
			if tt.status == 0 {
				if err != nil {
					t.Fatal(err)
				}
				reqs := s.Requests()
				if len(reqs) != 1 || reqs[0].Path != "/admin/orders/"+opstest.TxPending+"/cancel" || reqs[0].Header.Get("X-Amz-Date") != "" {
					t.Errorf("requests %+v: want one unsigned call to /admin", reqs)
				}
				return
			}
			var apiErr *opsclient.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status || apiErr.Code != opsclient.CodeGateway {
				t.Fatalf("err = %v, want the gateway's %d", err, tt.status)
			}
			if got, _ := s.Order(opstest.TxPending); got.Status != checkout.Pending {
				t.Errorf("a refused request changed the order to %s", got.Status)
			}
		})
	}
}
