package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/opsclient/opstest"
)

// fakePool answers InitiateAuth and RespondToAuthChallenge as a user pool does for one
// operator, handing out opstest.OperatorToken (the only token the stand-in API takes)
// once its ID token is "refreshed", and a token that expires in 30 s before that.
type fakePool struct {
	mu        sync.Mutex
	password  string
	mfa       bool
	calls     []string
	refreshes int
}

func jwtWith(exp time.Time, groups ...string) string {
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	return enc(map[string]string{"alg": "RS256"}) + "." + enc(map[string]any{"exp": exp.Unix(), "cognito:groups": groups}) + ".sig"
}

func (p *fakePool) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var in map[string]any
	_ = json.NewDecoder(r.Body).Decode(&in)
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSCognitoIdentityProviderService.")
	p.calls = append(p.calls, op)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	params, _ := in["AuthParameters"].(map[string]any)
	fail := func() {
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"__type":"NotAuthorizedException","message":"Incorrect username or password."}`))
	}
	tokens := func(id string) {
		_ = json.NewEncoder(w).Encode(map[string]any{"AuthenticationResult": map[string]any{
			"IdToken": id, "AccessToken": "a", "RefreshToken": "refresh-1", "ExpiresIn": 3600}})
	}
	switch {
	case op == "InitiateAuth" && in["AuthFlow"] == "USER_PASSWORD_AUTH":
		if params["PASSWORD"] != p.password || in["ClientId"] != "client-1" {
			fail()
			return
		}
		if p.mfa {
			_ = json.NewEncoder(w).Encode(map[string]any{"ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": "s1", "ChallengeParameters": map[string]string{}})
			return
		}
		tokens(jwtWith(time.Now().Add(30*time.Second), "sales"))
	case op == "RespondToAuthChallenge":
		resp, _ := in["ChallengeResponses"].(map[string]any)
		if resp["SOFTWARE_TOKEN_MFA_CODE"] != "123456" || in["Session"] != "s1" {
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"__type":"CodeMismatchException","message":"Invalid code received for user"}`))
			return
		}
		tokens(jwtWith(time.Now().Add(30*time.Second), "sales"))
	case op == "InitiateAuth" && in["AuthFlow"] == "REFRESH_TOKEN_AUTH":
		if params["REFRESH_TOKEN"] != "refresh-1" {
			fail()
			return
		}
		p.refreshes++
		_ = json.NewEncoder(w).Encode(map[string]any{"AuthenticationResult": map[string]any{"IdToken": opstest.OperatorToken, "AccessToken": "a", "ExpiresIn": 3600}})
	default:
		fail()
	}
}

// shopctl login prompts for the password (read from stdin here), answers the TOTP
// challenge, keeps the session in the config directory (mode 0600, no password), and
// later commands call /admin with the session's token, refreshed when it is about to
// expire; logout forgets it.
func TestLogin(t *testing.T) {
	tests := []struct {
		name    string
		mfa     bool
		stdin   string
		code    int
		wantErr string
	}{
		{"password", false, "s3cret-Passw0rd\n", exitOK, ""},
		{"password and TOTP code", true, "s3cret-Passw0rd\n123456\n", exitOK, ""},
		{"wrong password", false, "guess\n", exitFail, "NotAuthorizedException"},
		{"wrong TOTP code", true, "s3cret-Passw0rd\n000000\n", exitFail, "CodeMismatchException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := &fakePool{password: "s3cret-Passw0rd", mfa: tt.mfa}
			idp := httptest.NewServer(pool)
			defer idp.Close()
			api := opstest.NewSeededServer(t)
			cfg := t.TempDir()
			var out, errOut bytes.Buffer
			env := map[string]string{"CHECKOUT_API": api.URL, "SHOPCTL_COGNITO": idp.URL, "SHOPCTL_CLIENT_ID": "client-1"}
			a := newApp(&out, &errOut, func(k string) string { return env[k] })
			a.stdin = strings.NewReader(tt.stdin)
			a.configDir = func() (string, error) { return cfg, nil }

			code := a.run(context.Background(), []string{"login", "--email", "sam@example.com"})
			if code != tt.code {
				t.Fatalf("login: exit %d, want %d; stderr %s", code, tt.code, errOut.String())
			}
			sessionFile := filepath.Join(cfg, "lmsshop-checkout", "shopctl-session.json")
			if tt.code != exitOK {
				if !strings.Contains(errOut.String(), tt.wantErr) {
					t.Errorf("stderr %q, want %q", errOut.String(), tt.wantErr)
				}
				if _, err := os.Stat(sessionFile); err == nil {
					t.Error("a failed sign-in left a session")
				}
				if code := a.run(context.Background(), []string{"cancel", opstest.TxPending}); code != exitFail || !strings.Contains(errOut.String(), "not signed in") {
					t.Errorf("command without a session: exit %d, stderr %q", code, errOut.String())
				}
				return
			}
			if !strings.Contains(out.String(), "signed in as sam@example.com (groups: sales)") {
				t.Errorf("stdout %q", out.String())
			}
			st, err := os.Stat(sessionFile)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("session file: %v %v, want mode 0600", err, st)
			}
			raw, _ := os.ReadFile(sessionFile)
			if strings.Contains(string(raw), "s3cret") {
				t.Error("the session file holds the password")
			}

			// The ID token has 30 s left: the command refreshes it first.
			if code := a.run(context.Background(), []string{"cancel", opstest.TxPending}); code != exitOK {
				t.Fatalf("cancel: exit %d; stderr %s", code, errOut.String())
			}
			if o, _ := api.Order(opstest.TxPending); o.Status != checkout.Cancelled {
				t.Errorf("order %s, want CANCELLED", o.Status)
			}
			if pool.refreshes != 1 {
				t.Errorf("%d refreshes, want 1", pool.refreshes)
			}
			reqs := api.Requests()
			if len(reqs) != 1 || !strings.HasPrefix(reqs[0].Path, "/admin/") {
				t.Errorf("API requests %+v, want one to /admin", reqs)
			}
			if code := a.run(context.Background(), []string{"logout"}); code != exitOK {
				t.Fatal("logout failed")
			}
			if _, err := os.Stat(sessionFile); err == nil {
				t.Error("logout left the session")
			}
		})
	}
}
