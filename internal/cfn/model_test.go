package cfn_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmsshop/checkout/internal/cfn"
	"github.com/lmsshop/checkout/internal/stack"
)

const repoRoot = "../.."

// transformed runs the real SAM transform on the repository's template.
func transformed(t *testing.T) *cfn.Template {
	t.Helper()
	path, err := cfn.Transform(context.Background(), repoRoot, filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.StackName, opts.TableName = "local", "local-checkout"
	opts.Params = map[string]string{"StorefrontUrl": "http://127.0.0.1:8080"}
	tpl, err := cfn.Load(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// The routes read from the API's OpenAPI body are the SAM template's HttpApi events:
// the transformed template serves what the template declares, and the back office
// alone requires SigV4.
func TestRoutesFromTheTransformedTemplate(t *testing.T) {
	tpl := transformed(t)
	fns, err := tpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	got, err := tpl.Routes(fns)
	if err != nil {
		t.Fatal(err)
	}
	sam, err := stack.Load(filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := sam.Routes()
	if len(got) != len(want) {
		t.Fatalf("%d routes, want the template's %d:\ngot  %v\nwant %v", len(got), len(want), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("route %d = %+v, want %+v", i, got[i], want[i])
		}
		if got[i].IAM != strings.HasPrefix(got[i].Path, "/admin/") {
			t.Errorf("%s: IAM = %v", got[i].Key(), got[i].IAM)
		}
	}
}

func TestFunctionsEnvironmentAndRoles(t *testing.T) {
	tpl := transformed(t)
	fns, err := tpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]cfn.Function{}
	for _, f := range fns {
		byID[f.LogicalID] = f
	}
	order, ok := byID["OrderFunction"]
	if !ok {
		t.Fatalf("no OrderFunction in %v", fns)
	}
	for k, v := range map[string]string{
		"TABLE_NAME":     "local-checkout",
		"SHOP_ID":        "demo",
		"STOREFRONT_URL": "http://127.0.0.1:8080",
	} {
		if order.Env[k] != v {
			t.Errorf("OrderFunction %s = %q, want %q", k, order.Env[k], v)
		}
	}
	if order.ARN != "arn:aws:lambda:us-east-1:000000000000:function:OrderFunction" || order.Role != "OrderFunctionRole" {
		t.Errorf("OrderFunction ARN %s role %s", order.ARN, order.Role)
	}
	role, err := tpl.Role(order.Role)
	if err != nil {
		t.Fatal(err)
	}
	var props struct {
		Policies []struct {
			PolicyDocument struct {
				Statement []struct {
					Resource any
				}
			}
		}
	}
	if err := json.Unmarshal(role.Properties, &props); err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(props)
	for _, want := range []string{
		`arn:aws:dynamodb:us-east-1:000000000000:table/local-checkout`,
		`arn:aws:dynamodb:us-east-1:000000000000:table/local-checkout/index/*`,
	} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("OrderFunctionRole does not grant %s: %s", want, doc)
		}
	}
	if strings.Contains(string(role.Properties), "Fn::") || strings.Contains(string(role.Properties), `"Ref"`) {
		t.Errorf("role still holds intrinsics: %s", role.Properties)
	}
}

func TestStateMachineDefinitionIsSubstituted(t *testing.T) {
	tpl := transformed(t)
	sms, err := tpl.StateMachines()
	if err != nil || len(sms) != 1 {
		t.Fatalf("state machines %v, %v", sms, err)
	}
	sm := sms[0]
	if sm.ARN != "arn:aws:states:us-east-1:000000000000:stateMachine:local-checkout" {
		t.Errorf("ARN = %s", sm.ARN)
	}
	rel, err := cfn.DefinitionFile(filepath.Join(repoRoot, "template.yaml"), sm.LogicalID)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatal(err)
	}
	def, err := sm.Substitute(raw)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(def), "${") || !strings.Contains(string(def), "arn:aws:lambda:us-east-1:000000000000:function:ProduceFunction") {
		t.Errorf("definition not substituted:\n%s", def)
	}
	if _, err := sm.Substitute([]byte(`{"Resource": "${NoSuchArn}"}`)); err == nil || !strings.Contains(err.Error(), "NoSuchArn") {
		t.Errorf("undefined placeholder: err = %v", err)
	}
}

func TestCORSFromTheAPIBody(t *testing.T) {
	c, err := transformed(t).CORS()
	if err != nil || c == nil {
		t.Fatalf("CORS = %v, %v", c, err)
	}
	if len(c.AllowOrigins) != 1 || c.MaxAge != 600 || len(c.AllowMethods) == 0 || len(c.AllowHeaders) == 0 {
		t.Errorf("CORS = %+v", c)
	}
}

// A template the SAM transform refuses gives the translator's message, and no output.
func TestTransformRefusal(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// An AWS_IAM route on an API that does not enable the IAM authorizer.
	broken := strings.Replace(string(raw), "EnableIamAuthorizer: true", "EnableIamAuthorizer: false", 1)
	if broken == string(raw) {
		t.Fatal("template.yaml no longer enables the IAM authorizer; update the test")
	}
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := cfn.Transform(context.Background(), repoRoot, path)
	var te *cfn.TransformError
	if !errors.As(err, &te) || !strings.Contains(te.Message, "Unable to set Authorizer [AWS_IAM]") {
		t.Fatalf("Transform = %q, %v; want the translator's refusal", out, err)
	}
}

func TestTransformIsCached(t *testing.T) {
	a, err := cfn.Transform(context.Background(), repoRoot, filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := cfn.Transform(context.Background(), repoRoot, filepath.Join(repoRoot, "template.yaml"))
	if err != nil || a != b {
		t.Fatalf("second transform %q, %v; want the cached %q", b, err, a)
	}
	if !strings.Contains(a, filepath.Join(".cache", "samtransform")) {
		t.Errorf("output %s is not under .cache/samtransform", a)
	}
}

func TestSecretARN(t *testing.T) {
	arn := cfn.SecretARN("us-east-1", "000000000000", "local-checkout-settings")
	prefix := "arn:aws:secretsmanager:us-east-1:000000000000:secret:local-checkout-settings-"
	if !strings.HasPrefix(arn, prefix) || len(arn) != len(prefix)+6 {
		t.Errorf("SecretARN = %s, want %s and six characters", arn, prefix)
	}
}
