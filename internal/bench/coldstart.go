package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lmsshop/checkout/internal/cfn"
	"github.com/lmsshop/checkout/internal/samtemplate"
)

// runtimeAPI is the smallest Lambda Runtime API (2018-06-01) that runs one invocation:
// it hands out one event and records when the runtime asked for it and answered.
type runtimeAPI struct {
	event    []byte
	next     chan time.Time // first GET …/invocation/next
	answered chan answer    // POST …/response, …/error or …/init/error
	served   atomic.Bool
}

type answer struct {
	at      time.Time
	outcome string
	body    string
}

const requestID = "00000000-0000-4000-8000-000000000001"

func (a *runtimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const prefix = "/2018-06-01/runtime/"
	path := strings.TrimPrefix(r.URL.Path, prefix)
	body, _ := io.ReadAll(r.Body)
	switch {
	case r.Method == http.MethodGet && path == "invocation/next":
		if a.served.Swap(true) {
			<-r.Context().Done() // one invocation only: the process is killed after it
			return
		}
		a.next <- time.Now()
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", requestID)
		w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(30*time.Second).UnixMilli()))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
		w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
		_, _ = w.Write(a.event)
	case r.Method == http.MethodPost && path == "invocation/"+requestID+"/response":
		a.answered <- answer{time.Now(), "response", string(body)}
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPost && path == "invocation/"+requestID+"/error":
		a.answered <- answer{time.Now(), "error", string(body)}
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPost && path == "init/error":
		a.answered <- answer{time.Now(), "init error", string(body)}
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}

// HelloID names the hello-world aws-lambda-go function (internal/bench/testdata/hello)
// timed beside the checkout's functions.
const HelloID = "hello-world (aws-lambda-go)"

// BuildBootstraps builds every function for the machine's own Linux architecture into
// dir/<name>/bootstrap, with the Makefile's flags, and returns the paths by logical ID.
func BuildBootstraps(ctx context.Context, repoRoot, dir, goarch string, fns []samtemplate.Function) (map[string]string, error) {
	out := map[string]string{}
	args := []string{"build", "-tags", "lambda.norpc,nethttpomithttp2", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", dir + string(filepath.Separator)}
	for _, f := range fns {
		args = append(args, "./"+filepath.ToSlash(f.Dir))
		out[f.LogicalID] = filepath.Join(dir, filepath.Base(f.Dir))
	}
	// The reference: the smallest aws-lambda-go function, same flags, same build.
	args = append(args, "./internal/bench/testdata/hello")
	out[HelloID] = filepath.Join(dir, "hello")
	// One go build of every package writes dir/<package name>: one binary per function.
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("bench: go build for linux/%s: %v\n%s", goarch, err, msg)
	}
	return out, nil
}

// ColdStartOf runs the bootstrap at path under a fresh Runtime API, sends it event, and
// times its init and its first answer. env is added to the process's environment.
func ColdStartOf(ctx context.Context, function, path string, event []byte, env []string) ColdStart {
	cs := ColdStart{Function: function, Event: summarizeEvent(event)}
	api := &runtimeAPI{event: event, next: make(chan time.Time, 1), answered: make(chan answer, 2)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cs.Error = err.Error()
		return cs
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = srv.Close()
	}()

	cmd := exec.Command(path)
	cmd.Env = append(append(os.Environ(), env...),
		"AWS_LAMBDA_RUNTIME_API="+ln.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME="+function,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"_HANDLER=bootstrap",
		"LAMBDA_TASK_ROOT="+filepath.Dir(path),
	)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	start := time.Now()
	if err := cmd.Start(); err != nil {
		cs.Error = err.Error()
		return cs
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()
	timeout := time.NewTimer(20 * time.Second)
	defer timeout.Stop()
	select {
	case at := <-api.next:
		cs.InitMs = ms(at.Sub(start))
	case a := <-api.answered:
		cs.Outcome, cs.Error = a.outcome, a.body
		return cs
	case <-exited:
		cs.Error = "the bootstrap exited before asking for an invocation"
		return cs
	case <-timeout.C:
		cs.Error = "no GET /invocation/next within 20 s"
		return cs
	case <-ctx.Done():
		cs.Error = ctx.Err().Error()
		return cs
	}
	select {
	case a := <-api.answered:
		cs.FirstResponseMs, cs.Outcome = ms(a.at.Sub(start)), a.outcome
		if a.outcome != "response" {
			cs.Error = a.body
		}
	case <-exited:
		cs.Error = "the bootstrap exited during its first invocation"
	case <-timeout.C:
		cs.Error = "no answer to the first invocation within 20 s"
	case <-ctx.Done():
		cs.Error = ctx.Err().Error()
	}
	return cs
}

// EventFor builds the first invocation's event: one of the function's own routes as an
// HTTP API payload 2.0 event (a GET if it has one, on an unknown cart so it stays cheap
// and side-effect free), or an empty object for the workflow's task functions.
func EventFor(fn string, routes []cfn.Route) []byte {
	var pick *cfn.Route
	better := func(r, than *cfn.Route) bool {
		if than == nil {
			return true
		}
		if r.IAM != than.IAM { // public routes first: the gateway checks /admin's signature, not the function
			return !r.IAM
		}
		return r.Method == http.MethodGet && than.Method != http.MethodGet
	}
	for i := range routes {
		if r := &routes[i]; r.Function == fn && r.Method != "ANY" && better(r, pick) {
			pick = r
		}
	}
	for i := range routes {
		if r := &routes[i]; r.Function == fn && pick == nil {
			pick = r
		}
	}
	if pick == nil {
		return []byte(`{}`)
	}
	params := map[string]string{}
	path := pick.Path
	for _, seg := range strings.Split(pick.Path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := strings.TrimSuffix(strings.Trim(seg, "{}"), "+")
			v := map[string]string{"txid": "AAAAAAAAAAAAAAAA", "code": "GO-101", "provider": "test", "proxy": "orders"}[name]
			if v == "" {
				v = "x"
			}
			params[name] = v
			path = strings.Replace(path, seg, v, 1)
		}
	}
	method := pick.Method
	if method == "ANY" {
		method = http.MethodGet
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: pick.Key(), RawPath: path,
		Headers:        map[string]string{"authorization": "Bearer bench-cold-start", "content-type": "application/json"},
		PathParameters: params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: pick.Key(), Stage: "$default", RequestID: "bench",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "127.0.0.1"},
		},
	}
	if method != http.MethodGet {
		ev.Body = `{}`
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		return []byte(`{}`)
	}
	return raw
}

func summarizeEvent(event []byte) string {
	var ev struct {
		RouteKey string `json:"routeKey"`
	}
	if json.Unmarshal(event, &ev) == nil && ev.RouteKey != "" {
		return ev.RouteKey
	}
	return string(event)
}

// errNoBinaries says `make build` has not run.
var errNoBinaries = errors.New("no bin/<name>/bootstrap: run `make build` first")
