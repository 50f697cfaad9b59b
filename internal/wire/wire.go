// Package wire is the core of the functions' composition roots: the configuration
// every function reads, the dependencies (the DynamoDB client, the table, the clock,
// the log) every handler is built from, Main (the body of every functions/*/main.go),
// and the API steps that need nothing more (Shop, Users, Customer). The functions
// that need more are built by the packages below it, each importing only the SDK
// clients its functions call: internal/wire/settings (Secrets Manager: the payment
// and Moodle settings, the LMS; PurchaseReqs), internal/wire/order (Step Functions:
// Order), internal/wire/post (nothing more: Bill, Watch), internal/wire/mail (SES:
// Notify), internal/wire/ops (Secrets Manager and Step Functions: Backoffice),
// internal/wire/flow (Secrets Manager, Step Functions and SES: Payment, PaymentWebhook,
// Produce, Reconcile).
// internal/wire/all lists them all for the local cloud and the tests.
package wire

import (
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lmsshop/checkout/internal/store"
)

// Config is what the functions read from their environment (template.yaml's Globals
// and each function's own variables). The API's own URL is not among them: placement
// takes it from the request (see httpapi.BaseURL), which keeps the template free of a
// function <-> API cycle.
type Config struct {
	TableName     string
	ShopID        string
	SenderEmail   string
	StorefrontURL string
	CartTTL       time.Duration
	ShopCacheTTL  time.Duration
	// StateMachineARN is set only on the functions that start executions: ORDER, and
	// the back office (a delivered late payment starts its order's workflow again).
	StateMachineARN string
	// MailStateMachineARN is set on the back office only: the Express machine through
	// which it hands its e-mails to the Notify function (see internal/wire/flow).
	MailStateMachineARN string
	// LMSAdapter and MoodleURL are set on the functions that check data against the
	// LMS or deliver to it; the Moodle token is a secret setting (see settings).
	LMSAdapter string
	MoodleURL  string
	// SettingsSecret is the ARN of the Secrets Manager secret holding the PAYMENT_*
	// settings and MOODLE_TOKEN (see settings); empty locally, where they come from
	// the environment.
	SettingsSecret string
	// OperatorWait is how long an order may wait for an operator before the watch
	// counts it (OPERATOR_WAIT_MINUTES; 60 minutes if unset, zero if malformed, which
	// the watch refuses).
	OperatorWait time.Duration
	// LinkTTL is how long e-mailed order and bill links stay valid (LINK_TTL, default
	// 30 days).
	LinkTTL time.Duration
	// VIESURL is the VIES REST API's base (VIES_URL; vies.DefaultURL when unset).
	VIESURL string
	// ReconcileDays is the window reconciliation reads the providers' payments over
	// (RECONCILE_DAYS, whole days; 3 if unset, zero if malformed, which it refuses).
	ReconcileDays int

	// getenv is the environment Config was read from (os.Getenv if nil): the local
	// cloud runs every function in one process, each with its own environment.
	getenv func(string) string
}

// ConfigFromEnv reads Config from the variables template.yaml sets.
func ConfigFromEnv() Config { return ConfigFrom(os.Getenv) }

// ConfigFrom reads Config from the environment lookup gives (a function's own
// environment in the local cloud); lookup returns "" for an unset variable.
func ConfigFrom(lookup func(string) string) Config {
	envOr := func(k, def string) string {
		if v := lookup(k); v != "" {
			return v
		}
		return def
	}
	return Config{
		TableName:           lookup("TABLE_NAME"),
		ShopID:              envOr("SHOP_ID", "demo"),
		StateMachineARN:     lookup("STATE_MACHINE_ARN"),
		MailStateMachineARN: lookup("MAIL_STATE_MACHINE_ARN"),
		SenderEmail:         envOr("SENDER_EMAIL", "shop@example.com"),
		StorefrontURL:       envOr("STOREFRONT_URL", "http://localhost:8080"),
		CartTTL:             durationEnv(lookup("CART_TTL"), 2*time.Hour),
		ShopCacheTTL:        durationEnv(lookup("SHOP_CACHE_TTL"), 30*time.Second),
		LMSAdapter:          envOr("LMS_ADAPTER", "local"),
		MoodleURL:           lookup("MOODLE_URL"),
		SettingsSecret:      lookup("SETTINGS_SECRET"),
		OperatorWait:        minutesEnv(lookup("OPERATOR_WAIT_MINUTES"), 60*time.Minute),
		LinkTTL:             durationEnv(lookup("LINK_TTL"), 30*24*time.Hour),
		VIESURL:             lookup("VIES_URL"),
		ReconcileDays:       daysEnv(lookup("RECONCILE_DAYS"), 3),
		getenv:              lookup,
	}
}

