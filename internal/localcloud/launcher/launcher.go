// Package launcher starts the local cloud: DynamoDB Local, the SES emulator, the Step
// Functions engine, the API Gateway emulation in front of every function's real
// handler, and the static storefront — all on 127.0.0.1.
//
// It is the one implementation of "start the local cloud": `make run` (cmd/localcloud)
// and the end-to-end test harness (internal/localcloud/cloudtest) both call Start.
package launcher

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lmsshop/checkout/internal/cfn"
	"github.com/lmsshop/checkout/internal/localcloud/apigw"
	"github.com/lmsshop/checkout/internal/localcloud/cognitolocal"
	"github.com/lmsshop/checkout/internal/localcloud/dynamolocal"
	"github.com/lmsshop/checkout/internal/localcloud/iam"
	"github.com/lmsshop/checkout/internal/localcloud/proc"
	"github.com/lmsshop/checkout/internal/localcloud/secretslocal"
	"github.com/lmsshop/checkout/internal/localcloud/seslocal"
	"github.com/lmsshop/checkout/internal/localcloud/sfnlocal"
	"github.com/lmsshop/checkout/internal/samtemplate"
	"github.com/lmsshop/checkout/internal/vies/viestest"
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/all"
)

// The local cloud's fixed identity. The credentials are documented (README) and only
// ever accepted by the local stand-ins: automation calling /ops signs with them.
// Operators sign in to the local user pool instead.
const (
	Region          = apigw.DefaultRegion
	AccountID       = apigw.DefaultAccountID
	AccessKeyID     = "local"
	SecretAccessKey = "localsecret"
	// DefaultStackName plays AWS::StackName in names built from it.
	DefaultStackName = "local"
)

// invocationGrace is how long a stopping cloud lets the functions that executions are
// running finish (sfnlocal.Options.CloseGrace): the template's Globals Timeout, which
// every function the state machines invoke keeps but ProduceFunction (60 s: a hung LMS
// is the case its retries are for, and waiting for it would only delay the stop).
const invocationGrace = 10 * time.Second

// Ports are the local cloud's TCP ports on 127.0.0.1. Zero picks a free port.
type Ports struct {
	API           int
	DynamoDB      int
	SES           int
	StepFunctions int
	Web           int
	Cognito       int
}

// DefaultPorts are the ports SAM users know (sam local start-api on 3000, DynamoDB
// Local on 8000, Step Functions Local on 8083).
func DefaultPorts() Ports {
	return Ports{API: 3000, DynamoDB: 8000, SES: 8005, StepFunctions: 8083, Web: 8080, Cognito: 9229}
}

// Offset shifts every non-zero port by n, to run a second local cloud beside a first.
func (p Ports) Offset(n int) Ports {
	shift := func(v int) int {
		if v == 0 {
			return 0
		}
		return v + n
	}
	return Ports{API: shift(p.API), DynamoDB: shift(p.DynamoDB), SES: shift(p.SES), StepFunctions: shift(p.StepFunctions), Web: shift(p.Web), Cognito: shift(p.Cognito)}
}

// Config configures Start.
type Config struct {
	// RepoRoot holds template.yaml, statemachine/, web/ and node_modules/.
	RepoRoot string
	// Template is the SAM template to run (RepoRoot/template.yaml if empty). The local
	// cloud runs what the SAM transform makes of it, as CloudFormation would.
	Template string
	Ports    Ports
	// StackName plays AWS::StackName: the table is "<stack>-checkout", and the template
	// names the state machine and the secret after it (DefaultStackName if empty).
	StackName string
	// Logger receives the launcher's, the gateway's and the engine's logs
	// (slog.Default if nil). The functions log through slog.Default, as in Lambda.
	Logger *slog.Logger
	// ChildOutput receives DynamoDB Local's output (discarded if nil).
	ChildOutput io.Writer
	// SkipSeed leaves the table empty instead of seeding the demo shop and catalog.
	SkipSeed bool
	// Through, if set, puts something (a counting or fault-injecting proxy) between
	// the functions and each AWS service: see StartThrough.
	Through Through
	// Settings are added to the settings secret, as an operator puts keys there (e.g.
	// PAYMENT_STRIPE_* pointing at a fake provider): the functions read them at their
	// cold start, which is the cloud's start.
	Settings map[string]string
}

