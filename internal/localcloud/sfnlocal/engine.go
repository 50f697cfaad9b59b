package sfnlocal

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Invoker runs a Lambda function by ARN or name with a JSON payload and returns its JSON
// result; a function error is returned as *FunctionError{Type, Message}.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) ([]byte, error)
}

// FunctionError is an error raised by the function itself (aws-lambda-go reports it as
// {"errorMessage","errorType"}); its Type becomes the Step Functions error name, so
// Retry and Catch can match it exactly as in AWS.
type FunctionError struct {
	Type    string
	Message string
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function error %s: %s", e.Type, e.Message)
}

// ServiceError is Lambda's refusal of the Invoke call itself, before the function runs
// (an Invoker's AccessDeniedException): the task fails with Name as the error and
// Cause as the cause, e.g. Lambda.AWSLambdaException and Lambda's message.
type ServiceError struct {
	Name  string
	Cause string
}

func (e *ServiceError) Error() string { return e.Name + ": " + e.Cause }

// ErrFunctionNotFound may be returned (wrapped) by an Invoker for an unknown function;
// the task then fails with Lambda.ResourceNotFoundException as it would in AWS.
var ErrFunctionNotFound = errors.New("function not found")

// Options configures an Engine. Zero values pick sensible defaults.
type Options struct {
	// Invoker runs the Lambda functions that Task states call.
	Invoker Invoker
	// Logger receives execution lifecycle logs; nil discards them.
	Logger *slog.Logger
	// Region and AccountID appear in ARNs; defaults us-east-1 and 123456789012.
	Region    string
	AccountID string
	// Now is the clock for timestamps; defaults to time.Now. Always read as UTC.
	Now func() time.Time
	// After returns a channel that fires once d has elapsed; it drives Wait states,
	// retry back-off, task timeouts and heartbeats. Tests replace it to control time
	// without sleeping. Defaults to time.After.
	After func(d time.Duration) <-chan time.Time
	// Authorize, if set, is asked before each call a Step Functions integration makes
	// on the execution role's behalf (states:StartExecution, states:DescribeExecution,
	// events:PutRule, states:SendTaskFailure...), as AWS checks the role's policies. A
	// refusal fails the task: a *ServiceError becomes the task's error as it is, any
	// other error States.TaskFailed. Lambda invocations are authorized by the Invoker,
	// which finds the role in the context (ExecutionRole).
	Authorize func(ctx context.Context, roleArn, action, resource string) error
	// CloseGrace is how long Close lets the Lambda invocations in flight finish before
	// it aborts the executions, whose end cancels them (0: at once). In AWS nothing
	// cancels a running invocation but its own timeout: a local cloud that stops
	// cancelled them mid-call (an e-mail half sent), which AWS never does.
	CloseGrace time.Duration
}

// Engine runs state machines. It is safe for concurrent use.
type Engine struct {
	invoker   Invoker
	log       *slog.Logger
	region    string
	account   string
	now       func() time.Time
	after     func(time.Duration) <-chan time.Time
	authorize func(ctx context.Context, roleArn, action, resource string) error
	grace     time.Duration
	wg        sync.WaitGroup
	mu        sync.Mutex
	closed    bool
	machines  map[string]*stateMachine // by ARN
	execs     map[string]*execution    // by ARN
	execOrder []*execution             // start order, for ListExecutions
	tokens    map[string]*pendingTask
	ended     map[string]tokenEnd // tokens no longer waiting, to answer like AWS
	ops       map[string]handler  // API operations by X-Amz-Target name
	invoking  int                 // Lambda invocations in flight
	idle      chan struct{}       // closed when invoking falls to 0
}

