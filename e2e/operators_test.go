package e2e_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/cognito"
	"github.com/lmsshop/checkout/internal/localcloud/cloudtest"
	"github.com/lmsshop/checkout/internal/localcloud/cognitolocal"
	"github.com/lmsshop/checkout/internal/localcloud/launcher"
)

// editedClaims returns token's claims as edit changed them.
func editedClaims(t *testing.T, token string, edit func(map[string]any)) map[string]any {
	t.Helper()
	claims, err := cognito.Claims(token)
	if err != nil {
		t.Fatal(err)
	}
	edit(claims)
	return claims
}

// resign returns token's claims edited by edit, signed with key under kid: a token the
// emulator's own key signs (key = its published private key) differs from a genuine
// one only by what edit changed.
func resign(t *testing.T, token string, key *rsa.PrivateKey, kid string, edit func(map[string]any)) string {
	t.Helper()
	claims := editedClaims(t, token, edit)
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(map[string]string{"alg": "RS256", "kid": kid, "typ": "JWT"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// emulatorKey is cognito-local's signing key, which the package ships: with it a test
// makes tokens that differ from genuine ones only in the claim under test.
func emulatorKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	root, err := launcher.FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "node_modules", "cognito-local", "lib", "keys", "cognitoLocal.private.json"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		PEM string `json:"pem"`
	}
	if err := json.Unmarshal(raw, &k); err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(k.PEM))
	if block == nil {
		t.Fatal("no PEM block in cognito-local's key")
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// otherClientToken signs the sales operator in through a second app client of the
// same pool: a genuine token, for another audience.
func otherClientToken(t *testing.T, c *cloudtest.Cloud) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	idp := cognito.New(c.CognitoURL, nil)
	var out struct {
		UserPoolClient struct{ ClientId string }
	}
	if err := idp.Call(ctx, "CreateUserPoolClient", map[string]any{"UserPoolId": c.Operators.ID, "ClientName": "another-app",
		"ExplicitAuthFlows": []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}}, &out); err != nil {
		t.Fatal(err)
	}
	op, _ := c.Operators.Operator("sales")
	tok, ch, err := idp.SignIn(ctx, out.UserPoolClient.ClientId, op.Email, op.Password)
	if err != nil || ch != nil {
		t.Fatalf("sign in through another client: %v %+v", err, ch)
	}
	return tok.IDToken
}

// Operators reach /admin only with a valid token of the pool, for the back office's
// app client, and only for what their group may do. Every refused call answers 401 or
// 403 and leaves the order, its trace and the catalog as they were.
func TestAdminRequiresAValidOperatorToken(t *testing.T) {
	c := cloudtest.Start(t)
	emu := emulatorKey(t)
	forger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sales := c.OperatorToken(t, "sales")
	accounting := c.OperatorToken(t, "accounting")
	cancelPath := func(tx string) string { return "/admin/orders/" + tx + "/cancel" }
	item := `{"code":"SEC-TEST","name":"Not for sale","status":"AVAILABLE","tiers":[{"upTo":0,"unitPrice":1}],"taxCode":"VAT-STD","seats":"none","audience":"anyone"}`

	tests := []struct {
		name    string
		token   string
		method  string
		path    func(tx string) string
		body    string
		status  int
		message string // the gateway's {"message"}, or the API's error code
	}{
		{"no token", "", "POST", cancelPath, "", 401, "Unauthorized"},
		{"expired", resign(t, sales, emu, "CognitoLocal", func(c map[string]any) {
			c["exp"] = time.Now().Add(-time.Minute).Unix()
			c["iat"] = time.Now().Add(-61 * time.Minute).Unix()
		}), "POST", cancelPath, "", 401, "Unauthorized"},
		{"not valid yet", resign(t, sales, emu, "CognitoLocal", func(c map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() }), "POST", cancelPath, "", 401, "Unauthorized"},
		{"forged: another key", resign(t, sales, forger, "CognitoLocal", func(c map[string]any) { c["cognito:groups"] = []string{"shop-admin"} }), "POST", cancelPath, "", 401, "Unauthorized"},
		{"tampered groups", tamperClaims(t, sales, func(c map[string]any) { c["cognito:groups"] = []string{"shop-admin"} }), "POST", cancelPath, "", 401, "Unauthorized"},
		{"wrong audience: another app client", otherClientToken(t, c), "POST", cancelPath, "", 401, "Unauthorized"},
		{"wrong issuer", resign(t, sales, emu, "CognitoLocal", func(c map[string]any) { c["iss"] = strings.Replace(c["iss"].(string), "/local_", "/other_", 1) + "x" }), "POST", cancelPath, "", 401, "Unauthorized"},
		{"unsigned (alg none)", strings.Join(strings.Split(sales, ".")[:2], ".") + ".", "POST", cancelPath, "", 401, "Unauthorized"},
		{"wrong group: accounting cancels", accounting, "POST", cancelPath, "", 403, "forbidden"},
		{"wrong group: sales edits the catalogue", sales, "PUT", func(string) string { return "/admin/catalog/items/SEC-TEST" }, item, 403, "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := placeChequeOrder(t)
			req, err := http.NewRequest(tt.method, c.APIURL+tt.path(b.TxID), strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("%d %s, want %d", resp.StatusCode, raw, tt.status)
			}
			var body struct {
				Message string `json:"message"`
				Error   struct {
					Code string `json:"code"`
				} `json:"error"`
			}
			_ = json.Unmarshal(raw, &body)
			if body.Message != tt.message && body.Error.Code != tt.message {
				t.Errorf("body %s, want %q", raw, tt.message)
			}
			if r := b.do("GET", "/orders/{txid}", ""); statusOf(r) != "PENDING" {
				t.Errorf("the refused call left the order %s", statusOf(r))
			}
			// The workflow may still be writing its own lines, so the trace is checked for
			// what the refused call would have written: an operator's action.
			_, after := admin(t, c, "GET", "/admin/orders/"+b.TxID+"/trace", "", "text/plain")
			for _, line := range strings.Split(after, "\n") {
				if strings.Contains(line, "@"+cognitolocal.OperatorDomain) || strings.Contains(strings.ToLower(line), "cancel") {
					t.Errorf("the refused call wrote to the trace: %s", line)
				}
			}
			if _, cat := admin(t, c, "GET", "/admin/catalog", "", ""); strings.Contains(cat, "SEC-TEST") {
				t.Error("the refused call saved a catalogue item")
			}
		})
	}
	// The same calls with the right token and group go through, so the refusals above
	// are the token and group checks, not a broken route.
	b := placeChequeOrder(t)
	req := c.OperatorRequest(t, "sales", "POST", cancelPath(b.TxID), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("sales cancels with a valid token: %d", resp.StatusCode)
	}
}

// tamperClaims edits a genuine token's claims and keeps its signature.
func tamperClaims(t *testing.T, token string, edit func(map[string]any)) string {
	t.Helper()
	b, _ := json.Marshal(editedClaims(t, token, edit))
	parts := strings.Split(token, ".")
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}
