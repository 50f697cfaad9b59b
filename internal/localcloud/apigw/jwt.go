package apigw

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// JWT authorization, as HTTP API's JWT authorizers do it (API Gateway developer guide,
// "Control access to HTTP APIs with JWT authorizers"):
//
//  1. take the token from the identity source, bare or prefixed with "Bearer ";
//  2. decode it; check its algorithm (RSA only) and its signature with the issuer's
//     public key whose kid the token names;
//  3. validate the claims: iss equals the authorizer's issuer; aud — or client_id when
//     the token has no aud — matches one of the audiences; exp is after now; nbf and iat,
//     when present, are not after now; when the route has authorization scopes, scope
//     (or scp) holds at least one of them.
//
// Failing 1–3 answers 401 {"message":"Unauthorized"}; failing the scopes answers 403
// {"message":"Forbidden"}. API Gateway does not look at token_use: Cognito's ID and
// access tokens both pass when their aud or client_id matches, so neither does this.
// No clock leeway is given: the emulation is never more permissive than the cloud.

// JWTAuthorizer is one HttpApi JWT authorizer, with its issuer and audiences resolved
// (the local cloud points them at its Cognito emulator).
type JWTAuthorizer struct {
	// Issuer is the exact iss tokens must carry, e.g.
	// https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC or the emulator's.
	Issuer string
	// Audience lists the accepted aud (or client_id) values: the app client IDs.
	Audience []string
	// IdentitySource is where the token is read ("$request.header.Authorization" if empty).
	IdentitySource string
}

// jwksTTL is how long fetched keys are used before they are fetched again: API Gateway
// caches an issuer's public keys for two hours.
const jwksTTL = 2 * time.Hour

// jwksRefetchGap bounds how often an unknown kid makes the keys be fetched again, so
// forged tokens cannot turn the gateway into a flood of requests to the issuer.
const jwksRefetchGap = 30 * time.Second

// jwksCache holds each issuer's public keys. The zero value is ready to use.
type jwksCache struct {
	mu     sync.Mutex
	byIss  map[string]*jwksEntry
	client *http.Client
}

type jwksEntry struct {
	keys    map[string]*rsa.PublicKey // by kid
	fetched time.Time
}

// jwtDenied is a refused token: the status and API Gateway message, and why (for the
// log and the WWW-Authenticate header).
type jwtDenied struct {
	status int
	reason string
}

// authorizeJWT checks r's token against the named authorizer and returns what HTTP
// API puts in requestContext.authorizer.jwt.
func (g *Gateway) authorizeJWT(r *http.Request, name string, scopes []string, now time.Time) (*events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription, *jwtDenied) {
	cfg, ok := g.opts.JWTAuthorizers[name]
	if !ok || cfg.Issuer == "" || len(cfg.Audience) == 0 {
		// A route naming an authorizer the gateway was not given: refuse rather than
		// let the request through unauthenticated.
		g.log.Error("apigw: route names an unconfigured JWT authorizer", "authorizer", name)
		return nil, &jwtDenied{http.StatusInternalServerError, "authorizer " + name + " is not configured"}
	}
	token := identity(r, cfg.IdentitySource)
	if token == "" {
		return nil, &jwtDenied{http.StatusUnauthorized, "no token in the identity source"}
	}
	claims, err := g.jwks.verify(r.Context(), token, cfg.Issuer)
	if err != nil {
		return nil, &jwtDenied{http.StatusUnauthorized, err.Error()}
	}
	if err := checkClaims(claims, cfg, now); err != nil {
		return nil, &jwtDenied{http.StatusUnauthorized, err.Error()}
	}
	granted := tokenScopes(claims)
	if len(scopes) > 0 && !anyIn(scopes, granted) {
		return nil, &jwtDenied{http.StatusForbidden, "the token has none of the route's scopes"}
	}
	out := &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: flattenClaims(claims)}
	if len(granted) > 0 {
		out.Scopes = granted
	}
	return out, nil
}

// identity reads the token from "$request.header.Name", removing a "Bearer " prefix.
func identity(r *http.Request, source string) string {
	header := "Authorization"
	if h, ok := strings.CutPrefix(source, "$request.header."); ok && h != "" {
		header = h
	}
	v := strings.TrimSpace(r.Header.Get(header))
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		v = strings.TrimSpace(v[7:])
	}
	return v
}

// verify decodes token, checks its algorithm and signature with issuer's key, and
// returns its claims.
func (c *jwksCache) verify(ctx context.Context, token, issuer string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("the token is not a JWS compact serialization")
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return nil, fmt.Errorf("token header: %w", err)
	}
	var hash crypto.Hash
	switch hdr.Alg {
	case "RS256":
		hash = crypto.SHA256
	case "RS384":
		hash = crypto.SHA384
	case "RS512":
		hash = crypto.SHA512
	default:
		return nil, fmt.Errorf("unsupported algorithm %q (RSA only)", hdr.Alg)
	}
	if hdr.Kid == "" {
		return nil, errors.New("the token names no kid")
	}
	// Read the claims before the key: the token's own iss must be the authorizer's,
	// and the keys are fetched from the authorizer's issuer, never from the token's.
	var claims map[string]any
	if err := decodeSegment(parts[1], &claims); err != nil {
		return nil, fmt.Errorf("token claims: %w", err)
	}
	key, err := c.key(ctx, issuer, hdr.Kid)
	if err != nil {
		return nil, err
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, errors.New("the signature is not base64url")
	}
	h := hash.New()
	h.Write([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, hash, h.Sum(nil), sig); err != nil {
		return nil, errors.New("the signature does not verify")
	}
	return claims, nil
}