// New returns an Engine configured by opts.
func New(opts Options) *Engine {
	e := &Engine{
		invoker:   opts.Invoker,
		log:       opts.Logger,
		region:    opts.Region,
		account:   opts.AccountID,
		now:       opts.Now,
		after:     opts.After,
		authorize: opts.Authorize,
		grace:     opts.CloseGrace,
		machines:  map[string]*stateMachine{},
		execs:     map[string]*execution{},
		tokens:    map[string]*pendingTask{},
		ended:     map[string]tokenEnd{},
	}
	e.ops = e.operations()
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if e.region == "" {
		e.region = "us-east-1"
	}
	if e.account == "" {
		e.account = "123456789012"
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.after == nil {
		e.after = time.After
	}
	return e
}

func (e *Engine) clock() time.Time { return e.now().UTC() }

// State machine types, as the API names them.
const (
	TypeStandard = "STANDARD"
	TypeExpress  = "EXPRESS"
)

// expressMaxDuration is AWS's limit on an Express execution: it times out after five
// minutes whatever its definition's TimeoutSeconds says.
const expressMaxDuration = 5 * time.Minute

// stateMachine is a registered definition.
type stateMachine struct {
	arn, name, roleArn string
	typ                string
	definition         string
	def                *machine
	created            time.Time
}

// Machine describes a state machine to create.
type Machine struct {
	Name       string
	Definition []byte
	// RoleArn is the execution role: the integrations' calls are authorized as it.
	RoleArn string
	// Type is TypeStandard (the default) or TypeExpress.
	Type string
}

// nameRE is the AWS rule for state machine and execution names: 1-80 characters, none
// of whitespace, brackets, wildcards, the listed specials or control characters.
var nameRE = regexp.MustCompile("^[^\\s<>{}\\[\\]?*\"#%\\\\^|~`$&,;:/\\x00-\\x1f\\x7f-\\x9f]{1,80}$")

// CreateStateMachine validates definition and registers it under name, returning its ARN.
// Registering the same name with the same definition again returns the same ARN (like
// AWS); a different definition under a taken name is StateMachineAlreadyExists.
func (e *Engine) CreateStateMachine(name string, definition []byte) (string, error) {
	return e.CreateMachine(Machine{Name: name, Definition: definition})
}

// CreateMachine is CreateStateMachine with a type and an execution role. An Express
// definition may use only the Request Response integration pattern, as in AWS: a
// .sync or .waitForTaskToken resource is an InvalidDefinition.
func (e *Engine) CreateMachine(m Machine) (string, error) {
	name, definition, roleArn := m.Name, m.Definition, m.RoleArn
	typ := m.Type
	if typ == "" {
		typ = TypeStandard
	}
	if typ != TypeStandard && typ != TypeExpress {
		return "", apiErrorf("ValidationException", "type must be STANDARD or EXPRESS, not %q", typ)
	}
	if !nameRE.MatchString(name) {
		return "", apiErrorf("InvalidName", "invalid state machine name %q", name)
	}
	def, err := parseDefinition(definition)
	if err != nil {
		return "", apiErrorf("InvalidDefinition", "invalid state machine definition: %v", err)
	}
	if typ == TypeExpress {
		if bad := waitingResources(def); len(bad) > 0 {
			return "", apiErrorf("InvalidDefinition",
				"invalid state machine definition: Express state machines support only the Request Response integration pattern, not %s", strings.Join(bad, ", "))
		}
	}
	arn := fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", e.region, e.account, name)
	e.mu.Lock()
	defer e.mu.Unlock()
	if old, ok := e.machines[arn]; ok {
		if old.definition == string(definition) && old.typ == typ && old.roleArn == roleArn {
			return arn, nil
		}
		return "", apiErrorf("StateMachineAlreadyExists", "state machine already exists: %s", arn)
	}
	e.machines[arn] = &stateMachine{
		arn: arn, name: name, roleArn: roleArn, typ: typ, definition: string(definition), def: def, created: e.clock(),
	}
	return arn, nil
}

// Execution statuses, as the API reports them.
const (
	StatusRunning   = "RUNNING"
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
)

// ExecutionInfo describes an execution, like DescribeExecution.
type ExecutionInfo struct {
	ExecutionArn    string
	StateMachineArn string
	Type            string // of the state machine: TypeStandard or TypeExpress
	Name            string
	Status          string
	StartDate       time.Time
	StopDate        time.Time // zero while running
	Input           string
	Output          string // set when SUCCEEDED
	Error, Cause    string // set when FAILED, TIMED_OUT or ABORTED
	// StateTransitions counts the billable transitions so far: every state entered
	// (inside Parallel branches and Map iterations too) plus every retry.
	StateTransitions int
}

// execution is one run of a state machine.
type execution struct {
	arn, name string
	sm        *stateMachine
	input     string
	inputVal  any
	start     time.Time
	cancel    context.CancelCauseFunc
	done      chan struct{}

	mu          sync.Mutex
	status      string
	stop        time.Time
	output      string
	errName     string
	cause       string
	events      []*event
	transitions int
}

// errStopped and errExecTimeout are the cancellation causes of an execution's context.
var (
	errStopped     = errors.New("execution stopped")
	errExecTimeout = errors.New("execution timed out")
)

// StartExecution starts stateMachineArn with input (JSON; "" means "{}"). An empty name
// gets a generated one. Names follow AWS Standard semantics: the same name and input as
// an execution that is still running returns that execution; any other reuse of a name
// (different input, or the execution has closed) is ExecutionAlreadyExists. An Express
// machine's starts are not idempotent (AWS does not check their names): each start is a
// new execution, whose ARN is arn:aws:states:…:express:<machine>:<name>:<id>.
func (e *Engine) StartExecution(stateMachineArn, name, input string) (executionArn string, start time.Time, err error) {
	x, err := e.startExecution(stateMachineArn, name, input)
	if err != nil {
		return "", time.Time{}, err
	}
	return x.arn, x.start, nil
}

func (e *Engine) startExecution(stateMachineArn, name, input string) (*execution, error) {
	if input == "" {
		input = "{}"
	}
	inputVal, err := decodeJSON([]byte(input))
	if err != nil {
		return nil, apiErrorf("InvalidExecutionInput", "input is not valid JSON: %v", err)
	}
	if name == "" {
		name = newUUID()
	}
	if !nameRE.MatchString(name) {
		return nil, apiErrorf("InvalidName", "invalid execution name %q", name)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, apiErrorf("ServiceUnavailable", "engine is closed")
	}
	sm, ok := e.machines[stateMachineArn]
	if !ok {
		return nil, apiErrorf("StateMachineDoesNotExist", "state machine does not exist: %s", stateMachineArn)
	}
	arn := fmt.Sprintf("arn:aws:states:%s:%s:execution:%s:%s", e.region, e.account, sm.name, name)
	if sm.typ == TypeExpress {
		arn = fmt.Sprintf("arn:aws:states:%s:%s:express:%s:%s:%s", e.region, e.account, sm.name, name, newUUID())
	}
	if old, ok := e.execs[arn]; ok {
		old.mu.Lock()
		running := old.status == StatusRunning
		old.mu.Unlock()
		if running && old.input == input {
			return old, nil
		}
		return nil, apiErrorf("ExecutionAlreadyExists", "execution already exists: %s", arn)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	x := &execution{
		arn: arn, name: name, sm: sm, input: input, inputVal: inputVal,
		start: e.clock(), cancel: cancel, done: make(chan struct{}), status: StatusRunning,
	}
	x.addEvent(e.clock(), "ExecutionStarted", map[string]any{
		"input": input, "inputDetails": map[string]any{"truncated": false}, "roleArn": sm.roleArn,
	})
	e.execs[arn] = x
	e.execOrder = append(e.execOrder, x)
	e.wg.Add(1)
	go e.run(ctx, x)
	return x, nil
}

// run drives an execution to its end in its own goroutine.
func (e *Engine) run(ctx context.Context, x *execution) {
	defer e.wg.Done()
	defer close(x.done)
	limit := time.Duration(x.sm.def.TimeoutSeconds) * time.Second
	if x.sm.typ == TypeExpress && (limit <= 0 || limit > expressMaxDuration) {
		limit = expressMaxDuration
	}
	if limit > 0 {
		timer := e.after(limit)
		go func() {
			select {
			case <-timer:
				x.cancel(errExecTimeout)
			case <-ctx.Done():
			}
		}()
	}
	e.log.Debug("execution started", "execution", x.arn)
	r := &runner{e: e, x: x}
	out, err := r.runMachine(ctx, x.sm.def, x.inputVal)
	switch {
	case err == nil:
		e.finish(x, StatusSucceeded, encodeJSON(out), "", "")
	case context.Cause(ctx) == errExecTimeout:
		e.finish(x, StatusTimedOut, "", "States.Timeout", "execution exceeded TimeoutSeconds")
	case ctx.Err() != nil:
		// Stopped: StopExecution or Close already recorded the end.
	default:
		se := asStateError(err)
		e.finish(x, StatusFailed, "", se.Name, se.Cause)
	}
	e.releaseTokens(x)
	x.cancel(nil) // release the context's resources; the cause is already decided
}

// finish records the end of x once; later calls (a stop racing a failure) are ignored.
func (e *Engine) finish(x *execution, status, output, errName, cause string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.status != StatusRunning {
		return false
	}
	now := e.clock()
	x.status, x.stop, x.output, x.errName, x.cause = status, now, output, errName, cause
	switch status {
	case StatusSucceeded:
		x.addEventLocked(now, "ExecutionSucceeded", map[string]any{
			"output": output, "outputDetails": map[string]any{"truncated": false},
		})
	case StatusFailed:
		x.addEventLocked(now, "ExecutionFailed", map[string]any{"error": errName, "cause": cause})
	case StatusTimedOut:
		x.addEventLocked(now, "ExecutionTimedOut", map[string]any{"error": errName, "cause": cause})
	case StatusAborted:
		x.addEventLocked(now, "ExecutionAborted", map[string]any{"error": errName, "cause": cause})
	}
	e.log.Info("execution ended", "execution", x.arn, "status", status, "error", errName)
	return true
}

// StopExecution aborts a running execution; stopping a closed one is a no-op that
// reports its stop date, as AWS does.
func (e *Engine) StopExecution(executionArn, errName, cause string) (time.Time, error) {
	x, err := e.execution(executionArn)
	if err != nil {
		return time.Time{}, err
	}
	e.finish(x, StatusAborted, "", errName, cause)
	x.cancel(errStopped)
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.stop, nil
}

func (e *Engine) execution(arn string) (*execution, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.execs[arn]
	if !ok {
		return nil, apiErrorf("ExecutionDoesNotExist", "execution does not exist: %s", arn)
	}
	return x, nil
}

// DescribeExecution reports an execution's current state.
func (e *Engine) DescribeExecution(executionArn string) (ExecutionInfo, error) {
	x, err := e.execution(executionArn)
	if err != nil {
		return ExecutionInfo{}, err
	}
	return x.info(), nil
}

func (x *execution) info() ExecutionInfo {
	x.mu.Lock()
	defer x.mu.Unlock()
	return ExecutionInfo{
		ExecutionArn: x.arn, StateMachineArn: x.sm.arn, Type: x.sm.typ, Name: x.name, Status: x.status,
		StartDate: x.start, StopDate: x.stop, Input: x.input, Output: x.output,
		Error: x.errName, Cause: x.cause, StateTransitions: x.transitions,
	}
}

// WaitExecution blocks until the execution has ended (or ctx is done) and describes it.
func (e *Engine) WaitExecution(ctx context.Context, executionArn string) (ExecutionInfo, error) {
	x, err := e.execution(executionArn)
	if err != nil {
		return ExecutionInfo{}, err
	}
	select {
	case <-x.done:
		return x.info(), nil
	case <-ctx.Done():
		return x.info(), fmt.Errorf("waiting for %s: %w", executionArn, ctx.Err())
	}
}

// Executions describes every execution of a state machine, oldest first. It is how
// tests and the bench see Express executions, which AWS reports only in CloudWatch
// Logs (the API's DescribeExecution, GetExecutionHistory and ListExecutions refuse them).
func (e *Engine) Executions(stateMachineArn string) []ExecutionInfo {
	e.mu.Lock()
	all := append([]*execution(nil), e.execOrder...)
	e.mu.Unlock()
	var out []ExecutionInfo
	for _, x := range all {
		if x.sm.arn == stateMachineArn {
			out = append(out, x.info())
		}
	}
	return out
}

// StateTransitions returns the billable state transitions of an execution so far, the
// number Step Functions Standard charges for: states entered plus retries.
func (e *Engine) StateTransitions(executionArn string) (int, error) {
	info, err := e.DescribeExecution(executionArn)
	if err != nil {
		return 0, err
	}
	return info.StateTransitions, nil
}

// Close aborts every running execution and waits for their goroutines to end. It
// first lets the Lambda invocations in flight finish, for up to Options.CloseGrace.
func (e *Engine) Close() error {
	e.mu.Lock()
	e.closed = true
	idle := e.idle
	e.mu.Unlock()
	if idle != nil && e.grace > 0 {
		select {
		case <-idle:
		case <-e.after(e.grace):
		}
	}
	e.mu.Lock()
	running := append([]*execution(nil), e.execOrder...)
	e.mu.Unlock()
	for _, x := range running {
		e.finish(x, StatusAborted, "", "States.Aborted", "engine closed")
		x.cancel(errStopped)
	}
	e.wg.Wait()
	return nil
}

// newToken makes an opaque task token: 48 random bytes, base64url. The fixed length
// lets SendTask* tell a malformed token (InvalidToken) from an unknown one.
func newToken() string {
	var b [tokenBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	return base64.RawURLEncoding.EncodeToString(b[:])
}

const tokenBytes = 48

func wellFormedToken(t string) bool {
	b, err := base64.RawURLEncoding.DecodeString(t)
	return err == nil && len(b) == tokenBytes
}

// invocation counts a Lambda invocation in flight until the returned func is called,
// for Close's grace.
func (e *Engine) invocation() (done func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.invoking == 0 {
		e.idle = make(chan struct{})
	}
	e.invoking++
	return func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.invoking--; e.invoking == 0 {
			close(e.idle)
			e.idle = nil
		}
	}
}
