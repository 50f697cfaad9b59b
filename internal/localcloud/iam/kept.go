package iam

import (
	"fmt"
	"strings"
)

// Some grants are needed on a path the local suite cannot drive: the Moodle adapter
// (the local cloud runs the local LMS), or a failure the local parts never produce. The
// template marks such a statement with a Sid that starts with one of these prefixes, so
// the least-privilege report lists it as kept, with the reason, instead of unused; any
// other unused grant is one a least-privilege template removes.
var keptPrefixes = []struct{ prefix, reason string }{
	{"MoodleOnly", "used only with LmsAdapter=moodle (the local cloud runs the local LMS)"},
	{"FailurePath", "used only when a call fails (a claim or a notification given back); the local parts do not fail that way"},
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
