package e2e_test

import (
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/localcloud/cloudtest"
	"github.com/lmsshop/checkout/internal/localcloud/proc"
	"github.com/lmsshop/checkout/internal/localcloud/sfnlocal"
	"github.com/lmsshop/checkout/internal/storefront"
)

// templateWithout writes a copy of template.yaml without the first occurrence of line
// after the line starting the resource block, beside copies of the state machines'
// definitions, and returns its path.
func templateWithout(t *testing.T, resource, line string) string {
	t.Helper()
	raw, err := os.ReadFile("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := string(raw)
	i := strings.Index(src, "\n  "+resource+":\n")
	j := -1
	if i >= 0 {
		j = strings.Index(src[i:], "\n"+line+"\n")
	}
	if j < 0 {
		t.Fatalf("template.yaml has no line %q in %s: update the test", line, resource)
	}
	cut := src[:i+j] + src[i+j+len(line)+1:]
	return writeTemplate(t, cut)
}

// writeTemplate writes a variant of template.yaml into a temporary folder, beside the
// state machine definitions it names by relative paths, and returns its path.
func writeTemplate(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "statemachine"), 0o755); err != nil {
		t.Fatal(err)
	}
	defs, err := filepath.Glob("../statemachine/*.asl.json")
	if err != nil || len(defs) == 0 {
		t.Fatalf("no state machine definitions: %v", err)
	}
	for _, d := range defs {
		asl, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "statemachine", filepath.Base(d)), asl, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A grant removed from the template is a call refused on the local cloud, surfaced as
// AWS surfaces it: the function's AccessDeniedException becomes the API's 500, and a
// task the state machine's role may not invoke fails the execution with Lambda's error.
func TestRemovedGrantIsRefused(t *testing.T) {
	tests := []struct {
		name     string
		resource string
		line     string
		// run drives the path that needs the grant and checks how it fails.
		run func(t *testing.T, c *cloudtest.Cloud)
		// denied is what the IAM denial names.
		denied []string
	}{
		{
			name:     "ShopFunction without its DynamoDB grant cannot create a cart",
			resource: "ShopFunction",
			// The whole statement, so the function keeps no DynamoDB action at all.
			line: "        - Statement:\n" +
				"            - Effect: Allow\n" +
				"              Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:Query]\n" +
				"              Resource: !GetAtt CheckoutTable.Arn",
			run: func(t *testing.T, c *cloudtest.Cloud) {
				r := call(t, "POST", c.APIURL+"/carts", "", "")
				if r.status != http.StatusInternalServerError {
					t.Errorf("POST /carts = %d %s, want 500", r.status, r.raw)
				}
				// The catalog read needs the grant too.
				if r := call(t, "GET", c.APIURL+"/catalog", "", ""); r.status != http.StatusInternalServerError {
					t.Errorf("GET /catalog = %d %s, want 500", r.status, r.raw)
				}
			},
			denied: []string{"assumed-role/local-ShopFunctionRole/ShopFunction", "dynamodb:", "table/local-checkout"},
		},
		{
			// ProducePrepay runs in the prepare Express machine, as its role.
			name:     "the prepare run without invoke on ProduceFunction fails its first task",
			resource: "PrepareStateMachine",
			line:     "        - LambdaInvokePolicy: { FunctionName: !Ref ProduceFunction }",
			run: func(t *testing.T, c *cloudtest.Cloud) {
				r := call(t, "POST", c.APIURL+"/carts", "", "")
				if r.status != http.StatusCreated {
					t.Fatalf("POST /carts = %d %s", r.status, r.raw)
				}
				b := &buyer{t: t, Client: storefront.Client{API: c.APIURL, HTTP: noRedirect, TxID: r.body["transactionId"].(string), Token: r.body["cartToken"].(string)}}
				b.placeOne("GO-101", "test")
				// The execution is named after the transaction; the failures of the runs
				// it started are in their logs (the engine reads both).
				arn := strings.Replace(c.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + b.TxID
				var failed []sfnlocal.Failure
				for deadline := time.Now().Add(30 * time.Second); len(failed) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
					var err error
					if failed, err = c.Engine.TaskFailures(arn); err != nil {
						t.Fatalf("execution history: %v", err)
					}
				}
				if len(failed) == 0 {
					t.Fatal("no task failed in the execution or its runs")
				}
				d := failed[0]
				if d.State != "ProducePrepay" || d.Error != "Lambda.AWSLambdaException" ||
					!strings.Contains(d.Cause, "lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:000000000000:function:ProduceFunction") {
					t.Errorf("failed task = %+v, want ProducePrepay failing with Lambda.AWSLambdaException for ProduceFunction", d)
				}
			},
			denied: []string{"local-PrepareStateMachineRole", "lambda:InvokeFunction", "function:ProduceFunction"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &proc.Output{}
			c := cloudtest.StartTemplate(t, templateWithout(t, tt.resource, tt.line),
				slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
			tt.run(t, c)
			found := false
			for _, l := range strings.Split(logs.String(), "\n") {
				if !strings.Contains(l, "iam: access denied") {
					continue
				}
				all := true
				for _, w := range tt.denied {
					all = all && strings.Contains(l, w)
				}
				found = found || all
			}
			if !found {
				t.Errorf("no IAM denial naming %v in the logs:\n%s", tt.denied, logs.String())
			}
		})
	}
}
