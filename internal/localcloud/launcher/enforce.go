package launcher

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lmsshop/checkout/internal/cfn"
	"github.com/lmsshop/checkout/internal/localcloud/iam"
	"github.com/lmsshop/checkout/internal/localcloud/secretslocal"
	"github.com/lmsshop/checkout/internal/localcloud/sfnlocal"
)

// ServiceSecretsManager names Secrets Manager's endpoint, as AWS_ENDPOINT_URL_SECRETS_MANAGER does.
const ServiceSecretsManager = "SECRETS_MANAGER"

// LocalSettings are what the local cloud writes into every secret of the template whose
// content is a JSON object: the settings a deployed stack's operator puts there. The
// test payment provider signs its deferred callbacks with PAYMENT_TEST_SECRET.
var LocalSettings = map[string]string{
	"PAYMENT_TEST_SECRET": "local-test-provider-secret",
}

// secretContent is what the secret holds locally: the template's content (SecretString,
// or GenerateSecretString's template with its generated key) with LocalSettings added,
// then extra (Config.Settings).
func secretContent(s cfn.Secret, extra map[string]string) (string, error) {
	base := s.SecretString
	if base == "" {
		base = s.Template
	}
	if base == "" {
		base = "{}"
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(base), &obj); err != nil {
		// Not a JSON object: the code cannot read settings from it; keep it as is.
		return base, nil
	}
	if s.GenerateKey != "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		obj[s.GenerateKey] = hex.EncodeToString(b[:])
	}
	for k, v := range LocalSettings {
		obj[k] = v
	}
	for k, v := range extra {
		obj[k] = v
	}
	out, err := json.Marshal(obj)
	return string(out), err
}

// createSecrets creates the template's secrets in the local Secrets Manager, as the
// stack's creation does, before anything resolves a reference to them: their ARNs end
// with the store's random suffix.
func createSecrets(tpl *cfn.Template, store *secretslocal.Store, extra map[string]string) error {
	secrets, err := tpl.Secrets()
	if err != nil {
		return fmt.Errorf("launcher: %w", err)
	}
	for _, s := range secrets {
		content, err := secretContent(s, extra)
		if err != nil {
			return fmt.Errorf("launcher: secret %s: %w", s.LogicalID, err)
		}
		if _, _, err := store.Put(s.Name, content); err != nil {
			return fmt.Errorf("launcher: secret %s: %w", s.LogicalID, err)
		}
	}
	return nil
}

