package launcher_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lmsshop/checkout/internal/cfn"
	"github.com/lmsshop/checkout/internal/cfn/cfntest"
	"github.com/lmsshop/checkout/internal/localcloud/launcher"
	"github.com/lmsshop/checkout/internal/localcloud/proc"
	"github.com/lmsshop/checkout/internal/localcloud/sfnlocal"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := launcher.FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// occupy holds a loopback port for the test's lifetime.
func occupy(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

func TestPortInUse(t *testing.T) {
	root := repoRoot(t)
	tests := []struct {
		name    string
		ports   func(taken int) launcher.Ports
		service string
	}{
		{"API", func(p int) launcher.Ports { return launcher.Ports{API: p} }, "API Gateway"},
		{"DynamoDB Local", func(p int) launcher.Ports { return launcher.Ports{DynamoDB: p} }, "DynamoDB Local"},
		{"SES", func(p int) launcher.Ports { return launcher.Ports{SES: p} }, "SES emulator"},
		{"Step Functions", func(p int) launcher.Ports { return launcher.Ports{StepFunctions: p} }, "Step Functions"},
		{"storefront", func(p int) launcher.Ports { return launcher.Ports{Web: p} }, "storefront"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			taken := occupy(t)
			c, err := launcher.Start(context.Background(), launcher.Config{RepoRoot: root, Ports: tt.ports(taken)})
			if err == nil {
				c.Close()
				t.Fatal("Start succeeded on a taken port")
			}
			var pe *launcher.PortInUseError
			if !errors.As(err, &pe) || pe.Port != taken || pe.Service != tt.service {
				t.Fatalf("err = %v, want PortInUseError{%d, %s}", err, taken, tt.service)
			}
			if want := fmt.Sprintf("port %d (%s) is already in use", taken, tt.service); err.Error() != want {
				t.Errorf("message = %q, want %q", err.Error(), want)
			}
		})
	}
}

func TestMissingTools(t *testing.T) {
	root := repoRoot(t)
	emptyRepo := t.TempDir()
	raw, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(emptyRepo, "template.yaml"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		repo string
		path string // PATH for the test
		tool string
	}{
		{"no java on PATH", root, t.TempDir(), "java"},
		{"no node_modules", emptyRepo, os.Getenv("PATH"), "aws-ses-v2-local (node_modules)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", tt.path)
			t.Setenv("SES_LOCAL_BIN", "")
			_, err := launcher.Start(context.Background(), launcher.Config{RepoRoot: tt.repo})
			var me *launcher.MissingToolError
			if !errors.As(err, &me) || me.Tool != tt.tool {
				t.Fatalf("err = %v, want MissingToolError for %s", err, tt.tool)
			}
			if !strings.Contains(err.Error(), "make deps") {
				t.Errorf("message %q does not say how to install it", err)
			}
		})
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	taken := occupy(t)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"unknown flag", []string{"-nope"}, 2, "flag provided but not defined: -nope"},
		{"stray argument", []string{"start"}, 2, `unexpected argument "start"`},
		{"port taken", []string{"-api-port", fmt.Sprint(taken), "-dynamodb-port", "0", "-ses-port", "0", "-sfn-port", "0", "-web-port", "0", "-cognito-port", "0"}, 1, fmt.Sprintf("localcloud: port %d (API Gateway) is already in use\n", taken)},
		{"not a repo", []string{"-repo", t.TempDir()}, 1, "template.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut strings.Builder
			code := launcher.Run(context.Background(), tt.args, &out, &errOut)
			if code != tt.code || !strings.Contains(errOut.String(), tt.stderr) {
				t.Errorf("Run = %d, stderr %q; want %d and %q", code, errOut.String(), tt.code, tt.stderr)
			}
			if strings.Contains(errOut.String(), "goroutine ") {
				t.Errorf("stderr holds a stack trace: %s", errOut.String())
			}
			if out.Len() != 0 {
				t.Errorf("stdout = %q, want nothing on failure", out.String())
			}
		})
	}
}

