package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lmsshop/checkout/internal/localcloud/faultproxy"
	"github.com/lmsshop/checkout/internal/localcloud/launcher"
	"github.com/lmsshop/checkout/internal/samtemplate"
)

// Config configures Run.
type Config struct {
	RepoRoot string
	// Levels are the concurrency levels, run in order; the first must be 1, where each
	// call is attributed to its step.
	Levels []int
	// Orders gives the number of purchases at a concurrency level.
	Orders func(concurrency int) int
	// LevelTimeout bounds each level.
	LevelTimeout time.Duration
	// FloorSamples is the number of GetItem calls timed for the floor.
	FloorSamples int
	// BinDir holds `make build`'s bin/<name>/bootstrap (sizes); empty skips sizes.
	BinDir string
	// ColdStarts builds the functions for this machine and times their cold starts.
	ColdStarts bool
	// CPURounds is the number of purchases the CPU measurement makes (0: none); it
	// runs the handlers in a process of its own, started from os.Executable.
	CPURounds int
	// MemoryMB is the functions' memory (template.yaml's Globals).
	MemoryMB int
	Log      *slog.Logger
}

// DefaultConfig runs 10, 24 and 48 purchases at concurrency 1, 4 and 16.
func DefaultConfig(repoRoot string) Config {
	return Config{
		RepoRoot: repoRoot,
		Levels:   []int{1, 4, 16},
		Orders: func(c int) int {
			return map[int]int{1: 10, 4: 24, 16: 48}[c]
		},
		LevelTimeout: 60 * time.Second,
		FloorSamples: 200,
		BinDir:       filepath.Join(repoRoot, "bin"),
		ColdStarts:   true,
		CPURounds:    40,
		MemoryMB:     256,
	}
}

// Validate refuses a configuration that cannot give a report.
func (c Config) Validate() error {
	switch {
	case c.RepoRoot == "":
		return errors.New("bench: no repository root")
	case len(c.Levels) == 0 || c.Levels[0] != 1:
		return errors.New("bench: the first concurrency level must be 1 (it attributes calls to steps)")
	case c.Orders == nil:
		return errors.New("bench: no order count")
	case c.LevelTimeout <= 0 || c.FloorSamples <= 0 || c.MemoryMB <= 0:
		return errors.New("bench: LevelTimeout, FloorSamples and MemoryMB must be positive")
	}
	for _, l := range c.Levels {
		if l <= 0 || c.Orders(l) < l {
			return fmt.Errorf("bench: level %d needs a positive concurrency and at least as many orders (%d)", l, c.Orders(l))
		}
	}
	return nil
}