// Cloud is a running local cloud. Close stops every part of it.
type Cloud struct {
	APIURL           string
	WebURL           string
	SESURL           string
	VIESURL          string
	StepFunctionsURL string
	DynamoDBURL      string
	// CognitoURL is the user pools endpoint of the Cognito emulator, and Operators
	// the pool made there from the template, with its operators' credentials.
	CognitoURL string
	Operators  *cognitolocal.Pool
	Table      string
	// StateMachineARN is the checkout's Standard state machine; ExpressMachineARNs
	// the Express machines it starts, by logical ID.
	StateMachineARN    string
	ExpressMachineARNs map[string]string
	// AWS is an operator's configuration (the local credentials, which no role
	// limits): the table's creation and the demo seed use it, and so can tests. It
	// reaches the services through the Through hook's endpoints when one is set.
	AWS aws.Config
	// Transformed is the path of the transformed template the cloud runs.
	Transformed string
	// Routes are the HTTP API's routes, read from the transformed template.
	Routes []cfn.Route
	// Lambdas are the template's functions, resolved: environment, role, ARN.
	Lambdas []cfn.Function
	// SecretsManagerURL is the local Secrets Manager holding the template's secrets.
	SecretsManagerURL string
	// SchedulesURL fires the template's schedules on demand: POST <url>/<function>
	// (see InvokeSchedule); GET <url>/ lists them.
	SchedulesURL string
	// IAM checks every call of a function against its role, and each task the engine
	// invokes against the state machine's role; its Usage is the least-privilege report.
	IAM *iam.Authorizer
	// SES is the running emulator, to read sent mail.
	SES *seslocal.Server
	// StepFunctions is the engine behind StepFunctionsURL, for what its API does not
	// expose (waiting for an execution, counting state transitions).
	StepFunctions *sfnlocal.Engine

	machineRoles map[string]string // the state machines' roles: IAM name by role ARN
	// schedules are the template's scheduled invocations, scheduleRoles the IAM names
	// of the roles Scheduler schedules invoke as, by the schedule's logical ID.
	schedules     []cfn.Schedule
	scheduleRoles map[string]string
	invoker       *Invoker

	log       *slog.Logger
	mu        sync.Mutex
	stops     []stopper // in start order; Close runs them in reverse
	closeOnce sync.Once
	closeErr  error
}

// Functions lists the template's functions with the package of each one's main.
func (c *Cloud) Functions() []samtemplate.Function {
	out := make([]samtemplate.Function, 0, len(c.Lambdas))
	for _, f := range c.Lambdas {
		out = append(out, samtemplate.Function{LogicalID: f.LogicalID, Dir: samtemplate.FunctionDir(f.LogicalID)})
	}
	return out
}

type stopper struct {
	name string
	stop func() error
}

// MissingToolError says which tool the local cloud lacks and how to install it.
type MissingToolError struct {
	Tool    string
	Install string
}

func (e *MissingToolError) Error() string {
	return e.Tool + " is not installed: " + e.Install
}

// PortInUseError says which port is taken and which part of the local cloud wanted it.
type PortInUseError struct {
	Port    int
	Service string
}

func (e *PortInUseError) Error() string {
	return fmt.Sprintf("port %d (%s) is already in use", e.Port, e.Service)
}

