// Package cloudtest gives end-to-end tests a running local cloud: the same stack as
// `make run` (it calls launcher.Start), on free ports, started once per test binary.
//
// Use it from TestMain so the cloud is shared and stopped when the binary ends:
//
//	func TestMain(m *testing.M) { cloudtest.Main(m) }
//
//	func TestPurchase(t *testing.T) {
//		c := cloudtest.Start(t)
//		resp, err := http.Post(c.APIURL+"/carts", "application/json", nil)
//		…
//	}
//
// Without Main, each Start call gets a private cloud stopped by t.Cleanup: correct, but
// it pays DynamoDB Local's start-up every time.
package cloudtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lmsshop/checkout/internal/cognito"
	"github.com/lmsshop/checkout/internal/localcloud/cognitolocal"
	"github.com/lmsshop/checkout/internal/localcloud/launcher"
	"github.com/lmsshop/checkout/internal/localcloud/seslocal"
	"github.com/lmsshop/checkout/internal/localcloud/sfnlocal"
)

// Cloud is a running local cloud seen from a test.
type Cloud struct {
	APIURL           string
	WebURL           string
	SESURL           string
	StepFunctionsURL string
	DynamoDBURL      string
	// SchedulesURL fires the template's schedules: POST <url>/<function>.
	SchedulesURL string

	// Table is the checkout table, created from template.yaml and seeded with the demo shop.
	Table    string
	DynamoDB *dynamodb.Client
	// StateMachineARN is the checkout state machine's ARN on the local engine, and
	// ExpressMachineARNs the Express machines it starts, by logical ID.
	StateMachineARN    string
	ExpressMachineARNs map[string]string
	SFN                *sfn.Client
	// Engine is the Step Functions engine itself (WaitExecution, StateTransitions).
	Engine *sfnlocal.Engine
	// AWS is the configuration the functions use; build further SDK clients from it.
	AWS aws.Config

	// CognitoURL is the Cognito emulator's endpoint, Operators the pool made there
	// (its ID, client ID and one operator per group).
	CognitoURL string
	Operators  *cognitolocal.Pool

	ses    *seslocal.Server
	cloud  *launcher.Cloud
	signer *v4.Signer

	tokMu  sync.Mutex
	tokens map[string]string // ID token by group
}

var (
	mainMu      sync.Mutex
	mainRunning bool
	sharedOnce  sync.Once
	shared      *Cloud
	sharedErr   error

	// private holds the private clouds started from template.yaml under Main, stopped
	// by now but kept for the least-privilege report: their calls count too.
	privateMu sync.Mutex
	private   []*launcher.Cloud
)

// Main runs the tests and then stops the shared cloud (if a test started it), so no
// DynamoDB Local or node process outlives the test binary, and writes the
// least-privilege report of the calls the tests made. Call it from TestMain.
func Main(m *testing.M) { runMain(m, false) }

// MainLeastPrivilege is Main for the package whose tests are every call the product
// makes (e2e): a full run of it that passed also fails when a grant of template.yaml
// was used by no call and is not marked as kept (see checkIAM).
func MainLeastPrivilege(m *testing.M) { runMain(m, true) }

