// Package samtemplate reads template.yaml, the SAM template and the one description of
// the deployed system, so that the local cloud, the tests and the consistency checks
// never keep a second list of functions, routes, table keys or state machine
// substitutions.
package samtemplate

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"gopkg.in/yaml.v3"

	"github.com/lmsshop/checkout/internal/cfn"
)

// Template is a parsed SAM template.
type Template struct {
	resources map[string]*yaml.Node
	params    map[string]string
	order     []string // resource logical IDs in file order
}

// Function is an AWS::Serverless::Function of the template.
type Function struct {
	LogicalID string
	// Dir is the package holding its main, by the repo's convention:
	// ShopFunction → functions/shop.
	Dir string
}

// Load parses the template at path.
func Load(path string) (*Template, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("samtemplate: %w", err)
	}
	return Parse(raw)
}

// Parse parses a template's YAML text. CloudFormation's short intrinsic tags (!Ref,
// !Sub, !GetAtt …) stay tagged nodes, which is all this package needs.
func Parse(raw []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("samtemplate: parse template: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("samtemplate: empty template")
	}
	root := doc.Content[0]
	t := &Template{resources: map[string]*yaml.Node{}, params: map[string]string{}}
	res := mapGet(root, "Resources")
	if res == nil {
		return nil, fmt.Errorf("samtemplate: template has no Resources")
	}
	for i := 0; i+1 < len(res.Content); i += 2 {
		id := res.Content[i].Value
		t.resources[id] = res.Content[i+1]
		t.order = append(t.order, id)
	}
	if ps := mapGet(root, "Parameters"); ps != nil {
		for i := 0; i+1 < len(ps.Content); i += 2 {
			if d := mapGet(ps.Content[i+1], "Default"); d != nil {
				t.params[ps.Content[i].Value] = d.Value
			}
		}
	}
	return t, nil
}

// ParameterDefaults returns each parameter's default value.
func (t *Template) ParameterDefaults() map[string]string {
	out := make(map[string]string, len(t.params))
	for k, v := range t.params {
		out[k] = v
	}
	return out
}

func (t *Template) resourcesOfType(typ string) []string {
	var ids []string
	for _, id := range t.order {
		if n := mapGet(t.resources[id], "Type"); n != nil && n.Value == typ {
			ids = append(ids, id)
		}
	}
	return ids
}

// Functions lists the template's functions in file order.
func (t *Template) Functions() []Function {
	var out []Function
	for _, id := range t.resourcesOfType("AWS::Serverless::Function") {
		out = append(out, Function{LogicalID: id, Dir: FunctionDir(id)})
	}
	return out
}

// FunctionDir maps a logical ID to its main package: PaymentWebhookFunction → functions/paymentwebhook.
func FunctionDir(logicalID string) string {
	return filepath.Join("functions", strings.ToLower(strings.TrimSuffix(logicalID, "Function")))
}