// Start checks the tools and ports, runs the SAM transform on the template, then starts
// every part of the local cloud from the transformed template and returns once all
// answer. A template the transform refuses does not start. On error, whatever was
// started is stopped again.
func Start(ctx context.Context, cfg Config) (c *Cloud, err error) {
	if cfg.RepoRoot == "" {
		return nil, errors.New("launcher: no repository root given")
	}
	if cfg.StackName == "" {
		cfg.StackName = DefaultStackName
	}
	if cfg.Template == "" {
		cfg.Template = filepath.Join(cfg.RepoRoot, "template.yaml")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := checkTools(cfg.RepoRoot); err != nil {
		return nil, err
	}
	transformed, err := cfn.Transform(ctx, cfg.RepoRoot, cfg.Template)
	if err != nil {
		return nil, fmt.Errorf("launcher: %w", err)
	}

	c = &Cloud{log: log, Table: cfg.StackName + "-checkout", Transformed: transformed}
	started := c // the named result is nil by the time an error return reaches the defer
	defer func() {
		if err != nil {
			_ = started.Close()
		}
	}()

	// Take every in-process port and check the children's before starting anything,
	// so a clash is reported at once and names the port.
	apiL, sfnL, webL, err := listenAll(cfg.Ports)
	if err != nil {
		return nil, err
	}
	for _, l := range []net.Listener{apiL, sfnL, webL} {
		c.addStop("listener", l.Close)
	}
	c.APIURL = "http://" + apiL.Addr().String()
	c.StepFunctionsURL = "http://" + sfnL.Addr().String()
	c.WebURL = "http://" + webL.Addr().String()

	// Cognito emulator, with the operators' pool, client, groups and one operator per
	// group from the template; the template's references to the pool and its client
	// resolve to the emulator's IDs, so the JWT authorizer's issuer and audience do.
	idp, err := cognitolocal.Start(ctx, cfg.Ports.Cognito, cfg.ChildOutput)
	if err != nil {
		return nil, fmt.Errorf("cognito emulator: %w", err)
	}
	c.addStop("Cognito emulator", idp.Stop)
	c.CognitoURL = idp.URL
	source, err := samtemplate.Load(cfg.Template)
	if err != nil {
		return nil, fmt.Errorf("launcher: %w", err)
	}
	if c.Operators, err = idp.Provision(ctx, source, cfg.StackName); err != nil {
		return nil, fmt.Errorf("cognito emulator: %w", err)
	}

	store := secretslocal.New(Region, AccountID)
	tpl, err := cfn.Load(transformed, cfn.Options{
		Region: Region, AccountID: AccountID, StackName: cfg.StackName, TableName: c.Table,
		APIID: apigw.DefaultAPIID,
		Refs:  map[string]string{c.Operators.LogicalID: c.Operators.ID, c.Operators.ClientLogicalID: c.Operators.ClientID},
		// The storefront is served here: it is the CORS origin and the e-mails' links.
		Params:      map[string]string{"StorefrontUrl": c.WebURL},
		FunctionARN: func(name string) string { return apigw.FunctionARN(Region, AccountID, name) },
		SecretARN:   store.ARN,
	})
	if err != nil {
		return nil, fmt.Errorf("launcher: %w", err)
	}
	if err := createSecrets(tpl, store, cfg.Settings); err != nil {
		return nil, err
	}
	if c.schedules, err = tpl.Schedules(); err != nil {
		return nil, fmt.Errorf("launcher: %w", err)
	}
	if c.Lambdas, err = tpl.Functions(); err != nil {
		return nil, fmt.Errorf("launcher: %w", err)
	}
	if err := useZoneInfo(c.Lambdas); err != nil {
		return nil, err
	}
	if c.Routes, err = tpl.Routes(c.Lambdas); err != nil {
		return nil, fmt.Errorf("launcher: %w", err)
	}
	authorizers, err := jwtAuthorizers(tpl, c.Operators)
	if err != nil {
		return nil, fmt.Errorf("launcher: %w", err)
	}
	machines, err := tpl.StateMachines()
	if err != nil {
		return nil, fmt.Errorf("launcher: %w", err)
	}
	c.ExpressMachineARNs = map[string]string{}
	var standard []cfn.StateMachine
	for _, m := range machines {
		if m.Type == sfnlocal.TypeExpress {
			c.ExpressMachineARNs[m.LogicalID] = m.ARN
		} else {
			standard = append(standard, m)
		}
	}
	if len(standard) != 1 {
		return nil, fmt.Errorf("launcher: want one Standard state machine (the checkout) in the template, found %d", len(standard))
	}
	c.StateMachineARN = standard[0].ARN

	// DynamoDB Local.
	lib, err := dynamolocal.Ensure(ctx, cfg.RepoRoot)
	if err != nil {
		return nil, fmt.Errorf("DynamoDB Local: %w", err)
	}
	ddb, err := dynamolocal.Start(ctx, dynamolocal.Options{LibDir: lib, Port: cfg.Ports.DynamoDB, Log: cfg.ChildOutput})
	if err != nil {
		return nil, fmt.Errorf("DynamoDB Local: %w", err)
	}
	c.addStop("DynamoDB Local", ddb.Stop)
	c.DynamoDBURL = ddb.Endpoint()

	// SES emulator.
	ses, err := seslocal.Start(ctx, cfg.Ports.SES)
	if err != nil {
		return nil, fmt.Errorf("SES emulator: %w", err)
	}
	c.addStop("SES emulator", ses.Stop)
	c.SES, c.SESURL = ses, ses.URL

	// VIES: a local one speaking the REST API's protocol, with the demo numbers; the
	// functions find it in VIES_URL (see functionEnv).
	vs := viestest.Start(nil)
	c.addStop("VIES", func() error { vs.Close(); return nil })
	c.VIESURL = vs.URL

	// The services' endpoints, through the hook if one is set: the functions reach them
	// through IAM enforcement and then the hook, the operator's configuration through
	// the hook alone.
	endpoints := map[string]string{
		ServiceDynamoDB:      c.DynamoDBURL,
		ServiceStepFunctions: c.StepFunctionsURL,
		ServiceSES:           c.SESURL,
	}
	if cfg.Through != nil {
		if err := throughEndpoints(endpoints, cfg.Through); err != nil {
			return nil, err
		}
	}
	operator := aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey, Source: "local cloud operator"}
	c.AWS = awsConfig(Region, operator, endpoints)

	if err := dynamolocal.CreateTable(ctx, dynamodb.NewFromConfig(c.AWS), tpl, c.Table); err != nil {
		return nil, fmt.Errorf("DynamoDB Local: %w", err)
	}
	// Every call a function makes goes through IAM enforcement, then the hook.
	fnEndpoints, err := c.enforce(tpl, store, machines, endpoints)
	if err != nil {
		return nil, err
	}
	// The operator reads the secrets directly too.
	c.AWS = awsConfig(Region, operator, endpoints)

	// Step Functions: the engine invokes functions through inv, filled once the
	// handlers exist (they need the state machine's ARN, the engine needs them).
	inv := &Invoker{Authorize: c.authorizeInvoke}
	c.invoker = inv
	// A cloud that stops lets the functions the executions are running finish first, as
	// long as a function may run in AWS (the template's Globals Timeout): closing it
	// right after an order was billed no longer cancels its delivery e-mails mid-send.
	engine := sfnlocal.New(sfnlocal.Options{Invoker: inv, Logger: log.With("component", "sfn"), Region: Region, AccountID: AccountID,
		Now: time.Now, Authorize: c.authorizeStates, CloseGrace: invocationGrace})
	// Every machine of the template, each with its type and role; the Express ones
	// first, as CloudFormation creates them before the checkout that names them.
	sort.SliceStable(machines, func(i, j int) bool {
		return machines[i].Type == sfnlocal.TypeExpress && machines[j].Type != sfnlocal.TypeExpress
	})
	for _, m := range machines {
		def, err := definition(cfg, m)
		if err != nil {
			return nil, fmt.Errorf("launcher: %s definition: %w", m.LogicalID, err)
		}
		role, err := tpl.Role(m.Role)
		if err != nil {
			return nil, fmt.Errorf("launcher: %s: %w", m.LogicalID, err)
		}
		arn, err := engine.CreateMachine(sfnlocal.Machine{Name: m.Name, Definition: def, RoleArn: role.ARN, Type: m.Type})
		if err != nil {
			return nil, fmt.Errorf("launcher: create state machine %s: %w", m.LogicalID, err)
		}
		if arn != m.ARN {
			return nil, fmt.Errorf("launcher: engine named the state machine %s, want %s", arn, m.ARN)
		}
	}
	c.StepFunctions = engine
	c.serve("Step Functions engine", sfnL, engine)
	// Stops run in reverse: executions are aborted before the engine's API closes, so no
	// request to it is left waiting on a task that nothing will finish.
	c.addStop("Step Functions executions", engine.Close)

	// The functions, each built by the same composition root as in Lambda, with its own
	// environment and its own identity.
	handlers := map[string]lambda.Handler{}
	known := map[string]bool{}
	for _, id := range all.FunctionIDs() {
		known[id] = true
	}
	var missing []string
	for _, f := range c.Lambdas {
		if !known[f.LogicalID] {
			missing = append(missing, f.LogicalID)
			continue
		}
		env := c.functionEnv(f, fnEndpoints)
		creds := FunctionCredentials(f.LogicalID)
		d := wire.NewDeps(wire.ConfigFrom(lookup(env)), awsConfig(Region, creds, serviceEndpoints(env)), slog.Default())
		h, err := all.Handler(f.LogicalID, d)
		if err != nil {
			return nil, fmt.Errorf("launcher: build %s: %w", f.LogicalID, err)
		}
		handlers[f.LogicalID] = Timed(h, f.Timeout)
	}
	inv.Set(handlers)
	if len(missing) > 0 {
		sort.Strings(missing)
		log.Warn("launcher: template functions without a handler; their routes answer 500",
			"functions", strings.Join(missing, ","))
	}
	if !cfg.SkipSeed {
		wcfg := wire.ConfigFrom(lookup(map[string]string{"TABLE_NAME": c.Table, "SHOP_ID": tpl.Param("ShopId")}))
		if err := all.SeedDemo(ctx, wcfg, c.AWS); err != nil {
			return nil, fmt.Errorf("launcher: seed demo shop: %w", err)
		}
	}

	// API Gateway.
	cors, err := corsFor(tpl, c.WebURL)
	if err != nil {
		return nil, fmt.Errorf("launcher: %w", err)
	}
	c.serve("API", apiL, apigw.New(c.Routes, handlers, apigw.Options{
		Credentials:    map[string]string{AccessKeyID: SecretAccessKey},
		JWTAuthorizers: authorizers,
		Region:         Region,
		AccountID:      AccountID,
		Logger:         log.With("component", "apigw"),
		CORS:           cors,
	}))

	// Schedules, fired on demand: nothing runs on a clock here.
	if c.SchedulesURL, err = c.listenServe("schedules", c.schedulesHandler()); err != nil {
		return nil, err
	}

	// Storefront.
	c.serve("storefront", webL, storefront(filepath.Join(cfg.RepoRoot, "web"), c.APIURL, c.CognitoURL, c.Operators.ClientID))
	return c, nil
}