// Run starts a local cloud with counting proxies, runs the purchases level by level, and
// measures the rest; it returns the report without writing it.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	rep := &Report{
		GeneratedAt: time.Now().UTC(),
		Machine:     Machine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()},
	}
	cloud, err := StartCloud(ctx, cfg.RepoRoot, log)
	if err != nil {
		return nil, err
	}
	defer cloud.Close()

	b := &buyer{cloud: cloud, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	// Warm-up purchases: the first calls pay for connections, the shop cache and the
	// JIT compilation of DynamoDB Local's JVM.
	for i := 0; i < 3; i++ {
		if p := b.run(ctx); p.err != nil {
			return nil, fmt.Errorf("bench: warm-up purchase: %w", p.err)
		}
	}
	mailBefore, err := cloud.SES.Messages(ctx)
	if err != nil {
		return nil, fmt.Errorf("bench: read mail: %w", err)
	}
	var first []*purchase
	var firstFrom int
	for _, c := range cfg.Levels {
		from := cloud.Calls.Len()
		lvl, ps := runLevel(ctx, b, c, cfg.Orders(c), cfg.LevelTimeout)
		recs := cloud.Calls.Since(from)
		if n := len(ps); n > 0 {
			lvl.DynamoDBCallsPerOrder = float64(countProxy(recs, launcher.ServiceDynamoDB)) / float64(n)
		}
		rep.Levels = append(rep.Levels, lvl)
		if c == 1 {
			first, firstFrom = ps, from
		}
		log.Info("bench: level done", "concurrency", c, "orders", lvl.Orders, "completed", lvl.Completed)
	}
	mailAfter, err := cloud.SES.Messages(ctx)
	if err != nil {
		return nil, fmt.Errorf("bench: read mail: %w", err)
	}
	// The floor is timed after the levels, on the same warm JVM and connections.
	if rep.Floor, rep.WriteFloor, err = floor(ctx, cloud, cfg.FloorSamples); err != nil {
		return nil, err
	}
	if rep.APIFloor, err = apiFloor(ctx, b, cfg.FloorSamples); err != nil {
		return nil, err
	}
	orders := 0
	for _, l := range rep.Levels {
		orders += l.Orders
	}

	rep.Costs, rep.PerOrder, err = attribute(ctx, cloud, first, cloud.Calls.Since(firstFrom), rep.Floor.P50)
	if err != nil {
		return nil, err
	}
	rep.PerOrder.Emails = float64(len(mailAfter)-len(mailBefore)) / float64(orders)
	rep.PerOrder.APIRequests = float64(len(apiSteps))
	for _, sc := range rep.Costs {
		if apiSteps[sc.Step] {
			rep.PerOrder.LambdaMs += sc.P50
		}
		if sc.Step == StepPayable || sc.Step == StepWorkflow {
			rep.PerOrder.LambdaMs += sc.P50 // the tasks' run time is bounded by the wait
		}
	}

	if cfg.CPURounds > 0 {
		rep.CPU, err = measureCPU(ctx, cloud, cfg.CPURounds)
		if err != nil {
			return nil, err
		}
		for i, st := range rep.CPU.Steps {
			for _, sc := range rep.Costs {
				if sc.Step == st.Step {
					rep.CPU.Steps[i].Calls = sc.DynamoDB
					rep.CPU.Steps[i].LimitMs = 2 * rep.CPU.Floor.MeanMs * sc.DynamoDB
				}
			}
		}
	}
	if cfg.BinDir != "" {
		rep.Binaries, err = binaries(cfg.BinDir, cloud.Functions())
		if err != nil {
			rep.Notes = append(rep.Notes, "binary sizes: "+err.Error())
		}
	}
	if cfg.ColdStarts {
		rep.ColdStarts, err = coldStarts(ctx, cfg.RepoRoot, cloud)
		if err != nil {
			rep.Notes = append(rep.Notes, "cold starts: "+err.Error())
		}
	}
	rep.Notes = append(rep.Notes, allocationNote)
	rep.Cost = CostOf(rep.PerOrder, cfg.MemoryMB, ListPrices)
	rep.Targets = targets(rep)
	return rep, nil
}

// allocationNote summarises where a request's heap allocations go, from the handler
// benchmark's allocation profile; the counts per request are this run's (CPU section).
const allocationNote = "Allocation profile: `go test ./internal/wire -run X -bench BenchmarkCartHandlers -memprofile mem.out` " +
	"(the ShopFunction's real handler, invoked with payload 2.0 events against DynamoDB Local: create, set a line, read the cart), then " +
	"`go tool pprof -sample_index=alloc_space -top`. Measured on 2026-12-03 (200 requests of each): 75 KB in 849 allocations per create, 91 KB in 1,070 per " +
	"line change, 54 KB in 645 per read. About three quarters is the SDK's per-call work: the middleware stack built for each operation " +
	"(`addProtocolFinalizerMiddlewares`, `addOperation…Middlewares`, `withStackValue`: a fifth), SigV4 signing (`httpSigner.Build` with its hashes: an eighth), " +
	"`net/http` (request clone, headers, buffers) and the JSON of the requests and answers; the trace line's own `PutItem` is a quarter of a cart " +
	"change's allocations (`store.AppendTrace`; branch hotpath writes it inside the step's own write). The handlers' own code (routing, cart, " +
	"quote, view) does not appear among the 25 largest sites: the shop, its catalog and its pricing engine come from the shop cache, endpoints are " +
	"resolved once per client, and the regular expressions compile once. What is left per request is per call to the SDK, so it shrinks with the calls."

// runLevel runs n purchases with c buyers at once.
func runLevel(ctx context.Context, b *buyer, c, n int, timeout time.Duration) (Level, []*purchase) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	jobs := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	var mu sync.Mutex
	var ps []*purchase
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				if ctx.Err() != nil {
					return
				}
				p := b.run(ctx)
				mu.Lock()
				ps = append(ps, p)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	sort.Slice(ps, func(i, j int) bool { return ps[i].start.Before(ps[j].start) })
	lvl := Level{Concurrency: c, Orders: len(ps), WallMs: ms(wall)}
	durs := map[string][]time.Duration{}
	for _, p := range ps {
		if p.err != nil {
			lvl.Errors = append(lvl.Errors, p.err.Error())
			continue
		}
		lvl.Completed++
		for name, s := range p.steps {
			durs[name] = append(durs[name], s.dur())
		}
	}
	if wall > 0 {
		lvl.OrdersPerS = float64(lvl.Completed) / wall.Seconds()
	}
	for _, name := range Steps {
		lvl.Steps = append(lvl.Steps, summarize(name, durs[name]))
	}
	return lvl, ps
}

