// Package cognitolocal starts cognito-local, the npm emulator of Amazon Cognito user
// pools, and creates in it the operators' pool, app client and groups that
// template.yaml declares, with one operator per group, so that the local back office
// is signed in to exactly as the deployed one.
package cognitolocal

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lmsshop/checkout/internal/cognito"
	"github.com/lmsshop/checkout/internal/localcloud/proc"
	"github.com/lmsshop/checkout/internal/samtemplate"
)

// BinaryEnv overrides where the cognito-local executable is; by default it is looked
// for in node_modules/.bin of the working directory or of any parent.
const BinaryEnv = "COGNITO_LOCAL_BIN"

const binName = "cognito-local"

// Server is a running cognito-local process.
type Server struct {
	// URL is the user pools endpoint (http://127.0.0.1:port/); an issuer is URL + pool ID.
	URL string

	proc *proc.Process
	dir  string // its working directory, holding .cognito/ (removed on Stop)
	once sync.Once
}

// Binary returns the path of the cognito-local executable, or an error that says how
// to install it.
func Binary() (string, error) {
	p, err := proc.NodeBinary(BinaryEnv, binName)
	if err != nil {
		return "", fmt.Errorf("cognitolocal: %w", err)
	}
	return p, nil
}

// Start runs cognito-local on 127.0.0.1:port (0 picks a free port) in a fresh data
// directory, and returns once it answers. out receives its log (discarded if nil).
func Start(ctx context.Context, port int, out io.Writer) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	if port == 0 {
		if port, err = proc.FreePort(); err != nil {
			return nil, fmt.Errorf("cognitolocal: %w", err)
		}
	}
	// Its data lives in ./.cognito: a directory of its own, so every local cloud starts
	// from an empty emulator and two never share a pool file.
	dir, err := os.MkdirTemp("", "cognito-local-")
	if err != nil {
		return nil, fmt.Errorf("cognitolocal: %w", err)
	}
	if out == nil {
		out = io.Discard
	}
	cmd := exec.Command(bin)
	cmd.Dir = dir
	// HOST and PORT also set the issuer domain, so tokens name the address they are
	// verified at.
	cmd.Env = append(os.Environ(), "HOST=127.0.0.1", "PORT="+strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = out, out
	p, err := proc.Start(cmd)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("cognitolocal: start %s: %w", bin, err)
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port) + "/", proc: p, dir: dir}
	if err := p.WaitReady(ctx, s.URL+"health", false, 30*time.Second); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("cognitolocal: %s did not answer on %s: %w", binName, s.URL, err)
	}
	return s, nil
}

// Stop ends the process (SIGTERM, then SIGKILL after 5 s) and removes its data. It is
// safe to call more than once.
func (s *Server) Stop() error {
	var err error
	s.once.Do(func() {
		if e := s.proc.Stop(); e != nil {
			err = fmt.Errorf("cognitolocal: %w", e)
		}
		if e := os.RemoveAll(s.dir); e != nil && err == nil {
			err = fmt.Errorf("cognitolocal: remove data: %w", e)
		}
	})
	return err
}

// Operator is an account created in the local pool, in one group.
type Operator struct {
	Group    string
	Email    string
	Password string
}

// Pool is the operators' pool as created in the emulator.
type Pool struct {
	LogicalID string // the template's user pool
	ID        string
	ClientID  string
	// ClientLogicalID is the template's app client, whose !Ref the authorizer's audience names.
	ClientLogicalID string
	// Issuer is what the pool's tokens carry as iss, and where its JWKS is.
	Issuer    string
	Operators []Operator
}

// Operator returns the operator created for group.
func (p *Pool) Operator(group string) (Operator, bool) {
	for _, o := range p.Operators {
		if o.Group == group {
			return o, true
		}
	}
	return Operator{}, false
}

// OperatorDomain is the e-mail domain of the local operators: <group>@operators.example.com.
const OperatorDomain = "operators.example.com"

