package cfn_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/cfn"
	"github.com/lmsshop/checkout/internal/cfn/cfntest"
	"github.com/lmsshop/checkout/internal/samtemplate"
)

const repoRoot = "../.."

// transformed runs the real SAM transform on the repository's template.
func transformed(t *testing.T) *cfn.Template {
	t.Helper()
	return transformedFile(t, filepath.Join(repoRoot, "template.yaml"))
}

// transformedFile runs the real SAM transform on a template file and loads the result
// as the local cloud does.
func transformedFile(t *testing.T, template string) *cfn.Template {
	t.Helper()
	path, err := cfn.Transform(context.Background(), repoRoot, template)
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
// the transformed template serves what the template declares; the operators' back
// office requires the user pool's JWT authorizer, its automation route SigV4.
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
	sam, err := samtemplate.Load(filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := sam.Routes()
	if len(got) != len(want) {
		t.Fatalf("%d routes, want the template's %d:\ngot  %v\nwant %v", len(got), len(want), got, want)
	}
	for i := range want {
		if got[i].Key() != want[i].Key() || got[i].Function != want[i].Function || got[i].IAM != want[i].IAM || got[i].Authorizer != want[i].Authorizer {
			t.Errorf("route %d = %+v, want %+v", i, got[i], want[i])
		}
		if got[i].IAM != strings.HasPrefix(got[i].Path, "/ops/") {
			t.Errorf("%s: IAM = %v", got[i].Key(), got[i].IAM)
		}
		if (got[i].Authorizer == "OperatorAuthorizer") != strings.HasPrefix(got[i].Path, "/admin/") {
			t.Errorf("%s: JWT authorizer %q", got[i].Key(), got[i].Authorizer)
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
	// The table, the state machine it starts (a !Ref) and the settings secret (a !Ref
	// to a secret the stack names): each resolved to the ARN the local cloud uses.
	for _, want := range []string{
		`"arn:aws:dynamodb:us-east-1:000000000000:table/local-checkout"`,
		`"arn:aws:states:us-east-1:000000000000:stateMachine:local-CheckoutStateMachine"`,
		`"arn:aws:secretsmanager:us-east-1:000000000000:secret:local-checkout-settings-`,
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
	if err != nil || len(sms) != 4 {
		t.Fatalf("state machines %v, %v", sms, err)
	}
	// Sorted by logical ID. The template gives the state machines no name: each is
	// named after the stack and its logical ID, as CloudFormation does.
	want := []struct{ id, typ, mentions string }{
		{"CheckoutStateMachine", "STANDARD", "arn:aws:states:us-east-1:000000000000:stateMachine:local-DeliverStateMachine"},
		{"DeliverStateMachine", "EXPRESS", "arn:aws:lambda:us-east-1:000000000000:function:BillFunction"},
		{"MailStateMachine", "EXPRESS", "arn:aws:lambda:us-east-1:000000000000:function:NotifyFunction"},
		{"PrepareStateMachine", "EXPRESS", "arn:aws:lambda:us-east-1:000000000000:function:ProduceFunction"},
	}
	for i, sm := range sms {
		w := want[i]
		if sm.LogicalID != w.id || sm.Type != w.typ || sm.ARN != "arn:aws:states:us-east-1:000000000000:stateMachine:local-"+w.id {
			t.Errorf("state machine %d = %s %s %s, want %s %s", i, sm.LogicalID, sm.Type, sm.ARN, w.id, w.typ)
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
		if strings.Contains(string(def), "${") || !strings.Contains(string(def), w.mentions) {
			t.Errorf("%s: definition not substituted:\n%s", sm.LogicalID, def)
		}
	}
	if _, err := sms[0].Substitute([]byte(`{"Resource": "${NoSuchArn}"}`)); err == nil || !strings.Contains(err.Error(), "NoSuchArn") {
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
	out, err := cfn.Transform(context.Background(), repoRoot, cfntest.RefusedTemplate(t, repoRoot))
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

// An API body as the transform writes it for JWT, IAM and Lambda authorizers.
const authTemplate = `{
  "Resources": {
    "Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {}},
    "Client": {"Type": "AWS::Cognito::UserPoolClient", "Properties": {}},
    "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["FnRole", "Arn"]}}},
    "FnRole": {"Type": "AWS::IAM::Role", "Properties": {}},
    "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Body": {
      "paths": {
        "/admin/{proxy+}": {"x-amazon-apigateway-any-method": {
          "x-amazon-apigateway-integration": {"uri": {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}},
          "security": [{"Ops": ["orders/read"]}]}},
        "/ops/{proxy+}": {"x-amazon-apigateway-any-method": {
          "x-amazon-apigateway-integration": {"uri": {"Fn::Sub": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}},
          "security": [{"AWS_IAM": []}]}},
        "/public": {"get": {
          "x-amazon-apigateway-integration": {"uri": {"Fn::Sub": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}}}}
      },
      "components": {"securitySchemes": {
        "AWS_IAM": {"type": "apiKey", "x-amazon-apigateway-authtype": "awsSigv4"},
        "Ops": {"type": "oauth2", "x-amazon-apigateway-authorizer": {"type": "jwt", "identitySource": "$request.header.Authorization",
          "jwtConfiguration": {"issuer": {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${Pool}"}, "audience": [{"Ref": "Client"}]}}}
      }}
    }}}
  }
}`

func TestRoutesAuthorization(t *testing.T) {
	tpl, err := cfn.Parse([]byte(authTemplate), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	fns, err := tpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	routes, err := tpl.Routes(fns)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]cfn.Route{}
	for _, r := range routes {
		got[r.Key()] = r
	}
	if r := got["ANY /admin/{proxy+}"]; r.Authorizer != "Ops" || len(r.Scopes) != 1 || r.Scopes[0] != "orders/read" || r.IAM || r.Function != "Fn" {
		t.Errorf("JWT route = %+v", r)
	}
	if r := got["ANY /ops/{proxy+}"]; !r.IAM || r.Authorizer != "" {
		t.Errorf("IAM route = %+v", r)
	}
	if r, ok := got["GET /public"]; !ok || r.IAM || r.Authorizer != "" {
		t.Errorf("public route = %+v", r)
	}
	auths, err := tpl.JWTAuthorizers()
	if err != nil {
		t.Fatal(err)
	}
	a := auths["Ops"]
	if !strings.HasPrefix(a.Issuer, "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_") || len(a.Audience) != 1 || a.Audience[0] == "" ||
		a.IdentitySource != "$request.header.Authorization" {
		t.Errorf("authorizer = %+v", a)
	}

	// A Lambda authorizer is not emulated: the routes are refused, not served open.
	lambdaAuth := strings.Replace(authTemplate, `"type": "jwt"`, `"type": "request"`, 1)
	tpl, err = cfn.Parse([]byte(lambdaAuth), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpl.Routes(fns); err == nil || !strings.Contains(err.Error(), "authorizer Ops is not supported") {
		t.Errorf("Lambda authorizer: err = %v", err)
	}
}

// A secret's Ref is the ARN the local Secrets Manager gave it, once it exists.
func TestSecretRefUsesTheStoresARN(t *testing.T) {
	opts := testOptions()
	opts.SecretARN = func(name string) (string, bool) {
		if name == "shop-settings" {
			return "arn:aws:secretsmanager:us-east-1:000000000000:secret:shop-settings-AbCdEf", true
		}
		return "", false
	}
	tpl := parseTestTemplate(t, opts)
	got, err := tpl.Resolver().String(map[string]any{"Ref": "Secret"})
	if err != nil || got != "arn:aws:secretsmanager:us-east-1:000000000000:secret:shop-settings-AbCdEf" {
		t.Errorf("Ref Secret = %q, %v", got, err)
	}
	secrets, err := tpl.Secrets()
	if err != nil || len(secrets) != 1 || secrets[0].Name != "shop-settings" {
		t.Errorf("Secrets = %+v, %v", secrets, err)
	}
}

// A resource a local emulator created is referred to by the emulator's ID.
func TestRefsOverride(t *testing.T) {
	opts := testOptions()
	opts.Refs = map[string]string{"Pool": "local_pool1", "Client": "client1"}
	tpl, err := cfn.Parse([]byte(authTemplate), opts)
	if err != nil {
		t.Fatal(err)
	}
	auths, err := tpl.JWTAuthorizers()
	if err != nil {
		t.Fatal(err)
	}
	if a := auths["Ops"]; a.Issuer != "https://cognito-idp.us-east-1.amazonaws.com/local_pool1" || len(a.Audience) != 1 || a.Audience[0] != "client1" {
		t.Errorf("authorizer = %+v", a)
	}
}

// TestAttachedPoliciesGrantTheirRoles: a policy resource (AWS::IAM::Policy) names the
// roles it is attached to; each of those roles gets its statements, as in AWS, and no
// other role does. The template grants inline today, so the test adds such a resource to
// a copy of it.
func TestAttachedPoliciesGrantTheirRoles(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const policy = `  ExtraMailPolicy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: extra-mail
      Roles: [!Ref BackofficeFunctionRole, !Ref PaymentWebhookFunctionRole]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: ses:SendEmail
            Resource: !Sub "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderEmail}"

Outputs:`
	text := strings.Replace(string(raw), "\nOutputs:", "\n"+policy, 1)
	copyPath := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(copyPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	tpl := transformedFile(t, copyPath)
	tests := []struct {
		role  string
		grant bool
	}{
		{"BackofficeFunctionRole", true},
		{"PaymentWebhookFunctionRole", true},
		{"ShopFunctionRole", false},
	}
	for _, tt := range tests {
		role, err := tpl.Role(tt.role)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range role.Attached {
			if p.Name == "extra-mail" {
				found = true
				if !strings.Contains(string(p.Document), "identity/shop@example.com") || strings.Contains(string(p.Document), "Fn::") {
					t.Errorf("%s: attached policy %s, want its intrinsics resolved", tt.role, p.Document)
				}
			}
		}
		if found != tt.grant {
			t.Errorf("%s has the extra-mail policy: %v, want %v", tt.role, found, tt.grant)
		}
	}
}

// The table the local cloud creates from the transformed template has the deployed
// indexes' projections, INCLUDE's attribute list with them: a local table projecting
// less than AWS would hide a reader that needs more.
func TestCreateTableInputKeepsTheProjections(t *testing.T) {
	in, err := transformed(t).CreateTableInput("local-checkout")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		index, kind string
		includes    []string
	}{
		{"gsi1", "INCLUDE", []string{"status", "updatedAt", "totals", "customer", "reason", "itemCode"}},
		{"gsi2", "KEYS_ONLY", nil},
	}
	for _, tt := range tests {
		var got *types.Projection
		for _, g := range in.GlobalSecondaryIndexes {
			if aws.ToString(g.IndexName) == tt.index {
				got = g.Projection
			}
		}
		if got == nil || string(got.ProjectionType) != tt.kind {
			t.Errorf("%s: projection %+v, want %s", tt.index, got, tt.kind)
			continue
		}
		for _, a := range tt.includes {
			if !slices.Contains(got.NonKeyAttributes, a) {
				t.Errorf("%s does not project %s: %v", tt.index, a, got.NonKeyAttributes)
			}
		}
		if tt.includes == nil && len(got.NonKeyAttributes) > 0 {
			t.Errorf("%s: NonKeyAttributes %v on a %s index", tt.index, got.NonKeyAttributes, tt.kind)
		}
	}
}

// Each function's Timeout reaches the local cloud as Lambda applies it: the template's
// whole seconds, Lambda's 3 s default when absent; a value Lambda refuses is refused.
func TestFunctionTimeout(t *testing.T) {
	tests := []struct {
		name    string
		timeout string // the Timeout property's JSON, "" for none
		want    time.Duration
		wantErr bool
	}{
		{name: "absent is Lambda's default", want: 3 * time.Second},
		{name: "number", timeout: `1`, want: time.Second},
		{name: "string", timeout: `"300"`, want: 300 * time.Second},
		{name: "zero", timeout: `0`, wantErr: true},
		{name: "over Lambda's 900 s", timeout: `901`, wantErr: true},
		{name: "fraction", timeout: `1.5`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := `"Role": {"Fn::GetAtt": ["FnRole", "Arn"]}`
			if tt.timeout != "" {
				props += `, "Timeout": ` + tt.timeout
			}
			tpl, err := cfn.Parse([]byte(`{"Resources": {
  "Fn": {"Type": "AWS::Lambda::Function", "Properties": {`+props+`}},
  "FnRole": {"Type": "AWS::IAM::Role", "Properties": {}}}}`), testOptions())
			if err != nil {
				t.Fatal(err)
			}
			fns, err := tpl.Functions()
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "Fn.Timeout") {
					t.Fatalf("Functions() err = %v, want a refusal naming Fn.Timeout", err)
				}
				return
			}
			if err != nil || len(fns) != 1 || fns[0].Timeout != tt.want {
				t.Fatalf("Functions() = %+v, %v; want Timeout %s", fns, err, tt.want)
			}
		})
	}
}

// The transform copies Globals' Timeout into every function that sets none.
func TestTemplateTimeouts(t *testing.T) {
	fns, err := transformed(t).Functions()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fns {
		if f.LogicalID == "OrderFunction" && f.Timeout != 10*time.Second {
			t.Errorf("OrderFunction Timeout = %s, want Globals' 10s", f.Timeout)
		}
	}
}