// attribute splits the calls of the concurrency-1 run among the steps. Purchases ran
// one at a time, so a call belongs to the step whose window it arrived in — except that
// placement and payment hand over to the workflow (StartExecution, SendTaskSuccess) as
// their last call, and the workflow runs on asynchronously: calls arriving once that
// hand-over began are the workflow's, as are the calls between the API steps.
func attribute(ctx context.Context, cloud *Cloud, ps []*purchase, recs []faultproxy.Record, floorP50 float64) ([]StepCost, PerOrder, error) {
	by := map[string]*stepAcc{}
	for _, s := range Steps {
		by[s] = &stepAcc{ops: map[string]float64{}, parts: map[string]float64{}, sizes: map[string]int{}}
	}
	var po PerOrder
	n := 0
	for _, p := range ps {
		if p.err != nil {
			continue
		}
		n++
		mine := Window(recs, p.start, p.end)
		claimed := map[int]bool{}
		for _, name := range []string{StepCreate, StepLine, StepCustomer, StepPlace, StepPay, StepView} {
			s := p.steps[name]
			cut := s.end
			for i, r := range mine {
				if r.Start.Before(s.start) || !r.Start.Before(s.end) {
					continue
				}
				if r.Proxy == strings.ToLower(launcher.ServiceStepFunctions) && (r.Op == "StartExecution" || r.Op == "SendTaskSuccess") {
					// The handler waits for this call and makes none after it, while the
					// engine may start the next task before answering it.
					cut = r.Start
					claimed[i] = true
					by[name].other++
					break
				}
			}
			var own []faultproxy.Record
			for i, r := range mine {
				if claimed[i] || r.Start.Before(s.start) || !r.Start.Before(cut) {
					continue
				}
				claimed[i] = true
				by[name].add(r)
				if r.Proxy == strings.ToLower(launcher.ServiceDynamoDB) {
					own = append(own, r)
				}
			}
			by[name].rounds += float64(RoundTrips(own))
			by[name].durs = append(by[name].durs, s.dur())
		}
		for i, r := range mine {
			if !claimed[i] {
				by[StepWorkflow].add(r)
			}
		}
		by[StepPayable].durs = append(by[StepPayable].durs, p.steps[StepPayable].dur())
		by[StepWorkflow].durs = append(by[StepWorkflow].durs, p.steps[StepWorkflow].dur()+p.steps[StepPayable].dur())
		st, err := cloud.StepFunctions.StateTransitions(p.execARN)
		if err != nil {
			return nil, po, fmt.Errorf("bench: state transitions of %s: %w", p.txid, err)
		}
		po.StateTransitions += float64(st)
		tasks, err := taskInvocations(ctx, cloud, p.execARN)
		if err != nil {
			return nil, po, err
		}
		po.TaskInvocations += float64(tasks)
		runs, gbs, tasks, err := expressRuns(cloud, p.execARN)
		if err != nil {
			return nil, po, err
		}
		po.ExpressRequests += float64(runs)
		po.ExpressGBSeconds += gbs
		po.TaskInvocations += float64(tasks)
	}
	if n == 0 {
		return nil, po, errors.New("bench: no purchase completed at concurrency 1")
	}
	var out []StepCost
	for _, name := range Steps {
		a := by[name]
		if name == StepPayable {
			continue // its calls are the workflow's; its time is reported with the workflow
		}
		sc := StepCost{Step: name, DynamoDB: a.ddb / float64(n), Rounds: a.rounds / float64(n), Other: a.other / float64(n), ReadUnits: a.read / float64(n),
			WriteUnits: a.write / float64(n), ModelWriteUnits: a.model / float64(n), LocalLMS: a.lms / float64(n), Ops: map[string]float64{}, CapacityKnown: a.withCap > 0 || a.ddb == 0}
		for op, c := range a.ops {
			sc.Ops[op] = c / float64(n)
		}
		for label, u := range a.parts {
			if sc.WriteParts == nil {
				sc.WriteParts = map[string]float64{}
			}
			sc.WriteParts[label] = u / float64(n)
		}
		if len(a.sizes) > 0 {
			sc.WriteSizes = a.sizes
		}
		sc.P50 = summarize(name, a.durs).P50
		if floorP50 > 0 {
			sc.RatioOneTrip = sc.P50 / floorP50
			if sc.Rounds > 0 {
				sc.RatioPerCall = sc.P50 / (floorP50 * sc.Rounds)
			}
		}
		out = append(out, sc)
		po.DynamoDBCalls += sc.DynamoDB
		po.ServiceCalls += sc.DynamoDB + sc.Other
		po.ReadUnits += sc.ReadUnits
		po.WriteUnits += sc.WriteUnits
		po.ModelWriteUnits += sc.ModelWriteUnits
		po.LocalLMSCalls += sc.LocalLMS
	}
	po.StateTransitions /= float64(n)
	po.ExpressRequests /= float64(n)
	po.ExpressGBSeconds /= float64(n)
	po.TaskInvocations /= float64(n)
	// The workflow step's wall time includes the wait for the payment task's token.
	for i := range out {
		if out[i].Step == StepWorkflow {
			out[i].RatioOneTrip, out[i].RatioPerCall = 0, 0
		}
	}
	return out, po, nil
}

