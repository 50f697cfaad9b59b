package workflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/localcloud/dynamotest"
	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/payment/providertest"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/production/locallms"
	"github.com/lmsshop/checkout/internal/stepfn"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
	"github.com/lmsshop/checkout/internal/workflow"
)

// fakeSFN stands in for Step Functions' task-token calls: it records every
// completion, and, like the service, refuses a token completed before.
type fakeSFN struct {
	mu        sync.Mutex
	done      map[string]bool
	successes []completion
	failures  []completion
	// hold, when set, keeps back every SendTaskSuccess of a token it returns true for
	// until the call's context ends, and fails it with the context's error, as the SDK
	// does: the caller gone before Step Functions answered.
	hold func(token string) bool
}

type completion struct {
	Token, Output, Error, Cause string
}

var _ stepfn.API = (*fakeSFN)(nil)

func (f *fakeSFN) StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	return nil, errors.New("fakeSFN: StartExecution is not used after placement")
}

func (f *fakeSFN) complete(token string) error {
	if f.done == nil {
		f.done = map[string]bool{}
	}
	if f.done[token] {
		return &types.TaskDoesNotExist{Message: aws.String("Task Timed Out or does not exist")}
	}
	f.done[token] = true
	return nil
}

func (f *fakeSFN) SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	f.mu.Lock()
	hold := f.hold
	f.mu.Unlock()
	if hold != nil && hold(aws.ToString(in.TaskToken)) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.complete(aws.ToString(in.TaskToken)); err != nil {
		return nil, err
	}
	f.successes = append(f.successes, completion{Token: aws.ToString(in.TaskToken), Output: aws.ToString(in.Output)})
	return &sfn.SendTaskSuccessOutput{}, nil
}

func (f *fakeSFN) SendTaskFailure(_ context.Context, in *sfn.SendTaskFailureInput, _ ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.complete(aws.ToString(in.TaskToken)); err != nil {
		return nil, err
	}
	f.failures = append(f.failures, completion{Token: aws.ToString(in.TaskToken), Error: aws.ToString(in.Error), Cause: aws.ToString(in.Cause)})
	return &sfn.SendTaskFailureOutput{}, nil
}

func (f *fakeSFN) calls() (succ, fail []completion) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]completion(nil), f.successes...), append([]completion(nil), f.failures...)
}

// mailbox is a notify.Sender that keeps what it is given.
type mailbox struct {
	mu   sync.Mutex
	sent []sentMail
	fail error
	// seen, when set, is told of every e-mail handed to SES, failed sends too, at
	// the moment it is handed, before SES answers: for a test that looks at the order
	// then, or holds the send back.
	seen func(notify.Email)
	// hold, when set, keeps back every e-mail it returns true for until the send's
	// context ends, and fails it with the context's error, as the SDK does: SES not
	// answering before the invocation's deadline, or a caller gone.
	hold func(notify.Email) bool
}

type sentMail struct {
	From string
	notify.Email
}

func (m *mailbox) Send(ctx context.Context, from string, e notify.Email) (string, error) {
	m.mu.Lock()
	seen, hold := m.seen, m.hold
	m.mu.Unlock()
	if seen != nil {
		seen(e)
	}
	if hold != nil && hold(e) {
		<-ctx.Done()
		return "", ctx.Err()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return "", m.fail
	}
	m.sent = append(m.sent, sentMail{From: from, Email: e})
	return fmt.Sprintf("msg-%d", len(m.sent)), nil
}

// holdBack sets hold (nil: SES answers every e-mail again).
func (m *mailbox) holdBack(hold func(notify.Email) bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hold = hold
}

// to returns the mails sent to addr whose subject contains sub.
func (m *mailbox) to(addr, sub string) []sentMail {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []sentMail
	for _, s := range m.sent {
		for _, a := range s.To {
			if strings.EqualFold(a, addr) && strings.Contains(s.Subject, sub) {
				out = append(out, s)
			}
		}
	}
	return out
}

