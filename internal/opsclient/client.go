// Package opsclient is the operators' client of the back-office API (see
// docs/spec.md#back-office). An operator signed in to the user pool calls /admin/… with their ID
// token (Bearer), as the JWT authorizer requires; automation with an IAM role calls the
// same actions under /ops/…, signed with AWS Signature Version 4 for the execute-api
// service, as AWS_IAM authorization requires.
package opsclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/trace"
)

// SigningService is the service name in the signature's credential scope: API Gateway
// checks signatures for "execute-api", whatever the API's own name.
const SigningService = "execute-api"

// maxBody caps what the client reads from one answer, so a misbehaving endpoint cannot
// exhaust the operator's memory. A full catalog or a long trace fits with room to spare.
const maxBody = 16 << 20

// Client calls the back-office API. It is safe for concurrent use.
type Client struct {
	endpoint string
	creds    aws.CredentialsProvider
	region   string
	tokens   TokenSource
	http     *http.Client
	signer   *v4.Signer
}

// TokenSource gives the operator's current ID token, refreshing it when needed.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// NewWithTokens returns a client of the API at endpoint that calls /admin/… as the
// operator whose ID tokens tokens gives. A nil httpClient uses one with a 30-second
// timeout.
func NewWithTokens(endpoint string, tokens TokenSource, httpClient *http.Client) *Client {
	c := New(endpoint, nil, "", httpClient)
	c.tokens = tokens
	return c
}

// New returns a client of the API at endpoint (e.g. "https://abc.execute-api.eu-west-3.amazonaws.com"
// or "http://127.0.0.1:3000") that calls /ops/… signed with creds for region: for
// automation with an IAM role. A nil httpClient uses one with a 30-second timeout, so a
// stalled network never hangs a command.
func New(endpoint string, creds aws.CredentialsProvider, region string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{
		endpoint: strings.TrimRight(endpoint, "/"),
		creds:    creds,
		region:   region,
		http:     httpClient,
		signer:   v4.NewSigner(),
	}
}

// Product is one delivered unit of an order as GET /admin/orders/{txid} lists it: what
// an operator reads of the production instance (whose fields the API writes under
// their Go names; the others are not decoded).
type Product struct {
	Reference, ItemCode, Handler, Context, Status string
	Customer, Beneficiary, TxID, LineID           string
	Unit                                          int
	Start, End                                    time.Time // UTC; a zero End means no end
	Data                                          map[string]string
}

// OrderDetail is one order as the back office shows it: the order, where its workflow
// waits, its payments, the products delivered and its whole trace.
type OrderDetail struct {
	Order     *checkout.Order    `json:"order"`
	Waiting   string             `json:"waiting,omitempty"`
	Payments  []checkout.Payment `json:"payments"`
	Products  []Product          `json:"products"`
	Trace     []trace.Line       `json:"trace"`
	Flags     []Flag             `json:"flags"`
	LinkToken string             `json:"linkToken"`
}

// Flag is a payment stored on an order that could not move it forward (late,
// duplicate, underpayment, overpayment, currency), waiting for an operator to settle it.
type Flag struct {
	TxID      string          `json:"txid"`
	Key       string          `json:"key"`
	Reason    string          `json:"reason"`
	Mode      string          `json:"mode"`
	Reference string          `json:"reference"`
	Amount    int64           `json:"amount"`
	Currency  string          `json:"currency"`
	Status    checkout.Status `json:"orderStatus"`
	At        time.Time       `json:"at"`
	Settled   string          `json:"settled,omitempty"`
	SettledBy string          `json:"settledBy,omitempty"`
}

// Settlement settles one flag: Action "deliver" or "refund"; Key names the flagged
// payment when the order has several; Reference is the refund the operator made
// (required for cheques and transfers; left out, Stripe, PayPal and the test mode
// refund through the provider).
type Settlement struct {
	Action    string `json:"action"`
	Key       string `json:"key,omitempty"`
	Reference string `json:"reference,omitempty"`
	Note      string `json:"note,omitempty"`
}

// Payment is an offline payment an operator records.
type Payment struct {
	// Mode is "check" or "transfer".
	Mode string `json:"mode"`
	// Amount is in minor units; one that is not the order's final total is recorded
	// and flagged for settling (see Flags).
	Amount int64 `json:"amount"`
	// Reference is the cheque number or the transfer's reference.
	Reference string `json:"reference"`
}

// Orders lists orders, newest first, optionally of one status and placed between from
// and to (zero times leave that end open).
func (c *Client) Orders(ctx context.Context, status checkout.Status, from, to time.Time) ([]checkout.Order, error) {
	q := url.Values{}
	if status != "" {
		q.Set("status", string(status))
	}
	if !from.IsZero() {
		q.Set("from", from.UTC().Format(time.RFC3339))
	}
	if !to.IsZero() {
		q.Set("to", to.UTC().Format(time.RFC3339))
	}
	var out struct {
		Orders []checkout.Order `json:"orders"`
	}
	if err := c.do(ctx, http.MethodGet, "/admin/orders", q, nil, &out); err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	return out.Orders, nil
}

