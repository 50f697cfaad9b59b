package iam

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Config sets up an Authorizer.
type Config struct {
	// Account is the local account ID (12 digits), used in every ARN.
	Account string
	// Region is the local region: signatures must be scoped to it, and resource ARNs
	// are built in it.
	Region string
	// Partition defaults to "aws".
	Partition string
	// SecretARN resolves a Secrets Manager SecretId given by name or partial ARN to the
	// secret's full ARN (see secretslocal.Store.ARN). Without it, or when it does not
	// know the secret, the request is authorised on the ARN a name would have without
	// its random suffix, which a grant on "name-*" does not match, so an unknown secret
	// is denied rather than guessed.
	SecretARN func(id string) (arn string, ok bool)
	// Now is the clock used to check signatures; time.Now by default.
	Now func() time.Time
	// Log receives one line per denied call; slog.Default() by default.
	Log *slog.Logger
}

// Authorizer holds the local roles, the access keys that act as them, and the record of
// what was allowed. It is safe for concurrent use.
type Authorizer struct {
	cfg Config

	mu    sync.Mutex
	roles map[string]*role
	keys  map[string]accessKey
	uses  map[Use]int
	// hits counts, per role, policy and statement, the requests each statement
	// decided, and which of its Action and Resource entries matched them.
	hits map[stmtKey]*stmtHits
}

type role struct {
	name     string
	policies []*Policy
}

type accessKey struct {
	secret, role, session string
}

type stmtKey struct {
	role   string
	policy int
	index  int
}

type stmtHits struct {
	count     int
	actions   map[string]bool
	resources map[string]bool
}

