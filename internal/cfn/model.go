package cfn

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"gopkg.in/yaml.v3"
)

// Function is an AWS::Lambda::Function, resolved.
type Function struct {
	LogicalID string
	Name      string // its Ref value
	ARN       string
	// Env is Properties.Environment.Variables, resolved.
	Env map[string]string
	// Role is the logical ID of its execution role (from Role: !GetAtt X.Arn).
	Role string
	// Timeout is how long Lambda lets one invocation run: Properties.Timeout, or
	// Lambda's default (DefaultFunctionTimeout) when the template sets none.
	Timeout time.Duration
}

// DefaultFunctionTimeout is Lambda's Timeout for a function that sets none (3 s).
const DefaultFunctionTimeout = 3 * time.Second

// Functions lists the template's functions, sorted by logical ID.
func (t *Template) Functions() ([]Function, error) {
	var out []Function
	ids, err := t.created("AWS::Lambda::Function")
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		name, err := t.ref(id)
		if err != nil {
			return nil, fmt.Errorf("cfn: %s: %w", id, err)
		}
		f := Function{LogicalID: id, Name: name, ARN: t.opts.FunctionARN(name), Env: map[string]string{}}
		env, _ := t.prop(id, "Environment").(map[string]any)
		vars, err := t.r.Resolve(env["Variables"])
		if err != nil {
			return nil, fmt.Errorf("cfn: %s environment: %w", id, err)
		}
		vm, _ := vars.(map[string]any)
		for k, v := range vm {
			s, err := scalarString(v)
			if err != nil {
				return nil, fmt.Errorf("cfn: %s environment %s: %w", id, k, err)
			}
			f.Env[k] = s
		}
		if f.Role, err = roleOf(t.prop(id, "Role")); err != nil {
			return nil, fmt.Errorf("cfn: %s: %w", id, err)
		}
		if f.Timeout, err = t.timeout(id); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// timeout reads a function's Timeout in whole seconds, as Lambda takes it (1–900).
func (t *Template) timeout(id string) (time.Duration, error) {
	s, err := t.propString(id, "Timeout")
	if err != nil {
		return 0, err
	}
	if s == "" {
		return DefaultFunctionTimeout, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 900 {
		return 0, fmt.Errorf("cfn: %s.Timeout %q: want whole seconds from 1 to 900", id, s)
	}
	return time.Duration(n) * time.Second, nil
}

// roleOf returns the logical ID a Role/RoleArn property takes with Fn::GetAtt X.Arn. A
// role given as a literal ARN is outside the stack: the local cloud cannot know its
// policies and refuses it rather than run the function with no or every permission.
func roleOf(v any) (string, error) {
	m, _ := v.(map[string]any)
	switch a := m["Fn::GetAtt"].(type) {
	case []any:
		if len(a) == 2 && a[1] == "Arn" {
			if id, ok := a[0].(string); ok {
				return id, nil
			}
		}
	case string:
		if id, ok := strings.CutSuffix(a, ".Arn"); ok {
			return id, nil
		}
	}
	return "", fmt.Errorf("role %s is not a role of this template (Fn::GetAtt Role.Arn)", describe(v))
}

// Role is an AWS::IAM::Role with its policies resolved.
type Role struct {
	LogicalID string
	Name      string
	ARN       string
	// Properties are the role's Properties, resolved to plain JSON.
	Properties json.RawMessage
	// Policies are the inline policies, each document resolved to plain JSON.
	Policies []Policy
	// ManagedPolicyArns are the attached managed policies' ARNs, resolved.
	ManagedPolicyArns []string
	// Attached are the template's AWS::IAM::Policy resources that name this role in
	// their Roles, each document resolved to plain JSON.
	Attached []Policy
}

// Policy is one inline policy of a role.
type Policy struct {
	Name     string
	Document json.RawMessage
}

// Role resolves the role with logical ID id.
func (t *Template) Role(id string) (Role, error) {
	if t.ResourceType(id) != "AWS::IAM::Role" {
		return Role{}, fmt.Errorf("cfn: %s is not an AWS::IAM::Role", id)
	}
	arn, err := t.getAtt(id, "Arn")
	if err != nil {
		return Role{}, fmt.Errorf("cfn: %s: %w", id, err)
	}
	name, err := t.ref(id)
	if err != nil {
		return Role{}, fmt.Errorf("cfn: %s: %w", id, err)
	}
	r := Role{LogicalID: id, Name: name, ARN: arn.(string)}
	props, err := t.r.Resolve(t.resources[id]["Properties"])
	if err != nil {
		return Role{}, fmt.Errorf("cfn: %s: %w", id, err)
	}
	if r.Properties, err = json.Marshal(props); err != nil {
		return Role{}, fmt.Errorf("cfn: %s: %w", id, err)
	}
	pols, err := t.r.Resolve(t.prop(id, "Policies"))
	if err != nil {
		return Role{}, fmt.Errorf("cfn: %s policies: %w", id, err)
	}
	pl, _ := pols.([]any)
	for _, p := range pl {
		pm, _ := p.(map[string]any)
		name, _ := pm["PolicyName"].(string)
		doc, err := json.Marshal(pm["PolicyDocument"])
		if err != nil {
			return Role{}, fmt.Errorf("cfn: %s policy %s: %w", id, name, err)
		}
		r.Policies = append(r.Policies, Policy{Name: name, Document: doc})
	}
	// An AWS::IAM::Policy resource whose Roles name this role grants it as well, as in
	// AWS (the template adds one for grants that span several functions' roles).
	for _, pid := range slices.Sorted(maps.Keys(t.resources)) {
		if t.ResourceType(pid) != "AWS::IAM::Policy" {
			continue
		}
		roles, err := t.r.Resolve(t.prop(pid, "Roles"))
		if err != nil {
			return Role{}, fmt.Errorf("cfn: %s roles: %w", pid, err)
		}
		rl, _ := roles.([]any)
		if !slices.ContainsFunc(rl, func(v any) bool { s, _ := v.(string); return s == name }) {
			continue
		}
		pname, err := t.r.Resolve(t.prop(pid, "PolicyName"))
		if err != nil {
			return Role{}, fmt.Errorf("cfn: %s name: %w", pid, err)
		}
		pdoc, err := t.r.Resolve(t.prop(pid, "PolicyDocument"))
		if err != nil {
			return Role{}, fmt.Errorf("cfn: %s document: %w", pid, err)
		}
		doc, err := json.Marshal(pdoc)
		if err != nil {
			return Role{}, fmt.Errorf("cfn: %s document: %w", pid, err)
		}
		pn, _ := pname.(string)
		r.Attached = append(r.Attached, Policy{Name: pn, Document: doc})
	}
	arns, err := t.r.Resolve(t.prop(id, "ManagedPolicyArns"))
	if err != nil {
		return Role{}, fmt.Errorf("cfn: %s managed policies: %w", id, err)
	}
	al, _ := arns.([]any)
	for _, a := range al {
		s, err := scalarString(a)
		if err != nil {
			return Role{}, fmt.Errorf("cfn: %s managed policy: %w", id, err)
		}
		r.ManagedPolicyArns = append(r.ManagedPolicyArns, s)
	}
	return r, nil
}

// StateMachine is an AWS::StepFunctions::StateMachine, resolved.
type StateMachine struct {
	LogicalID string
	Name      string
	ARN       string
	Role      string // logical ID of its role
	Type      string // StateMachineType: STANDARD (the default) or EXPRESS
	// DefinitionKey is the S3 key its definition was packaged under, and
	// Substitutions its DefinitionSubstitutions, resolved.
	DefinitionKey string
	Definition    string // an inline Definition/DefinitionString, if any
	Substitutions map[string]string
}

// StateMachines lists the state machines, sorted by logical ID.
func (t *Template) StateMachines() ([]StateMachine, error) {
	var out []StateMachine
	for _, id := range t.LogicalIDs("AWS::StepFunctions::StateMachine") {
		arn, err := t.ref(id)
		if err != nil {
			return nil, fmt.Errorf("cfn: %s: %w", id, err)
		}
		sm := StateMachine{LogicalID: id, ARN: arn, Name: arn[strings.LastIndex(arn, ":")+1:], Substitutions: map[string]string{}}
		if sm.Role, err = roleOf(t.prop(id, "RoleArn")); err != nil {
			return nil, fmt.Errorf("cfn: %s: %w", id, err)
		}
		sm.Type, _ = t.prop(id, "StateMachineType").(string)
		if sm.Type == "" {
			sm.Type = "STANDARD"
		}
		loc, _ := t.prop(id, "DefinitionS3Location").(map[string]any)
		sm.DefinitionKey, _ = loc["Key"].(string)
		if d := t.prop(id, "DefinitionString"); d != nil {
			if sm.Definition, err = t.r.String(d); err != nil {
				return nil, fmt.Errorf("cfn: %s definition: %w", id, err)
			}
		} else if d := t.prop(id, "Definition"); d != nil {
			b, _ := json.Marshal(d)
			sm.Definition = string(b)
		}
		subs, err := t.r.Resolve(t.prop(id, "DefinitionSubstitutions"))
		if err != nil {
			return nil, fmt.Errorf("cfn: %s substitutions: %w", id, err)
		}
		sub, _ := subs.(map[string]any)
		for k, v := range sub {
			if sm.Substitutions[k], err = scalarString(v); err != nil {
				return nil, fmt.Errorf("cfn: %s substitution %s: %w", id, k, err)
			}
		}
		out = append(out, sm)
	}
	return out, nil
}

var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// Substitute applies DefinitionSubstitutions to a definition as Step Functions does; a
// placeholder with no substitution is an error, as at deploy time.
func (sm StateMachine) Substitute(definition []byte) ([]byte, error) {
	var missing []string
	out := placeholder.ReplaceAllFunc(definition, func(m []byte) []byte {
		v, ok := sm.Substitutions[string(m[2:len(m)-1])]
		if !ok {
			missing = append(missing, string(m))
			return m
		}
		return []byte(v)
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("cfn: %s: definition uses undefined substitutions %v", sm.LogicalID, missing)
	}
	return out, nil
}

// DefinitionFile finds a state machine's definition file where `sam package` took it
// from: the DefinitionUri that the SAM template (samTemplate) gives the same logical ID.
// Packaging is the one thing the transformed template no longer says.
func DefinitionFile(samTemplate, logicalID string) (string, error) {
	raw, err := os.ReadFile(samTemplate)
	if err != nil {
		return "", fmt.Errorf("cfn: %w", err)
	}
	var doc struct {
		Resources map[string]struct {
			Properties struct {
				DefinitionUri yaml.Node `yaml:"DefinitionUri"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return "", fmt.Errorf("cfn: %s: %w", samTemplate, err)
	}
	n := doc.Resources[logicalID].Properties.DefinitionUri
	if n.Kind != yaml.ScalarNode || n.Value == "" {
		return "", fmt.Errorf("cfn: %s has no local DefinitionUri in %s", logicalID, samTemplate)
	}
	return n.Value, nil
}

// Secret is an AWS::SecretsManager::Secret, resolved.
type Secret struct {
	LogicalID string
	Name      string
	ARN       string
	// SecretString is the template's literal content, if any.
	SecretString string
	// Template and GenerateKey are GenerateSecretString's SecretStringTemplate and
	// GenerateStringKey: the content is Template with a generated value at GenerateKey.
	Template, GenerateKey string
}

// Secrets lists the secrets, sorted by logical ID.
func (t *Template) Secrets() ([]Secret, error) {
	var out []Secret
	for _, id := range t.LogicalIDs("AWS::SecretsManager::Secret") {
		arn, err := t.ref(id)
		if err != nil {
			return nil, fmt.Errorf("cfn: %s: %w", id, err)
		}
		name, _ := t.physicalName(id, "Name")
		s := Secret{LogicalID: id, Name: name, ARN: arn}
		if s.SecretString, err = t.propString(id, "SecretString"); err != nil {
			return nil, err
		}
		gen, err := t.r.Resolve(t.prop(id, "GenerateSecretString"))
		if err != nil {
			return nil, fmt.Errorf("cfn: %s GenerateSecretString: %w", id, err)
		}
		if g, ok := gen.(map[string]any); ok {
			s.Template, s.GenerateKey = str(g["SecretStringTemplate"]), str(g["GenerateStringKey"])
		}
		out = append(out, s)
	}
	return out, nil
}

// Route is one route of the HTTP API. The transformed template is what is deployed and
// what the local cloud serves, so this package owns the type; the SAM template reader
// (internal/samtemplate) lists its HttpApi events as Routes too, for the checks that compare
// the two.
type Route struct {
	Method   string // GET, POST, … or ANY
	Path     string // "/carts/{txid}", "/admin/{proxy+}"
	Function string // logical ID of the function
	IAM      bool   // AWS_IAM authorization
	// Authorizer names the JWT authorizer guarding the route ("" for none), and Scopes
	// its authorization scopes (see JWTAuthorizers).
	Authorizer string
	Scopes     []string
}

// Key is the route key as HTTP API writes it in events: "GET /carts/{txid}".
func (r Route) Key() string { return r.Method + " " + r.Path }

// JWTAuthorizer is one JWT authorizer of the HTTP API, resolved.
type JWTAuthorizer struct {
	Issuer         string
	Audience       []string
	IdentitySource string
}

// Routes lists the HTTP API's routes from its OpenAPI body: paths, methods, the Lambda
// integration's function, and the route's authorization (AWS_IAM, or the JWT authorizer
// and scopes). A route with another kind of authorizer is an error, never an open route.
func (t *Template) Routes(functions []Function) ([]Route, error) {
	byARN := map[string]string{}
	for _, f := range functions {
		byARN[f.ARN] = f.LogicalID
	}
	var out []Route
	for _, api := range t.LogicalIDs("AWS::ApiGatewayV2::Api") {
		body, err := t.apiBody(api)
		if err != nil {
			return nil, err
		}
		schemes := securitySchemes(body)
		defSec := body["security"]
		paths, _ := body["paths"].(map[string]any)
		for _, path := range slices.Sorted(maps.Keys(paths)) {
			ops, _ := paths[path].(map[string]any)
			for _, m := range slices.Sorted(maps.Keys(ops)) {
				method := strings.ToUpper(m)
				if m == "x-amazon-apigateway-any-method" {
					method = "ANY"
				}
				op, _ := ops[m].(map[string]any)
				integ, _ := op["x-amazon-apigateway-integration"].(map[string]any)
				if integ == nil {
					continue // "parameters" and other non-operations
				}
				uri, _ := integ["uri"].(string)
				_, fnPart, found := strings.Cut(uri, "/functions/")
				fn, ok := byARN[strings.TrimSuffix(fnPart, "/invocations")]
				if !found || !ok {
					return nil, fmt.Errorf("cfn: %s %s: integration %q is not a function of this template", method, path, uri)
				}
				r := Route{Method: method, Path: path, Function: fn}
				sec, has := op["security"]
				if !has {
					sec = defSec
				}
				list, _ := sec.([]any)
				for _, s := range list {
					sm, _ := s.(map[string]any)
					for _, name := range slices.Sorted(maps.Keys(sm)) {
						scheme, ok := schemes[name]
						if !ok {
							return nil, fmt.Errorf("cfn: %s %s: security scheme %s is not defined", method, path, name)
						}
						authz, _ := scheme["x-amazon-apigateway-authorizer"].(map[string]any)
						switch {
						case scheme["x-amazon-apigateway-authtype"] == "awsSigv4":
							r.IAM = true
						case authz["type"] == "jwt":
							r.Authorizer = name
							scopes, _ := sm[name].([]any)
							for _, sc := range scopes {
								r.Scopes = append(r.Scopes, str(sc))
							}
						default:
							// A Lambda authorizer is not emulated: serving the route open
							// would be more permissive than AWS.
							return nil, fmt.Errorf("cfn: %s %s: authorizer %s is not supported by the local cloud", method, path, name)
						}
					}
				}
				out = append(out, r)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out, nil
}

func securitySchemes(body map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	comps, _ := body["components"].(map[string]any)
	ss, _ := comps["securitySchemes"].(map[string]any)
	for k, v := range ss {
		out[k], _ = v.(map[string]any)
	}
	return out
}

// JWTAuthorizers returns the HTTP API's JWT authorizers by name, issuer and audiences
// resolved.
func (t *Template) JWTAuthorizers() (map[string]JWTAuthorizer, error) {
	out := map[string]JWTAuthorizer{}
	for _, api := range t.LogicalIDs("AWS::ApiGatewayV2::Api") {
		body, err := t.apiBody(api)
		if err != nil {
			return nil, err
		}
		for name, scheme := range securitySchemes(body) {
			authz, _ := scheme["x-amazon-apigateway-authorizer"].(map[string]any)
			if authz["type"] != "jwt" {
				continue
			}
			cfg, _ := authz["jwtConfiguration"].(map[string]any)
			a := JWTAuthorizer{Issuer: str(cfg["issuer"]), IdentitySource: str(authz["identitySource"])}
			aud, _ := cfg["audience"].([]any)
			for _, v := range aud {
				a.Audience = append(a.Audience, str(v))
			}
			out[name] = a
		}
	}
	return out, nil
}

func (t *Template) apiBody(id string) (map[string]any, error) {
	if t.prop(id, "Body") == nil {
		return nil, fmt.Errorf("cfn: %s has no inline OpenAPI Body (routes as separate resources are not read)", id)
	}
	b, err := t.r.Resolve(t.prop(id, "Body"))
	if err != nil {
		return nil, fmt.Errorf("cfn: %s body: %w", id, err)
	}
	m, _ := b.(map[string]any)
	return m, nil
}

// CORS is an HTTP API's CORS configuration.
type CORS struct {
	AllowOrigins, AllowMethods, AllowHeaders, ExposeHeaders []string
	MaxAge                                                  int
	AllowCredentials                                        bool
}

// CORS returns the HTTP API's CORS configuration (x-amazon-apigateway-cors in its body,
// else its CorsConfiguration), or nil.
func (t *Template) CORS() (*CORS, error) {
	for _, api := range t.LogicalIDs("AWS::ApiGatewayV2::Api") {
		body, err := t.apiBody(api)
		if err != nil {
			return nil, err
		}
		if c, ok := body["x-amazon-apigateway-cors"].(map[string]any); ok {
			return corsFrom(c, "allowOrigins", "allowMethods", "allowHeaders", "exposeHeaders", "maxAge", "allowCredentials"), nil
		}
		cc, err := t.r.Resolve(t.prop(api, "CorsConfiguration"))
		if err != nil {
			return nil, fmt.Errorf("cfn: %s CorsConfiguration: %w", api, err)
		}
		if c, ok := cc.(map[string]any); ok {
			return corsFrom(c, "AllowOrigins", "AllowMethods", "AllowHeaders", "ExposeHeaders", "MaxAge", "AllowCredentials"), nil
		}
	}
	return nil, nil
}

func corsFrom(c map[string]any, origins, methods, headers, expose, maxAge, creds string) *CORS {
	strs := func(k string) []string {
		l, _ := c[k].([]any)
		var out []string
		for _, v := range l {
			if s, err := scalarString(v); err == nil {
				out = append(out, s)
			}
		}
		return out
	}
	out := &CORS{AllowOrigins: strs(origins), AllowMethods: strs(methods), AllowHeaders: strs(headers), ExposeHeaders: strs(expose)}
	if s, err := scalarString(c[maxAge]); err == nil && s != "" {
		_, _ = fmt.Sscan(s, &out.MaxAge)
	}
	out.AllowCredentials, _ = c[creds].(bool)
	return out
}

// table returns the one DynamoDB table's resolved properties.
func (t *Template) table() (string, map[string]any, error) {
	ids := t.LogicalIDs("AWS::DynamoDB::Table")
	if len(ids) != 1 {
		return "", nil, fmt.Errorf("cfn: want exactly one DynamoDB table, found %d", len(ids))
	}
	p, err := t.r.Resolve(t.resources[ids[0]]["Properties"])
	if err != nil {
		return "", nil, fmt.Errorf("cfn: %s: %w", ids[0], err)
	}
	m, _ := p.(map[string]any)
	return ids[0], m, nil
}

// TTLAttribute names the table's time-to-live attribute ("" if none).
func (t *Template) TTLAttribute() string {
	_, p, err := t.table()
	if err != nil {
		return ""
	}
	ttl, _ := p["TimeToLiveSpecification"].(map[string]any)
	if on, _ := ttl["Enabled"].(bool); !on {
		return ""
	}
	s, _ := ttl["AttributeName"].(string)
	return s
}

// CreateTableInput turns the template's table into a CreateTable call under name.
func (t *Template) CreateTableInput(name string) (*dynamodb.CreateTableInput, error) {
	_, p, err := t.table()
	if err != nil {
		return nil, err
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest}
	for _, a := range objects(p["AttributeDefinitions"]) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(str(a["AttributeName"])), AttributeType: types.ScalarAttributeType(str(a["AttributeType"])),
		})
	}
	in.KeySchema = keySchema(p["KeySchema"])
	for _, g := range objects(p["GlobalSecondaryIndexes"]) {
		proj, _ := g["Projection"].(map[string]any)
		projection := &types.Projection{ProjectionType: types.ProjectionType(str(proj["ProjectionType"]))}
		// INCLUDE names the attributes the index copies beside the keys: without them
		// the local table would project keys only, less than what is deployed.
		l, _ := proj["NonKeyAttributes"].([]any)
		for _, a := range l {
			projection.NonKeyAttributes = append(projection.NonKeyAttributes, str(a))
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:  aws.String(str(g["IndexName"])),
			KeySchema:  keySchema(g["KeySchema"]),
			Projection: projection,
		})
	}
	if len(in.KeySchema) == 0 {
		return nil, fmt.Errorf("cfn: table has no KeySchema")
	}
	return in, nil
}

func keySchema(v any) []types.KeySchemaElement {
	var out []types.KeySchemaElement
	for _, k := range objects(v) {
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(str(k["AttributeName"])), KeyType: types.KeyType(str(k["KeyType"]))})
	}
	return out
}

func objects(v any) []map[string]any {
	l, _ := v.([]any)
	var out []map[string]any
	for _, e := range l {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func str(v any) string {
	s, _ := scalarString(v)
	return s
}
