package sfnlocal

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// fnFunc is a fake Lambda function.
type fnFunc func(ctx context.Context, payload []byte) ([]byte, error)

// fakeInvoker routes invocations to fake functions by name and records the calls.
type fakeInvoker struct {
	mu    sync.Mutex
	fns   map[string]fnFunc
	calls map[string][]string // function -> payloads in order
}

var _ Invoker = (*fakeInvoker)(nil)

func newInvoker(fns map[string]fnFunc) *fakeInvoker {
	return &fakeInvoker{fns: fns, calls: map[string][]string{}}
}

func (f *fakeInvoker) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	// Like the local cloud's invoker, accept a function ARN as well as a name.
	if i := strings.LastIndex(function, ":function:"); i >= 0 {
		function = function[i+len(":function:"):]
	}
	f.mu.Lock()
	fn, ok := f.fns[function]
	f.calls[function] = append(f.calls[function], string(payload))
	f.mu.Unlock()
	if !ok {
		return nil, ErrFunctionNotFound
	}
	return fn(ctx, payload)
}

func (f *fakeInvoker) lastPayload(t *testing.T, function string) map[string]any {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	calls := f.calls[function]
	if len(calls) == 0 {
		t.Fatalf("%s was never invoked", function)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(calls[len(calls)-1]), &m); err != nil {
		t.Fatalf("payload of %s is not an object: %v", function, err)
	}
	return m
}

// echo returns its payload.
func echo(_ context.Context, p []byte) ([]byte, error) { return p, nil }

// returns makes a function that always answers with out.
func returns(out string) fnFunc {
	return func(context.Context, []byte) ([]byte, error) { return []byte(out), nil }
}

// blocks makes a function that waits until its context ends (a hung function).
func blocks(ctx context.Context, _ []byte) ([]byte, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// fakeTime controls Options.After. Durations listed in fire elapse at once; any other
// duration never elapses unless the test releases it through requests.
type fakeTime struct {
	mu       sync.Mutex
	fire     map[time.Duration]bool
	fireAll  bool
	asked    []time.Duration
	requests chan timerRequest
}

type timerRequest struct {
	d  time.Duration
	ch chan time.Time
}

func newFakeTime() *fakeTime {
	return &fakeTime{fire: map[time.Duration]bool{}, requests: make(chan timerRequest, 64)}
}

func (f *fakeTime) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, d)
	ch := make(chan time.Time, 1)
	if f.fireAll || f.fire[d] {
		ch <- time.Time{}
		return ch
	}
	select {
	case f.requests <- timerRequest{d, ch}:
	default:
	}
	return ch
}

func (f *fakeTime) durations() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.asked...)
}

var testEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testEpoch }

func newEngine(t *testing.T, inv Invoker, ft *fakeTime) *Engine {
	t.Helper()
	opts := Options{Invoker: inv, Now: fixedNow, Region: "eu-west-1", AccountID: "111122223333"}
	if ft != nil {
		opts.After = ft.After
	}
	e := New(opts)
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// runDef registers def, runs it with input and waits for the end.
func runDef(t *testing.T, e *Engine, def, input string) ExecutionInfo {
	t.Helper()
	arn := mustCreate(t, e, def)
	execArn, _, err := e.StartExecution(arn, "", input)
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	return waitFor(t, e, execArn)
}

var smCounter struct {
	sync.Mutex
	n int
}

func mustCreate(t *testing.T, e *Engine, def string) string {
	t.Helper()
	smCounter.Lock()
	smCounter.n++
	name := fmt.Sprintf("sm-%d", smCounter.n)
	smCounter.Unlock()
	arn, err := e.CreateStateMachine(name, []byte(def))
	if err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	return arn
}

func waitFor(t *testing.T, e *Engine, execArn string) ExecutionInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := e.WaitExecution(ctx, execArn)
	if err != nil {
		t.Fatalf("execution did not end: %v (status %s)", err, info.Status)
	}
	return info
}

// jsonEqual compares two JSON documents semantically.
func jsonEqual(t *testing.T, got, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v: %s", err, want)
	}
	return encodeJSON(g) == encodeJSON(w)
}

// newClient serves e over HTTP and returns a real SDK client pointed at it.
func newClient(t *testing.T, e *Engine) *sfn.Client {
	t.Helper()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return sfn.New(sfn.Options{
		BaseEndpoint:     aws.String(srv.URL),
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1,
	})
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }
