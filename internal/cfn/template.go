// Package cfn reads the CloudFormation template that the SAM transform produces
// (tools/samtransform.py) — what AWS deploys — and resolves it for the local cloud:
// functions with their environment and role, the HTTP API's routes, authorizers and
// CORS from its OpenAPI body, the table, the state machine and the secrets.
//
// Names follow the local cloud's conventions, given in Options: region, account, stack
// name, table name. A function's name is its logical ID (the engine and the gateway
// invoke functions by it), a state machine, role or secret without an explicit name is
// named after the stack as CloudFormation would.
package cfn

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// Options are the local values the template is resolved against.
type Options struct {
	Region    string
	AccountID string
	StackName string
	// TableName names every AWS::DynamoDB::Table without a TableName.
	TableName string
	// APIID is the Ref value of every AWS::ApiGatewayV2::Api.
	APIID string
	// Params override parameter defaults (those the template does not declare are
	// ignored: the local cloud sets StorefrontUrl whether or not a template has it).
	Params map[string]string
	// FunctionARN builds the ARN of a function from its name (the local engine's and
	// gateway's form).
	FunctionARN func(name string) string
	// Refs overrides the Ref value of resources by logical ID: a resource a local
	// emulator creates under its own ID (a user pool) is referred to by that ID.
	Refs map[string]string
	// SecretARN, if set, gives the ARN of the secret named name (the local Secrets
	// Manager's, once the secret is created); SecretARN's stable form otherwise.
	SecretARN func(name string) (string, bool)
}

// Template is a transformed (plain CloudFormation) template, resolved on demand.
type Template struct {
	raw       map[string]any
	resources map[string]map[string]any
	opts      Options
	r         *Resolver
	busy      map[string]bool
}

// Load reads the transformed template (JSON) at path.
func Load(path string, opts Options) (*Template, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cfn: %w", err)
	}
	return Parse(raw, opts)
}

// Parse reads a transformed template's JSON text. A template still carrying a
// Transform is refused: only the transform's output is read.
func Parse(raw []byte, opts Options) (*Template, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("cfn: parse template: %w", err)
	}
	if _, ok := doc["Transform"]; ok {
		return nil, fmt.Errorf("cfn: template still has a Transform: run tools/samtransform.py first")
	}
	t := &Template{raw: doc, resources: map[string]map[string]any{}, opts: opts, busy: map[string]bool{}}
	res, _ := doc["Resources"].(map[string]any)
	if len(res) == 0 {
		return nil, fmt.Errorf("cfn: template has no Resources")
	}
	for id, v := range res {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("cfn: resource %s is not an object", id)
		}
		t.resources[id] = m
	}
	params, err := t.parameters()
	if err != nil {
		return nil, err
	}
	conds, _ := doc["Conditions"].(map[string]any)
	maps, _ := doc["Mappings"].(map[string]any)
	t.r = &Resolver{
		Params: params,
		Pseudo: map[string]any{
			"AWS::Region":           opts.Region,
			"AWS::AccountId":        opts.AccountID,
			"AWS::StackName":        opts.StackName,
			"AWS::Partition":        "aws",
			"AWS::URLSuffix":        "amazonaws.com",
			"AWS::StackId":          "arn:aws:cloudformation:" + opts.Region + ":" + opts.AccountID + ":stack/" + opts.StackName + "/" + uuidFrom(opts.StackName),
			"AWS::NotificationARNs": []any{},
		},
		Ref:        t.refValue,
		GetAtt:     t.getAtt,
		Conditions: conds,
		Mappings:   maps,
	}
	return t, nil
}

// parameters takes each parameter's default, then the overrides, checking the
// constraints CloudFormation checks, so a value AWS would refuse is refused here too.
func (t *Template) parameters() (map[string]any, error) {
	decl, _ := t.raw["Parameters"].(map[string]any)
	out := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(decl)) {
		p, _ := decl[name].(map[string]any)
		v, set := t.opts.Params[name]
		if !set {
			d, ok := p["Default"]
			if !ok {
				return nil, fmt.Errorf("cfn: parameter %s has no default and no value", name)
			}
			s, err := scalarString(d)
			if err != nil {
				return nil, fmt.Errorf("cfn: parameter %s: %w", name, err)
			}
			v = s
		}
		if allowed, ok := p["AllowedValues"].([]any); ok {
			found := false
			for _, a := range allowed {
				if s, _ := scalarString(a); s == v {
					found = true
				}
			}
			if !found {
				return nil, fmt.Errorf("cfn: parameter %s: %q is not one of its AllowedValues", name, v)
			}
		}
		typ, _ := p["Type"].(string)
		if strings.HasPrefix(typ, "List<") || typ == "CommaDelimitedList" {
			var l []any
			for _, s := range strings.Split(v, ",") {
				l = append(l, strings.TrimSpace(s))
			}
			out[name] = l
			continue
		}
		out[name] = v
	}
	return out, nil
}

