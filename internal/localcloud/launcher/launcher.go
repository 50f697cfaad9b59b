// Package launcher starts the local cloud: DynamoDB Local, the SES emulator, the Step
// Functions engine, the API Gateway emulation in front of every function's real
// handler, and the static storefront — all on 127.0.0.1.
//
// It is the one implementation of "start the local cloud": `make run` (cmd/localcloud)
// and the end-to-end test harness (internal/localcloud/cloudtest) both call Start.
package launcher

import (
	"context"
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
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lmsshop/checkout/internal/localcloud/apigw"
	"github.com/lmsshop/checkout/internal/localcloud/cognitolocal"
	"github.com/lmsshop/checkout/internal/localcloud/dynamolocal"
	"github.com/lmsshop/checkout/internal/localcloud/sfnlocal"
	"github.com/lmsshop/checkout/internal/notify/seslocal"
	"github.com/lmsshop/checkout/internal/stack"
	"github.com/lmsshop/checkout/internal/wire"
)

// The local cloud's fixed identity. The credentials are documented (README) and only
// ever accepted by the local stand-ins: the functions use them, and so may automation
// calling /ops (SigV4). Operators sign in to the local user pool instead.
const (
	Region          = apigw.DefaultRegion
	AccountID       = apigw.DefaultAccountID
	AccessKeyID     = "local"
	SecretAccessKey = "localsecret"
	// DefaultStackName plays AWS::StackName in names built from it.
	DefaultStackName = "local"
)

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
	Ports    Ports
	// StackName plays AWS::StackName: the table is "<stack>-checkout" and so is the
	// state machine, as template.yaml names it (DefaultStackName if empty).
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
}

// Cloud is a running local cloud. Close stops every part of it.
type Cloud struct {
	APIURL           string
	WebURL           string
	SESURL           string
	StepFunctionsURL string
	DynamoDBURL      string
	// CognitoURL is the user pools endpoint of the Cognito emulator, and Operators
	// the pool made there from the template, with its operators' credentials.
	CognitoURL      string
	Operators       *cognitolocal.Pool
	Table           string
	StateMachineARN string
	// AWS is the configuration the functions were built with (endpoints, region and
	// credentials of the local cloud).
	AWS aws.Config
	// Template is the parsed template.yaml.
	Template *stack.Template
	// SES is the running emulator, to read sent mail.
	SES *seslocal.Server
	// StepFunctions is the engine behind StepFunctionsURL, for what its API does not
	// expose (waiting for an execution, counting state transitions).
	StepFunctions *sfnlocal.Engine

	log       *slog.Logger
	mu        sync.Mutex
	stops     []stopper // in start order; Close runs them in reverse
	closeOnce sync.Once
	closeErr  error
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

// Start checks the tools and ports, then starts every part of the local cloud and
// returns once all answer. On error, whatever was started is stopped again.
func Start(ctx context.Context, cfg Config) (c *Cloud, err error) {
	if cfg.RepoRoot == "" {
		return nil, errors.New("launcher: no repository root given")
	}
	if cfg.StackName == "" {
		cfg.StackName = DefaultStackName
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	tpl, err := stack.Load(filepath.Join(cfg.RepoRoot, "template.yaml"))
	if err != nil {
		return nil, fmt.Errorf("launcher: %w", err)
	}
	if err := checkTools(cfg.RepoRoot); err != nil {
		return nil, err
	}

	c = &Cloud{Template: tpl, log: log, Table: cfg.StackName + "-checkout"}
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

	// Cognito emulator, with the operators' pool, client, groups and one operator per
	// group; the gateway's JWT authorizers point at it.
	idp, err := cognitolocal.Start(ctx, cfg.Ports.Cognito, cfg.ChildOutput)
	if err != nil {
		return nil, fmt.Errorf("cognito emulator: %w", err)
	}
	c.addStop("Cognito emulator", idp.Stop)
	c.CognitoURL = idp.URL
	if c.Operators, err = idp.Provision(ctx, tpl, cfg.StackName); err != nil {
		return nil, fmt.Errorf("cognito emulator: %w", err)
	}

	// The functions reach the stand-ins through the SDK's own service-specific
	// endpoint variables, so their code path is the deployed one.
	params := tpl.ParameterDefaults()
	params["StorefrontUrl"] = c.WebURL
	c.StateMachineARN = "arn:aws:states:" + Region + ":" + AccountID + ":stateMachine:" + cfg.StackName + "-checkout"
	env := c.environment(params)
	if cfg.Through != nil {
		if err := throughEnv(env, cfg.Through); err != nil {
			return nil, err
		}
	}
	setEnv(env)
	c.AWS, err = config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("launcher: load AWS config: %w", err)
	}

	if err := dynamolocal.CreateTable(ctx, dynamodb.NewFromConfig(c.AWS), tpl, c.Table); err != nil {
		return nil, fmt.Errorf("DynamoDB Local: %w", err)
	}

	// Step Functions: the engine invokes functions through inv, filled once the
	// handlers exist (they need the state machine's ARN, the engine needs them).
	inv := &Invoker{}
	engine := sfnlocal.New(sfnlocal.Options{Invoker: inv, Logger: log.With("component", "sfn"), Region: Region, AccountID: AccountID, Now: time.Now})
	def, err := tpl.StateMachineDefinition(cfg.RepoRoot, func(id string) string { return apigw.FunctionARN(Region, AccountID, id) }, params)
	if err != nil {
		return nil, fmt.Errorf("launcher: state machine definition: %w", err)
	}
	arn, err := engine.CreateStateMachine(cfg.StackName+"-checkout", def)
	if err != nil {
		return nil, fmt.Errorf("launcher: create state machine: %w", err)
	}
	if arn != c.StateMachineARN {
		return nil, fmt.Errorf("launcher: engine named the state machine %s, want %s", arn, c.StateMachineARN)
	}
	c.StepFunctions = engine
	c.serve("Step Functions engine", sfnL, engine)
	// Stops run in reverse: executions are aborted before the engine's API closes, so no
	// request to it is left waiting on a task that nothing will finish.
	c.addStop("Step Functions executions", engine.Close)

	// The functions, built by the same composition root as in Lambda.
	wcfg := wire.ConfigFromEnv()
	handlers, err := wire.Handlers(ctx, wcfg, c.AWS)
	if err != nil {
		return nil, fmt.Errorf("launcher: build handlers: %w", err)
	}
	inv.Set(handlers)
	if missing := missingHandlers(tpl, handlers); len(missing) > 0 {
		log.Warn("launcher: template functions without a handler; their routes answer 500",
			"functions", strings.Join(missing, ","))
	}
	if !cfg.SkipSeed {
		if err := wire.SeedDemo(ctx, wcfg, c.AWS); err != nil {
			return nil, fmt.Errorf("launcher: seed demo shop: %w", err)
		}
	}

	// API Gateway.
	c.serve("API", apiL, apigw.New(tpl.Routes(), handlers, apigw.Options{
		Credentials:    map[string]string{AccessKeyID: SecretAccessKey},
		JWTAuthorizers: jwtAuthorizers(tpl, c.Operators),
		Region:         Region,
		AccountID:      AccountID,
		Logger:         log.With("component", "apigw"),
		CORS:           corsFor(tpl, params, c.WebURL),
	}))

	// Storefront.
	c.serve("storefront", webL, storefront(filepath.Join(cfg.RepoRoot, "web"), c.APIURL, c.CognitoURL, c.Operators.ClientID))
	return c, nil
}

// environment is what template.yaml's Globals give every function, resolved for the
// local cloud, plus the SDK's endpoint, region and credential variables.
func (c *Cloud) environment(params map[string]string) map[string]string {
	return map[string]string{
		"AWS_REGION":                Region,
		"AWS_DEFAULT_REGION":        Region,
		"AWS_ACCESS_KEY_ID":         AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":     SecretAccessKey,
		"AWS_SESSION_TOKEN":         "",
		"AWS_EC2_METADATA_DISABLED": "true", // no instance metadata to wait for on a laptop
		"AWS_ENDPOINT_URL_DYNAMODB": c.DynamoDBURL,
		"AWS_ENDPOINT_URL_SFN":      c.StepFunctionsURL,
		"AWS_ENDPOINT_URL_SESV2":    c.SESURL,
		"AWS_LAMBDA_LOG_FORMAT":     "JSON",
		"AWS_LAMBDA_LOG_LEVEL":      params["LogLevel"],
		"TABLE_NAME":                c.Table,
		"SHOP_ID":                   params["ShopId"],
		"CART_TTL":                  params["CartTtlSeconds"] + "s",
		"STOREFRONT_URL":            c.WebURL,
		"API_URL":                   c.APIURL,
		"STATE_MACHINE_ARN":         c.StateMachineARN,
		"SENDER_EMAIL":              params["SenderEmail"],
		// No Secrets Manager runs locally: unset, the payment providers read their
		// settings from PAYMENT_* variables instead (see wire.Config).
		"PAYMENT_SECRETS": "",
		// The test mode's simulated provider signs its deferred callbacks with this.
		"PAYMENT_TEST_SECRET": "local-test-provider-secret",
		"LMS_ADAPTER":         params["LmsAdapter"],
		"MOODLE_URL":          params["MoodleUrl"],
	}
}

func setEnv(env map[string]string) {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if env[k] == "" {
			_ = os.Unsetenv(k)
			continue
		}
		_ = os.Setenv(k, env[k])
	}
}

