package apigw_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lmsshop/checkout/internal/cfn"
	"github.com/lmsshop/checkout/internal/localcloud/apigw"
)

// issuerServer serves a JWKS holding key under kid at /pool/.well-known/jwks.json and
// counts the fetches.
func issuerServer(t *testing.T, kid string, key *rsa.PublicKey) (issuer string, fetches *atomic.Int64) {
	t.Helper()
	fetches = &atomic.Int64{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pool/.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		e := big.NewInt(int64(key.E)).Bytes()
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(e),
		}}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/pool", fetches
}

// mint signs claims with key (RS256) under kid; alg overrides the header's algorithm.
func mint(t *testing.T, key *rsa.PrivateKey, kid, alg string, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(map[string]string{"alg": alg, "kid": kid, "typ": "JWT"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestJWTAuthorizer(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	issuer, fetches := issuerServer(t, "k1", &key.PublicKey)
	now := fixedNow.Unix()
	idToken := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{"iss": issuer, "aud": "client-1", "token_use": "id", "email": "ada@example.com",
			"cognito:groups": []string{"sales", "accounting"}, "iat": now - 10, "exp": now + 3600, "sub": "u-1"}
		if edit != nil {
			edit(c)
		}
		return c
	}
	rec := &recorder{}
	routes := []cfn.Route{
		{Method: "ANY", Path: "/admin/{proxy+}", Function: "F", Authorizer: "Operators"},
		{Method: "GET", Path: "/scoped", Function: "F", Authorizer: "Operators", Scopes: []string{"shop/admin"}},
		{Method: "GET", Path: "/unconfigured", Function: "F", Authorizer: "Nobody"},
	}
	srv := newServer(t, routes, map[string]lambda.Handler{"F": rec.handler()}, apigw.Options{
		JWTAuthorizers: map[string]apigw.JWTAuthorizer{"Operators": {Issuer: issuer, Audience: []string{"client-1"}}},
	})

	tests := []struct {
		name   string
		path   string
		auth   string
		status int
		groups string // the cognito:groups claim the function must see when 200
	}{
		{"ID token with Bearer", "/admin/orders", "Bearer " + mint(t, key, "k1", "RS256", idToken(nil)), 200, "[sales accounting]"},
		{"bare token", "/admin/orders", mint(t, key, "k1", "RS256", idToken(nil)), 200, "[sales accounting]"},
		{"access token: client_id when no aud", "/admin/orders", "Bearer " + mint(t, key, "k1", "RS256", idToken(func(c map[string]any) {
			delete(c, "aud")
			c["client_id"], c["token_use"] = "client-1", "access"
		})), 200, "[sales accounting]"},
		{"no token", "/admin/orders", "", 401, ""},
		{"not a JWT", "/admin/orders", "Bearer abc.def", 401, ""},
		{"expired", "/admin/orders", "Bearer " + mint(t, key, "k1", "RS256", idToken(func(c map[string]any) { c["exp"] = now - 1 })), 401, ""},
		{"expires now", "/admin/orders", "Bearer " + mint(t, key, "k1", "RS256", idToken(func(c map[string]any) { c["exp"] = now })), 401, ""},
		{"no exp", "/admin/orders", "Bearer " + mint(t, key, "k1", "RS256", idToken(func(c map[string]any) { delete(c, "exp") })), 401, ""},
		{"nbf in the future", "/admin/orders", "Bearer " + mint(t, key, "k1", "RS256", idToken(func(c map[string]any) { c["nbf"] = now + 60 })), 401, ""},
		{"iat in the future", "/admin/orders", "Bearer " + mint(t, key, "k1", "RS256", idToken(func(c map[string]any) { c["iat"] = now + 60 })), 401, ""},
		{"wrong audience", "/admin/orders", "Bearer " + mint(t, key, "k1", "RS256", idToken(func(c map[string]any) { c["aud"] = "client-2" })), 401, ""},
		{"aud wins over a matching client_id", "/admin/orders", "Bearer " + mint(t, key, "k1", "RS256", idToken(func(c map[string]any) {
			c["aud"], c["client_id"] = "client-2", "client-1"
		})), 401, ""},
		{"wrong client_id", "/admin/orders", "Bearer " + mint(t, key, "k1", "RS256", idToken(func(c map[string]any) {
			delete(c, "aud")
			c["client_id"] = "client-2"
		})), 401, ""},
		{"wrong issuer", "/admin/orders", "Bearer " + mint(t, key, "k1", "RS256", idToken(func(c map[string]any) { c["iss"] = issuer + "x" })), 401, ""},
		{"forged: signed by another key", "/admin/orders", "Bearer " + mint(t, other, "k1", "RS256", idToken(nil)), 401, ""},
		{"unknown kid", "/admin/orders", "Bearer " + mint(t, key, "k2", "RS256", idToken(nil)), 401, ""},
		{"alg none", "/admin/orders", "Bearer " + strings.Join(strings.Split(mint(t, key, "k1", "none", idToken(nil)), ".")[:2], ".") + ".", 401, ""},
		{"HS256 header", "/admin/orders", "Bearer " + mint(t, key, "k1", "HS256", idToken(nil)), 401, ""},
		{"tampered claims", "/admin/orders", "Bearer " + tamper(t, mint(t, key, "k1", "RS256", idToken(nil))), 401, ""},
		{"route scopes: token has none", "/scoped", "Bearer " + mint(t, key, "k1", "RS256", idToken(nil)), 403, ""},
		{"route scopes: token has one", "/scoped", "Bearer " + mint(t, key, "k1", "RS256", idToken(func(c map[string]any) { c["scope"] = "openid shop/admin" })), 200, "[sales accounting]"},
		{"unconfigured authorizer refuses", "/unconfigured", "Bearer " + mint(t, key, "k1", "RS256", idToken(nil)), 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rec.events)
			req, _ := http.NewRequest("GET", srv.URL+tt.path, nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, body := do(t, req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tt.status)
			}
			if tt.status != 200 {
				if len(rec.events) != before {
					t.Fatal("the function was invoked for a refused token")
				}
				want := map[int]string{401: `{"message":"Unauthorized"}`, 403: `{"message":"Forbidden"}`, 500: `{"message":"Internal Server Error"}`}[tt.status]
				if body != want {
					t.Errorf("body %s, want %s", body, want)
				}
				if tt.status == 401 && !strings.HasPrefix(resp.Header.Get("Www-Authenticate"), `Bearer scope="" error="invalid_token"`) {
					t.Errorf("WWW-Authenticate %q", resp.Header.Get("Www-Authenticate"))
				}
				return
			}
			a := rec.last(t).RequestContext.Authorizer
			if a == nil || a.JWT == nil {
				t.Fatal("no requestContext.authorizer.jwt")
			}
			if g := a.JWT.Claims["cognito:groups"]; g != tt.groups {
				t.Errorf("cognito:groups claim %q, want %q", g, tt.groups)
			}
			if a.JWT.Claims["iss"] != issuer {
				t.Errorf("iss claim %q", a.JWT.Claims["iss"])
			}
			if a.IAM != nil {
				t.Error("a JWT route carries an IAM identity")
			}
		})
	}
	// Keys are cached: a handful of fetches at most (the first, and the refetch an
	// unknown kid allows once), not one per request.
	if n := fetches.Load(); n < 1 || n > 2 {
		t.Errorf("JWKS fetched %d times for %d requests", n, len(tests))
	}
}

// tamper makes a signed token claim the shop-admin group, keeping its signature.
func tamper(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	_ = json.Unmarshal(raw, &c)
	c["cognito:groups"] = []string{"shop-admin"}
	b, _ := json.Marshal(c)
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}