// TestRunStartsAndStopsEverything is `make run` end to end on free ports: every URL
// printed answers, then cancelling (Ctrl-C) stops every part, children included.
func TestRunStartsAndStopsEverything(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DynamoDB Local and node")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut proc.Output
	done := make(chan int, 1)
	args := []string{"-repo", repoRoot(t), "-api-port", "0", "-dynamodb-port", "0", "-ses-port", "0", "-sfn-port", "0", "-web-port", "0", "-cognito-port", "0"}
	go func() { done <- launcher.Run(ctx, args, &out, &errOut) }()

	deadline := time.After(90 * time.Second)
	for !strings.HasSuffix(out.String(), "ready\n") {
		select {
		case code := <-done:
			t.Fatalf("Run ended with %d before ready; stderr:\n%s", code, errOut.String())
		case <-deadline:
			t.Fatalf("no ready line after 90 s; stdout %q stderr:\n%s", out.String(), errOut.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	urls := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	re := regexp.MustCompile(`^(.*?)\s{2,}(http://127\.0\.0\.1:\d+)`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			urls[m[1]] = m[2]
		}
	}
	for _, name := range []string{"storefront", "API (HTTP API)", "mail viewer (SES)", "Step Functions", "DynamoDB Local", "Cognito (operators)"} {
		if urls[name] == "" {
			t.Fatalf("no URL printed for %s in:\n%s", name, out.String())
		}
	}

	checks := []struct {
		name, url string
		status    int
		body      string // substring
	}{
		{"storefront page", urls["storefront"] + "/", 200, "/config.js"},
		{"storefront config", urls["storefront"] + "/config.js", 200, `"apiUrl":"` + urls["API (HTTP API)"] + `"`},
		{"operators' sign-in in config", urls["storefront"] + "/config.js", 200, `"endpoint":"` + urls["Cognito (operators)"] + `/"`},
		{"API unknown route", urls["API (HTTP API)"] + "/no/such/route", 404, `{"message":"Not Found"}`},
		{"API admin without a token", urls["API (HTTP API)"] + "/admin/orders", 401, `{"message":"Unauthorized"}`},
		{"API ops unsigned", urls["API (HTTP API)"] + "/ops/orders", 403, `{"message":"Forbidden"}`},
		{"Cognito emulator", urls["Cognito (operators)"] + "/health", 200, `"ok"`},
		{"mail viewer", urls["mail viewer (SES)"] + "/store", 200, `"emails"`},
	}
	for _, c := range checks {
		resp, err := http.Get(c.url)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.Contains(string(b), c.body) {
			t.Errorf("%s: %d %q, want %d containing %q", c.name, resp.StatusCode, b, c.status, c.body)
		}
	}

	// One operator per group, with the password to sign in with.
	for _, g := range []string{"shop-admin", "sales", "accounting"} {
		if !regexp.MustCompile(`operator ` + g + `\s+` + g + `@\S+\s+password \S{12,}`).MatchString(out.String()) {
			t.Errorf("no credentials printed for the %s operator in:\n%s", g, out.String())
		}
	}

	// CORS comes from the template's CorsConfiguration, with the local storefront as origin.
	for _, origin := range []string{urls["storefront"], strings.Replace(urls["storefront"], "127.0.0.1", "localhost", 1)} {
		req, _ := http.NewRequest(http.MethodOptions, urls["API (HTTP API)"]+"/carts/X", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "PUT")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("preflight from %s: %d, Allow-Origin %q", origin, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}

	// An operator's view: the local credentials, straight to each service.
	smARN := regexp.MustCompile(`arn:aws:states:\S+`).FindString(out.String())
	awsCfg := aws.Config{Region: launcher.Region, Credentials: credentials.NewStaticCredentialsProvider(launcher.AccessKeyID, launcher.SecretAccessKey, "")}
	db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(urls["DynamoDB Local"]) })
	table, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(launcher.DefaultStackName + "-checkout")})
	if err != nil {
		t.Fatalf("table from template.yaml: %v", err)
	}
	if n := len(table.Table.GlobalSecondaryIndexes); n == 0 {
		t.Errorf("table has no GSIs; template.yaml's definition was not used")
	}
	ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: table.Table.TableName})
	if err != nil || ttl.TimeToLiveDescription == nil || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != "expiresAt" {
		t.Errorf("TTL = %+v, %v; want expiresAt", ttl, err)
	}
	states := sfn.NewFromConfig(awsCfg, func(o *sfn.Options) { o.BaseEndpoint = aws.String(urls["Step Functions"]) })
	exec, err := states.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(smARN), Name: aws.String("LAUNCHERTEST0001"), Input: aws.String(`{"txid":"LAUNCHERTEST0001"}`),
	})
	if err != nil {
		t.Fatalf("StartExecution on the local engine: %v", err)
	}
	desc, err := states.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: exec.ExecutionArn})
	if err != nil || aws.ToString(desc.StateMachineArn) != smARN {
		t.Errorf("DescribeExecution = %+v, %v", desc, err)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("Run returned %d after Ctrl-C; stderr:\n%s", code, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not stop within 30 s of Ctrl-C")
	}
	for name, u := range urls {
		hostport := strings.TrimPrefix(u, "http://")
		if conn, err := net.DialTimeout("tcp", hostport, time.Second); err == nil {
			conn.Close()
			t.Errorf("%s (%s) still answers after stop", name, u)
		}
	}
}

