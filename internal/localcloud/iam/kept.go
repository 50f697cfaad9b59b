package iam

import (
	"fmt"
	"slices"
	"strings"
)

// Some grants are needed on a path the local suite cannot drive: the Moodle adapter
// (the local cloud runs the local LMS), or a failure the local parts never produce. The
// template marks such a statement with a Sid that starts with one of these prefixes, so
// the least-privilege report lists it as kept, with the reason, instead of unused; any
// other unused grant is one a least-privilege template removes.
var keptPrefixes = []struct{ prefix, reason string }{
	{"MoodleOnly", "used only with LmsAdapter=moodle (the local cloud runs the local LMS)"},
	{"FailurePath", "used only when a call fails (an e-mail claim given back, a notification forgotten), which no test made fail"},
	{"LogDelivery", "used by Step Functions to deliver an Express machine's run logs to CloudWatch Logs, which the local cloud does not run"},
}

// KeptReason says why a statement whose Sid carries a kept marker stays although no
// local call uses it; ok is false for a Sid without one.
func KeptReason(sid string) (reason string, ok bool) {
	for _, k := range keptPrefixes {
		if strings.HasPrefix(sid, k.prefix) {
			return k.reason, true
		}
	}
	return "", false
}

// KeptStatement is a statement (or part of one) no call used that the template marks
// as needed on a path the local suite does not drive.
type KeptStatement struct {
	StatementUse
	// Unused is true when no call used the statement at all; otherwise UnusedActions and
	// UnusedResources say which parts no call used.
	Unused bool   `json:"unused,omitempty"`
	Reason string `json:"reason"`
}

// Violations lists the grants of the template (AWS managed policies excepted: the
// local cloud sees no CloudWatch Logs or X-Ray calls) that no call used and no kept
// marker explains, one line each: empty when the template is least privilege for
// what the calls did.
func (r Report) Violations() []string {
	var out []string
	for _, s := range r.Unused {
		if !s.Managed {
			out = append(out, "unused: "+s.label())
		}
	}
	for _, s := range r.Partial {
		if s.Managed {
			continue
		}
		out = append(out, fmt.Sprintf("partly used: %s: actions never used %v, resources never used %v",
			s.label(), s.UnusedActions, s.UnusedResources))
	}
	return out
}

// Absorb adds what b allowed to a's record, so one report covers several local clouds
// run from the same template (a test that needs a private cloud, with its own
// settings, uses grants the shared one never sees). A role of b counts only where a has
// the same role with the same policies and statements (names, Sids, effects, actions);
// resources are matched by position, since a resource can differ between two clouds
// (a secret's ARN has a random suffix). It returns an error naming the first role
// that differs, having absorbed none of it.
func (a *Authorizer) Absorb(b *Authorizer) error {
	if a == b {
		return nil
	}
	b.mu.Lock()
	uses := make(map[Use]int, len(b.uses))
	for u, n := range b.uses {
		uses[u] = n
	}
	hits := make(map[stmtKey]*stmtHits, len(b.hits))
	for k, h := range b.hits {
		hits[k] = h
	}
	broles := b.roles
	b.mu.Unlock()

	a.mu.Lock()
	defer a.mu.Unlock()
	for name, br := range broles {
		ar := a.roles[name]
		if ar == nil || !samePolicies(ar.policies, br.policies) {
			return &Error{Op: "iam.absorb", Kind: KindInvalid, Message: "role " + name + " differs between the two clouds: their usage cannot be added"}
		}
	}
	for u, n := range uses {
		a.uses[u] += n
	}
	for k, bh := range hits {
		ah := a.hits[k]
		if ah == nil {
			ah = &stmtHits{actions: map[string]bool{}, resources: map[string]bool{}}
			a.hits[k] = ah
		}
		ah.count += bh.count
		as, bs := a.roles[k.role].policies[k.policy].Statements[k.index], broles[k.role].policies[k.policy].Statements[k.index]
		for pat := range bh.actions {
			ah.actions[pat] = true
		}
		for i, pat := range bs.Resources {
			if bh.resources[pat] {
				ah.resources[as.Resources[i]] = true
			}
		}
	}
	return nil
}

// samePolicies reports whether two roles' policies are the same but for their
// resources' text (same number of resources in each statement).
func samePolicies(x, y []*Policy) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i].Name != y[i].Name || x[i].Managed != y[i].Managed || len(x[i].Statements) != len(y[i].Statements) {
			return false
		}
		for j, s := range x[i].Statements {
			t := y[i].Statements[j]
			if s.Sid != t.Sid || s.Effect != t.Effect || s.NotAction != t.NotAction || s.NotResource != t.NotResource ||
				!slices.Equal(s.Actions, t.Actions) || len(s.Resources) != len(t.Resources) {
				return false
			}
		}
	}
	return true
}
