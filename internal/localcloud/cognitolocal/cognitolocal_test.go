package cognitolocal_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/cognito"
	"github.com/lmsshop/checkout/internal/localcloud/cognitolocal"
	"github.com/lmsshop/checkout/internal/samtemplate"
)

// The emulator gets the template's pool, client and groups, and each printed operator
// signs in with the printed password and gets tokens naming their group, from the
// pool's issuer and for the app client.
func TestProvisionAndSignIn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tpl, err := samtemplate.Load(filepath.Join("..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := cognitolocal.Start(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	pool, err := srv.Provision(ctx, tpl, "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(pool.Operators) != 3 {
		t.Fatalf("operators %+v, want one per group", pool.Operators)
	}
	c := cognito.New(srv.URL, nil)
	for _, op := range pool.Operators {
		t.Run(op.Group, func(t *testing.T) {
			tok, ch, err := c.SignIn(ctx, pool.ClientID, op.Email, op.Password)
			if err != nil || ch != nil {
				t.Fatalf("sign in: %v, challenge %+v", err, ch)
			}
			claims, err := cognito.Claims(tok.IDToken)
			if err != nil {
				t.Fatal(err)
			}
			if claims["iss"] != pool.Issuer || claims["aud"] != pool.ClientID || claims["email"] != op.Email {
				t.Errorf("ID token iss %v aud %v email %v, want %s %s %s", claims["iss"], claims["aud"], claims["email"], pool.Issuer, pool.ClientID, op.Email)
			}
			if g := fmt.Sprint(claims["cognito:groups"]); g != "["+op.Group+"]" {
				t.Errorf("cognito:groups %s, want [%s]", g, op.Group)
			}
			if exp := cognito.Expiry(tok.IDToken); time.Until(exp) > 61*time.Minute || exp.Before(time.Now()) {
				t.Errorf("ID token expires at %v: the template gives 60 minutes", exp)
			}
			again, err := c.Refresh(ctx, pool.ClientID, tok.RefreshToken)
			if err != nil || again.IDToken == "" || again.RefreshToken != tok.RefreshToken {
				t.Errorf("refresh: %v %+v", err, again)
			}
		})
	}
	sales, _ := pool.Operator("sales")
	// AWS answers NotAuthorizedException; the emulator InvalidPasswordException.
	tok, _, err := c.SignIn(ctx, pool.ClientID, sales.Email, sales.Password+"x")
	if tok != nil || !(cognito.IsType(err, "NotAuthorizedException") || cognito.IsType(err, "InvalidPasswordException")) {
		t.Errorf("wrong password: %v, tokens %v", err, tok != nil)
	}
}
