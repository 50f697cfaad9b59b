package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/cfn"
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/all"
)

// CPU is the CPU time each API step costs its function, measured in a process of its
// own that runs the functions' real handlers (built by internal/wire, as each
// functions/*/main.go builds its one) and invokes them as the Lambda runtime does: an
// HTTP API payload 2.0 event in JSON, the response in JSON. The process's CPU time
// (getrusage RUSAGE_SELF: user + system, every thread, the SDK's HTTP connections and
// the garbage collector included) is read before and after each invocation; the
// services it calls (DynamoDB Local, the Step Functions engine, the rest of the local
// cloud) run in other processes, so their CPU is not counted.
type CPU struct {
	Rounds int `json:"rounds"`
	// Floor is one bare GetItem of a tiny item through the ShopFunction's own
	// DynamoDB client, timed between the steps in every round.
	Floor CPUSample  `json:"getItemFloor"`
	Steps []CPUSteps `json:"steps"`
}

// CPUSample summarises CPU times in milliseconds.
type CPUSample struct {
	N      int     `json:"n"`
	MeanMs float64 `json:"meanMs"`
	P50Ms  float64 `json:"p50Ms"`
	// Allocs and AllocBytes are the process's heap allocations per request (mean),
	// read from runtime.MemStats around the same invocations.
	Allocs     float64 `json:"allocsPerRequest"`
	AllocBytes float64 `json:"allocBytesPerRequest"`
}

// CPUSteps is one API step's CPU per request.
type CPUSteps struct {
	Step     string `json:"step"`
	Function string `json:"function"`
	CPUSample
	// Calls is the step's DynamoDB calls per request, from the counted run; Limit is the
	// target, 2 × floor × calls.
	Calls   float64 `json:"dynamodbCalls"`
	LimitMs float64 `json:"limitMs"`
}

// cpuSpec is what the measuring process needs: where the services are and how each
// function is configured.
type cpuSpec struct {
	Rounds      int                          `json:"rounds"`
	Region      string                       `json:"region"`
	Credentials aws.Credentials              `json:"credentials"`
	Endpoints   map[string]string            `json:"endpoints"` // AWS_ENDPOINT_URL_<SERVICE> keys
	Env         map[string]map[string]string `json:"env"`       // by logical ID
	Routes      []cfn.Route                  `json:"routes"`
}

// CPUChildFlag makes cmd/bench the measuring process: it reads a cpuSpec on stdin and
// writes a CPU on stdout.
const CPUChildFlag = "-cpu-child"

// measureCPU runs the measuring process against the cloud's services directly (not
// through the counting proxies, which run in this process).
func measureCPU(ctx context.Context, cloud *Cloud, rounds int) (*CPU, error) {
	creds, err := cloud.AWS.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, err
	}
	spec := cpuSpec{
		Rounds: rounds, Region: cloud.AWS.Region, Credentials: creds, Routes: cloud.Routes,
		Endpoints: map[string]string{"DYNAMODB": cloud.DynamoDBURL, "SFN": cloud.StepFunctionsURL,
			"SESV2": cloud.SESURL, "SECRETS_MANAGER": cloud.SecretsManagerURL},
		Env: map[string]map[string]string{},
	}
	for _, f := range cloud.Lambdas {
		spec.Env[f.LogicalID] = f.Env
	}
	in, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, self, CPUChildFlag)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("bench: CPU process: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var c CPU
	if err := json.Unmarshal(out.Bytes(), &c); err != nil {
		return nil, fmt.Errorf("bench: CPU process's answer: %w", err)
	}
	return &c, nil
}