// stepAcc adds up the calls attributed to one step over the purchases.
type stepAcc struct {
	ddb, rounds, other, read, write, model, lms float64
	ops                                         map[string]float64
	parts                                       map[string]float64 // model write units by operation and item kind
	sizes                                       map[string]int     // the largest item written, by the same labels
	withCap                                     int
	durs                                        []time.Duration
}

func (a *stepAcc) add(r faultproxy.Record) {
	if r.Proxy == proxyLocalLMS {
		a.lms++
		return
	}
	if r.Proxy != strings.ToLower(launcher.ServiceDynamoDB) {
		a.other++
		return
	}
	a.ddb++
	a.ops[r.Op]++
	a.read += r.ReadUnits
	a.write += r.WriteUnits
	a.model += r.ModelWriteUnits
	for label, u := range r.ModelWriteParts {
		a.parts[label] += u
	}
	for label, size := range r.ModelWriteSizes {
		a.sizes[label] = max(a.sizes[label], size)
	}
	if r.ReadUnits > 0 || r.WriteUnits > 0 {
		a.withCap++
	}
}

// RoundTrips is the number of round trips of latency the calls cost: calls that overlap
// in time (a trace line written while the update runs) share one.
func RoundTrips(recs []faultproxy.Record) int {
	s := append([]faultproxy.Record(nil), recs...)
	sort.Slice(s, func(i, j int) bool { return s[i].Start.Before(s[j].Start) })
	n := 0
	var end time.Time
	for _, r := range s {
		if n == 0 || !r.Start.Before(end) {
			n++
			end = r.End
		} else if r.End.After(end) {
			end = r.End
		}
	}
	return n
}

func countProxy(recs []faultproxy.Record, service string) int {
	n := 0
	for _, r := range recs {
		if r.Proxy == strings.ToLower(service) {
			n++
		}
	}
	return n
}

// floor times GetItem, then PutItem, of a tiny item through the DynamoDB proxy, as the
// functions call.
func floor(ctx context.Context, cloud *Cloud, samples int) (read, write Latency, err error) {
	db := dynamodb.NewFromConfig(cloud.AWS)
	key := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "BENCH#floor"},
		"sk": &types.AttributeValueMemberS{Value: "X"},
	}
	time1 := func(name string, call func() error) (Latency, error) {
		durs := make([]time.Duration, 0, samples)
		for i := 0; i < samples+10; i++ {
			start := time.Now()
			if err := call(); err != nil {
				return Latency{}, fmt.Errorf("bench: floor %s: %w", name, err)
			}
			if i >= 10 { // the first calls open connections
				durs = append(durs, time.Since(start))
			}
		}
		return summarize(name+" floor", durs), nil
	}
	write, err = time1("PutItem", func() error {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(cloud.Table), Item: key})
		return err
	})
	if err != nil {
		return read, write, err
	}
	read, err = time1("GetItem", func() error {
		_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(cloud.Table), Key: key})
		return err
	})
	return read, write, err
}

// apiFloor times GET /catalog, which the shop function answers from its cache.
func apiFloor(ctx context.Context, b *buyer, samples int) (Latency, error) {
	durs := make([]time.Duration, 0, samples)
	for i := 0; i < samples+10; i++ {
		start := time.Now()
		code, _, err := b.call(ctx, http.MethodGet, "/catalog", "", "")
		if err != nil || code != http.StatusOK {
			return Latency{}, fmt.Errorf("bench: GET /catalog = %d: %v", code, err)
		}
		if i >= 10 {
			durs = append(durs, time.Since(start))
		}
	}
	return summarize("GET /catalog", durs), nil
}