// definition reads the state machine's definition where `sam package` took it from and
// applies its resolved DefinitionSubstitutions.
func definition(cfg Config, sm cfn.StateMachine) ([]byte, error) {
	if sm.Definition != "" {
		return sm.Substitute([]byte(sm.Definition))
	}
	rel, err := cfn.DefinitionFile(cfg.Template, sm.LogicalID)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(cfg.Template), rel))
	if err != nil {
		return nil, err
	}
	out, err := sm.Substitute(raw)
	if err != nil {
		return nil, err
	}
	return bytes.TrimSpace(out), nil
}

// functionEnv is what Lambda gives the function: its template environment, resolved,
// and the runtime's variables, with the SDK's endpoint variables pointing at the
// local services.
func (c *Cloud) functionEnv(f cfn.Function, endpoints map[string]string) map[string]string {
	env := map[string]string{
		"AWS_REGION":               Region,
		"AWS_DEFAULT_REGION":       Region,
		"AWS_LAMBDA_FUNCTION_NAME": f.Name,
		"AWS_LAMBDA_LOG_FORMAT":    "JSON",
	}
	for k, v := range f.Env {
		env[k] = v
	}
	// The EU's VIES is outside AWS: locally, its stand-in.
	if _, set := env["VIES_URL"]; !set && c.VIESURL != "" {
		env["VIES_URL"] = c.VIESURL
	}
	for svc, ep := range endpoints {
		env["AWS_ENDPOINT_URL_"+svc] = ep
	}
	return env
}