// enforce serves the local Secrets Manager, registers every function's role (and the
// state machine's) with the IAM authorizer, each function's access key as a session of
// its role, and serves an enforcing proxy in front of each service. It returns the
// endpoints the functions use.
func (c *Cloud) enforce(tpl *cfn.Template, store *secretslocal.Store, machines []cfn.StateMachine, upstream map[string]string) (map[string]string, error) {
	smURL, err := c.listenServe("Secrets Manager", store)
	if err != nil {
		return nil, err
	}
	c.SecretsManagerURL = smURL
	upstream[ServiceSecretsManager] = smURL

	a, err := iam.New(iam.Config{Account: AccountID, Region: Region, SecretARN: store.ARN, Log: c.log.With("component", "iam")})
	if err != nil {
		return nil, fmt.Errorf("launcher: %w", err)
	}
	added := map[string]string{} // logical ID -> role name
	addRole := func(id string) (string, error) {
		if name, ok := added[id]; ok {
			return name, nil
		}
		r, err := tpl.Role(id)
		if err != nil {
			return "", err
		}
		pols, err := iam.RolePolicies(r.Properties)
		if err != nil {
			return "", fmt.Errorf("role %s: %w", id, err)
		}
		// Policy resources attached to the role grant it too, as in AWS.
		for _, ap := range r.Attached {
			pol, err := iam.ParsePolicy(ap.Name, ap.Document)
			if err != nil {
				return "", fmt.Errorf("role %s, policy %s: %w", id, ap.Name, err)
			}
			pols = append(pols, pol)
		}
		if err := a.AddRole(r.Name, pols...); err != nil {
			return "", fmt.Errorf("role %s: %w", id, err)
		}
		added[id] = r.Name
		return r.Name, nil
	}
	for _, f := range c.Lambdas {
		role, err := addRole(f.Role)
		if err != nil {
			return nil, fmt.Errorf("launcher: %s: %w", f.LogicalID, err)
		}
		creds := FunctionCredentials(f.LogicalID)
		if err := a.AddKey(creds.AccessKeyID, creds.SecretAccessKey, role, f.Name); err != nil {
			return nil, fmt.Errorf("launcher: %s: %w", f.LogicalID, err)
		}
	}
	c.machineRoles = map[string]string{}
	for _, m := range machines {
		name, err := addRole(m.Role)
		if err != nil {
			return nil, fmt.Errorf("launcher: %s: %w", m.LogicalID, err)
		}
		r, err := tpl.Role(m.Role)
		if err != nil {
			return nil, fmt.Errorf("launcher: %s: %w", m.LogicalID, err)
		}
		c.machineRoles[r.ARN] = name
	}
	// The roles EventBridge Scheduler invokes functions as (see InvokeSchedule).
	c.scheduleRoles = map[string]string{}
	for _, s := range c.schedules {
		if s.Role == "" {
			continue
		}
		if c.scheduleRoles[s.LogicalID], err = addRole(s.Role); err != nil {
			return nil, fmt.Errorf("launcher: %s: %w", s.LogicalID, err)
		}
	}
	c.IAM = a

	out := map[string]string{}
	for _, p := range []struct {
		key string
		svc iam.Service
	}{
		{ServiceDynamoDB, iam.DynamoDB},
		{ServiceStepFunctions, iam.StepFunctions},
		{ServiceSES, iam.SESv2},
		{ServiceSecretsManager, iam.SecretsManager},
	} {
		h, err := a.Proxy(p.svc, upstream[p.key])
		if err != nil {
			return nil, fmt.Errorf("launcher: IAM proxy for %s: %w", p.svc, err)
		}
		if out[p.key], err = c.listenServe("IAM proxy "+string(p.svc), h); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// machineRole is the IAM name of the role a state machine's task runs as.
func (c *Cloud) machineRole(roleArn string) (string, error) {
	name, ok := c.machineRoles[roleArn]
	if !ok {
		return "", fmt.Errorf("launcher: no state machine runs as role %q", roleArn)
	}
	return name, nil
}

// authorizeInvoke checks, as Lambda does, that the role of the state machine whose task
// calls may invoke the task's function; a refusal fails the task the way AWS reports it.
func (c *Cloud) authorizeInvoke(ctx context.Context, functionARN string) error {
	role, err := c.machineRole(sfnlocal.ExecutionRole(ctx))
	if err != nil {
		return err
	}
	err = c.IAM.Authorize(role, "lambda:InvokeFunction", functionARN)
	var denied *iam.AccessDenied
	if errors.As(err, &denied) {
		return &sfnlocal.ServiceError{
			Name:  "Lambda.AWSLambdaException",
			Cause: denied.Error() + " (Service: Lambda, Status Code: 403, Request ID: " + requestID() + ")",
		}
	}
	return err
}

// authorizeStates checks a call a Step Functions integration makes as the state
// machine's role (starting, describing or stopping another machine's execution, the
// managed EventBridge rule of .sync, SendTaskFailure); a refusal fails the task with
// the integration's access-denied error.
func (c *Cloud) authorizeStates(_ context.Context, roleArn, action, resource string) error {
	role, err := c.machineRole(roleArn)
	if err != nil {
		return err
	}
	err = c.IAM.Authorize(role, action, resource)
	var denied *iam.AccessDenied
	if errors.As(err, &denied) {
		name := "StepFunctions.AccessDeniedException"
		if strings.HasPrefix(action, "states:SendTask") {
			name = "Sfn.AccessDeniedException" // the AWS SDK integration's prefix
		}
		return &sfnlocal.ServiceError{Name: name, Cause: denied.Error()}
	}
	return err
}

// listenServe serves h on a free loopback port until Close and returns its URL.
func (c *Cloud) listenServe(name string, h http.Handler) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("launcher: listen (%s): %w", name, err)
	}
	c.serve(name, l, h)
	return "http://" + l.Addr().String(), nil
}

// WriteIAMReport writes what the roles were used for, and the grants that no call
// used, as JSON to path (and as text beside it), and returns a short summary and the
// violations: the grants no call used that the template does not mark as kept for a
// path the local calls do not take (iam.KeptReason), which a least-privilege template
// removes.
func (c *Cloud) WriteIAMReport(path string) (summary string, violations []string, err error) {
	if c.IAM == nil {
		return "", nil, errors.New("launcher: IAM enforcement is not running")
	}
	rep := c.IAM.Usage()
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return "", nil, err
	}
	// The same report for people, beside the JSON.
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		return "", nil, err
	}
	textPath := strings.TrimSuffix(path, filepath.Ext(path)) + ".txt"
	if err := os.WriteFile(textPath, text.Bytes(), 0o644); err != nil {
		return "", nil, err
	}
	violations = rep.Violations()
	lines := make([]string, 0, len(violations)+len(rep.Kept))
	for _, v := range violations {
		lines = append(lines, "  "+v)
	}
	for _, k := range rep.Kept {
		lines = append(lines, fmt.Sprintf("  kept: %s %s statement %d (%s): %s", k.Role, k.Policy, k.Index, k.Sid, k.Reason))
	}
	sort.Strings(lines)
	return fmt.Sprintf("IAM least privilege: %d grants unused, %d partly used, %d kept for paths not run locally (details in %s and %s)\n%s",
		len(rep.Unused), len(rep.Partial), len(rep.Kept), path, textPath, strings.Join(lines, "\n")), violations, nil
}
