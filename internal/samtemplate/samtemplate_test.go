package samtemplate_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lmsshop/checkout/internal/cfn"
	"github.com/lmsshop/checkout/internal/localcloud/dynamotest"
	"github.com/lmsshop/checkout/internal/samtemplate"
)

func load(t *testing.T) *samtemplate.Template {
	t.Helper()
	tpl, err := samtemplate.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// The public contract of the routes (docs/api.md), as a buyer's browser and the providers see it.
func TestRoutesMatchTheDesign(t *testing.T) {
	want := map[string]string{
		"GET /catalog":                      "ShopFunction",
		"POST /carts":                       "ShopFunction",
		"GET /carts/{txid}":                 "ShopFunction",
		"PUT /carts/{txid}/lines/{code}":    "ShopFunction",
		"DELETE /carts/{txid}/lines/{code}": "ShopFunction",
		"DELETE /carts/{txid}":              "ShopFunction",
		"POST /carts/{txid}/codes":          "ShopFunction",
		"GET /shop/prefill":                 "ShopFunction",
		"GET /carts/{txid}/requirements":    "PurchaseReqsFunction",
		"PUT /carts/{txid}/requirements":    "PurchaseReqsFunction",
		"GET /carts/{txid}/seats":           "UsersFunction",
		"PUT /carts/{txid}/seats":           "UsersFunction",
		"GET /carts/{txid}/customer":        "CustomerFunction",
		"PUT /carts/{txid}/customer":        "CustomerFunction",
		"GET /carts/{txid}/order":           "OrderFunction",
		"POST /carts/{txid}/order":          "OrderFunction",
		"GET /orders/{txid}":                "PaymentFunction",
		"POST /orders/{txid}/payment":       "PaymentFunction",
		"POST /webhooks/{provider}":         "PaymentWebhookFunction",
		"GET /orders/{txid}/bill":           "BillFunction",
		"ANY /admin/{proxy+}":               "BackofficeFunction",
		"ANY /ops/{proxy+}":                 "BackofficeFunction",
	}
	got := map[string]cfn.Route{}
	for _, r := range load(t).Routes() {
		got[r.Key()] = r
	}
	for key, fn := range want {
		r, ok := got[key]
		if !ok {
			t.Errorf("route %s missing", key)
			continue
		}
		if r.Function != fn {
			t.Errorf("route %s served by %s, want %s", key, r.Function, fn)
		}
		if r.IAM != strings.HasPrefix(r.Path, "/ops/") {
			t.Errorf("route %s: IAM auth = %v, want it exactly on /ops/*", key, r.IAM)
		}
		if (r.Authorizer != "") != strings.HasPrefix(r.Path, "/admin/") {
			t.Errorf("route %s: JWT authorizer %q, want one exactly on /admin/*", key, r.Authorizer)
		}
	}
}

// Every function in the template has its main package, and every main package is deployed.
func TestFunctionsHaveAMainAndViceVersa(t *testing.T) {
	inTemplate := map[string]bool{}
	for _, f := range load(t).Functions() {
		inTemplate[f.Dir] = true
		if _, err := os.Stat(filepath.Join("../..", f.Dir, "main.go")); err != nil {
			t.Errorf("%s: %v", f.LogicalID, err)
		}
	}
	dirs, _ := filepath.Glob("../../functions/*")
	for _, d := range dirs {
		rel, _ := filepath.Rel("../..", d)
		if !inTemplate[rel] {
			t.Errorf("%s is not a function of template.yaml", rel)
		}
	}
}

func TestDefinitionSubstitutionsResolve(t *testing.T) {
	tpl := load(t)
	fns := map[string]bool{}
	for _, f := range tpl.Functions() {
		fns[f.LogicalID] = true
	}
	for _, id := range []string{"CheckoutStateMachine", "PrepareStateMachine", "DeliverStateMachine"} {
		def, err := tpl.StateMachineDefinition(id, "../..", func(id string) string { return "arn:aws:lambda:us-east-1:000000000000:function:" + id }, nil)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(def), "${") {
			t.Errorf("%s: unresolved placeholder left in definition:\n%s", id, def)
		}
		_, subs, _ := tpl.StateMachine(id)
		for name, s := range subs {
			if s.Function != "" && !fns[s.Function] {
				t.Errorf("%s: substitution %s names %s, not a function of the template", id, name, s.Function)
			}
		}
	}
}

func TestUndefinedPlaceholderIsAnError(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sm"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sm", "d.json"), []byte(`{"Resource":"${Nope}"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Parse([]byte("Resources:\n  M:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n      DefinitionUri: sm/d.json\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpl.StateMachineDefinition("M", dir, func(string) string { return "" }, nil); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Fatalf("err = %v, want it to name the undefined substitution", err)
	}
}

// The table that tests and local runs use is the deployed one: same keys, indexes and TTL.
func TestTableFromTemplateWorksInDynamoDBLocal(t *testing.T) {
	db, name := dynamotest.NewTable(t)
	out, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	var idx []string
	for _, g := range out.Table.GlobalSecondaryIndexes {
		idx = append(idx, aws.ToString(g.IndexName))
		// The status index copies what its readers show, no more, no less: INCLUDE with
		// the template's list (without it DynamoDB Local would project keys only).
		want := map[string]string{"gsi1": "INCLUDE", "gsi2": "KEYS_ONLY"}[aws.ToString(g.IndexName)]
		if got := string(g.Projection.ProjectionType); got != want {
			t.Errorf("%s projects %s, want %s", aws.ToString(g.IndexName), got, want)
		}
		if aws.ToString(g.IndexName) == "gsi1" {
			for _, a := range []string{"status", "updatedAt", "totals", "customer", "reason", "itemCode"} {
				if !slices.Contains(g.Projection.NonKeyAttributes, a) {
					t.Errorf("gsi1 does not project %s: %v", a, g.Projection.NonKeyAttributes)
				}
			}
			for _, a := range []string{"lines", "trace", "taskToken", "payments"} {
				if slices.Contains(g.Projection.NonKeyAttributes, a) {
					t.Errorf("gsi1 projects %s, which no reader of the index shows", a)
				}
			}
		}
	}
	if strings.Join(idx, ",") != "gsi1,gsi2" {
		t.Errorf("indexes = %v, want gsi1,gsi2", idx)
	}
	ttl, err := db.DescribeTimeToLive(context.Background(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(ttl.TimeToLiveDescription.AttributeName); got != "expiresAt" {
		t.Errorf("TTL attribute = %q, want expiresAt", got)
	}
}