func lookup(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// serviceEndpoints picks the SDK's service endpoint variables out of env.
func serviceEndpoints(env map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		if svc, ok := strings.CutPrefix(k, "AWS_ENDPOINT_URL_"); ok {
			out[svc] = v
		}
	}
	return out
}

// FunctionCredentials is the local identity of a function: an access key derived
// from its logical ID, standing for the session of its execution role.
func FunctionCredentials(logicalID string) aws.Credentials {
	sum := sha256.Sum256([]byte("local function " + logicalID))
	key := strings.ToUpper(base32.StdEncoding.EncodeToString(sum[:]))
	return aws.Credentials{
		AccessKeyID:     "ASIA" + key[:16],
		SecretAccessKey: hex.EncodeToString(sum[:20]),
		Source:          "local cloud: " + logicalID,
	}
}

// awsConfig is an SDK configuration with fixed credentials and one endpoint per
// service (keyed as the SDK's AWS_ENDPOINT_URL_<SERVICE> variables are), built without
// reading the process's environment: every function in the process has its own.
func awsConfig(region string, creds aws.Credentials, endpoints map[string]string) aws.Config {
	eps := make(serviceEndpointSource, len(endpoints))
	for k, v := range endpoints {
		eps[k] = v
	}
	return aws.Config{
		Region:        region,
		Credentials:   aws.NewCredentialsCache(credentials.StaticCredentialsProvider{Value: creds}),
		ConfigSources: []any{eps},
	}
}