// Order reads one order with its payments, products and trace.
func (c *Client) Order(ctx context.Context, txid string) (*OrderDetail, error) {
	if err := checkTxID(txid); err != nil {
		return nil, err
	}
	var out OrderDetail
	if err := c.do(ctx, http.MethodGet, "/admin/orders/"+txid, nil, nil, &out); err != nil {
		return nil, fmt.Errorf("read order %s: %w", txid, err)
	}
	if out.Order == nil {
		return nil, fmt.Errorf("read order %s: the answer holds no order", txid)
	}
	return &out, nil
}

// Trace reads the whole trace of one transaction, in order. Render a line with
// trace.Line.Format for the merchant trace's text.
func (c *Client) Trace(ctx context.Context, txid string) ([]trace.Line, error) {
	if err := checkTxID(txid); err != nil {
		return nil, err
	}
	var out struct {
		Lines []trace.Line `json:"lines"`
	}
	if err := c.do(ctx, http.MethodGet, "/admin/orders/"+txid+"/trace", nil, nil, &out); err != nil {
		return nil, fmt.Errorf("read trace of %s: %w", txid, err)
	}
	return out.Lines, nil
}

// RecordPayment records a cheque or a transfer received for the order; the API moves
// the order to SOLDOUT and its workflow on to production.
func (c *Client) RecordPayment(ctx context.Context, txid string, p Payment) (*checkout.Order, error) {
	if err := checkTxID(txid); err != nil {
		return nil, err
	}
	// The answer is the order, or {"order","flag"} when the payment was flagged.
	var raw map[string]json.RawMessage
	if err := c.do(ctx, http.MethodPost, "/admin/orders/"+txid+"/payment-received", nil, p, &raw); err != nil {
		return nil, fmt.Errorf("record payment of %s: %w", txid, err)
	}
	body, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	if o, ok := raw["order"]; ok {
		body = o
	}
	var out checkout.Order
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("record payment of %s: answer: %w", txid, err)
	}
	return &out, nil
}

// Flags lists the payments waiting for an operator, newest first.
func (c *Client) Flags(ctx context.Context) ([]Flag, error) {
	var out struct {
		Flags []Flag `json:"flags"`
	}
	if err := c.do(ctx, http.MethodGet, "/admin/flags", nil, nil, &out); err != nil {
		return nil, fmt.Errorf("list flags: %w", err)
	}
	return out.Flags, nil
}

// Settle settles a flagged payment of the order: deliver the order, or record its refund.
func (c *Client) Settle(ctx context.Context, txid string, se Settlement) (*checkout.Order, error) {
	if err := checkTxID(txid); err != nil {
		return nil, err
	}
	if se.Action != "deliver" && se.Action != "refund" {
		return nil, fmt.Errorf("settle %s: action %q is not deliver or refund", txid, se.Action)
	}
	var out checkout.Order
	if err := c.do(ctx, http.MethodPost, "/admin/orders/"+txid+"/settle", nil, se, &out); err != nil {
		return nil, fmt.Errorf("settle %s: %w", txid, err)
	}
	return &out, nil
}

// Refund refunds a paid order (POST /admin/orders/{txid}/refund): Key names the payment
// when the order has several; Reference is the refund the operator made (required for
// cheques and transfers); left out, Stripe and the test mode refund through the
// provider.
type Refund struct {
	Key       string `json:"key,omitempty"`
	Reference string `json:"reference,omitempty"`
	Note      string `json:"note,omitempty"`
}

// Refunded is what a refund did: the order (CANCELLED), the refund recorded, the credit
// note of an invoiced order, the products withdrawn and those left for the operator.
type Refunded struct {
	Order      checkout.Order   `json:"order"`
	Refund     checkout.Payment `json:"refund"`
	CreditNote string           `json:"creditNote,omitempty"`
	Withdrawn  []string         `json:"withdrawn"`
	ToWithdraw []string         `json:"toWithdraw"`
}

// Refund refunds the order; asked again, it finishes what an earlier try left undone and
// refunds nothing more.
func (c *Client) Refund(ctx context.Context, txid string, r Refund) (*Refunded, error) {
	if err := checkTxID(txid); err != nil {
		return nil, err
	}
	var out Refunded
	if err := c.do(ctx, http.MethodPost, "/admin/orders/"+txid+"/refund", nil, r, &out); err != nil {
		return nil, fmt.Errorf("refund %s: %w", txid, err)
	}
	return &out, nil
}

