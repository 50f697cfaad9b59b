package faultproxy_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/localcloud/dynamotest"
	"github.com/lmsshop/checkout/internal/localcloud/faultproxy"
)

// fakeDynamo answers every GetItem with one item and the capacity it was asked to
// report, recording the bodies it received.
type fakeDynamo struct {
	mu     sync.Mutex
	bodies []string
}

func (f *fakeDynamo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, string(body))
	f.mu.Unlock()
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	out := map[string]any{"Item": map[string]any{"pk": map[string]string{"S": "A"}}}
	if in["ReturnConsumedCapacity"] == "TOTAL" {
		out["ConsumedCapacity"] = map[string]any{"TableName": "t", "CapacityUnits": 0.5}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(out)
}

func (f *fakeDynamo) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

// proxyTo serves upstream on a loopback port and returns a listening proxy to it with
// its URL; both stop when the test ends.
func proxyTo(t *testing.T, upstream http.Handler, opts faultproxy.Options) (*faultproxy.Proxy, string) {
	t.Helper()
	up := httptest.NewServer(upstream)
	t.Cleanup(up.Close)
	return dynamotest.StartProxy(t, up.URL, opts)
}

// setup starts a fake DynamoDB behind a proxy and returns an SDK client through the
// proxy that tries each call `attempts` times, as the functions' clients would.
func setup(t *testing.T, opts faultproxy.Options, attempts int) (*fakeDynamo, *faultproxy.Proxy, *dynamodb.Client) {
	t.Helper()
	fake := &fakeDynamo{}
	p, url := proxyTo(t, fake, opts)
	db := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "localsecret", ""),
	}, dynamotest.Retries(attempts))
	return fake, p, db
}

func getItem(db *dynamodb.Client) error {
	_, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String("t"),
		Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "A"}},
	})
	return err
}

func TestFaultsValidate(t *testing.T) {
	cases := []struct {
		name string
		f    faultproxy.Faults
		ok   bool
	}{
		{"none", faultproxy.Faults{}, true},
		{"mixed", faultproxy.Faults{Throttle: 0.2, ServerError: 0.1, ResetBefore: 0.1, ResetAfter: 0.1, Latency: time.Millisecond, LatencyShare: 1}, true},
		{"all throttled", faultproxy.Faults{Throttle: 1}, true},
		{"negative", faultproxy.Faults{Throttle: -0.1}, false},
		{"over one", faultproxy.Faults{ServerError: 1.5}, false},
		{"NaN", faultproxy.Faults{ResetAfter: math.NaN()}, false},
		{"exclusive sum over one", faultproxy.Faults{Throttle: 0.6, ResetBefore: 0.6}, false},
		{"negative latency", faultproxy.Faults{Latency: -time.Second, LatencyShare: 1}, false},
		{"negative max", faultproxy.Faults{ResetAfter: 1, Max: -1}, false},
	}
	p, err := faultproxy.New("http://127.0.0.1:1", faultproxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok = %v", err, tc.ok)
			}
			if err := p.SetFaults(tc.f); (err == nil) != tc.ok {
				t.Fatalf("SetFaults() = %v, want ok = %v", err, tc.ok)
			}
		})
	}
}

func TestNewRefusesNonLocalUpstreams(t *testing.T) {
	for _, up := range []string{"https://dynamodb.us-east-1.amazonaws.com", "http://10.0.0.1:8000", "127.0.0.1:8000", "http://example.com"} {
		if _, err := faultproxy.New(up, faultproxy.Options{}); err == nil {
			t.Errorf("New(%q) accepted a non-loopback or malformed upstream", up)
		}
	}
	if _, err := faultproxy.New("http://10.0.0.1:8000", faultproxy.Options{}); !errors.Is(err, faultproxy.ErrNotLoopback) {
		t.Errorf("New(10.0.0.1) = %v, want ErrNotLoopback", err)
	}
}

// Without faults the proxy is transparent to the SDK and counts each call; asked to,
// it makes DynamoDB report the capacity the call consumed.
func TestCountsAndCapacity(t *testing.T) {
	fake, p, db := setup(t, faultproxy.Options{Name: "dynamodb", AskCapacity: true}, 1)
	for i := 0; i < 3; i++ {
		if err := getItem(db); err != nil {
			t.Fatalf("GetItem through the proxy: %v", err)
		}
	}
	st := p.Stats()["GetItem"]
	if st.Requests != 3 || st.Forwarded != 3 || st.WithCapacity != 3 || st.ReadUnits != 1.5 || st.WriteUnits != 0 {
		t.Errorf("stats = %+v, want 3 requests forwarded, 1.5 read units", st)
	}
	for _, b := range fake.received() {
		if !strings.Contains(b, `"ReturnConsumedCapacity":"TOTAL"`) {
			t.Errorf("upstream body %s does not ask for capacity", b)
		}
	}
	before := p.Stats()
	_ = getItem(db)
	if d := p.Stats().Sub(before); d.Total().Requests != 1 || d["GetItem"].ReadUnits != 0.5 {
		t.Errorf("Sub = %+v, want one request of 0.5 units", d)
	}
}

