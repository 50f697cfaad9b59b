package launcher_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lmsshop/checkout/internal/cfn"
	"github.com/lmsshop/checkout/internal/localcloud/apigw"
	"github.com/lmsshop/checkout/internal/localcloud/launcher"
	"github.com/lmsshop/checkout/internal/localcloud/sfnlocal"
)

// tiny stands for a function's Timeout: short, so the tests do not wait long.
const tiny = 100 * time.Millisecond

// slowHandlers are functions that outlast their Timeout: one waits for its context to
// end, as a well-behaved function does; one ignores it, and the invocation must still
// end at the deadline, as Lambda ends it.
func slowHandlers(t *testing.T) map[string]lambda.Handler {
	never := make(chan struct{})
	t.Cleanup(func() { close(never) })
	return map[string]lambda.Handler{
		"PoliteFunction": launcher.Timed(lambda.NewHandler(func(ctx context.Context) (string, error) {
			<-ctx.Done()
			return "", ctx.Err()
		}), tiny),
		"DeafFunction": launcher.Timed(lambda.NewHandler(func(context.Context) (string, error) {
			<-never
			return "late", nil
		}), tiny),
	}
}

// In a state machine, a function past its Timeout fails its Task with the error name
// Lambda reports (Sandbox.Timedout), so a Catch naming it matches locally as in AWS.
func TestTimedOutTaskIsCaught(t *testing.T) {
	inv := &launcher.Invoker{}
	inv.Set(slowHandlers(t))
	e := sfnlocal.New(sfnlocal.Options{Invoker: inv})
	t.Cleanup(func() { _ = e.Close() })
	for _, fn := range []string{"PoliteFunction", "DeafFunction"} {
		t.Run(fn, func(t *testing.T) {
			def := `{"StartAt":"Slow","States":{
  "Slow":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:` + fn + `",
    "Catch":[{"ErrorEquals":["` + launcher.TimedOut + `"],"ResultPath":"$.error","Next":"Late"}],"End":true},
  "Late":{"Type":"Pass","End":true}}}`
			arn, err := e.CreateStateMachine("m-"+fn, []byte(def))
			if err != nil {
				t.Fatal(err)
			}
			x, _, err := e.StartExecution(arn, "", `{}`)
			if err != nil {
				t.Fatal(err)
			}
			info, err := e.WaitExecution(context.Background(), x)
			if err != nil {
				t.Fatal(err)
			}
			var out struct{ Error struct{ Error, Cause string } }
			if err := json.Unmarshal([]byte(info.Output), &out); err != nil || info.Status != sfnlocal.StatusSucceeded {
				t.Fatalf("execution %s %s %s: %s, want caught by the Catch", info.Status, info.Error, info.Cause, info.Output)
			}
			if out.Error.Error != "Sandbox.Timedout" || !strings.Contains(out.Error.Cause, "Task timed out after 0.10 seconds") {
				t.Errorf("caught %+v, want Sandbox.Timedout, task timed out after 0.10 seconds", out.Error)
			}
		})
	}
}

// Behind the HTTP API, a function past its Timeout is a function error (500), not the
// gateway's own integration timeout (503).
func TestTimedOutFunctionBehindTheAPI(t *testing.T) {
	handlers := slowHandlers(t)
	var routes []cfn.Route
	for fn := range handlers {
		routes = append(routes, cfn.Route{Method: "GET", Path: "/" + fn, Function: fn})
	}
	srv := httptest.NewServer(apigw.New(routes, handlers, apigw.Options{}))
	t.Cleanup(srv.Close)
	for fn := range handlers {
		t.Run(fn, func(t *testing.T) {
			resp, err := http.Get(srv.URL + "/" + fn)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusInternalServerError || string(body) != `{"message":"Internal Server Error"}` {
				t.Errorf("GET /%s = %d %s, want 500 Internal Server Error", fn, resp.StatusCode, body)
			}
		})
	}
}

// The function's context carries its Timeout as its deadline, as in Lambda.
func TestFunctionContextDeadline(t *testing.T) {
	for _, timeout := range []time.Duration{time.Second, cfn.DefaultFunctionTimeout, 10 * time.Second} {
		t.Run(timeout.String(), func(t *testing.T) {
			var deadline time.Time
			var ok bool
			h := launcher.Timed(lambda.NewHandler(func(ctx context.Context) (string, error) {
				deadline, ok = ctx.Deadline()
				return "ok", nil
			}), timeout)
			before := time.Now()
			if _, err := h.Invoke(context.Background(), []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			after := time.Now()
			if !ok || deadline.Before(before.Add(timeout)) || deadline.After(after.Add(timeout)) {
				t.Errorf("deadline %v (set %v), want the invocation's start + %s", deadline, ok, timeout)
			}
		})
	}
}
