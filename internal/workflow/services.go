package workflow

import (
	"log/slog"
	"time"

	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/store"
)

// The post-placement functions each serve one concern, and each concern is one small
// service holding only what it uses, built once per cold start by its constructor
// (internal/wire builds them, and so do this package's tests):
//
//	Payment       the payment task and the buyer's order routes (PaymentFunction)
//	Webhooks      the providers' notifications (PaymentWebhookFunction)
//	Production    the production tasks (ProduceFunction)
//	Billing       the invoice task and the bill route (BillFunction)
//	Notification  the delivery e-mail task (NotifyFunction)
//	Backoffice    the operators' routes (BackofficeFunction)
//	Reconcile     the daily reconciliation (ReconcileFunction)
//
// What several of them share is in three layers they embed: core (the table, the shop,
// the clock, the log and the trace), mailing (e-mails, e-mailed links, and recording a
// payment, which may e-mail the sales managers) and waits (completing the state
// machine's task tokens).

// Common is what every service holds.
type Common struct {
	Store *store.Store
	Shops Shops
	Now   func() time.Time
	Log   *slog.Logger
}

// Mailing is what a service that sends e-mail holds.
type Mailing struct {
	Mail notify.Sender
	// Relay, when set, hands each e-mail to the Notify function instead of sending it
	// with Mail (see relay): the back office's, so that its binary links no SES client.
	Relay Relay
	// SenderEmail is the From of every e-mail.
	SenderEmail string
	// StorefrontURL makes the links of e-mails and provider redirects. The API's own
	// URL comes with each order (checkout.Order.APIURL).
	StorefrontURL string
	// LinkTTL is how long e-mailed links (and provider return URLs) stay valid;
	// 0 means DefaultLinkTTL (30 days).
	LinkTTL time.Duration
}

// Providers are the deployment's payment providers, from payment.NewModes. Cheque and
// transfer are also built from the shop's own settings when the shop has them (see
// modeFor).
type Providers struct {
	Modes     map[string]payment.Mode
	Verifiers map[string]payment.Verifier
	// TestProvider signs the simulated callbacks of the test mode's "defer" button;
	// nil disables that button.
	TestProvider *payment.TestProvider
}

type core struct{ Common }

type mailing struct {
	core
	Mailing
}

type waits struct {
	mailing
	Tokens Tokens
}

// Payment runs the payment task and serves the buyer's order routes (status, retry,
// test buttons).
type Payment struct {
	waits
	Modes        map[string]payment.Mode
	TestProvider *payment.TestProvider
}

// NewPayment builds the service of the Payment function.
func NewPayment(c Common, m Mailing, tokens Tokens, p Providers) *Payment {
	return &Payment{waits: waits{mailing{core{c}, m}, tokens}, Modes: p.Modes, TestProvider: p.TestProvider}
}

// Handler serves the Payment function: its state machine tasks and the buyer's order
// routes.
func (s *Payment) Handler() *Handler {
	rt := httpapi.NewRouter(s.Log)
	rt.Handle("GET /orders/{txid}", s.GetOrder)
	rt.Handle("POST /orders/{txid}/payment", s.RetryPayment)
	rt.Handle("POST /orders/{txid}/payment/test", s.TestPayment)
	return s.traced(&Handler{Router: rt, Tasks: s.PaymentTask})
}

// Webhooks serves the payment providers' notifications.
type Webhooks struct {
	waits
	Verifiers map[string]payment.Verifier
}

// NewWebhooks builds the service of the PaymentWebhook function.
func NewWebhooks(c Common, m Mailing, tokens Tokens, verifiers map[string]payment.Verifier) *Webhooks {
	return &Webhooks{waits: waits{mailing{core{c}, m}, tokens}, Verifiers: verifiers}
}

// Handler serves the PaymentWebhook function.
func (s *Webhooks) Handler() *Handler {
	rt := httpapi.NewRouter(s.Log)
	rt.Handle("POST /webhooks/{provider}", s.Webhook)
	return s.traced(&Handler{Router: rt})
}

// Production runs the production tasks: it has each line produced by its catalog
// handler.
type Production struct {
	mailing
	// Producers are the production handlers by catalog handler name.
	Producers map[string]production.Handler
}

// NewProduction builds the service of the Produce function.
func NewProduction(c Common, m Mailing, producers map[string]production.Handler) *Production {
	return &Production{mailing: mailing{core{c}, m}, Producers: producers}
}

// Handler serves the Produce function's tasks.
func (s *Production) Handler() *Handler { return s.traced(&Handler{Tasks: s.ProduceTask}) }

// Billing numbers the invoice and serves the bill page. It sends no e-mail.
type Billing struct{ core }

// NewBilling builds the service of the Bill function.
func NewBilling(c Common) *Billing { return &Billing{core{c}} }

// Handler serves the Bill function: the invoice task and the bill route.
func (s *Billing) Handler() *Handler {
	rt := httpapi.NewRouter(s.Log)
	rt.Handle("GET /orders/{txid}/bill", s.GetBill)
	return s.traced(&Handler{Router: rt, Tasks: s.BillTask})
}

// Notification sends the buyer the e-mail of a delivered order.
type Notification struct{ mailing }

// NewNotification builds the service of the Notify function.
func NewNotification(c Common, m Mailing) *Notification {
	return &Notification{mailing{core{c}, m}}
}

// Handler serves the Notify function's tasks.
func (s *Notification) Handler() *Handler { return s.traced(&Handler{Tasks: s.NotifyTask}) }

// Backoffice serves the operators' routes (see serve).
type Backoffice struct {
	waits
	// Starter starts a workflow again for an order an operator delivers after its
	// first workflow ended (a late payment).
	Starter Starter
	// Modes refund payments.
	Modes map[string]payment.Mode
	// Producers validate catalog items and withdraw what a refund takes back.
	Producers map[string]production.Handler
	// admin routes an operator's action once allowed (routes).
	admin *httpapi.Router
}

// NewBackoffice builds the service of the Backoffice function.
func NewBackoffice(c Common, m Mailing, tokens Tokens, starter Starter, modes map[string]payment.Mode, producers map[string]production.Handler) *Backoffice {
	s := &Backoffice{waits: waits{mailing{core{c}, m}, tokens}, Starter: starter, Modes: modes, Producers: producers}
	s.admin = s.routes()
	return s
}

// Handler serves the Backoffice function.
func (s *Backoffice) Handler() *Handler {
	rt := httpapi.NewRouter(s.Log)
	rt.Handle(AdminRouteKey, s.serve)
	rt.Handle(OpsRouteKey, s.serve)
	return s.traced(&Handler{Router: rt})
}

// NewReconcile builds the service of the Reconcile function: watch selects the stuck
// orders, listers read the providers' payments of the last days days.
func NewReconcile(c Common, m Mailing, tokens Tokens, watch *Watch, listers map[string]payment.Lister, days int) *Reconcile {
	return &Reconcile{waits: waits{mailing{core{c}, m}, tokens}, Watch: watch, Listers: listers, Days: days}
}