// CPUChildMain is the measuring process (cmd/bench -cpu-child).
func CPUChildMain(stdin io.Reader, stdout io.Writer) error {
	var spec cpuSpec
	if err := json.NewDecoder(stdin).Decode(&spec); err != nil {
		return fmt.Errorf("bench: CPU spec: %w", err)
	}
	// BENCH_CPU_PROFILE names a file for a CPU profile of the whole measurement, to see
	// where a step's CPU goes (go tool pprof -focus on its handler).
	if path := os.Getenv("BENCH_CPU_PROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	c, err := runCPU(context.Background(), spec)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(c)
}

// cpuTime is the process's CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type endpointSource map[string]string

func (s endpointSource) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v, ok := s[strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_"))]
	return v, ok && v != "", nil
}

// cpuRun is the measuring process's state: one handler per function.
type cpuRun struct {
	spec     cpuSpec
	handlers map[string]lambda.Handler
	deps     map[string]*wire.Deps
	samples  map[string][]time.Duration
	allocs   map[string][2]uint64 // step → total mallocs, bytes
}

func runCPU(ctx context.Context, spec cpuSpec) (*CPU, error) {
	r := &cpuRun{spec: spec, handlers: map[string]lambda.Handler{}, deps: map[string]*wire.Deps{}, samples: map[string][]time.Duration{}, allocs: map[string][2]uint64{}}
	awsCfg := aws.Config{
		Region:        spec.Region,
		Credentials:   aws.NewCredentialsCache(credentials.StaticCredentialsProvider{Value: spec.Credentials}),
		ConfigSources: []any{endpointSource(spec.Endpoints)},
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, id := range []string{"ShopFunction", "CustomerFunction", "OrderFunction", "PaymentFunction"} {
		env := spec.Env[id]
		d := wire.NewDeps(wire.ConfigFrom(func(k string) string { return env[k] }), awsCfg, log)
		h, err := all.Handler(id, d)
		if err != nil {
			return nil, fmt.Errorf("bench: build %s: %w", id, err)
		}
		r.handlers[id], r.deps[id] = h, d
	}
	const warm = 5
	for i := 0; i < warm+spec.Rounds; i++ {
		keep := i >= warm
		if err := r.round(ctx, keep); err != nil {
			return nil, fmt.Errorf("bench: CPU round %d: %w", i, err)
		}
	}
	c := &CPU{Rounds: spec.Rounds, Floor: r.summary("floor")}
	for _, s := range []string{StepCreate, StepLine, StepCustomer, StepPlace, StepPay, StepView} {
		c.Steps = append(c.Steps, CPUSteps{Step: s, Function: cpuFunction[s], CPUSample: r.summary(s)})
	}
	return c, nil
}

var cpuFunction = map[string]string{
	StepCreate: "ShopFunction", StepLine: "ShopFunction", StepCustomer: "CustomerFunction",
	StepPlace: "OrderFunction", StepPay: "PaymentFunction", StepView: "PaymentFunction",
}

func (r *cpuRun) summary(step string) CPUSample {
	s := cpuSummary(r.samples[step])
	if s.N > 0 {
		a := r.allocs[step]
		s.Allocs, s.AllocBytes = float64(a[0])/float64(s.N), float64(a[1])/float64(s.N)
	}
	return s
}

// measure runs f and records its CPU time and heap allocations under step.
func (r *cpuRun) measure(step string, keep bool, f func() error) error {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	before := cpuTime()
	err := f()
	spent := cpuTime() - before
	runtime.ReadMemStats(&m1)
	if err == nil && keep {
		r.samples[step] = append(r.samples[step], spent)
		a := r.allocs[step]
		r.allocs[step] = [2]uint64{a[0] + m1.Mallocs - m0.Mallocs, a[1] + m1.TotalAlloc - m0.TotalAlloc}
	}
	return err
}

func cpuSummary(ds []time.Duration) CPUSample {
	s := CPUSample{N: len(ds)}
	if len(ds) == 0 {
		return s
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	s.P50Ms = float64(sorted[(len(sorted)-1)/2].Nanoseconds()) / 1e6
	s.MeanMs = float64(sum.Nanoseconds()) / 1e6 / float64(len(ds))
	return s
}

// round is one purchase, each step followed by a bare GetItem, so that the steps and
// the floor share the same conditions (interleaved, not one block after the other).
func (r *cpuRun) round(ctx context.Context, keep bool) error {
	var tx, token string
	call := func(rq request) ([]byte, error) {
		ev, err := r.event(rq.method, rq.on(tx), token, rq.body)
		if err != nil {
			return nil, err
		}
		h := r.handlers[cpuFunction[rq.step]]
		var out []byte
		if err := r.measure(rq.step, keep, func() (err error) { out, err = h.Invoke(ctx, ev); return err }); err != nil {
			return nil, fmt.Errorf("%s: %w", rq.step, err)
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			return nil, fmt.Errorf("%s: %w", rq.step, err)
		}
		if resp.StatusCode != rq.want {
			return nil, rq.refused(resp.StatusCode, []byte(resp.Body))
		}
		return []byte(resp.Body), r.floor(ctx, keep)
	}
	out, err := call(createCart)
	if err != nil {
		return err
	}
	if tx, token, err = cartCreated(out); err != nil {
		return err
	}
	for _, rq := range toOrder {
		if _, err := call(rq); err != nil {
			return err
		}
	}
	st := r.deps["PaymentFunction"].Store
	if err := waitFor(ctx, func() bool { return payable(ctx, st, tx) }); err != nil {
		return fmt.Errorf("payable: %w", err)
	}
	if _, err := call(payTest); err != nil {
		return err
	}
	if err := waitFor(ctx, func() bool {
		o, err := st.GetOrder(ctx, tx, "")
		return err == nil && o.Status == "COMPLETE"
	}); err != nil {
		return fmt.Errorf("complete: %w", err)
	}
	_, err = call(viewOrder)
	return err
}

func waitFor(ctx context.Context, ok func() bool) error {
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			return errors.New("not within 20 s")
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// floor times one bare GetItem through the ShopFunction's DynamoDB client.
func (r *cpuRun) floor(ctx context.Context, keep bool) error {
	d := r.deps["ShopFunction"]
	key := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "BENCH#floor"},
		"sk": &types.AttributeValueMemberS{Value: "X"},
	}
	err := r.measure("floor", keep, func() error {
		_, err := d.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(d.Cfg.TableName), Key: key})
		return err
	})
	if err != nil {
		return fmt.Errorf("floor GetItem: %w", err)
	}
	return nil
}