// Cancel cancels the order (refused by the API when its status does not allow it).
func (c *Client) Cancel(ctx context.Context, txid string) (*checkout.Order, error) {
	if err := checkTxID(txid); err != nil {
		return nil, err
	}
	var out checkout.Order
	if err := c.do(ctx, http.MethodPost, "/admin/orders/"+txid+"/cancel", nil, struct{}{}, &out); err != nil {
		return nil, fmt.Errorf("cancel %s: %w", txid, err)
	}
	return &out, nil
}

// Transition moves the order to status to, along one of the allowed transitions
// (docs/spec.md#statuses-and-transitions).
func (c *Client) Transition(ctx context.Context, txid string, to checkout.Status) (*checkout.Order, error) {
	if err := checkTxID(txid); err != nil {
		return nil, err
	}
	if to == "" {
		return nil, errors.New("transition: no target status")
	}
	in := struct {
		To checkout.Status `json:"to"`
	}{to}
	var out checkout.Order
	if err := c.do(ctx, http.MethodPost, "/admin/orders/"+txid+"/transition", nil, in, &out); err != nil {
		return nil, fmt.Errorf("move %s to %s: %w", txid, to, err)
	}
	return &out, nil
}

// checkTxID refuses what cannot be a transaction ID before it reaches a URL path, so a
// typo gets a clear message instead of a 404 (or a path that means something else).
func checkTxID(txid string) error {
	if !trace.ValidTxID(txid) {
		return fmt.Errorf("%q is not a transaction ID (16 characters A-Z, 0-9)", txid)
	}
	return nil
}

// Me says who the API sees calling, their groups and the actions they may run.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var out Me
	if err := c.do(ctx, http.MethodGet, "/admin/me", nil, nil, &out); err != nil {
		return nil, fmt.Errorf("who am I: %w", err)
	}
	return &out, nil
}

// Me is GET /admin/me.
type Me struct {
	Operator string   `json:"operator"`
	Groups   []string `json:"groups"`
	IAM      bool     `json:"iam"`
	Actions  []string `json:"actions"`
}

// do sends one authenticated request and decodes a JSON answer into out, or an error answer
// into an *APIError.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
	}
	if c.tokens == nil {
		// Signed callers reach the same actions under the AWS_IAM route.
		path = "/ops/" + strings.TrimPrefix(path, "/admin/")
	}
	target := c.endpoint + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if (req.URL.Scheme != "http" && req.URL.Scheme != "https") || req.URL.Host == "" {
		return fmt.Errorf("endpoint %q is not an http(s) URL", c.endpoint)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.tokens != nil {
		tok, err := c.tokens.Token(ctx)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	} else if err := c.sign(ctx, req, body); err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("call the back office: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	if len(raw) > maxBody {
		return fmt.Errorf("answer larger than %d bytes", maxBody)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp.StatusCode, raw)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode the answer (%d, %s): %w", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	return nil
}

// sign adds the SigV4 headers. The payload hash covers the body, so a body changed in
// transit no longer matches its signature.
func (c *Client) sign(ctx context.Context, req *http.Request, body []byte) error {
	if c.creds == nil {
		return errors.New("no AWS credentials to sign with")
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("get AWS credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), SigningService, c.region, time.Now().UTC()); err != nil {
		return fmt.Errorf("sign request: %w", err)
	}
	return nil
}

// Catalog reads the shop's catalog.
func (c *Client) Catalog(ctx context.Context) (*checkout.Catalog, error) {
	var out checkout.Catalog
	if err := c.do(ctx, http.MethodGet, "/admin/catalog", nil, nil, &out); err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	return &out, nil
}

// PutItem creates or replaces one catalog item, keyed by its code.
func (c *Client) PutItem(ctx context.Context, it *checkout.Item) (*checkout.Item, error) {
	if it == nil || strings.TrimSpace(it.Code) == "" {
		return nil, errors.New("save catalog item: the item has no code")
	}
	var out checkout.Item
	if err := c.do(ctx, http.MethodPut, "/admin/catalog/items/"+url.PathEscape(it.Code), nil, it, &out); err != nil {
		return nil, fmt.Errorf("save catalog item %s: %w", it.Code, err)
	}
	return &out, nil
}

// WriteTrace writes lines as merchant trace text, one per line, with times in loc (UTC
// when nil): "-- 2016-7-27 11:32:13 753 -- [TU80WKRYTI9QUMJ4] Test Processing : paying".
func WriteTrace(w io.Writer, lines []trace.Line, loc *time.Location) error {
	for _, l := range lines {
		if _, err := io.WriteString(w, l.Format(loc)+"\n"); err != nil {
			return fmt.Errorf("write trace: %w", err)
		}
	}
	return nil
}