const (
	testSecret    = "test-secret"
	stripeKey     = "sk_test_1"
	stripeWebhook = "whsec_1"
	buyerEmail    = "ada@example.com"
	salesEmail    = "sales@example.com"
	paypalSeller  = "seller@example.com"
	systempayKey  = "1234567890123456"
)

type env struct {
	t      *testing.T
	ctx    context.Context
	st     *store.Store
	sfn    *fakeSFN
	mail   *mailbox
	shop   *checkout.Shop
	stripe *providertest.StripeServer
	paypal *providertest.PayPalIPN
	nvp    *providertest.PayPalNVP // PayPal's classic API, for refunds
	// What the services are built from, through the constructors the functions use;
	// a test that changes one of them calls build again.
	common    workflow.Common
	mailing   workflow.Mailing
	tokens    workflow.Tokens
	providers workflow.Providers
	producers map[string]production.Handler
	starter   workflow.Starter
	// handlers as the functions serve them
	payment, webhook, produce, bill, notify, backoffice *workflow.Handler
}

func testShop() *checkout.Shop {
	return &checkout.Shop{
		ID: "demo", Name: "Demo LMS shop", Currency: "EUR", Country: "FR", CatalogID: "main",
		Paymodes: []string{"test", "check", "transfer", "stripe", "paypal", "systempay", "freeorder"}, TestMode: true,
		SellerName: "Demo SARL", SellerEmail: "shop@example.com", SalesManagers: []string{salesEmail},
		CheckPayee: "Demo SARL", CheckAddress: "1 rue de la Paix\n75002 Paris", IBAN: "FR7630006000011234567890189", BIC: "AGRIFRPP",
	}
}