func decodeSegment(seg string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return errors.New("not base64url")
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return errors.New("not a JSON object")
	}
	return nil
}

// key returns the issuer's public key kid, fetching the issuer's keys when they are not
// known or too old.
func (c *jwksCache) key(ctx context.Context, issuer, kid string) (*rsa.PublicKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	e := c.byIss[issuer]
	stale := e == nil || now.Sub(e.fetched) > jwksTTL
	if !stale && e.keys[kid] == nil && now.Sub(e.fetched) > jwksRefetchGap {
		stale = true // the issuer may have rotated its keys
	}
	if stale {
		keys, err := c.fetch(ctx, issuer)
		if err != nil {
			if e == nil {
				return nil, err
			}
		} else {
			e = &jwksEntry{keys: keys, fetched: now}
			if c.byIss == nil {
				c.byIss = map[string]*jwksEntry{}
			}
			c.byIss[issuer] = e
		}
	}
	k := e.keys[kid]
	if k == nil {
		return nil, fmt.Errorf("no key %q in the issuer's JWKS", kid)
	}
	return k, nil
}

// fetch reads issuer/.well-known/jwks.json. API Gateway finds the key set through the
// issuer's OpenID discovery document; for a Cognito user pool that names exactly this
// URL, and the emulator's discovery document names a fixed port that is not the one it
// runs on, so the key set's URL is built the way Cognito publishes it.
func (c *jwksCache) fetch(ctx context.Context, issuer string) (map[string]*rsa.PublicKey, error) {
	client := c.client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(issuer, "/")+"/.well-known/jwks.json", nil)
	if err != nil {
		return nil, fmt.Errorf("JWKS of %s: %w", issuer, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("JWKS of %s: %w", issuer, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("JWKS of %s: %w", issuer, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("JWKS of %s: %s", issuer, resp.Status)
	}
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("JWKS of %s: %w", issuer, err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			continue
		}
		exp := 0
		for _, b := range e {
			exp = exp<<8 | int(b)
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}
	}
	return keys, nil
}

// checkClaims validates iss, aud or client_id, exp, nbf and iat.
func checkClaims(claims map[string]any, cfg JWTAuthorizer, now time.Time) error {
	if iss, _ := claims["iss"].(string); iss != cfg.Issuer {
		return fmt.Errorf("iss %q is not the authorizer's issuer", iss)
	}
	// aud wins over client_id when both are present.
	if aud, ok := claims["aud"]; ok {
		if !anyIn(cfg.Audience, stringList(aud)) {
			return errors.New("aud matches none of the authorizer's audiences")
		}
	} else {
		cid, _ := claims["client_id"].(string)
		if cid == "" || !slices.Contains(cfg.Audience, cid) {
			return errors.New("client_id matches none of the authorizer's audiences")
		}
	}
	t := now.Unix()
	exp, ok := numericClaim(claims, "exp")
	if !ok {
		return errors.New("the token has no exp")
	}
	if exp <= t {
		return errors.New("the token has expired")
	}
	if nbf, ok := numericClaim(claims, "nbf"); ok && nbf > t {
		return errors.New("the token is not valid yet (nbf)")
	}
	if iat, ok := numericClaim(claims, "iat"); ok && iat > t {
		return errors.New("the token was issued in the future (iat)")
	}
	return nil
}

func numericClaim(claims map[string]any, name string) (int64, bool) {
	n, ok := claims[name].(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	f, err := n.Float64()
	if err != nil {
		return 0, false
	}
	return int64(f), true
}

func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// anyIn reports whether want and have share a value.
func anyIn(want, have []string) bool {
	return slices.ContainsFunc(want, func(w string) bool { return slices.Contains(have, w) })
}

// tokenScopes reads the space-separated scope claim, or scp (a list or a string).
func tokenScopes(claims map[string]any) []string {
	if s, ok := claims["scope"].(string); ok {
		return strings.Fields(s)
	}
	switch v := claims["scp"].(type) {
	case string:
		return strings.Fields(v)
	case []any:
		return stringList(v)
	}
	return nil
}

// flattenClaims renders claims the way HTTP API passes them to the function: every
// value a string, a list as "[a b]" (so cognito:groups arrives as "[sales accounting]").
func flattenClaims(claims map[string]any) map[string]string {
	out := make(map[string]string, len(claims))
	for k, v := range claims {
		out[k] = flatten(v)
	}
	return out
}

func flatten(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = flatten(x)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case nil:
		return ""
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// wwwAuthenticate is the header HTTP API adds to a JWT authorizer's 401.
func wwwAuthenticate(reason string) string {
	return `Bearer scope="" error="invalid_token" error_description="` + strings.ReplaceAll(reason, `"`, `'`) + `"`
}