// corsFor turns the HttpApi's CorsConfiguration into the gateway's. The storefront
// origin is the local one, reachable as 127.0.0.1 or localhost.
func corsFor(tpl *stack.Template, params map[string]string, webURL string) *apigw.CORS {
	origins, methods, headers := tpl.CORS(params)
	if len(origins) == 0 {
		return nil
	}
	if alt := strings.Replace(webURL, "127.0.0.1", "localhost", 1); alt != webURL {
		origins = append(origins, alt)
	}
	// MaxAge mirrors the template's 600 s until stack.CORS returns it.
	return &apigw.CORS{AllowOrigins: origins, AllowMethods: methods, AllowHeaders: headers, MaxAge: 600}
}

// jwtAuthorizers resolves the HttpApi's JWT authorizers against the local pool: an
// issuer naming the template's user pool becomes the emulator's issuer for it, and an
// audience naming its app client the client's ID.
func jwtAuthorizers(tpl *stack.Template, pool *cognitolocal.Pool) map[string]apigw.JWTAuthorizer {
	out := map[string]apigw.JWTAuthorizer{}
	for name, a := range tpl.JWTAuthorizers() {
		j := apigw.JWTAuthorizer{IdentitySource: a.IdentitySource, Issuer: a.Issuer}
		if a.IssuerPool == pool.LogicalID {
			j.Issuer = pool.Issuer
		}
		for _, aud := range a.Audience {
			if aud == pool.ClientLogicalID {
				aud = pool.ClientID
			}
			j.Audience = append(j.Audience, aud)
		}
		out[name] = j
	}
	return out
}

func missingHandlers(tpl *stack.Template, handlers map[string]lambda.Handler) []string {
	var missing []string
	for _, f := range tpl.Functions() {
		if _, ok := handlers[f.LogicalID]; !ok {
			missing = append(missing, f.LogicalID)
		}
	}
	return missing
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
		if err := dynamolocal.PortFree(child.port); err != nil {
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
