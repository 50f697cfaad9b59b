package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/lmsshop/checkout/internal/cognito"
)

// Operators sign in to the user pool once (`shopctl login`); the session — ID and
// refresh tokens, never a password — is kept in the user's config directory, readable by
// them only, and the ID token refreshed when it nears its expiry.

// localCognito is where `make run` serves the Cognito emulator.
const localCognito = "http://127.0.0.1:9229/"

// session is what `shopctl login` keeps.
type session struct {
	Endpoint     string `json:"endpoint"` // the user pools API it signed in with
	ClientID     string `json:"clientId"`
	Email        string `json:"email"`
	IDToken      string `json:"idToken"`
	RefreshToken string `json:"refreshToken"`
}

// sessionPath is <config dir>/lmsshop-checkout/shopctl-session.json.
func (a *app) sessionPath() (string, error) {
	dir, err := a.configDir()
	if err != nil {
		return "", fmt.Errorf("no config directory for the session: %w", err)
	}
	return filepath.Join(dir, "lmsshop-checkout", "shopctl-session.json"), nil
}

func (a *app) loadSession() (*session, string, error) {
	p, err := a.sessionPath()
	if err != nil {
		return nil, "", err
	}
	raw, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, p, errors.New("not signed in: run `shopctl login` (or use --sigv4 with an IAM role)")
	}
	if err != nil {
		return nil, p, fmt.Errorf("read session: %w", err)
	}
	var s session
	if err := json.Unmarshal(raw, &s); err != nil || s.RefreshToken == "" {
		return nil, p, fmt.Errorf("session %s is unreadable: run `shopctl login` again", p)
	}
	return &s, p, nil
}

func saveSession(p string, s *session) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	raw, _ := json.Marshal(s) // a struct of strings always encodes
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

// tokenSource gives the session's ID token, refreshed (and saved) when it has less
// than a minute left.
type tokenSource struct {
	a    *app
	s    *session
	path string
}

func (t *tokenSource) Token(ctx context.Context) (string, error) {
	if cognito.Expiry(t.s.IDToken).Sub(t.a.now()) > time.Minute {
		return t.s.IDToken, nil
	}
	tok, err := cognito.New(t.s.Endpoint, t.a.httpClient).Refresh(ctx, t.s.ClientID, t.s.RefreshToken)
	if err != nil {
		return "", fmt.Errorf("the session has ended (%v): run `shopctl login` again", err)
	}
	t.s.IDToken, t.s.RefreshToken = tok.IDToken, tok.RefreshToken
	if err := saveSession(t.path, t.s); err != nil {
		return "", err
	}
	return t.s.IDToken, nil
}

// login signs in with e-mail and password (prompted, or read from stdin with
// --password-stdin), answers a new-password or TOTP challenge, and keeps the session.
func (a *app) login(ctx context.Context, args []string, region string) int {
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	email := fs.String("email", "", "the operator's `E-MAIL`")
	endpoint := fs.String("cognito", "", "user pools `URL` (default $SHOPCTL_COGNITO, else the region's, else the local cloud's)")
	clientID := fs.String("client-id", "", "the back office's app client `ID` (default $SHOPCTL_CLIENT_ID; the stack's OperatorClientId output)")
	stdinPassword := fs.Bool("password-stdin", false, "read the password from standard input (for scripts)")
	usage := func(w io.Writer) {
		fmt.Fprintln(w, "Usage: shopctl login [--email E] [--cognito URL] [--client-id ID] [--password-stdin]\n  sign in as an operator; the session is kept in your config directory")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(a.stdout)
			return exitOK
		}
		return a.usageFail(err.Error(), usage)
	}
	if *endpoint == "" {
		*endpoint = a.getenv("SHOPCTL_COGNITO")
	}
	if *endpoint == "" && region != "" {
		*endpoint = cognito.Endpoint(region)
	}
	if *endpoint == "" {
		*endpoint = localCognito
	}
	if *clientID == "" {
		*clientID = a.getenv("SHOPCTL_CLIENT_ID")
	}
	if *clientID == "" {
		return a.usageFail("no app client: pass --client-id (printed by `make run`; the stack's OperatorClientId output)", usage)
	}
	in := bufio.NewReader(a.stdin)
	if *email == "" {
		*email = a.prompt(in, "E-mail: ", false)
	}
	if *email == "" {
		return a.usageFail("no e-mail", usage)
	}
	pw := a.prompt(in, "Password: ", !*stdinPassword)
	c := cognito.New(*endpoint, a.httpClient)
	tok, ch, err := c.SignIn(ctx, *clientID, *email, pw)
	for err == nil && ch != nil {
		switch ch.Name {
		case "NEW_PASSWORD_REQUIRED":
			fmt.Fprintln(a.stderr, "A new password is required (12 characters or more, upper and lower case, digits).")
			np := a.prompt(in, "New password: ", true)
			if again := a.prompt(in, "New password again: ", true); again != np {
				return a.fail(errors.New("the two new passwords differ"))
			}
			tok, ch, err = c.Respond(ctx, *clientID, ch, map[string]string{"NEW_PASSWORD": np, "USERNAME": *email})
		case "SOFTWARE_TOKEN_MFA":
			code := a.prompt(in, "Code from your authenticator app: ", false)
			tok, ch, err = c.Respond(ctx, *clientID, ch, map[string]string{"SOFTWARE_TOKEN_MFA_CODE": code, "USERNAME": *email})
		default:
			return a.fail(fmt.Errorf("sign-in asks for %s, which shopctl cannot answer: sign in on the back-office page", ch.Name))
		}
	}
	if err != nil {
		return a.fail(fmt.Errorf("sign in as %s: %w", *email, err))
	}
	p, err := a.sessionPath()
	if err != nil {
		return a.fail(err)
	}
	if err := saveSession(p, &session{Endpoint: *endpoint, ClientID: *clientID, Email: *email, IDToken: tok.IDToken, RefreshToken: tok.RefreshToken}); err != nil {
		return a.fail(err)
	}
	groups := "none"
	if claims, err := cognito.Claims(tok.IDToken); err == nil {
		if g, ok := claims["cognito:groups"].([]any); ok && len(g) > 0 {
			groups = strings.Trim(fmt.Sprint(g), "[]")
		}
	}
	fmt.Fprintf(a.stdout, "signed in as %s (groups: %s)\n", *email, groups)
	return exitOK
}

// logout forgets the session.
func (a *app) logout() int {
	p, err := a.sessionPath()
	if err != nil {
		return a.fail(err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return a.fail(fmt.Errorf("remove session: %w", err))
	}
	fmt.Fprintln(a.stdout, "signed out")
	return exitOK
}

// prompt asks on stderr and reads one line; secret input from a terminal is not echoed.
func (a *app) prompt(in *bufio.Reader, label string, secret bool) string {
	fmt.Fprint(a.stderr, label)
	if f, ok := a.stdin.(*os.File); ok && secret && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return ""
		}
		return string(b)
	}
	line, _ := in.ReadString('\n')
	return strings.TrimRight(line, "\r\n")
}