// Each fault reaches the SDK as the real failure would: throttling and 500s are retried
// and reported with their codes, resets are retried as connection errors, and a reset
// after forwarding leaves the request done upstream.
func TestFaultsAsTheSDKSeesThem(t *testing.T) {
	cases := []struct {
		name      string
		faults    faultproxy.Faults
		fault     faultproxy.Fault
		upstream  int // requests the service received
		checkErr  func(error) bool
		errorDesc string
	}{
		{"throttle", faultproxy.Faults{Throttle: 1}, faultproxy.Throttled, 0, func(err error) bool {
			var e *types.ProvisionedThroughputExceededException
			return errors.As(err, &e)
		}, "ProvisionedThroughputExceededException"},
		{"server error", faultproxy.Faults{ServerError: 1}, faultproxy.ServerError, 0, func(err error) bool {
			var e *types.InternalServerError
			return errors.As(err, &e)
		}, "InternalServerError"},
		{"reset before", faultproxy.Faults{ResetBefore: 1}, faultproxy.ResetBefore, 0, func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "connection reset")
		}, "connection reset"},
		{"reset after", faultproxy.Faults{ResetAfter: 1}, faultproxy.ResetAfter, 3, func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "connection reset")
		}, "connection reset"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake, p, db := setup(t, faultproxy.Options{Name: "dynamodb"}, 3)
			if err := p.SetFaults(tc.faults); err != nil {
				t.Fatal(err)
			}
			err := getItem(db)
			if !tc.checkErr(err) {
				t.Fatalf("GetItem error = %v, want %s", err, tc.errorDesc)
			}
			st := p.Stats()["GetItem"]
			if st.Requests != 3 || st.Faults[tc.fault] != 3 {
				t.Errorf("stats = %+v, want 3 attempts all %s (the SDK retried)", st, tc.fault)
			}
			if got := len(fake.received()); got != tc.upstream {
				t.Errorf("upstream received %d requests, want %d", got, tc.upstream)
			}
			// Faults off: the same client succeeds again.
			if err := p.SetFaults(faultproxy.Faults{}); err != nil {
				t.Fatal(err)
			}
			if err := getItem(db); err != nil {
				t.Errorf("after the faults stopped: %v", err)
			}
		})
	}
}

// Max stops the faults after that many: the first answer is lost after the service did
// the work, the SDK's retry goes through, and SetFaults starts the count again.
func TestMaxFaults(t *testing.T) {
	fake, p, db := setup(t, faultproxy.Options{Name: "dynamodb"}, 3)
	for round := 1; round <= 2; round++ {
		if err := p.SetFaults(faultproxy.Faults{ResetAfter: 1, Max: 1}); err != nil {
			t.Fatal(err)
		}
		if err := getItem(db); err != nil {
			t.Fatalf("round %d: GetItem = %v, want success on the retry", round, err)
		}
		st := p.Stats()["GetItem"]
		if st.Requests != 2*round || st.Faults[faultproxy.ResetAfter] != round {
			t.Errorf("round %d: stats = %+v, want %d requests, %d reset after", round, st, 2*round, round)
		}
		if got := len(fake.received()); got != 2*round {
			t.Errorf("round %d: upstream received %d requests, want %d (the lost one included)", round, got, 2*round)
		}
	}
}

// Proportions are honoured over many requests, and only the operations named are hit.
func TestProportionsAndOperations(t *testing.T) {
	_, p, db := setup(t, faultproxy.Options{Seed: 7}, 1)
	if err := p.SetFaults(faultproxy.Faults{ServerError: 0.3}); err != nil {
		t.Fatal(err)
	}
	const n = 400
	failed := 0
	for i := 0; i < n; i++ {
		if getItem(db) != nil {
			failed++
		}
	}
	if failed < n*20/100 || failed > n*40/100 {
		t.Errorf("%d of %d failed, want about 30 %%", failed, n)
	}
	if err := p.SetFaults(faultproxy.Faults{ServerError: 1, Operations: []string{"PutItem"}}); err != nil {
		t.Fatal(err)
	}
	if err := getItem(db); err != nil {
		t.Errorf("GetItem failed under faults limited to PutItem: %v", err)
	}
}

func TestLatencyIsAdded(t *testing.T) {
	_, p, db := setup(t, faultproxy.Options{}, 1)
	if err := p.SetFaults(faultproxy.Faults{Latency: 60 * time.Millisecond, LatencyShare: 1}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := getItem(db); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Errorf("call took %v, want at least the 60 ms added", d)
	}
	if st := p.Stats()["GetItem"]; st.Delayed != 1 {
		t.Errorf("delayed = %d, want 1", st.Delayed)
	}
}

// REST APIs (SES v2) are throttled with 429 and the code in X-Amzn-ErrorType.
func TestRESTThrottleShape(t *testing.T) {
	p, url := proxyTo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), faultproxy.Options{Name: "ses"})
	if err := p.SetFaults(faultproxy.Faults{Throttle: 1}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url+"/v2/email/outbound-emails", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("X-Amzn-ErrorType") != "TooManyRequestsException" {
		t.Errorf("= %d %q, want 429 TooManyRequestsException", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
	if st := p.Stats()["POST /v2/email/outbound-emails"]; st.Faults[faultproxy.Throttled] != 1 {
		t.Errorf("stats = %+v", p.Stats())
	}
}