func TestInvoker(t *testing.T) {
	type myErr struct{ error }
	handlers := map[string]lambda.Handler{
		"EchoFunction": lambda.NewHandler(func(_ context.Context, in map[string]any) (map[string]any, error) { return in, nil }),
		"FailFunction": lambda.NewHandler(func(context.Context, map[string]any) (any, error) { return nil, errors.New("card declined") }),
		"TypedFunction": lambda.NewHandler(func(context.Context, map[string]any) (any, error) {
			return nil, &myErr{errors.New("typed")}
		}),
		"PanicFunction": lambda.NewHandler(func(context.Context, map[string]any) (any, error) { panic("boom") }),
	}
	inv := &launcher.Invoker{}
	inv.Set(handlers)
	tests := []struct {
		function string
		out      string
		errType  string // FunctionError.Type
		notFound bool
	}{
		{function: "arn:aws:lambda:us-east-1:000000000000:function:EchoFunction", out: `{"a":1}`},
		{function: "arn:aws:lambda:us-east-1:000000000000:function:EchoFunction:$LATEST", out: `{"a":1}`},
		{function: "000000000000:function:EchoFunction", out: `{"a":1}`},
		{function: "EchoFunction", out: `{"a":1}`},
		{function: "FailFunction", errType: "errorString"},
		{function: "TypedFunction", errType: "myErr"},
		{function: "PanicFunction", errType: "string"},
		{function: "arn:aws:lambda:us-east-1:000000000000:function:Nope", notFound: true},
	}
	for _, tt := range tests {
		t.Run(tt.function, func(t *testing.T) {
			out, err := inv.Invoke(context.Background(), tt.function, []byte(`{"a":1}`))
			switch {
			case tt.notFound:
				if !errors.Is(err, sfnlocal.ErrFunctionNotFound) {
					t.Errorf("err = %v, want ErrFunctionNotFound", err)
				}
			case tt.errType != "":
				var fe *sfnlocal.FunctionError
				if !errors.As(err, &fe) || fe.Type != tt.errType || fe.Message == "" {
					t.Errorf("err = %#v, want FunctionError of type %s", err, tt.errType)
				}
			default:
				if err != nil || string(out) != tt.out {
					t.Errorf("Invoke = %s, %v; want %s", out, err, tt.out)
				}
			}
		})
	}
}

func TestPortsOffset(t *testing.T) {
	got := launcher.DefaultPorts().Offset(100)
	want := launcher.Ports{API: 3100, DynamoDB: 8100, SES: 8105, StepFunctions: 8183, Web: 8180, Cognito: 9329}
	if got != want {
		t.Errorf("Offset(100) = %+v, want %+v", got, want)
	}
	if z := (launcher.Ports{}).Offset(5); z != (launcher.Ports{}) {
		t.Errorf("free ports must stay free (0), got %+v", z)
	}
}

// A template the SAM transform refuses does not start: AWS would refuse to deploy it,
// so nothing of it may serve locally. The translator's words reach the user.
func TestRefusedTemplateDoesNotStart(t *testing.T) {
	root := repoRoot(t)
	c, err := launcher.Start(context.Background(), launcher.Config{RepoRoot: root, Template: cfntest.RefusedTemplate(t, root)})
	if err == nil {
		c.Close()
		t.Fatal("the local cloud started from a template the transform refuses")
	}
	var te *cfn.TransformError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "Unable to set Authorizer [AWS_IAM] on API method [any] for path [/ops/{proxy+}]") {
		t.Fatalf("err = %v, want the translator's refusal", err)
	}
}