// Resolver is the template's intrinsic resolver, for callers that resolve more.
func (t *Template) Resolver() *Resolver { return t.r }

// Param returns a parameter's value as a string.
func (t *Template) Param(name string) string {
	s, _ := scalarString(t.r.Params[name])
	return s
}

// ParamDefault returns a parameter's declared default (the value the transform
// writes where it resolves a parameter itself, as in the API's CORS settings).
func (t *Template) ParamDefault(name string) string {
	decl, _ := t.raw["Parameters"].(map[string]any)
	p, _ := decl[name].(map[string]any)
	s, _ := scalarString(p["Default"])
	return s
}

// ResourceType returns a resource's Type ("" if there is no such resource).
func (t *Template) ResourceType(id string) string {
	s, _ := t.resources[id]["Type"].(string)
	return s
}

// LogicalIDs lists the resources of type typ, sorted.
func (t *Template) LogicalIDs(typ string) []string {
	var ids []string
	for _, id := range slices.Sorted(maps.Keys(t.resources)) {
		if t.ResourceType(id) == typ {
			ids = append(ids, id)
		}
	}
	return ids
}

// created lists the resources of type typ that are created (their Condition holds),
// sorted.
func (t *Template) created(typ string) ([]string, error) {
	var ids []string
	for _, id := range t.LogicalIDs(typ) {
		ok, err := t.exists(id)
		if err != nil {
			return nil, fmt.Errorf("cfn: %s: %w", id, err)
		}
		if ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// exists reports whether a resource is created: it exists and its Condition holds.
func (t *Template) exists(id string) (bool, error) {
	res, ok := t.resources[id]
	if !ok {
		return false, nil
	}
	c, ok := res["Condition"].(string)
	if !ok {
		return true, nil
	}
	return t.r.condition(c)
}

func (t *Template) prop(id, name string) any {
	p, _ := t.resources[id]["Properties"].(map[string]any)
	return p[name]
}

// propString resolves a string property ("" when absent).
func (t *Template) propString(id, name string) (string, error) {
	v := t.prop(id, name)
	if v == nil {
		return "", nil
	}
	s, err := t.r.String(v)
	if err != nil {
		return "", fmt.Errorf("cfn: %s.%s: %w", id, name, err)
	}
	return s, nil
}

// physicalName is a resource's explicit name property, or the stack-derived name
// CloudFormation generates ("<stack>-<LogicalID>", without the random suffix so local
// names are stable).
func (t *Template) physicalName(id, prop string) (string, error) {
	if t.busy[id] {
		return "", fmt.Errorf("cfn: %s refers to itself", id)
	}
	t.busy[id] = true
	defer delete(t.busy, id)
	if prop != "" {
		s, err := t.propString(id, prop)
		if err != nil || s != "" {
			return s, err
		}
	}
	return t.opts.StackName + "-" + id, nil
}

func (t *Template) arn(service, resource string) string {
	return "arn:aws:" + service + ":" + t.opts.Region + ":" + t.opts.AccountID + ":" + resource
}

// refValue is a resource's Ref value, by type, as the local cloud names it.
func (t *Template) refValue(id string) (any, bool, error) {
	if _, ok := t.resources[id]; !ok {
		return nil, false, nil
	}
	v, err := t.ref(id)
	return v, true, err
}

func (t *Template) ref(id string) (string, error) {
	if v, ok := t.opts.Refs[id]; ok {
		return v, nil
	}
	switch typ := t.ResourceType(id); typ {
	case "AWS::Lambda::Function":
		return t.physicalNameOr(id, "FunctionName", id)
	case "AWS::DynamoDB::Table":
		return t.physicalNameOr(id, "TableName", t.opts.TableName)
	case "AWS::IAM::Role":
		return t.physicalName(id, "RoleName")
	case "AWS::StepFunctions::StateMachine":
		name, err := t.physicalName(id, "StateMachineName")
		return t.arn("states", "stateMachine:"+name), err
	case "AWS::SecretsManager::Secret":
		name, err := t.physicalName(id, "Name")
		if t.opts.SecretARN != nil {
			if arn, ok := t.opts.SecretARN(name); ok {
				return arn, err
			}
		}
		return SecretARN(t.opts.Region, t.opts.AccountID, name), err
	case "AWS::ApiGatewayV2::Api":
		return t.opts.APIID, nil
	case "AWS::ApiGatewayV2::Stage":
		return t.propString(id, "StageName")
	case "AWS::SNS::Topic":
		name, err := t.physicalName(id, "TopicName")
		return t.arn("sns", name), err
	case "AWS::Logs::LogGroup":
		return t.physicalName(id, "LogGroupName")
	case "AWS::Cognito::UserPool":
		return t.opts.Region + "_" + shortHash(t.opts.StackName+id, 9), nil
	case "AWS::Scheduler::Schedule":
		name, err := t.physicalName(id, "Name")
		group, gerr := t.propString(id, "GroupName")
		if group == "" {
			group = "default"
		}
		return t.arn("scheduler", "schedule/"+group+"/"+name), errors.Join(err, gerr)
	default:
		// Every other resource is named after the stack; nothing local reads it.
		return t.physicalName(id, "")
	}
}

func (t *Template) physicalNameOr(id, prop, fallback string) (string, error) {
	s, err := t.propString(id, prop)
	if err != nil || s != "" {
		return s, err
	}
	if fallback == "" {
		return t.physicalName(id, "")
	}
	return fallback, nil
}

func (t *Template) getAtt(id, attr string) (any, error) {
	if _, ok := t.resources[id]; !ok {
		return nil, fmt.Errorf("no resource %s", id)
	}
	ref, err := t.ref(id)
	if err != nil {
		return nil, err
	}
	typ := t.ResourceType(id)
	switch typ + "." + attr {
	case "AWS::Lambda::Function.Arn":
		return t.opts.FunctionARN(ref), nil
	case "AWS::DynamoDB::Table.Arn":
		return t.arn("dynamodb", "table/"+ref), nil
	case "AWS::IAM::Role.Arn":
		return "arn:aws:iam::" + t.opts.AccountID + ":role/" + ref, nil
	case "AWS::IAM::Role.RoleId":
		return "AROA" + strings.ToUpper(shortHash(ref, 17)), nil
	case "AWS::StepFunctions::StateMachine.Arn", "AWS::SecretsManager::Secret.Id",
		"AWS::SNS::Topic.TopicArn", "AWS::ApiGatewayV2::Api.ApiId":
		return ref, nil
	case "AWS::StepFunctions::StateMachine.Name":
		return ref[strings.LastIndex(ref, ":")+1:], nil
	case "AWS::ApiGatewayV2::Api.ApiEndpoint":
		return "https://" + ref + ".execute-api." + t.opts.Region + ".amazonaws.com", nil
	case "AWS::Logs::LogGroup.Arn":
		return t.arn("logs", "log-group:"+ref+":*"), nil
	case "AWS::Events::Rule.Arn":
		return t.arn("events", "rule/"+ref), nil
	case "AWS::Cognito::UserPool.Arn":
		return t.arn("cognito-idp", "userpool/"+ref), nil
	case "AWS::Cognito::UserPool.ProviderURL":
		return "https://cognito-idp." + t.opts.Region + ".amazonaws.com/" + ref, nil
	}
	return nil, fmt.Errorf("the local cloud has no value for %s.%s (%s)", id, attr, typ)
}

// SecretARN is the ARN Secrets Manager gives a secret named name: the name and a
// six-character suffix (derived from the name locally, so it is stable).
func SecretARN(region, accountID, name string) string {
	return "arn:aws:secretsmanager:" + region + ":" + accountID + ":secret:" + name + "-" + shortHash(name, 6)
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func shortHash(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	out := make([]byte, n)
	for i := range out {
		out[i] = alnum[int(sum[i%len(sum)])%len(alnum)]
	}
	return string(out)
}

func uuidFrom(s string) string {
	sum := sha256.Sum256([]byte(s))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