// Routes lists every HttpApi event of every function, sorted by path then method, as the
// routes the transformed template serves (cfn.Route) so that the two can be compared.
func (t *Template) Routes() []cfn.Route {
	var out []cfn.Route
	for _, id := range t.resourcesOfType("AWS::Serverless::Function") {
		events := mapGet(mapGet(t.resources[id], "Properties"), "Events")
		if events == nil {
			continue
		}
		for i := 0; i+1 < len(events.Content); i += 2 {
			ev := events.Content[i+1]
			if n := mapGet(ev, "Type"); n == nil || n.Value != "HttpApi" {
				continue
			}
			p := mapGet(ev, "Properties")
			r := cfn.Route{Method: "ANY", Path: "/{proxy+}", Function: id}
			if m := mapGet(p, "Method"); m != nil {
				r.Method = strings.ToUpper(m.Value)
			}
			if pa := mapGet(p, "Path"); pa != nil {
				r.Path = pa.Value
			}
			if a := mapGet(mapGet(p, "Auth"), "Authorizer"); a != nil && a.Value == "AWS_IAM" {
				r.IAM = true
			} else if a != nil && a.Value != "NONE" {
				r.Authorizer = a.Value
				for _, s := range seq(mapGet(mapGet(p, "Auth"), "AuthorizationScopes")) {
					r.Scopes = append(r.Scopes, s.Value)
				}
			}
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// CORS returns the HttpApi's allowed origins, methods and headers (resolved against the
// parameter defaults given).
func (t *Template) CORS(params map[string]string) (origins, methods, headers []string) {
	for _, id := range t.resourcesOfType("AWS::Serverless::HttpApi") {
		c := mapGet(mapGet(t.resources[id], "Properties"), "CorsConfiguration")
		if c == nil {
			continue
		}
		for _, o := range seq(mapGet(c, "AllowOrigins")) {
			origins = append(origins, t.scalar(o, params))
		}
		for _, m := range seq(mapGet(c, "AllowMethods")) {
			methods = append(methods, m.Value)
		}
		for _, h := range seq(mapGet(c, "AllowHeaders")) {
			headers = append(headers, h.Value)
		}
	}
	return origins, methods, headers
}

func (t *Template) table() (string, *yaml.Node, error) {
	ids := t.resourcesOfType("AWS::DynamoDB::Table")
	if len(ids) != 1 {
		return "", nil, fmt.Errorf("samtemplate: want exactly one DynamoDB table, found %d", len(ids))
	}
	return ids[0], mapGet(t.resources[ids[0]], "Properties"), nil
}

// TTLAttribute names the table's time-to-live attribute.
func (t *Template) TTLAttribute() string {
	_, p, err := t.table()
	if err != nil {
		return ""
	}
	if n := mapGet(mapGet(p, "TimeToLiveSpecification"), "AttributeName"); n != nil {
		return n.Value
	}
	return ""
}

// CreateTableInput turns the template's table into a CreateTable call, so that local
// runs and tests use the keys and indexes that are deployed.
func (t *Template) CreateTableInput(tableName string) (*dynamodb.CreateTableInput, error) {
	_, p, err := t.table()
	if err != nil {
		return nil, err
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(tableName), BillingMode: types.BillingModePayPerRequest}
	for _, a := range seq(mapGet(p, "AttributeDefinitions")) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(value(a, "AttributeName")),
			AttributeType: types.ScalarAttributeType(value(a, "AttributeType")),
		})
	}
	in.KeySchema = keySchema(mapGet(p, "KeySchema"))
	for _, g := range seq(mapGet(p, "GlobalSecondaryIndexes")) {
		proj := mapGet(g, "Projection")
		gsi := types.GlobalSecondaryIndex{
			IndexName:  aws.String(value(g, "IndexName")),
			KeySchema:  keySchema(mapGet(g, "KeySchema")),
			Projection: &types.Projection{ProjectionType: types.ProjectionType(value(proj, "ProjectionType"))},
		}
		// INCLUDE names the attributes the index copies beside the keys: without them
		// the local table would project keys only, less than what is deployed.
		for _, a := range seq(mapGet(proj, "NonKeyAttributes")) {
			gsi.Projection.NonKeyAttributes = append(gsi.Projection.NonKeyAttributes, a.Value)
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}
	if len(in.KeySchema) == 0 {
		return nil, fmt.Errorf("samtemplate: table has no KeySchema")
	}
	return in, nil
}

func keySchema(n *yaml.Node) []types.KeySchemaElement {
	var out []types.KeySchemaElement
	for _, k := range seq(n) {
		out = append(out, types.KeySchemaElement{
			AttributeName: aws.String(value(k, "AttributeName")),
			KeyType:       types.KeyType(value(k, "KeyType")),
		})
	}
	return out
}

// StateMachine returns the definition path (relative to the repo) of the state machine
// id and its substitutions, each a function logical ID (from !GetAtt X.Arn), a
// reference or a literal.
func (t *Template) StateMachine(id string) (definitionURI string, substitutions map[string]Substitution, err error) {
	ids := t.resourcesOfType("AWS::Serverless::StateMachine")
	if !slices.Contains(ids, id) {
		return "", nil, fmt.Errorf("samtemplate: no state machine %s (the template has %v)", id, ids)
	}
	p := mapGet(t.resources[id], "Properties")
	uri := mapGet(p, "DefinitionUri")
	if uri == nil {
		return "", nil, fmt.Errorf("samtemplate: state machine %s has no DefinitionUri", id)
	}
	subs := map[string]Substitution{}
	s := mapGet(p, "DefinitionSubstitutions")
	for i := 0; s != nil && i+1 < len(s.Content); i += 2 {
		v := s.Content[i+1]
		switch v.Tag {
		case "!GetAtt":
			subs[s.Content[i].Value] = Substitution{Function: strings.TrimSuffix(v.Value, ".Arn")}
		case "!Ref":
			subs[s.Content[i].Value] = Substitution{Ref: v.Value}
		default:
			subs[s.Content[i].Value] = Substitution{Literal: v.Value}
		}
	}
	return uri.Value, subs, nil
}

// Substitution is one DefinitionSubstitutions entry.
type Substitution struct {
	Function string // logical ID whose ARN is substituted
	Ref      string // parameter or resource referenced
	Literal  string
}

var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// StateMachineDefinition reads the definition of the state machine id under repoRoot
// and applies the substitutions as CloudFormation does: functions become
// arn(logicalID), references become params[name]. A placeholder with no substitution is
// an error, as at deploy time.
func (t *Template) StateMachineDefinition(id, repoRoot string, arn func(logicalID string) string, params map[string]string) ([]byte, error) {
	uri, subs, err := t.StateMachine(id)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(repoRoot, uri))
	if err != nil {
		return nil, fmt.Errorf("samtemplate: %w", err)
	}
	var missing []string
	out := placeholder.ReplaceAllFunc(raw, func(m []byte) []byte {
		name := string(m[2 : len(m)-1])
		s, ok := subs[name]
		switch {
		case !ok:
			missing = append(missing, name)
			return m
		case s.Function != "":
			return []byte(arn(s.Function))
		case s.Ref != "":
			if v, ok := params[s.Ref]; ok {
				return []byte(v)
			}
			return []byte(t.params[s.Ref])
		default:
			return []byte(s.Literal)
		}
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("samtemplate: definition uses undefined substitutions %v", missing)
	}
	return bytes.TrimSpace(out), nil
}

func (t *Template) scalar(n *yaml.Node, params map[string]string) string {
	if n.Tag == "!Ref" {
		if v, ok := params[n.Value]; ok {
			return v
		}
		return t.params[n.Value]
	}
	return n.Value
}

func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func value(n *yaml.Node, key string) string {
	if v := mapGet(n, key); v != nil {
		return v.Value
	}
	return ""
}

func seq(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// JWTAuthorizer is one of the HttpApi's JWT authorizers as the template writes it:
// Issuer is the raw string (a !Sub naming the user pool), and Audience lists the
// logical IDs referenced with !Ref (the app clients) or literal client IDs.
type JWTAuthorizer struct {
	IdentitySource string
	Issuer         string
	// IssuerPool is the logical ID of the user pool the issuer's !Sub names ("" if none).
	IssuerPool string
	Audience   []string
}

var subRef = regexp.MustCompile(`\$\{([A-Za-z0-9]+)\}`)

// JWTAuthorizers returns the HttpApi's JWT authorizers by name.
func (t *Template) JWTAuthorizers() map[string]JWTAuthorizer {
	out := map[string]JWTAuthorizer{}
	for _, id := range t.resourcesOfType("AWS::Serverless::HttpApi") {
		auths := mapGet(mapGet(mapGet(t.resources[id], "Properties"), "Auth"), "Authorizers")
		for i := 0; auths != nil && i+1 < len(auths.Content); i += 2 {
			a := auths.Content[i+1]
			jc := mapGet(a, "JwtConfiguration")
			if jc == nil {
				continue
			}
			j := JWTAuthorizer{IdentitySource: value(a, "IdentitySource")}
			if iss := mapGet(jc, "issuer"); iss != nil {
				j.Issuer = iss.Value
				for _, m := range subRef.FindAllStringSubmatch(iss.Value, -1) {
					if n := mapGet(t.resources[m[1]], "Type"); n != nil && n.Value == "AWS::Cognito::UserPool" {
						j.IssuerPool = m[1]
					}
				}
			}
			for _, aud := range seq(mapGet(jc, "audience")) {
				j.Audience = append(j.Audience, aud.Value)
			}
			out[auths.Content[i].Value] = j
		}
	}
	return out
}

// Resource is one resource's logical ID and properties, decoded as plain values (an
// intrinsic function becomes its argument: !Ref X is "X").
type Resource struct {
	LogicalID  string
	Properties map[string]any
}

// ResourcesOfType returns the resources of one CloudFormation type, in file order.
func (t *Template) ResourcesOfType(typ string) ([]Resource, error) {
	var out []Resource
	for _, id := range t.resourcesOfType(typ) {
		r := Resource{LogicalID: id, Properties: map[string]any{}}
		if p := mapGet(t.resources[id], "Properties"); p != nil {
			if err := p.Decode(&r.Properties); err != nil {
				return nil, fmt.Errorf("samtemplate: %s properties: %w", id, err)
			}
		}
		out = append(out, r)
	}
	return out, nil
}