// New returns an Authorizer without roles.
func New(cfg Config) (*Authorizer, error) {
	if cfg.Account == "" || cfg.Region == "" {
		return nil, &Error{Op: "iam.new", Kind: KindInvalid, Message: "an account and a region are required"}
	}
	if cfg.Partition == "" {
		cfg.Partition = "aws"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Authorizer{cfg: cfg, roles: map[string]*role{}, keys: map[string]accessKey{},
		uses: map[Use]int{}, hits: map[stmtKey]*stmtHits{}}, nil
}

// AddRole registers a role by name (the name that appears in denials, e.g.
// "OrderFunctionRole") with the policies attached to it.
func (a *Authorizer) AddRole(name string, policies ...*Policy) error {
	if name == "" || strings.Contains(name, "/") {
		return &Error{Op: "iam.add_role", Kind: KindInvalid, Message: fmt.Sprintf("role name %q is empty or holds a slash", name)}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, dup := a.roles[name]; dup {
		return &Error{Op: "iam.add_role", Kind: KindConflict, Message: "role " + name + " is already registered"}
	}
	a.roles[name] = &role{name: name, policies: policies}
	return nil
}

// AddKey lets requests signed with accessKey/secretKey act as role, with session as the
// role session name (the function's name, as Lambda names the session).
func (a *Authorizer) AddKey(accessKey, secretKey, role, session string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.roles[role]; !ok {
		return &Error{Op: "iam.add_key", Kind: KindNotFound, Message: "no role " + role}
	}
	if _, dup := a.keys[accessKey]; dup || accessKey == "" || secretKey == "" {
		return &Error{Op: "iam.add_key", Kind: KindConflict, Message: fmt.Sprintf("access key %q is empty or already registered", accessKey)}
	}
	a.keys[accessKey] = accessKeyOf(secretKey, role, session)
	return nil
}

func accessKeyOf(secret, role, session string) accessKey {
	if session == "" {
		session = role
	}
	return accessKey{secret: secret, role: role, session: session}
}

// RolePolicies reads the Properties of a resolved AWS::IAM::Role resource (no
// intrinsics left), as the SAM transform writes it: each Policies[].PolicyDocument,
// named by its PolicyName, and each ManagedPolicyArns entry (see ManagedPolicy).
func RolePolicies(properties []byte) ([]*Policy, error) {
	var props struct {
		Policies []struct {
			PolicyName     string
			PolicyDocument json.RawMessage
		}
		ManagedPolicyArns []string
	}
	if err := json.Unmarshal(properties, &props); err != nil {
		return nil, &Error{Op: "iam.role_policies", Kind: KindInvalid, Message: "role properties: " + err.Error()}
	}
	var out []*Policy
	for _, p := range props.Policies {
		pol, err := ParsePolicy(p.PolicyName, p.PolicyDocument)
		if err != nil {
			return nil, err
		}
		out = append(out, pol)
	}
	for _, arn := range props.ManagedPolicyArns {
		pol, err := ManagedPolicy(arn)
		if err != nil {
			return nil, err
		}
		out = append(out, pol)
	}
	return out, nil
}

// PrincipalARN returns the assumed-role ARN of a role session, as denials name it.
func (a *Authorizer) PrincipalARN(role, session string) string {
	return "arn:" + a.cfg.Partition + ":sts::" + a.cfg.Account + ":assumed-role/" + role + "/" + session
}

// Authorize checks a call that a local service makes for a role, without a signed
// request: the Step Functions engine invoking a task's function with the state
// machine's role (Authorize("CheckoutStateMachineRole", "lambda:InvokeFunction",
// functionARN)). principal is a role name, or "role/session" to name the session in
// the denial. It returns nil when allowed, or an *AccessDenied.
func (a *Authorizer) Authorize(principal, action, resource string) error {
	roleName, session, _ := strings.Cut(principal, "/")
	return a.check(roleName, session, []check{{action: action, resources: []string{resource}}})
}

// check is one authorisation a request needs: action on one of the candidate
// resources (SES authorises a send on the address identity or the domain identity),
// with the request's condition keys.
type check struct {
	action    string
	resources []string
	context   map[string][]string
}

// check evaluates every check for the role; all must be allowed. A check is allowed
// when no candidate resource is explicitly denied and at least one is allowed.
func (a *Authorizer) check(roleName, session string, checks []check) error {
	if session == "" {
		session = roleName
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.roles[roleName]
	principal := a.PrincipalARN(roleName, session)
	if !ok {
		// An unknown role has no policies: everything is implicitly denied.
		r = &role{name: roleName}
	}
	type grant struct {
		use  Use
		refs []StatementRef
		req  Request
	}
	var grants []grant
	for _, c := range checks {
		var allowed *grant
		for _, res := range c.resources {
			req := Request{Action: c.action, Resource: res, Context: a.globalContext(roleName, c.context)}
			d, refs := Evaluate(r.policies, &req)
			switch d {
			case ExplicitDeny:
				a.record(r, req, refs)
				return a.denied(principal, c.action, res, true)
			case Allowed:
				if allowed == nil {
					allowed = &grant{use: Use{Role: roleName, Action: c.action, Resource: res}, refs: refs, req: req}
				}
			}
		}
		if allowed == nil {
			return a.denied(principal, c.action, c.resources[0], false)
		}
		grants = append(grants, *allowed)
	}
	for _, g := range grants {
		a.uses[g.use]++
		a.record(r, g.req, g.refs)
	}
	return nil
}

func (a *Authorizer) denied(principal, action, resource string, explicit bool) error {
	err := &AccessDenied{Principal: principal, Action: action, Resource: resource, Explicit: explicit}
	a.cfg.Log.Warn("iam: access denied", "principal", principal, "action", action, "resource", resource, "explicit", explicit)
	return err
}

// globalContext adds the global condition keys the local cloud knows to a request's own.
func (a *Authorizer) globalContext(roleName string, own map[string][]string) map[string][]string {
	ctx := make(map[string][]string, len(own)+4)
	for k, v := range own {
		ctx[k] = v
	}
	ctx["aws:PrincipalArn"] = []string{"arn:" + a.cfg.Partition + ":iam::" + a.cfg.Account + ":role/" + roleName}
	ctx["aws:PrincipalAccount"] = []string{a.cfg.Account}
	ctx["aws:PrincipalType"] = []string{"AssumedRole"}
	ctx["aws:RequestedRegion"] = []string{a.cfg.Region}
	return ctx
}

// record notes which statements, and which of their entries, decided req.
func (a *Authorizer) record(r *role, req Request, refs []StatementRef) {
	for _, ref := range refs {
		s := r.policies[ref.policy].Statements[ref.Index]
		k := stmtKey{role: r.name, policy: ref.policy, index: ref.Index}
		h := a.hits[k]
		if h == nil {
			h = &stmtHits{actions: map[string]bool{}, resources: map[string]bool{}}
			a.hits[k] = h
		}
		h.count++
		if !s.NotAction {
			for _, pat := range s.Actions {
				if actionMatch(pat, req.Action) {
					h.actions[pat] = true
				}
			}
		}
		if !s.NotResource {
			for _, pat := range s.Resources {
				if resourceMatch(pat, req.Resource) {
					h.resources[pat] = true
				}
			}
		}
	}
}

// Use is one (role, action, resource) the local cloud allowed, and how many times.
type Use struct {
	Role     string `json:"role"`
	Action   string `json:"action"`
	Resource string `json:"resource"`
	Count    int    `json:"count,omitempty"`
}

// StatementUse is a statement that decided some requests while some of its Action or
// Resource entries never matched any: candidates for removal.
type StatementUse struct {
	StatementRef
	UnusedActions   []string `json:"unusedActions,omitempty"`
	UnusedResources []string `json:"unusedResources,omitempty"`
}

// Report is what the roles were used for since the Authorizer was made.
type Report struct {
	// Allowed lists every (role, action, resource) allowed, with counts.
	Allowed []Use `json:"allowed"`
	// Unused lists the statements that never decided a request (managed policies'
	// included, marked Managed: logs and X-Ray calls do not pass through the local
	// cloud).
	Unused []StatementRef `json:"unused"`
	// Partial lists the statements used only in part.
	Partial []StatementUse `json:"partial"`
	// Kept lists the statements, wholly or partly unused, that the template marks as
	// needed on a path the local calls do not take (see KeptReason): they are in
	// neither Unused nor Partial.
	Kept []KeptStatement `json:"kept"`
}

// Usage reports what the roles were used for: the grants no call needed are the ones a
// least-privilege template removes.
func (a *Authorizer) Usage() Report {
	a.mu.Lock()
	defer a.mu.Unlock()
	rep := Report{Allowed: []Use{}, Unused: []StatementRef{}, Partial: []StatementUse{}, Kept: []KeptStatement{}}
	for u, n := range a.uses {
		u.Count = n
		rep.Allowed = append(rep.Allowed, u)
	}
	sort.Slice(rep.Allowed, func(i, j int) bool {
		x, y := rep.Allowed[i], rep.Allowed[j]
		if x.Role != y.Role {
			return x.Role < y.Role
		}
		if x.Action != y.Action {
			return x.Action < y.Action
		}
		return x.Resource < y.Resource
	})
	names := slices.Sorted(maps.Keys(a.roles))
	for _, n := range names {
		r := a.roles[n]
		for pi, p := range r.policies {
			for si, s := range p.Statements {
				ref := StatementRef{Role: n, Policy: p.Name, Index: si, Sid: s.Sid, Effect: s.Effect, Managed: p.Managed}
				h := a.hits[stmtKey{role: n, policy: pi, index: si}]
				reason, kept := KeptReason(s.Sid)
				if h == nil {
					if kept {
						rep.Kept = append(rep.Kept, KeptStatement{StatementUse: StatementUse{StatementRef: ref}, Unused: true, Reason: reason})
						continue
					}
					rep.Unused = append(rep.Unused, ref)
					continue
				}
				su := StatementUse{StatementRef: ref}
				if !s.NotAction {
					for _, pat := range s.Actions {
						if !h.actions[pat] {
							su.UnusedActions = append(su.UnusedActions, pat)
						}
					}
				}
				if !s.NotResource {
					for _, pat := range s.Resources {
						if !h.resources[pat] {
							su.UnusedResources = append(su.UnusedResources, pat)
						}
					}
				}
				switch {
				case len(su.UnusedActions)+len(su.UnusedResources) == 0:
				case kept:
					rep.Kept = append(rep.Kept, KeptStatement{StatementUse: su, Reason: reason})
				default:
					rep.Partial = append(rep.Partial, su)
				}
			}
		}
	}
	return rep
}

// WriteText writes the report for people: the grants the calls needed, then the
// statements (or parts of statements) no call used, which a least-privilege template
// removes. Statements of AWS managed policies are marked, since the local cloud sees no
// CloudWatch Logs or X-Ray calls.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "IAM: %d distinct calls allowed\n", len(r.Allowed))
	for _, u := range r.Allowed {
		fmt.Fprintf(&b, "  %s  %s  %s  ×%d\n", u.Role, u.Action, u.Resource, u.Count)
	}
	fmt.Fprintf(&b, "IAM: %d statements no call used\n", len(r.Unused))
	for _, s := range r.Unused {
		fmt.Fprintf(&b, "  %s\n", s.label())
	}
	fmt.Fprintf(&b, "IAM: %d statements used in part\n", len(r.Partial))
	for _, s := range r.Partial {
		fmt.Fprintf(&b, "  %s", s.label())
		if len(s.UnusedActions) > 0 {
			fmt.Fprintf(&b, "  unused actions: %s", strings.Join(s.UnusedActions, ", "))
		}
		if len(s.UnusedResources) > 0 {
			fmt.Fprintf(&b, "  unused resources: %s", strings.Join(s.UnusedResources, ", "))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "IAM: %d statements kept although no local call used them (all or part)\n", len(r.Kept))
	for _, s := range r.Kept {
		fmt.Fprintf(&b, "  %s", s.label())
		if !s.Unused {
			fmt.Fprintf(&b, "  unused actions: %s", strings.Join(s.UnusedActions, ", "))
			if len(s.UnusedResources) > 0 {
				fmt.Fprintf(&b, "  unused resources: %s", strings.Join(s.UnusedResources, ", "))
			}
		}
		fmt.Fprintf(&b, "  kept: %s\n", s.Reason)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (s StatementRef) label() string {
	l := fmt.Sprintf("%s  %s  statement %d", s.Role, s.Policy, s.Index)
	if s.Sid != "" {
		l += " (" + s.Sid + ")"
	}
	l += " " + string(s.Effect)
	if s.Managed {
		l += " [AWS managed]"
	}
	return l
}