// serviceEndpointSource gives each SDK client its service's endpoint, the way
// AWS_ENDPOINT_URL_<SERVICE> does.
type serviceEndpointSource map[string]string

// GetServiceBaseEndpoint is the hook the SDK's clients ask for a service endpoint.
func (s serviceEndpointSource) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	key := strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_"))
	v, ok := s[key]
	return v, ok && v != "", nil
}

// corsFor turns the HTTP API's CORS configuration into the gateway's. The transform
// writes the StorefrontUrl parameter's default where the template says !Ref
// StorefrontUrl; locally the storefront is served at webURL, reachable as 127.0.0.1 or
// localhost.
func corsFor(tpl *cfn.Template, webURL string) (*apigw.CORS, error) {
	c, err := tpl.CORS()
	if err != nil || c == nil {
		return nil, err
	}
	var origins []string
	for _, o := range c.AllowOrigins {
		if o == tpl.ParamDefault("StorefrontUrl") || o == tpl.Param("StorefrontUrl") {
			origins = append(origins, webURL)
			if alt := strings.Replace(webURL, "127.0.0.1", "localhost", 1); alt != webURL {
				origins = append(origins, alt)
			}
			continue
		}
		origins = append(origins, o)
	}
	return &apigw.CORS{AllowOrigins: origins, AllowMethods: c.AllowMethods, AllowHeaders: c.AllowHeaders,
		ExposeHeaders: c.ExposeHeaders, MaxAge: c.MaxAge, AllowCredentials: c.AllowCredentials}, nil
}

// jwtAuthorizers resolves the HTTP API's JWT authorizers for the local cloud: an
// issuer that is the Cognito issuer of the local pool's ID (the template's
// https://cognito-idp.<region>.amazonaws.com/<pool>) becomes the emulator's issuer for
// that pool, where its tokens come from and its keys are published.
func jwtAuthorizers(tpl *cfn.Template, pool *cognitolocal.Pool) (map[string]apigw.JWTAuthorizer, error) {
	all, err := tpl.JWTAuthorizers()
	if err != nil {
		return nil, err
	}
	out := map[string]apigw.JWTAuthorizer{}
	for name, a := range all {
		j := apigw.JWTAuthorizer{Issuer: a.Issuer, Audience: a.Audience, IdentitySource: a.IdentitySource}
		if a.Issuer == "https://cognito-idp."+Region+".amazonaws.com/"+pool.ID {
			j.Issuer = pool.Issuer
		}
		out[name] = j
	}
	return out, nil
}