func runMain(m *testing.M, enforce bool) {
	mainMu.Lock()
	mainRunning = true
	mainMu.Unlock()
	code := m.Run()
	code = checkIAM(code, enforce)
	if shared != nil {
		if err := shared.cloud.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "cloudtest: stopping the local cloud: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// IAMReportEnv names the file the least-privilege report is written to (JSON, and
// the text beside it with .txt), instead of .cache/iam-unused.json: .cache may be
// shared by several checkouts, so one run's report can be kept apart.
const IAMReportEnv = "IAM_REPORT"

// checkIAM writes the least-privilege report after the tests and returns the exit
// code: with enforce, a full run of the package that passed fails when a grant of the template was
// used by no call and is not marked as kept for a path the local calls cannot take
// (iam.KeptReason), so the template stays least privilege. A partial run (-run or
// -skip) or a failed one only reports: its calls are not all the calls.
func checkIAM(code int, enforce bool) int {
	privateMu.Lock()
	clouds := append([]*launcher.Cloud(nil), private...)
	privateMu.Unlock()
	if shared != nil {
		clouds = append([]*launcher.Cloud{shared.cloud}, clouds...)
	}
	if len(clouds) == 0 {
		return code
	}
	for _, c := range clouds[1:] {
		if err := clouds[0].IAM.Absorb(c.IAM); err != nil {
			fmt.Fprintf(os.Stderr, "cloudtest: IAM report: %v\n", err)
			return code
		}
	}
	path := os.Getenv(IAMReportEnv)
	if path == "" {
		root, err := launcher.FindRepoRoot()
		if err != nil {
			fmt.Fprintf(os.Stderr, "cloudtest: IAM report: %v\n", err)
			return code
		}
		path = filepath.Join(root, ".cache", "iam-unused.json")
	}
	summary, violations, err := clouds[0].WriteIAMReport(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cloudtest: IAM report: %v\n", err)
		return code
	}
	fmt.Fprintln(os.Stderr, summary)
	if !enforce || code != 0 || len(violations) == 0 || !fullRun() {
		return code
	}
	fmt.Fprintf(os.Stderr, "FAIL: IAM least privilege: %d grants of template.yaml no call of the full run used; "+
		"remove them, drive their path in a test, or mark a path the local cloud cannot take with a Sid "+
		"starting MoodleOnly or FailurePath:\n  %s\n", len(violations), strings.Join(violations, "\n  "))
	return 1
}

// fullRun reports whether every test of the package ran: no -run or -skip filter.
func fullRun() bool {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return true
}

// Start returns the running local cloud, starting it on first use. It skips the test
// under -short (the cloud needs Java and Node) and fails it if the cloud cannot start.
func Start(t testing.TB) *Cloud {
	t.Helper()
	if testing.Short() {
		t.Skip("cloudtest: end-to-end test skipped in -short mode")
	}
	mainMu.Lock()
	viaMain := mainRunning
	mainMu.Unlock()
	if !viaMain {
		// No Main to stop a shared cloud: the test gets a private one.
		return StartWith(t, Options{})
	}
	sharedOnce.Do(func() { shared, sharedErr = start(Options{}) })
	if sharedErr != nil {
		t.Fatalf("cloudtest: %v", sharedErr)
	}
	return shared
}

// StartTemplate starts a private local cloud from another SAM template (a variant of
// template.yaml, e.g. with a grant removed), stopped when the test ends. log receives
// the cloud's logs, the IAM denials included (at Info level).
func StartTemplate(t testing.TB, template string, log *slog.Logger) *Cloud {
	t.Helper()
	return StartWith(t, Options{Template: template, Log: log})
}

// Options configure a private local cloud (StartWith).
type Options struct {
	// Template is the SAM template to run (template.yaml if empty).
	Template string
	// Log receives the cloud's logs (warnings on stderr if nil).
	Log *slog.Logger
	// Settings are added to the stack's settings secret before the functions start, as
	// an operator adds keys (e.g. a payment provider's, pointing at its fake).
	Settings map[string]string
	// Through, if set, puts a proxy (internal/localcloud/faultproxy) between the
	// functions and an AWS service, e.g. to make SES fail (launcher.Through).
	Through launcher.Through
}

// StartWith starts a private local cloud with opts, stopped when the test ends.
func StartWith(t testing.TB, opts Options) *Cloud {
	t.Helper()
	if testing.Short() {
		t.Skip("cloudtest: end-to-end test skipped in -short mode")
	}
	c, err := start(opts)
	if err != nil {
		t.Fatalf("cloudtest: %v", err)
	}
	t.Cleanup(func() {
		if err := c.cloud.Close(); err != nil {
			t.Errorf("cloudtest: stopping the local cloud: %v", err)
		}
	})
	mainMu.Lock()
	viaMain := mainRunning
	mainMu.Unlock()
	// A cloud of the repository's template counts in the least-privilege report (its
	// settings add keys, not grants); one of another template does not.
	if viaMain && opts.Template == "" && c.cloud.IAM != nil {
		privateMu.Lock()
		private = append(private, c.cloud)
		privateMu.Unlock()
	}
	return c
}

// start starts a local cloud with opts.
func start(opts Options) (*Cloud, error) {
	template, log := opts.Template, opts.Log
	root, err := launcher.FindRepoRoot()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	lc, err := launcher.Start(ctx, launcher.Config{
		RepoRoot: root,
		Template: template,
		Ports:    launcher.Ports{}, // all free ports: tests run beside `make run`
		Logger:   log,
		Settings: opts.Settings,
		Through:  opts.Through,
	})
	if err != nil {
		return nil, err
	}
	return &Cloud{
		APIURL:             lc.APIURL,
		WebURL:             lc.WebURL,
		SESURL:             lc.SESURL,
		StepFunctionsURL:   lc.StepFunctionsURL,
		DynamoDBURL:        lc.DynamoDBURL,
		SchedulesURL:       lc.SchedulesURL,
		Table:              lc.Table,
		DynamoDB:           dynamodb.NewFromConfig(lc.AWS),
		StateMachineARN:    lc.StateMachineARN,
		ExpressMachineARNs: lc.ExpressMachineARNs,
		SFN:                sfn.NewFromConfig(lc.AWS),
		Engine:             lc.StepFunctions,
		AWS:                lc.AWS,
		ses:                lc.SES,
		cloud:              lc,
		signer:             v4.NewSigner(),
		CognitoURL:         lc.CognitoURL,
		Operators:          lc.Operators,
		tokens:             map[string]string{},
	}, nil
}

// OperatorToken signs in as the local operator of group (shop-admin, sales,
// accounting) with the user pools API, as the back-office page does, and returns the
// ID token; it is kept for later calls.
func (c *Cloud) OperatorToken(t testing.TB, group string) string {
	t.Helper()
	c.tokMu.Lock()
	defer c.tokMu.Unlock()
	if tok := c.tokens[group]; tok != "" && time.Until(cognito.Expiry(tok)) > time.Minute {
		return tok
	}
	op, ok := c.Operators.Operator(group)
	if !ok {
		t.Fatalf("cloudtest: no local operator in group %q", group)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, ch, err := cognito.New(c.CognitoURL, nil).SignIn(ctx, c.Operators.ClientID, op.Email, op.Password)
	if err != nil || ch != nil {
		t.Fatalf("cloudtest: sign in as %s: %v (challenge %+v)", op.Email, err, ch)
	}
	c.tokens[group] = tok.IDToken
	return tok.IDToken
}

// OperatorRequest builds a request to the API (path like "/admin/orders?status=PAID")
// bearing the ID token of group's operator. A non-empty body is sent as JSON.
func (c *Cloud) OperatorRequest(t testing.TB, group, method, path string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, c.APIURL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("cloudtest: %v", err)
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.OperatorToken(t, group))
	return req
}

// Mail returns every e-mail sent through SES so far, oldest first.
func (c *Cloud) Mail(ctx context.Context) ([]seslocal.Message, error) {
	return c.ses.Messages(ctx)
}

// ClearMail forgets the e-mails sent so far, so a test sees only its own.
func (c *Cloud) ClearMail(ctx context.Context) error {
	return c.ses.Clear(ctx)
}

// SignedRequest builds a request to the API (path like "/ops/orders?status=PAID")
// signed with SigV4 with the local credentials, as automation with an IAM role would
// sign a call to an AWS_IAM route. A non-empty body is sent as JSON.
func (c *Cloud) SignedRequest(method, path string, body []byte) (*http.Request, error) {
	req, err := http.NewRequest(method, c.APIURL+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("cloudtest: %w", err)
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: launcher.AccessKeyID, SecretAccessKey: launcher.SecretAccessKey}
	if err := c.signer.SignHTTP(req.Context(), creds, req, hex.EncodeToString(sum[:]), "execute-api", launcher.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("cloudtest: sign request: %w", err)
	}
	return req, nil
}

// RunSchedule fires the template's schedule of function (a logical ID, e.g.
// "ReconcileFunction") as EventBridge would, through the schedule's own authorisation,
// and returns the function's answer (see launcher.Cloud.InvokeSchedule).
func (c *Cloud) RunSchedule(ctx context.Context, function string) ([]byte, error) {
	return c.cloud.InvokeSchedule(ctx, function)
}
