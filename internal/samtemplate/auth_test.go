package samtemplate_test

import (
	"path/filepath"
	"testing"

	"github.com/lmsshop/checkout/internal/cfn"
	"github.com/lmsshop/checkout/internal/samtemplate"
)

// The back office's routes: operators through the user pool's JWT authorizer,
// automation through IAM; and the groups the back office checks exist in the template.
func TestOperatorAuth(t *testing.T) {
	tpl, err := samtemplate.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	auth := map[string]cfn.Route{}
	for _, r := range tpl.Routes() {
		if r.Function == "BackofficeFunction" {
			auth[r.Key()] = r
		}
	}
	if r := auth["ANY /admin/{proxy+}"]; r.Authorizer != "OperatorAuthorizer" || r.IAM {
		t.Errorf("/admin route: %+v, want the OperatorAuthorizer JWT authorizer", r)
	}
	if r := auth["ANY /ops/{proxy+}"]; !r.IAM || r.Authorizer != "" {
		t.Errorf("/ops route: %+v, want AWS_IAM", r)
	}
	j, ok := tpl.JWTAuthorizers()["OperatorAuthorizer"]
	if !ok {
		t.Fatal("no OperatorAuthorizer on the HttpApi")
	}
	if j.IssuerPool != "OperatorUserPool" || len(j.Audience) != 1 || j.Audience[0] != "OperatorUserPoolClient" ||
		j.IdentitySource != "$request.header.Authorization" {
		t.Errorf("OperatorAuthorizer: %+v", j)
	}
	groups, err := tpl.ResourcesOfType("AWS::Cognito::UserPoolGroup")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range groups {
		names = append(names, g.Properties["GroupName"].(string))
	}
	if len(names) != 3 || names[0] != "shop-admin" || names[1] != "sales" || names[2] != "accounting" {
		t.Errorf("groups %v, want shop-admin, sales, accounting", names)
	}
}
