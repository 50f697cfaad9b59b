// Package cognito is a small client of the Amazon Cognito user pools API (JSON 1.1 over
// HTTPS), for what operators do without AWS credentials: sign in with a password,
// answer a new-password or TOTP challenge, and refresh their tokens. The same calls
// reach the local emulator (cognito-local), which also accepts the administrative
// calls the local cloud provisions its pool with; against AWS those need SigV4 and are
// made by CloudFormation or the AWS CLI instead.
package cognito

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// target prefixes every operation in the X-Amz-Target header.
const target = "AWSCognitoIdentityProviderService."

// Endpoint is the user pools API of a region: https://cognito-idp.<region>.amazonaws.com/.
func Endpoint(region string) string { return "https://cognito-idp." + region + ".amazonaws.com/" }

// Client calls one user pools endpoint.
type Client struct {
	endpoint string
	http     *http.Client
}

// New returns a client of endpoint (Endpoint(region), or the emulator's URL). A nil
// httpClient uses one with a 30-second timeout.
func New(endpoint string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{endpoint: strings.TrimRight(endpoint, "/") + "/", http: httpClient}
}

// Error is an error answer of the API: its type (NotAuthorizedException,
// CodeMismatchException, …) and message.
type Error struct {
	Op      string
	Status  int
	Type    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("cognito %s: %s: %s", e.Op, e.Type, e.Message)
}

// IsType reports whether err is an API error of that type.
func IsType(err error, typ string) bool {
	var e *Error
	return errors.As(err, &e) && e.Type == typ
}

// Call sends one operation with in as its JSON body and decodes the answer into out
// (when not nil).
func (c *Client) Call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("cognito %s: encode: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("cognito %s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target+op)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cognito %s: %w", op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("cognito %s: read answer: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &e)
		typ := e.Type
		if i := strings.LastIndex(typ, "#"); i >= 0 {
			typ = typ[i+1:]
		}
		if typ == "" {
			typ = e.Code
		}
		if e.Message == "" {
			e.Message = strings.TrimSpace(string(raw))
		}
		return &Error{Op: op, Status: resp.StatusCode, Type: typ, Message: e.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("cognito %s: decode answer: %w", op, err)
	}
	return nil
}

// Tokens are what a successful sign-in returns. A refresh returns no new RefreshToken:
// the caller keeps the one it had.
type Tokens struct {
	IDToken      string `json:"IdToken"`
	AccessToken  string `json:"AccessToken"`
	RefreshToken string `json:"RefreshToken,omitempty"`
	ExpiresIn    int    `json:"ExpiresIn"`
	TokenType    string `json:"TokenType"`
}

// Challenge is a step Cognito asks for before it hands out tokens:
// NEW_PASSWORD_REQUIRED (first sign-in with a temporary password) or
// SOFTWARE_TOKEN_MFA (a code from the operator's authenticator app).
type Challenge struct {
	Name       string            `json:"ChallengeName"`
	Session    string            `json:"Session"`
	Parameters map[string]string `json:"ChallengeParameters"`
}

type authResult struct {
	Challenge
	Result *Tokens `json:"AuthenticationResult"`
}

func (r authResult) split() (*Tokens, *Challenge) {
	if r.Result != nil && r.Result.IDToken != "" {
		return r.Result, nil
	}
	ch := r.Challenge
	return nil, &ch
}

// SignIn starts a USER_PASSWORD_AUTH sign-in. It returns tokens, or the challenge to
// answer with Respond.
func (c *Client) SignIn(ctx context.Context, clientID, username, password string) (*Tokens, *Challenge, error) {
	var out authResult
	err := c.Call(ctx, "InitiateAuth", map[string]any{
		"AuthFlow":       "USER_PASSWORD_AUTH",
		"ClientId":       clientID,
		"AuthParameters": map[string]string{"USERNAME": username, "PASSWORD": password},
	}, &out)
	if err != nil {
		return nil, nil, err
	}
	t, ch := out.split()
	return t, ch, nil
}

// Respond answers a challenge: answers holds NEW_PASSWORD or SOFTWARE_TOKEN_MFA_CODE
// (USERNAME is added from the challenge's parameters when missing).
func (c *Client) Respond(ctx context.Context, clientID string, ch *Challenge, answers map[string]string) (*Tokens, *Challenge, error) {
	resp := map[string]string{}
	for k, v := range answers {
		resp[k] = v
	}
	if _, ok := resp["USERNAME"]; !ok {
		resp["USERNAME"] = ch.Parameters["USER_ID_FOR_SRP"]
		if resp["USERNAME"] == "" {
			resp["USERNAME"] = ch.Parameters["USERNAME"]
		}
	}
	var out authResult
	err := c.Call(ctx, "RespondToAuthChallenge", map[string]any{
		"ChallengeName": ch.Name, "ClientId": clientID, "Session": ch.Session, "ChallengeResponses": resp,
	}, &out)
	if err != nil {
		return nil, nil, err
	}
	t, next := out.split()
	return t, next, nil
}

// Refresh exchanges a refresh token for new ID and access tokens.
func (c *Client) Refresh(ctx context.Context, clientID, refreshToken string) (*Tokens, error) {
	var out authResult
	err := c.Call(ctx, "InitiateAuth", map[string]any{
		"AuthFlow":       "REFRESH_TOKEN_AUTH",
		"ClientId":       clientID,
		"AuthParameters": map[string]string{"REFRESH_TOKEN": refreshToken},
	}, &out)
	if err != nil {
		return nil, err
	}
	if out.Result == nil || out.Result.IDToken == "" {
		return nil, fmt.Errorf("cognito refresh: no tokens in the answer (challenge %q)", out.Name)
	}
	t := *out.Result
	if t.RefreshToken == "" {
		t.RefreshToken = refreshToken
	}
	return &t, nil
}

// Claims decodes a token's claims without verifying it: for showing who is signed in
// and when the token expires, never for deciding access (API Gateway does that).
func Claims(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	raw, err := base64URL(parts[1])
	if err != nil {
		return nil, err
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("JWT claims: %w", err)
	}
	return c, nil
}

// Expiry is a token's exp claim (the zero time if it has none).
func Expiry(token string) time.Time {
	c, err := Claims(token)
	if err != nil {
		return time.Time{}
	}
	if exp, ok := c["exp"].(float64); ok {
		return time.Unix(int64(exp), 0).UTC()
	}
	return time.Time{}
}

// base64URL decodes a JWT segment (base64url without padding, tolerating padding).
func base64URL(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, errors.New("JWT segment is not base64url")
	}
	return b, nil
}