// event is the HTTP API payload 2.0 event API Gateway sends for method path.
func (r *cpuRun) event(method, path, token, body string) ([]byte, error) {
	route, params, ok := matchRoute(r.spec.Routes, method, path)
	if !ok {
		return nil, fmt.Errorf("no route for %s %s", method, path)
	}
	headers := map[string]string{"host": "127.0.0.1:3000", "x-forwarded-proto": "http", "x-forwarded-port": "3000", "user-agent": "bench"}
	if token != "" {
		headers["authorization"] = "Bearer " + token
	}
	if body != "" {
		headers["content-type"] = "application/json"
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: route.Key(), RawPath: path, Headers: headers, PathParameters: params, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: route.Key(), Stage: "$default", RequestID: "bench", DomainName: "127.0.0.1",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "127.0.0.1"},
		},
	}
	return json.Marshal(ev)
}

// matchRoute finds the route of a concrete path and its path parameters.
func matchRoute(routes []cfn.Route, method, path string) (cfn.Route, map[string]string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for _, rt := range routes {
		if rt.Method != method {
			continue
		}
		pat := strings.Split(strings.Trim(rt.Path, "/"), "/")
		if len(pat) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for i, p := range pat {
			switch {
			case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") && !strings.HasSuffix(p, "+}"):
				params[strings.Trim(p, "{}")] = segs[i]
			case p != segs[i]:
				ok = false
			}
		}
		if ok {
			return rt, params, true
		}
	}
	return cfn.Route{}, nil, false
}
