package iam

import (
	"slices"
	"strings"
)

// Request is one authorisation question: may the caller perform Action on Resource,
// given the request's condition keys.
type Request struct {
	// Action is "service:Operation", e.g. "dynamodb:PutItem".
	Action string
	// Resource is an ARN, or "*" for an action without resource types.
	Resource string
	// Context holds the condition keys of the request (any case; IAM compares key
	// names case-insensitively). A key mapped to an empty slice is known to be absent.
	// A key not in the map is absent if it belongs to another service; a global (aws:)
	// key or one of the action's own service that is not in the map is unknown to the
	// local cloud, and a condition on it is read the safe way: it never lets an Allow
	// statement apply and always lets a Deny statement apply.
	Context map[string][]string
}

// Decision is the outcome of evaluating a request.
type Decision int

// The outcomes of IAM's identity-policy logic.
const (
	ImplicitDeny Decision = iota
	Allowed
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "allowed"
	case ExplicitDeny:
		return "explicit deny"
	}
	return "implicit deny"
}

// lookup returns the values of key and whether the request says anything about it.
func (r *Request) lookup(key string) (vals []string, present, unknown bool) {
	for k, v := range r.Context {
		if strings.EqualFold(k, key) {
			return v, len(v) > 0, false
		}
	}
	prefix, _, _ := strings.Cut(strings.ToLower(key), ":")
	service, _, _ := strings.Cut(strings.ToLower(r.Action), ":")
	return nil, false, prefix == "aws" || prefix == service
}

// matches reports whether s applies to r.
func (s *Statement) matches(r *Request) bool {
	if !s.actionApplies(r.Action) || !s.resourceApplies(r.Resource) {
		return false
	}
	for i := range s.Conditions {
		if !s.Conditions[i].holds(r, s.Effect == Deny) {
			return false
		}
	}
	return true
}

func (s *Statement) actionApplies(action string) bool {
	return slices.ContainsFunc(s.Actions, func(p string) bool { return actionMatch(p, action) }) != s.NotAction
}

func (s *Statement) resourceApplies(resource string) bool {
	return slices.ContainsFunc(s.Resources, func(p string) bool { return resourceMatch(p, resource) }) != s.NotResource
}

// holds evaluates the condition on r. unknownHolds is what a condition on a key the
// local cloud cannot supply evaluates to (true in a Deny statement, false in an Allow).
func (c *Condition) holds(r *Request, unknownHolds bool) bool {
	vals, present, unknown := r.lookup(c.Key)
	if unknown {
		return unknownHolds
	}
	if c.op == "Null" {
		// "Null": "true" means the key must be absent, "false" that it must be present.
		for _, want := range c.Values {
			if (want == "true") == !present {
				return true
			}
		}
		return false
	}
	negated := strings.Contains(c.op, "Not")
	switch c.set {
	case "ForAllValues":
		// True when every value of the request matches: vacuously true for none.
		for _, v := range vals {
			if !c.one(v) {
				return false
			}
		}
		return true
	case "ForAnyValue":
		for _, v := range vals {
			if c.one(v) {
				return true
			}
		}
		return false
	}
	if !present {
		// A missing key fails a condition, except a negated one ("the key is not
		// that") and any with IfExists.
		return c.ifExists || negated
	}
	if negated {
		// A negated operator holds when no value of the request matches the policy's.
		for _, v := range vals {
			if !c.one(v) {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		if c.one(v) {
			return true
		}
	}
	return false
}

// one evaluates the operator on a single request value v: true when v matches one of
// the policy's values (for a negated operator, when it matches none).
func (c *Condition) one(v string) bool {
	base := strings.Replace(c.op, "Not", "", 1)
	hit := false
	for _, p := range c.Values {
		switch base {
		case "StringEquals":
			hit = v == p
		case "StringEqualsIgnoreCase":
			hit = strings.EqualFold(v, p)
		case "StringLike":
			hit = wildcardMatch(p, v, false)
		case "ArnEquals", "ArnLike":
			hit = arnMatch(p, v)
		case "Bool":
			hit = strings.EqualFold(v, p)
		}
		if hit {
			break
		}
	}
	if base != c.op {
		return !hit
	}
	return hit
}

// Evaluate applies IAM's identity-policy logic to r over policies: an explicit Deny
// wins, then any Allow, else the request is implicitly denied. It returns the decision
// and the statements that matched (those with the decision's effect: the Deny
// statements for an explicit deny, the Allow statements for an allow).
func Evaluate(policies []*Policy, r *Request) (Decision, []StatementRef) {
	var allows, denies []StatementRef
	for pi, p := range policies {
		for i, s := range p.Statements {
			if !s.matches(r) {
				continue
			}
			ref := StatementRef{Policy: p.Name, Index: i, Sid: s.Sid, Effect: s.Effect, Managed: p.Managed, policy: pi}
			if s.Effect == Deny {
				denies = append(denies, ref)
			} else {
				allows = append(allows, ref)
			}
		}
	}
	switch {
	case len(denies) > 0:
		return ExplicitDeny, denies
	case len(allows) > 0:
		return Allowed, allows
	}
	return ImplicitDeny, nil
}

// StatementRef names one statement of one policy.
type StatementRef struct {
	// Role is the role the policy is attached to (set in usage reports).
	Role    string `json:"role,omitempty"`
	Policy  string `json:"policy"`
	Index   int    `json:"index"`
	Sid     string `json:"sid,omitempty"`
	Effect  Effect `json:"effect"`
	Managed bool   `json:"managed,omitempty"`

	policy int // index of the policy in the list evaluated
}