func testCatalog() *checkout.Catalog {
	return &checkout.Catalog{ID: "main", Categories: []checkout.Category{{Code: "COURSES", Name: "Courses"}}, Items: []checkout.Item{{
		Code: "COURSE-101", Name: "Go for beginners", Status: checkout.StatusAvailable, Category: "COURSES",
		Tiers: []checkout.Tier{{UpTo: 0, UnitPrice: 10000}}, TaxCode: "TVA", Handler: "enrol",
		HandlerParams: map[string]string{"course": "COURSE-101", "duration": "30"},
	}}}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, table := dynamotest.NewTable(t)
	st := store.New(db, table)
	e := &env{t: t, ctx: ctx, st: st, sfn: &fakeSFN{}, mail: &mailbox{}, shop: testShop()}
	if err := st.SaveShop(ctx, e.shop, []*checkout.Catalog{testCatalog()}); err != nil {
		t.Fatal(err)
	}
	lms := locallms.New(st.DB, st.Table)
	if err := lms.Seed(ctx, "COURSE-101"); err != nil {
		t.Fatal(err)
	}
	e.stripe = providertest.NewStripeServer(t, stripeKey)
	e.paypal = providertest.NewPayPalIPN(t)
	e.nvp = providertest.NewPayPalNVP(t, "seller_api1.example.com", "nvp-pwd", "nvp-sig")
	cfg := payment.Config{
		Test:   &payment.TestConfig{Secret: testSecret},
		Stripe: &payment.StripeConfig{SecretKey: stripeKey, WebhookSecret: stripeWebhook, APIURL: e.stripe.URL},
		PayPal: &payment.PayPalConfig{Business: paypalSeller, WebURL: "https://www.sandbox.paypal.example/cgi-bin/webscr", VerifyURL: e.paypal.URL,
			APIUser: "seller_api1.example.com", APIPassword: "nvp-pwd", APISignature: "nvp-sig", APIURL: e.nvp.URL},
		Systempay: &payment.SystempayConfig{SiteID: "12345678", Key: systempayKey, CtxMode: "TEST", FormURL: "https://paiement.systempay.example/vads-payment/"},
	}
	modes, verifiers, err := payment.NewModes(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := payment.NewTestProvider(*cfg.Test, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.common = workflow.Common{Store: st, Shops: &checkout.ShopCache{Loader: st, ShopID: e.shop.ID, TTL: time.Minute, Now: time.Now}}
	e.mailing = workflow.Mailing{Mail: e.mail, SenderEmail: "Demo shop <shop@example.com>", StorefrontURL: "https://shop.example"}
	e.tokens = &stepfn.Workflow{API: e.sfn}
	e.providers = workflow.Providers{Modes: modes, Verifiers: verifiers, TestProvider: tp}
	e.producers = production.Handlers(lms, st, nil)
	e.build()
	return e
}

// build makes the handlers as the functions do (internal/wire), from the env's parts.
func (e *env) build() {
	e.payment = workflow.NewPayment(e.common, e.mailing, e.tokens, e.providers).Handler()
	e.webhook = workflow.NewWebhooks(e.common, e.mailing, e.tokens, e.providers.Verifiers).Handler()
	e.produce = workflow.NewProduction(e.common, e.mailing, e.producers).Handler()
	e.bill = workflow.NewBilling(e.common).Handler()
	e.notify = workflow.NewNotification(e.common, e.mailing).Handler()
	e.backoffice = workflow.NewBackoffice(e.common, e.mailing, e.tokens, e.starter, e.providers.Modes, e.producers).Handler()
}

// place writes a placed order as placement does (cart, then order and cart in one
// transaction) and returns its transaction ID and the buyer's cart token.
func (e *env) place(paymode string, final int64) (string, string) {
	e.t.Helper()
	return e.placeWith(paymode, final, nil)
}

// placeWith is place with the order changed by edit before it is written.
func (e *env) placeWith(paymode string, final int64, edit func(*checkout.Order)) (string, string) {
	e.t.Helper()
	txid, token := trace.NewTxID(), "tok-"+trace.NewTxID()
	now := time.Now().UTC()
	cart := &checkout.Cart{TxID: txid, TokenHash: checkout.HashToken(token), ShopID: e.shop.ID, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := e.st.CreateCart(e.ctx, cart); err != nil {
		e.t.Fatal(err)
	}
	cat := testCatalog()
	it := cat.Items[0]
	untaxed := final * 100 / 120
	tax := final - untaxed
	o := &checkout.Order{
		TxID: txid, ShopID: e.shop.ID, Status: checkout.Placed, Paymode: paymode, Currency: "EUR",
		Lines: []checkout.OrderLine{{ID: "L01", PricedLine: checkout.PricedLine{Code: it.Code, Name: it.Name, Quantity: 1, UnitPrice: untaxed, Untaxed: untaxed, TaxCode: "TVA", TaxRateBP: 2000, Tax: tax},
			Taxed: final, Handler: it.Handler, Params: it.HandlerParams, Item: it}},
		BillLines: []checkout.BillLine{{Type: "BILLING", Code: it.Code, Label: it.Name, Quantity: 1, UnitPrice: untaxed, Untaxed: untaxed, TaxCode: "TVA", TaxRateBP: 2000, Tax: tax}},
		Taxes:     []checkout.TaxLine{{Code: "TVA", RateBP: 2000, Base: untaxed, Amount: tax}},
		Totals:    checkout.Totals{Untaxed: untaxed, Taxes: tax, Taxed: final, Final: final},
		Customer:  checkout.Customer{Email: buyerEmail, LastName: "Lovelace", FirstName: "Ada", City: "London", Country: "GB", Lang: "en"},
		TokenHash: checkout.HashToken(token), PlacedAt: now, UpdatedAt: now, APIURL: "https://api.example",
		Acceptance: checkout.Acceptance{ShopTerms: true, AcceptedAt: now},
	}
	if edit != nil {
		edit(o)
	}
	if err := e.st.Place(e.ctx, o, 1, checkout.AnyAccount, trace.Line{At: now, TxID: txid, Source: "Order", Message: "placed"}); err != nil {
		e.t.Fatal(err)
	}
	return txid, token
}

// task invokes a function with a task payload, through the JSON round trip Lambda
// does, and returns its output and the errorType it reported ("" on success).
func (e *env) task(h *workflow.Handler, payload map[string]any) (map[string]any, string) {
	e.t.Helper()
	raw, err := json.Marshal(payload)
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := h.Invoke(e.ctx, raw)
	if err != nil {
		var ive messages.InvokeResponse_Error
		if !errors.As(err, &ive) {
			e.t.Fatalf("task %v: error %T %v is not an InvokeResponse_Error", payload, err, err)
		}
		e.t.Logf("task %v: %v", payload, ive.Message)
		return nil, ive.Type
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		e.t.Fatalf("task %v: output %s: %v", payload, out, err)
	}
	return m, ""
}

// mustTask is task that must succeed.
func (e *env) mustTask(h *workflow.Handler, payload map[string]any) map[string]any {
	e.t.Helper()
	out, errType := e.task(h, payload)
	if errType != "" {
		e.t.Fatalf("task %v failed with %s", payload, errType)
	}
	return out
}

type req struct {
	method, routeKey, path string
	params, query, headers map[string]string
	body                   string
	authz                  *events.APIGatewayV2HTTPRequestContextAuthorizerDescription
}

// http invokes a function with a payload-2.0 event, through the JSON round trip.
func (e *env) http(h *workflow.Handler, r req) (int, string, map[string]string) {
	e.t.Helper()
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: r.routeKey, RawPath: r.path, PathParameters: r.params,
		QueryStringParameters: r.query, Headers: r.headers, Body: r.body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.method, Path: r.path},
			Authorizer: r.authz},
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := h.Invoke(e.ctx, raw)
	if err != nil {
		e.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		e.t.Fatalf("%s %s: response %s: %v", r.method, r.path, out, err)
	}
	return resp.StatusCode, resp.Body, resp.Headers
}

func bearer(token string) map[string]string {
	return map[string]string{"authorization": "Bearer " + token, "content-type": "application/json"}
}

// getOrder is GET /orders/{txid} for the buyer.
func (e *env) getOrder(txid, token string) workflow.OrderView {
	e.t.Helper()
	code, body, _ := e.http(e.payment, req{method: "GET", routeKey: "GET /orders/{txid}", path: "/orders/" + txid,
		params: map[string]string{"txid": txid}, headers: bearer(token)})
	if code != http.StatusOK {
		e.t.Fatalf("GET /orders/%s: %d %s", txid, code, body)
	}
	var v workflow.OrderView
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		e.t.Fatal(err)
	}
	return v
}

// awaitingPayment places an order of 120.00 paid by mode and starts its payment,
// which then waits under the task token "T-<txid>".
func (e *env) awaitingPayment(mode string) string {
	e.t.Helper()
	txid, _ := e.place(mode, 12000)
	e.startPayment(txid, "T-"+txid)
	return txid
}

// wantStatus fails t unless the stored order's status is want.
func (e *env) wantStatus(t *testing.T, txid string, want checkout.Status) {
	t.Helper()
	if s := e.order(txid).Status; s != want {
		t.Fatalf("status %s, want %s", s, want)
	}
}

func (e *env) order(txid string) *checkout.Order {
	e.t.Helper()
	o, err := e.st.GetOrder(e.ctx, txid, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

// traceText is the order's trace as merchant trace lines.
func (e *env) traceText(txid string) string {
	e.t.Helper()
	lines, err := e.st.ListTrace(e.ctx, txid)
	if err != nil {
		e.t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Format(nil) + "\n")
	}
	return b.String()
}

func (e *env) startPayment(txid, token string) {
	e.t.Helper()
	e.mustTask(e.payment, map[string]any{"action": "start", "txid": txid, "token": token})
}
