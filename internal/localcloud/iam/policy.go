package iam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Effect is a statement's effect.
type Effect string

// The two effects of IAM.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy is a parsed identity-based policy document.
type Policy struct {
	// Name identifies the policy in reports: the inline policy's PolicyName or the
	// managed policy's ARN.
	Name string
	// Managed is true for AWS managed policies (ManagedPolicy).
	Managed    bool
	Statements []*Statement
}

// Statement is one statement of a policy.
type Statement struct {
	Sid    string
	Effect Effect
	// Actions holds the Action patterns, or the NotAction ones when NotAction is set.
	Actions   []string
	NotAction bool
	// Resources holds the Resource patterns, or the NotResource ones when NotResource is set.
	Resources   []string
	NotResource bool
	Conditions  []Condition
}

// Condition is one (operator, key, values) triple of a Condition block.
type Condition struct {
	// Operator as written, e.g. "ForAnyValue:StringLike" or "ArnLikeIfExists".
	Operator string
	Key      string
	Values   []string

	op       string // base operator, e.g. "StringLike"
	set      string // "", "ForAnyValue" or "ForAllValues"
	ifExists bool
}

// ParsePolicy parses a resolved policy document (no CloudFormation intrinsics left)
// named name. It refuses what IAM refuses for an identity-based policy (a Principal,
// an unknown element or effect, a statement without actions or resources) and what this
// evaluator cannot honour (an unsupported condition operator, a policy variable), so a
// policy is never read more permissively than AWS reads it.
func ParsePolicy(name string, doc []byte) (*Policy, error) {
	fail := func(format string, args ...any) error {
		return &Error{Op: "iam.parse", Kind: KindInvalid, Message: fmt.Sprintf("policy %s: ", name) + fmt.Sprintf(format, args...)}
	}
	var top map[string]json.RawMessage
	if err := strictUnmarshal(doc, &top); err != nil {
		return nil, fail("not a JSON object: %v", err)
	}
	p := &Policy{Name: name}
	for k, v := range top {
		switch k {
		case "Version":
			var ver string
			if err := json.Unmarshal(v, &ver); err != nil || (ver != "2012-10-17" && ver != "2008-10-17") {
				return nil, fail("Version %s is not 2012-10-17 or 2008-10-17", v)
			}
		case "Id":
		case "Statement":
		default:
			return nil, fail("unknown element %q", k)
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, fail("no Statement")
	}
	var list []json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fail("Statement: %v", err)
		}
	} else {
		list = []json.RawMessage{raw}
	}
	if len(list) == 0 {
		return nil, fail("Statement is empty")
	}
	for i, r := range list {
		s, err := parseStatement(r)
		if err != nil {
			return nil, fail("statement %d: %v", i, err)
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

func parseStatement(raw json.RawMessage) (*Statement, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	s := &Statement{}
	var haveAction, haveResource int
	for k, v := range m {
		var err error
		switch k {
		case "Sid":
			err = json.Unmarshal(v, &s.Sid)
		case "Effect":
			var e string
			if err = json.Unmarshal(v, &e); err == nil && e != string(Allow) && e != string(Deny) {
				err = fmt.Errorf("Effect %q is neither Allow nor Deny", e)
			}
			s.Effect = Effect(e)
		case "Action", "NotAction":
			haveAction++
			s.NotAction = k == "NotAction"
			s.Actions, err = stringOrList(v)
			if err == nil {
				err = checkActions(s.Actions)
			}
		case "Resource", "NotResource":
			haveResource++
			s.NotResource = k == "NotResource"
			s.Resources, err = stringOrList(v)
			if err == nil {
				err = checkResources(s.Resources)
			}
		case "Condition":
			s.Conditions, err = parseConditions(v)
		case "Principal", "NotPrincipal":
			err = fmt.Errorf("%s has no place in an identity-based policy", k)
		default:
			err = fmt.Errorf("unknown element %q", k)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	switch {
	case s.Effect == "":
		return nil, fmt.Errorf("no Effect")
	case haveAction != 1:
		return nil, fmt.Errorf("needs exactly one of Action and NotAction")
	case haveResource != 1:
		return nil, fmt.Errorf("needs exactly one of Resource and NotResource")
	}
	return s, nil
}

// stringOrList reads a JSON string or a non-empty array of strings.
func stringOrList(v json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(v, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(v, &many); err != nil {
		return nil, fmt.Errorf("not a string or an array of strings")
	}
	if len(many) == 0 {
		return nil, fmt.Errorf("empty array")
	}
	return many, nil
}

func checkActions(actions []string) error {
	for _, a := range actions {
		if a == "*" {
			continue
		}
		svc, name, ok := strings.Cut(a, ":")
		if !ok || svc == "" || name == "" || strings.ContainsAny(svc, "*?") {
			return fmt.Errorf("%q is not service:action", a)
		}
	}
	return nil
}

func checkResources(resources []string) error {
	for _, r := range resources {
		// Fn::Sub leaves no "${" behind, so one here is an IAM policy variable
		// (${aws:username}…), which this evaluator does not substitute: refusing it
		// beats matching the literal text.
		if strings.Contains(r, "${") {
			return fmt.Errorf("%q holds a policy variable, which the local evaluator does not support", r)
		}
		if r != "*" && !strings.HasPrefix(r, "arn:") {
			return fmt.Errorf("%q is neither * nor an ARN", r)
		}
	}
	return nil
}

// The condition operators supported, without their IfExists suffix or set prefix.
var operators = map[string]bool{
	"StringEquals": true, "StringNotEquals": true,
	"StringEqualsIgnoreCase": true, "StringNotEqualsIgnoreCase": true,
	"StringLike": true, "StringNotLike": true,
	"ArnEquals": true, "ArnNotEquals": true, "ArnLike": true, "ArnNotLike": true,
	"Bool": true, "Null": true,
}

func parseConditions(v json.RawMessage) ([]Condition, error) {
	var block map[string]map[string]json.RawMessage
	if err := json.Unmarshal(v, &block); err != nil {
		return nil, fmt.Errorf("not an object of operator -> {key: values}")
	}
	var out []Condition
	for operator, keys := range block {
		c := Condition{Operator: operator, op: operator}
		if set, rest, ok := strings.Cut(operator, ":"); ok {
			if set != "ForAnyValue" && set != "ForAllValues" {
				return nil, fmt.Errorf("unknown set operator %q", set)
			}
			c.set, c.op = set, rest
		}
		if base, ok := strings.CutSuffix(c.op, "IfExists"); ok {
			c.op, c.ifExists = base, true
		}
		if !operators[c.op] || (c.op == "Null" && (c.ifExists || c.set != "")) {
			return nil, fmt.Errorf("condition operator %q is not supported", operator)
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("%s has no keys", operator)
		}
		for key, raw := range keys {
			vals, err := conditionValues(raw)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", operator, key, err)
			}
			if c.op == "Bool" || c.op == "Null" {
				for _, x := range vals {
					if x != "true" && x != "false" {
						return nil, fmt.Errorf("%s %s: %q is not true or false", operator, key, x)
					}
				}
			}
			for _, x := range vals {
				if strings.Contains(x, "${") {
					return nil, fmt.Errorf("%s %s: %q holds a policy variable, which the local evaluator does not support", operator, key, x)
				}
			}
			cc := c
			cc.Key, cc.Values = key, vals
			out = append(out, cc)
		}
	}
	// Map order is random; a stable order keeps reports and errors reproducible.
	sort.Slice(out, func(i, j int) bool {
		if out[i].Operator != out[j].Operator {
			return out[i].Operator < out[j].Operator
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// conditionValues reads a condition's value: a string, boolean or number, or an array
// of them (IAM compares them as strings).
func conditionValues(raw json.RawMessage) ([]string, error) {
	var items []json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return nil, fmt.Errorf("empty array")
		}
	} else {
		items = []json.RawMessage{raw}
	}
	out := make([]string, 0, len(items))
	for _, r := range items {
		var s string
		if err := json.Unmarshal(r, &s); err == nil {
			out = append(out, s)
			continue
		}
		var b bool
		if err := json.Unmarshal(r, &b); err == nil {
			out = append(out, strconv.FormatBool(b))
			continue
		}
		var n json.Number
		if err := json.Unmarshal(r, &n); err == nil {
			out = append(out, n.String())
			continue
		}
		return nil, fmt.Errorf("value %s is not a string, boolean or number", r)
	}
	return out, nil
}

func strictUnmarshal(doc []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the document")
	}
	return nil
}