// Env reads a variable of the environment the configuration came from.
func (c Config) Env(k string) string {
	if c.getenv == nil {
		return os.Getenv(k)
	}
	return c.getenv(k)
}

// minutesEnv reads a whole number of minutes; a malformed or non-positive value is zero,
// so the function that needs it fails at start-up instead of using a default silently.
func minutesEnv(v string, def time.Duration) time.Duration {
	if v == "" {
		return def
	}
	if m, err := strconv.Atoi(v); err == nil && m > 0 {
		return time.Duration(m) * time.Minute
	}
	return 0
}

// daysEnv reads a whole number of days like minutesEnv: malformed or non-positive is zero.
func daysEnv(v string, def int) int {
	if v == "" {
		return def
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return n
	}
	return 0
}

func durationEnv(v string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	return def
}

// Deps are the clients and settings every handler is built from. Only the DynamoDB
// client is built for every function; the others (Step Functions, SES, Secrets
// Manager) are built by the composition roots that call them (internal/wire/settings,
// internal/wire/order, internal/wire/flow), once per Deps (Once), so that a function's
// binary imports and initialises only the SDK clients it calls.
type Deps struct {
	Cfg   Config
	AWS   aws.Config
	DB    *dynamodb.Client
	Store *store.Store
	Log   *slog.Logger
	Now   func() time.Time

	mu   sync.Mutex
	once map[string]*onceValue
}

type onceValue struct {
	once sync.Once
	v    any
	err  error
}

// Once returns what build returns, building it on the first call for key only: the
// clients and the settings are built once per cold start however many builders ask
// (the local cloud builds every function from its own Deps).
func (d *Deps) Once(key string, build func() (any, error)) (any, error) {
	d.mu.Lock()
	if d.once == nil {
		d.once = map[string]*onceValue{}
	}
	o, ok := d.once[key]
	if !ok {
		o = &onceValue{}
		d.once[key] = o
	}
	d.mu.Unlock()
	o.once.Do(func() { o.v, o.err = build() })
	return o.v, o.err
}

// NewDeps builds the DynamoDB client once. Endpoints come from the SDK's own variables
// (AWS_ENDPOINT_URL_DYNAMODB, …), so the local cloud needs no special code path; each
// client resolves its endpoint once, here, instead of on every call (FixedEndpoint).
func NewDeps(cfg Config, awsCfg aws.Config, log *slog.Logger) *Deps {
	if log == nil {
		log = slog.Default()
	}
	db := dynamodb.NewFromConfig(awsCfg, fixedDynamoDB)
	st := store.New(db, cfg.TableName)
	return &Deps{
		Cfg: cfg, AWS: awsCfg, DB: db, Store: st,
		Log: log, Now: func() time.Time { return time.Now().UTC() },
	}
}

// Builder builds one function's handler.
type Builder func(*Deps) (lambda.Handler, error)

// Main is the body of every functions/<name>/main.go: load the AWS configuration and
// the environment once per cold start, build the handler, and hand it to Lambda. A
// failure at start-up is logged as JSON and exits, so Lambda reports an init error.
func Main(id string, build Builder) {
	// JSON records carrying the invocation's request ID (log with the handler's ctx).
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	awsCfg, err := lambdaAWSConfig(os.Getenv)
	if err != nil {
		log.Error("load AWS configuration", "function", id, "err", err)
		os.Exit(1)
	}
	h, err := build(NewDeps(ConfigFromEnv(), awsCfg, log))
	if err != nil {
		log.Error("build handler", "function", id, "err", err)
		os.Exit(1)
	}
	lambda.Start(h)
}