// checkTools reports the first missing tool with the command that installs it, so a
// fresh checkout gets an instruction instead of a stack trace.
func checkTools(repoRoot string) error {
	if _, err := exec.LookPath("java"); err != nil {
		return &MissingToolError{Tool: "java", Install: "DynamoDB Local needs a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless), then run `make deps`"}
	}
	lib := filepath.Join(repoRoot, dynamolocal.LibDir)
	if _, err := os.Stat(lib); err != nil {
		if _, err := exec.LookPath("mvn"); err != nil {
			return &MissingToolError{Tool: "mvn", Install: "it fetches DynamoDB Local from Maven Central on first run (e.g. apt-get install maven), then run `make deps`"}
		}
	}
	if _, err := exec.LookPath("node"); err != nil {
		return &MissingToolError{Tool: "node", Install: "the SES emulator runs on Node.js (e.g. apt-get install nodejs npm), then run `make deps`"}
	}
	if os.Getenv(seslocal.BinaryEnv) == "" {
		bin := filepath.Join(repoRoot, "node_modules", ".bin", "aws-ses-v2-local")
		if _, err := os.Stat(bin); err != nil {
			return &MissingToolError{Tool: "aws-ses-v2-local (node_modules)", Install: "run `make deps` (npm ci) at the repository root"}
		}
		// seslocal looks in the working directory's node_modules; point it at the
		// repo's so -repo works from anywhere.
		_ = os.Setenv(seslocal.BinaryEnv, bin)
	}
	if os.Getenv(cognitolocal.BinaryEnv) == "" {
		bin := filepath.Join(repoRoot, "node_modules", ".bin", "cognito-local")
		if _, err := os.Stat(bin); err != nil {
			return &MissingToolError{Tool: "cognito-local (node_modules)", Install: "run `make deps` (npm ci) at the repository root"}
		}
		_ = os.Setenv(cognitolocal.BinaryEnv, bin)
	}
	return nil
}

// listenAll takes the in-process servers' ports and checks the children's, in the
// order the user reads them.
func listenAll(p Ports) (api, sfn, web net.Listener, err error) {
	for _, child := range []struct {
		port    int
		service string
	}{{p.DynamoDB, "DynamoDB Local"}, {p.SES, "SES emulator"}, {p.Cognito, "Cognito emulator"}} {
		if child.port == 0 {
			continue
		}
		if err := proc.PortFree(child.port); err != nil {
			return nil, nil, nil, &PortInUseError{Port: child.port, Service: child.service}
		}
	}
	listen := func(port int, service string) (net.Listener, error) {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				return nil, &PortInUseError{Port: port, Service: service}
			}
			return nil, fmt.Errorf("launcher: listen on port %d (%s): %w", port, service, err)
		}
		return l, nil
	}
	if api, err = listen(p.API, "API Gateway"); err != nil {
		return nil, nil, nil, err
	}
	if sfn, err = listen(p.StepFunctions, "Step Functions"); err != nil {
		api.Close()
		return nil, nil, nil, err
	}
	if web, err = listen(p.Web, "storefront"); err != nil {
		api.Close()
		sfn.Close()
		return nil, nil, nil, err
	}
	return api, sfn, web, nil
}

func (c *Cloud) addStop(name string, stop func() error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stops = append(c.stops, stopper{name: name, stop: stop})
}

// serve runs h on l until Close.
func (c *Cloud) serve(name string, l net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.log.Error("launcher: server stopped", "server", name, "err", err)
		}
	}()
	c.addStop(name, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
			// A request still running after the grace period is cut: the local cloud is
			// going away, and that must not leave it half stopped.
			c.log.Warn("launcher: requests still running at stop were cut", "server", name)
			return srv.Close()
		} else if err != nil {
			return err
		}
		return nil
	})
}

// Close stops every part in reverse start order — servers first, then the SES and
// DynamoDB Local processes — so nothing is left running. It is safe to call twice.
func (c *Cloud) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		stops := c.stops
		c.mu.Unlock()
		var errs []error
		for i := len(stops) - 1; i >= 0; i-- {
			if err := stops[i].stop(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, fmt.Errorf("stop %s: %w", stops[i].name, err))
			}
		}
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

// storefront serves web/ and a /config.js that tells the pages where the API is and
// where operators sign in (the user pools endpoint and the back office's app client).
func storefront(dir, apiURL, cognitoURL, clientID string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /config.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		cfg, _ := json.Marshal(map[string]any{"apiUrl": apiURL, // maps of strings always encode
			"cognito": map[string]string{"endpoint": cognitoURL, "clientId": clientID}})
		fmt.Fprintf(w, "window.CHECKOUT_CONFIG = %s;\n", cfg)
	})
	mux.Handle("GET /", http.FileServer(http.Dir(dir)))
	return mux
}