// taskInvocations counts the Lambda invocations of an execution from its history, read
// from the engine directly (not through the counting proxy).
func taskInvocations(ctx context.Context, cloud *Cloud, arn string) (int, error) {
	client := sfn.NewFromConfig(cloud.AWS, func(o *sfn.Options) { o.BaseEndpoint = aws.String(cloud.StepFunctionsURL) })
	n := 0
	p := sfn.NewGetExecutionHistoryPaginator(client, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), IncludeExecutionData: aws.Bool(false)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("bench: history of %s: %w", arn, err)
		}
		for _, ev := range page.Events {
			t := string(ev.Type)
			if t == "LambdaFunctionScheduled" || t == "TaskScheduled" && aws.ToString(ev.TaskScheduledEventDetails.ResourceType) == "lambda" {
				n++
			}
		}
	}
	return n, nil
}

// expressRuns counts the Express runs the Standard execution arn started (their input
// names it, AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID), what their durations are
// billed, and the Lambda invocations they made. AWS reports Express runs in CloudWatch
// Logs only; here the engine is read directly.
func expressRuns(cloud *Cloud, arn string) (runs int, gbs float64, tasks int, err error) {
	for _, machine := range cloud.ExpressMachineARNs {
		for _, x := range cloud.StepFunctions.Executions(machine) {
			var in struct {
				StartedBy string `json:"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"`
			}
			if json.Unmarshal([]byte(x.Input), &in) != nil || in.StartedBy != arn {
				continue
			}
			runs++
			gbs += ExpressGBSeconds(x.StopDate.Sub(x.StartDate))
			n, err := cloud.StepFunctions.LambdaInvocations(x.ExecutionArn)
			if err != nil {
				return 0, 0, 0, fmt.Errorf("bench: Express run %s: %w", x.ExecutionArn, err)
			}
			tasks += n
		}
	}
	return runs, gbs, tasks, nil
}

// binaries reads the sizes of `make build`'s bootstraps.
func binaries(dir string, fns []samtemplate.Function) ([]Binary, error) {
	var out []Binary
	for _, f := range fns {
		path := filepath.Join(dir, filepath.Base(f.Dir), "bootstrap")
		fi, err := os.Stat(path)
		if err != nil {
			return out, fmt.Errorf("%w (%s)", errNoBinaries, path)
		}
		out = append(out, Binary{Function: f.LogicalID, Bytes: fi.Size(), MiB: float64(fi.Size()) / (1 << 20)})
	}
	return out, nil
}

// coldStarts builds every function for this machine and times each cold start, one
// after the other so they do not compete for the CPUs.
func coldStarts(ctx context.Context, repoRoot string, cloud *Cloud) ([]ColdStart, error) {
	dir, err := os.MkdirTemp("", "bench-bootstraps-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fns := cloud.Functions()
	paths, err := BuildBootstraps(ctx, repoRoot, dir, runtime.GOARCH, fns)
	if err != nil {
		return nil, err
	}
	// What the Lambda runtime gives a function: its region and its role's session
	// (here the local cloud's operator keys), and the local endpoints.
	creds, err := cloud.AWS.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, err
	}
	env := []string{"AWS_REGION=" + cloud.AWS.Region, "AWS_ACCESS_KEY_ID=" + creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey, "AWS_SESSION_TOKEN=" + creds.SessionToken,
		"AWS_ENDPOINT_URL_DYNAMODB=" + cloud.DynamoDBURL, "AWS_ENDPOINT_URL_SFN=" + cloud.StepFunctionsURL,
		"AWS_ENDPOINT_URL_SESV2=" + cloud.SESURL, "AWS_ENDPOINT_URL_SECRETS_MANAGER=" + cloud.SecretsManagerURL}
	routes := cloud.Routes
	// Each bootstrap starts coldRuns times, interleaved with the others, and keeps its
	// median init: one start on a shared machine is noise.
	const coldRuns = 5
	ids := []string{HelloID}
	for _, f := range fns {
		ids = append(ids, f.LogicalID)
	}
	fnEnv := map[string][]string{}
	for _, f := range cloud.Lambdas {
		e := slices.Clone(env)
		for k, v := range f.Env {
			e = append(e, k+"="+v)
		}
		fnEnv[f.LogicalID] = e
	}
	runs := map[string][]ColdStart{}
	for i := 0; i < coldRuns; i++ {
		for _, id := range ids {
			ev, e := []byte(`{}`), env
			if id != HelloID {
				ev, e = EventFor(id, routes), fnEnv[id]
			}
			runs[id] = append(runs[id], ColdStartOf(ctx, id, paths[id], ev, e))
		}
	}
	var out []ColdStart
	for _, id := range ids {
		rs := runs[id]
		sort.Slice(rs, func(a, b int) bool { return rs[a].InitMs < rs[b].InitMs })
		out = append(out, rs[len(rs)/2])
	}
	return out, nil
}