// Provision creates, from the template, the user pool, its app client and its groups,
// and one operator per group with a random password. stackName plays AWS::StackName
// in the pool's name.
func (s *Server) Provision(ctx context.Context, tpl *samtemplate.Template, stackName string) (*Pool, error) {
	c := cognito.New(s.URL, nil)
	pools, err := tpl.ResourcesOfType("AWS::Cognito::UserPool")
	if err != nil {
		return nil, err
	}
	if len(pools) != 1 {
		return nil, fmt.Errorf("cognitolocal: want one AWS::Cognito::UserPool in the template, found %d", len(pools))
	}
	pp := pools[0].Properties
	in := map[string]any{"PoolName": strings.ReplaceAll(str(pp["UserPoolName"]), "${AWS::StackName}", stackName)}
	// The properties CloudFormation passes to CreateUserPool under the same names.
	for _, k := range []string{"Policies", "MfaConfiguration", "UsernameAttributes", "AutoVerifiedAttributes",
		"AdminCreateUserConfig", "AccountRecoverySetting"} {
		if v, ok := pp[k]; ok {
			in[k] = v
		}
	}
	var pool struct {
		UserPool struct{ Id string } `json:"UserPool"`
	}
	if err := c.Call(ctx, "CreateUserPool", in, &pool); err != nil {
		return nil, fmt.Errorf("cognitolocal: %w", err)
	}
	p := &Pool{LogicalID: pools[0].LogicalID, ID: pool.UserPool.Id, Issuer: strings.TrimRight(s.URL, "/") + "/" + pool.UserPool.Id}
	if mfa := str(pp["MfaConfiguration"]); mfa == "OPTIONAL" || mfa == "ON" {
		// CloudFormation turns EnabledMfas into the pool's MFA configuration.
		if err := c.Call(ctx, "SetUserPoolMfaConfig", map[string]any{"UserPoolId": p.ID, "MfaConfiguration": mfa,
			"SoftwareTokenMfaConfiguration": map[string]bool{"Enabled": true}}, nil); err != nil {
			return nil, fmt.Errorf("cognitolocal: %w", err)
		}
	}

	clients, err := tpl.ResourcesOfType("AWS::Cognito::UserPoolClient")
	if err != nil {
		return nil, err
	}
	if len(clients) != 1 {
		return nil, fmt.Errorf("cognitolocal: want one AWS::Cognito::UserPoolClient in the template, found %d", len(clients))
	}
	cin := map[string]any{"UserPoolId": p.ID}
	for k, v := range clients[0].Properties {
		if k != "UserPoolId" {
			cin[k] = v
		}
	}
	var client struct {
		UserPoolClient struct{ ClientId string } `json:"UserPoolClient"`
	}
	if err := c.Call(ctx, "CreateUserPoolClient", cin, &client); err != nil {
		return nil, fmt.Errorf("cognitolocal: %w", err)
	}
	p.ClientID, p.ClientLogicalID = client.UserPoolClient.ClientId, clients[0].LogicalID

	groups, err := tpl.ResourcesOfType("AWS::Cognito::UserPoolGroup")
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		name := str(g.Properties["GroupName"])
		gin := map[string]any{"UserPoolId": p.ID, "GroupName": name, "Description": g.Properties["Description"]}
		if v, ok := g.Properties["Precedence"]; ok {
			gin["Precedence"] = v
		}
		if err := c.Call(ctx, "CreateGroup", gin, nil); err != nil {
			return nil, fmt.Errorf("cognitolocal: %w", err)
		}
		op := Operator{Group: name, Email: name + "@" + OperatorDomain, Password: password()}
		if err := c.Call(ctx, "AdminCreateUser", map[string]any{
			"UserPoolId": p.ID, "Username": op.Email, "MessageAction": "SUPPRESS",
			"UserAttributes": []map[string]string{{"Name": "email", "Value": op.Email}, {"Name": "email_verified", "Value": "true"}},
		}, nil); err != nil {
			return nil, fmt.Errorf("cognitolocal: %w", err)
		}
		// A permanent password: the printed credentials sign in at once, with no
		// new-password step (which a real first administrator does go through).
		if err := c.Call(ctx, "AdminSetUserPassword", map[string]any{
			"UserPoolId": p.ID, "Username": op.Email, "Password": op.Password, "Permanent": true,
		}, nil); err != nil {
			return nil, fmt.Errorf("cognitolocal: %w", err)
		}
		if err := c.Call(ctx, "AdminAddUserToGroup", map[string]any{"UserPoolId": p.ID, "Username": op.Email, "GroupName": name}, nil); err != nil {
			return nil, fmt.Errorf("cognitolocal: %w", err)
		}
		p.Operators = append(p.Operators, op)
	}
	return p, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// password returns a random password meeting the template's policy (12+ characters,
// upper and lower case, digits).
func password() string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return "Op-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])) + "-X7"
}
