package launcher

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lmsshop/checkout/internal/localcloud/apigw"
	"github.com/lmsshop/checkout/internal/localcloud/dynamolocal"
	"github.com/lmsshop/checkout/internal/localcloud/sfnlocal"
	"github.com/lmsshop/checkout/internal/notify/seslocal"
	"github.com/lmsshop/checkout/internal/stack"
	"github.com/lmsshop/checkout/internal/wire"
)

// The services whose endpoint a Through hook is asked about, named as the SDK's
// AWS_ENDPOINT_URL_<SERVICE> variables name them.
const (
	ServiceDynamoDB      = "DYNAMODB"
	ServiceStepFunctions = "SFN"
	ServiceSES           = "SESV2"
)

// Through is given each service's local endpoint once it runs and returns the endpoint
// the functions use instead — a counting or fault-injecting proxy in front of it
// (internal/localcloud/faultproxy). Returning the endpoint unchanged keeps the direct path.
type Through func(service, endpoint string) (string, error)

// StartThrough is Start with the functions' AWS endpoints passed through through: the
// functions, the table's creation and the demo seed reach DynamoDB, Step Functions and
// SES at the endpoints it returns, and Cloud.AWS holds them too. Cloud.DynamoDBURL,
// StepFunctionsURL and SESURL stay the services' own, for tests that read behind the
// proxy's back.
//
// It repeats Start's sequence with one step added (throughEnv, between environment and
// setEnv). Start could take the hook as a Config field and call throughEnv there; this
// function would then be Start with that field set.
func StartThrough(ctx context.Context, cfg Config, through Through) (c *Cloud, err error) {
	if through == nil {
		return Start(ctx, cfg)
	}
	if cfg.RepoRoot == "" {
		return nil, fmt.Errorf("launcher: no repository root given")
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
	started := c
	defer func() {
		if err != nil {
			_ = started.Close()
		}
	}()
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
	ses, err := seslocal.Start(ctx, cfg.Ports.SES)
	if err != nil {
		return nil, fmt.Errorf("SES emulator: %w", err)
	}
	c.addStop("SES emulator", ses.Stop)
	c.SES, c.SESURL = ses, ses.URL

	params := tpl.ParameterDefaults()
	params["StorefrontUrl"] = c.WebURL
	c.StateMachineARN = "arn:aws:states:" + Region + ":" + AccountID + ":stateMachine:" + cfg.StackName + "-checkout"
	env := c.environment(params)
	// The one step Start does not have.
	if err := throughEnv(env, through); err != nil {
		return nil, err
	}
	setEnv(env)
	c.AWS, err = config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("launcher: load AWS config: %w", err)
	}
	if err := dynamolocal.CreateTable(ctx, dynamodb.NewFromConfig(c.AWS), tpl, c.Table); err != nil {
		return nil, fmt.Errorf("DynamoDB Local: %w", err)
	}

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
	c.addStop("Step Functions executions", engine.Close)
	c.serve("Step Functions engine", sfnL, engine)

	wcfg := wire.ConfigFromEnv()
	handlers, err := wire.Handlers(ctx, wcfg, c.AWS)
	if err != nil {
		return nil, fmt.Errorf("launcher: build handlers: %w", err)
	}
	inv.Set(handlers)
	if missing := missingHandlers(tpl, handlers); len(missing) > 0 {
		log.Warn("launcher: template functions without a handler; their routes answer 500", "functions", strings.Join(missing, ","))
	}
	if !cfg.SkipSeed {
		if err := wire.SeedDemo(ctx, wcfg, c.AWS); err != nil {
			return nil, fmt.Errorf("launcher: seed demo shop: %w", err)
		}
	}
	c.serve("API", apiL, apigw.New(tpl.Routes(), handlers, apigw.Options{
		Credentials: map[string]string{AccessKeyID: SecretAccessKey},
		Region:      Region,
		AccountID:   AccountID,
		Logger:      log.With("component", "apigw"),
		CORS:        corsFor(tpl, params, c.WebURL),
	}))
	c.serve("storefront", webL, storefront(filepath.Join(cfg.RepoRoot, "web"), c.APIURL))
	return c, nil
}

// throughEnv passes each service endpoint of the functions' environment through the hook.
func throughEnv(env map[string]string, through Through) error {
	for _, svc := range []string{ServiceDynamoDB, ServiceStepFunctions, ServiceSES} {
		key := "AWS_ENDPOINT_URL_" + svc
		via, err := through(svc, env[key])
		if err != nil {
			return fmt.Errorf("launcher: endpoint of %s: %w", strings.ToLower(svc), err)
		}
		env[key] = via
	}
	return nil
}
