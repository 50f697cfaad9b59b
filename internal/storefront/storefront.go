// Package storefront is a client of the checkout's public API as a storefront (a
// buyer's browser) speaks it: one cart, its token sent as a Bearer, JSON bodies. The
// end-to-end tests, the fault tests, the workflow's tests and the benchmark drive the
// API through it; it sends exactly what it is given, so tests can send bad input too.
package storefront

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Client is one buyer: the API's base URL, and the cart it holds once Open has made one
// (or the test has set TxID and Token).
type Client struct {
	API  string       // the API's base URL, without a trailing slash
	HTTP *http.Client // nil: http.DefaultClient
	// TxID and Token are the cart's transaction ID and token; "{txid}" in a path stands
	// for TxID, and a non-empty Token goes as Authorization: Bearer.
	TxID, Token string
}

// Reply is one answer of the API.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// Path is path with "{txid}" replaced by the cart's transaction ID.
func (c *Client) Path(path string) string { return strings.ReplaceAll(path, "{txid}", c.TxID) }

// Do sends method path (see Path) with body, as JSON when it is not empty, with the
// cart's token and the given header name/value pairs, and reads the whole answer.
func (c *Client) Do(ctx context.Context, method, path, body string, header ...string) (Reply, error) {
	return Call(ctx, c.HTTP, method, c.API+c.Path(path), c.Token, body, header...)
}

// Open creates a cart (POST /carts) and holds it.
func (c *Client) Open(ctx context.Context) error {
	r, err := c.Do(ctx, http.MethodPost, "/carts", "")
	if err != nil {
		return err
	}
	if r.Status != http.StatusCreated {
		return fmt.Errorf("POST /carts = %d %s", r.Status, r.Body)
	}
	var v struct {
		TransactionID string `json:"transactionId"`
		CartToken     string `json:"cartToken"`
	}
	if err := json.Unmarshal(r.Body, &v); err != nil || v.TransactionID == "" || v.CartToken == "" {
		return fmt.Errorf("POST /carts: no transaction ID and token in %s", r.Body)
	}
	c.TxID, c.Token = v.TransactionID, v.CartToken
	return nil
}

// Call sends one request to url with client (nil: http.DefaultClient): body as JSON
// when not empty, token as a Bearer when not empty, then the header name/value pairs.
func Call(ctx context.Context, client *http.Client, method, url, token, body string, header ...string) (Reply, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return Reply{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Reply{}, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return Reply{}, fmt.Errorf("%s %s: read the answer: %w", method, url, err)
	}
	return Reply{Status: resp.StatusCode, Header: resp.Header, Body: out}, nil
}
