package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/pricing"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
)

// Which wait a stored task token belongs to.
const (
	statePayment = "payment" // the Payment state: waiting for the money
	stateRetry   = "retry"   // PaymentNotAccepted: waiting for the buyer to choose another mode
	// stateRetrying: a buyer's retry claimed the retry wait and is completing it.
	stateRetrying = "retrying"
)

// Instructions are what the buyer must do to pay the current attempt, as the order
// page shows them.
type Instructions struct {
	Mode        string       `json:"mode"`
	Kind        string       `json:"kind"` // payment.Instructions* (instant, buttons, offline, redirect, form)
	Attempt     int          `json:"attempt"`
	RedirectURL string       `json:"redirectUrl,omitempty"`
	Form        *FormView    `json:"form,omitempty"`
	Offline     *OfflineView `json:"offline,omitempty"`
}

// FormView is an HTML form the browser posts to the provider.
type FormView struct {
	Action string      `json:"action"`
	Method string      `json:"method"`
	Fields []FieldView `json:"fields"`
}

// FieldView is one form field, in order.
type FieldView struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// OfflineView tells how to pay by cheque or transfer.
type OfflineView struct {
	Payee     string `json:"payee,omitempty"`
	Address   string `json:"address,omitempty"`
	IBAN      string `json:"iban,omitempty"`
	BIC       string `json:"bic,omitempty"`
	Reference string `json:"reference"`
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
	Text      string `json:"text,omitempty"`
}

func instructionsView(mode string, attempt int, in payment.Instructions) Instructions {
	v := Instructions{Mode: mode, Kind: in.Kind, Attempt: attempt, RedirectURL: in.RedirectURL}
	if f := in.Form; f != nil {
		v.Form = &FormView{Action: f.Action, Method: f.Method}
		for _, fd := range f.Fields {
			v.Form.Fields = append(v.Form.Fields, FieldView(fd))
		}
	}
	if o := in.Offline; o != nil {
		v.Offline = &OfflineView{Payee: o.Payee, Address: o.Address, IBAN: o.IBAN, BIC: o.BIC, Reference: o.Reference,
			Amount: o.Amount, Currency: o.Currency, Text: o.Text}
	}
	return v
}

// PaymentTask runs the Payment function's tasks: start, awaitRetry, cancel, fault.
func (s *Payment) PaymentTask(ctx context.Context, t Task) (any, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	switch t.Action {
	case "start":
		return s.start(ctx, t)
	case "awaitRetry":
		return s.awaitRetry(ctx, t)
	case "cancel":
		return s.cancelUnpaid(ctx, t.TxID, t.Reason)
	case "fault":
		return s.fault(ctx, trace.SourcePayment, t)
	}
	return nil, &TaskError{Name: ErrTaskFailed, Msg: fmt.Sprintf("payment: unknown action %q", t.Action)}
}

// tokenTask opens the tasks that keep a task token (start, awaitRetry): it refuses a
// task without one, and gives the shop and the order the task holds (the execution
// input's copy, or the stored order when the input carries none).
func (s *Payment) tokenTask(ctx context.Context, t Task, what string) (*checkout.Shop, *checkout.Order, error) {
	if t.Token == "" {
		return nil, nil, &TaskError{Name: ErrTaskFailed, Msg: what + " without a task token"}
	}
	shop, _, err := s.Shops.Get(ctx)
	if err != nil {
		return nil, nil, err
	}
	held, _, err := s.order(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	return shop, held, nil
}

// start begins one payment attempt in the order's mode and keeps the task token for
// whoever settles it. Instant modes settle at once; the others leave the order PENDING.
func (s *Payment) start(ctx context.Context, t Task) (any, error) {
	txid, token := t.TxID, t.Token
	shop, held, err := s.tokenTask(ctx, t, "payment start")
	if err != nil {
		return nil, err
	}
	// The token is stored before anything can settle the payment, so the settler finds
	// it; the write returns the order, which needs no read of its own, and claims the
	// OrderPlaced e-mail, which needs no write of its own (a retried start sends none).
	// Its head is the write's answer (status, mode and payments may have changed since
	// placement: a retry with another mode); its lines are the execution input's copy's,
	// or, for an order too large to carry, the stored order's, read first (as the other
	// tasks do: the same two calls as a read beside the write).
	o, claimed, err := s.Store.UpdateOnce(ctx, txid, store.Change{TaskToken: &token, TaskState: statePayment}, "mail#OrderPlaced", store.BodyFrom(held))
	if err != nil {
		return nil, err
	}
	tr := s.tracer(trace.SourcePayment)
	n, amount := attempt(o), pricing.FormatPlain(o.Totals.Final, o.Currency)
	// The attempt's line is stamped before the e-mail leaves, so that the trace, merged
	// by time, shows it ahead of the e-mail's line whichever of the two goroutines
	// writes first; it is written only if the start gets that far.
	attemptLine := tr.Line(txid, "attempt %d: %s by %s", n+1, amount, o.Paymode)
	// The OrderPlaced e-mail leaves while the provider's session is created, so the
	// buyer waits for the longer of the two instead of both. It is joined before the
	// order leaves PLACED (and on every other way out): its trace line, with SES's
	// message ID, rides on the start's next write, and a Lambda stopped after the move
	// cannot leave the claim held with the e-mail unsent.
	mailed := s.sendAside(ctx, "OrderPlaced", mailEvent(notify.OrderPlaced, shop, o), claimed, claim{
		key:     "ORDER once#mail#OrderPlaced",
		release: func(ctx context.Context) error { return s.Store.ReleaseOnOrder(ctx, txid, "mail#OrderPlaced") },
	})
	defer mailed()
	switch {
	case paid(o.Status):
		// Settled meanwhile (a late notification, an operator): nothing to wait for.
		mailed()
		tr.Printf(ctx, txid, "payment already settled (order %s)", o.Status)
		return s.succeed(ctx, txid, token, map[string]string{"mode": o.Paymode, "outcome": "paid"})
	case o.Status == checkout.Cancelled, o.Status == checkout.Payback:
		// A refunded order ends like a cancelled one: nothing to wait for or deliver.
		return nil, &TaskError{Name: ErrOrderCancelled, Msg: "order " + txid + " was " + strings.ToLower(string(o.Status))}
	}
	mode, err := payment.ModeFor(shop, o.Paymode, s.Modes)
	if err != nil {
		mailed()
		tr.Printf(ctx, txid, "payment mode %q cannot be used: %v", o.Paymode, err)
		return nil, &TaskError{Name: ErrPaymentFailed, Msg: "payment mode " + o.Paymode + " is not available", Err: err}
	}
	req := payment.Request{
		TxID: txid, Attempt: n, Amount: o.Totals.Final, Currency: o.Currency, Lang: o.Customer.Lang,
		CustomerEmail: o.Customer.Email, ReturnURL: s.orderLink(o), CancelURL: s.orderLink(o),
		NotifyURL: webhookURL(o, mode.Name()), ShopName: shop.Name,
		// The provider's session closes no later than the order stops waiting: the wait
		// is the plan the execution was started with (checkout.PlanFor).
		ExpiresAt: s.now().Add(time.Duration(checkout.PlanFor(shop, o.Paymode).TimeoutSeconds) * time.Second),
	}
	tr.Print(ctx, attemptLine)
	ins, err := mode.Start(ctx, req)
	// The e-mail is sent (or its claim given back) before anything else is traced or
	// written: it comes before the order's move, and its line before the start's outcome.
	mailed()

	if o.Paymode == checkout.PaymodeFreeOrder {
		if err != nil {
			tr.Printf(ctx, txid, "free order refused: %v", err)
			return nil, &TaskError{Name: ErrPaymentFailed, Msg: "free order refused", Err: err}
		}
		if _, err := s.Store.Move(ctx, txid, checkout.SoldOut, store.Change{Payment: &checkout.Payment{Mode: o.Paymode, Outcome: payment.Paid.String(), At: s.now()}}, store.HeadOnly); err != nil {
			return nil, err
		}
		tr.Printf(ctx, txid, "free order: SOLDOUT at once")
		return s.succeed(ctx, txid, token, map[string]string{"mode": o.Paymode, "outcome": "paid"})
	}

	// Every other mode waits for someone: the order is PENDING meanwhile. Its
	// instructions are stored first, so a buyer who sees PENDING sees what to do.
	if err != nil {
		tr.Printf(ctx, txid, "could not start the %s payment: %v", o.Paymode, err)
		return nil, &TaskError{Name: ErrPaymentFailed, Msg: "could not start the " + o.Paymode + " payment", Err: err}
	}
	view := instructionsView(o.Paymode, n, ins)
	raw, err := json.Marshal(view)
	if err != nil {
		return nil, checkout.Wrap("payment.start", err)
	}
	// The instructions are stored in the move to PENDING itself, so a buyer who sees
	// PENDING sees what to do, at one write; the move's own line is written only if the
	// move is.
	waiting := tr.Line(txid, "waiting for the %s payment (%s)", o.Paymode, view.Kind)
	if _, err := s.Store.Move(ctx, txid, checkout.Pending, store.Change{Instructions: string(raw), Trace: []trace.Line{waiting}}, store.HeadOnly); err != nil {
		return s.startRace(ctx, txid, err)
	}
	if mode.Kind() == payment.KindOffline && view.Offline != nil {
		e := mailEvent(notify.OfflineInstructions, shop, o)
		e.Instructions = &notify.Instructions{Payee: view.Offline.Payee, Address: view.Offline.Address, IBAN: view.Offline.IBAN,
			BIC: view.Offline.BIC, Reference: view.Offline.Reference, Text: view.Offline.Text}
		e.Links.Order = s.orderLink(o)
		s.mailQuietly(ctx, fmt.Sprintf("OfflineInstructions#%d", n), e)
	}
	return map[string]string{"waiting": o.Paymode}, nil
}

// webhookURL is where a provider notifies the payments of an order: the webhook route
// of the API the order was placed through.
func webhookURL(o *checkout.Order, provider string) string {
	return o.APIURL + "/webhooks/" + provider
}

// startRace handles a start whose move to PENDING was refused. The token is stored
// first so that whoever settles the payment finds it; a quick settler (a test button,
// an operator) may therefore settle it between that write and the move, and has then
// completed the token itself: the start has nothing left to do.
func (s *Payment) startRace(ctx context.Context, txid string, moveErr error) (any, error) {
	if checkout.KindOf(moveErr) != checkout.ECONFLICT {
		return nil, moveErr
	}
	// The refused move says what the order is; only a server that does not return
	// the item on a failed condition makes this read.
	status, ok := store.ConflictStatus(moveErr)
	if !ok {
		o, err := s.Store.GetOrder(ctx, txid, "")
		if err != nil {
			return nil, err
		}
		status = o.Status
	}
	switch {
	case paid(status):
		s.tracer(trace.SourcePayment).Printf(ctx, txid, "payment settled while it was starting (order %s)", status)
		return map[string]string{"settled": string(status)}, nil
	case status == checkout.Cancelled:
		return nil, &TaskError{Name: ErrOrderCancelled, Msg: "order " + txid + " was cancelled"}
	}
	return nil, moveErr
}

// sendAside sends a claimed e-mail (sendClaimed) in a goroutine of its own, under the
// caller's context, while the caller goes on. The returned func waits for the send and
// traces a failure (the claim then given back); the caller calls it before it writes
// what must follow the e-mail and before it returns, so no send outlives the
// invocation. It may be called more than once.
func (s *mailing) sendAside(ctx context.Context, name string, e notify.Event, claimed bool, c claim) (wait func()) {
	if !claimed {
		return func() {}
	}
	done := make(chan error, 1)
	go func() { done <- s.sendClaimed(ctx, name, e, claimed, c) }()
	return sync.OnceFunc(func() {
		if err := <-done; err != nil {
			s.mailFailed(ctx, e.Order.TxID, e.Kind, err)
		}
	})
}

// mailQuietly sends an e-mail once; a failure is traced, not fatal: an e-mail that
// cannot leave must not stop the payment of an order.
func (s *mailing) mailQuietly(ctx context.Context, name string, e notify.Event) {
	if err := s.sendOnce(ctx, name, e); err != nil {
		s.mailFailed(ctx, e.Order.TxID, e.Kind, err)
	}
}

// mailFailed traces and logs an e-mail that could not be sent, unless its claim was
// left held: releaseClaim traced and logged that already, saying it will not be retried.
func (s *mailing) mailFailed(ctx context.Context, txid string, kind notify.Kind, err error) {
	if _, held := errors.AsType[*heldClaim](err); held {
		return
	}
	s.tracer(trace.SourceNotify).Printf(ctx, txid, "e-mail %s NOT sent: %v", kind, err)
	s.log().Error("e-mail not sent", "txid", txid, "kind", kind, "err", err)
}

// succeed completes a token; a token no longer waiting means the wait was already
// settled (or timed out), which is traced and not an error.
func (s *Payment) succeed(ctx context.Context, txid, token string, out any) (any, error) {
	err := s.Tokens.Succeed(ctx, token, out)
	if checkout.KindOf(err) == checkout.ECONFLICT {
		s.tracer(trace.SourcePayment).Printf(ctx, txid, "the workflow was no longer waiting: %v", err)
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// awaitRetry records a failed or refused payment, tells the buyer, and keeps the retry
// token for POST /orders/{txid}/payment.
func (s *Payment) awaitRetry(ctx context.Context, t Task) (any, error) {
	// The head from the write, the lines from the task's order (as in start).
	shop, held, err := s.tokenTask(ctx, t, "awaitRetry")
	if err != nil {
		return nil, err
	}
	o, err := s.Store.Update(ctx, t.TxID, store.Change{TaskToken: &t.Token, TaskState: stateRetry}, store.BodyFrom(held))
	if err != nil {
		return nil, err
	}
	tr := s.tracer(trace.SourcePayment)
	e := t.stateError()
	if paid(o.Status) {
		// Paid after all (a late notification): go round to Payment, which sees it.
		tr.Printf(ctx, t.TxID, "payment settled meanwhile (order %s)", o.Status)
		return s.succeed(ctx, t.TxID, t.Token, checkout.PlanFor(shop, o.Paymode))
	}
	if o.Status != checkout.Failed && o.Status != checkout.Refused {
		// The attempt failed before any settler recorded it (the mode could not start).
		to, outcome := checkout.Failed, payment.Failed
		if e.Error == ErrPaymentRefused {
			to, outcome = checkout.Refused, payment.Refused
		}
		if _, err := s.Store.Move(ctx, t.TxID, checkout.Pending, store.Change{}, store.HeadOnly); err != nil {
			return nil, err
		}
		if o, err = s.Store.Move(ctx, t.TxID, to, store.Change{Payment: &checkout.Payment{Mode: o.Paymode, Outcome: outcome.String(), At: s.now()}}, store.BodyFrom(o)); err != nil {
			return nil, err
		}
	}
	tr.Printf(ctx, t.TxID, "payment not accepted (%s: %s); order %s, waiting for the buyer to pay another way", e.Error, e.Cause, o.Status)
	m := mailEvent(notify.PaymentFailed, shop, o)
	m.Links.Retry = s.orderLink(o)
	s.mailQuietly(ctx, fmt.Sprintf("PaymentFailed#%d", attempt(o)), m)
	return map[string]string{"waiting": stateRetry}, nil
}

// cancelUnpaid cancels an order whose payment never came. A payment that arrived at
// the last moment wins: the order is then left as it is, traced, and the answer says
// whether it is paid, so that the state machine produces and bills it instead of
// ending there ("paid" is always present: the state machine selects it).
func (s *Payment) cancelUnpaid(ctx context.Context, txid, reason string) (any, error) {
	tr := s.tracer(trace.SourcePayment)
	o, err := s.cancel(ctx, txid)
	if checkout.KindOf(err) == checkout.ECONFLICT {
		now, gerr := s.Store.GetOrder(ctx, txid, "")
		if gerr != nil {
			return nil, gerr
		}
		tr.Printf(ctx, txid, "not cancelled (%s): %v; order %s", reason, err, now.Status)
		return map[string]bool{"cancelled": false, "paid": paid(now.Status)}, nil
	}
	if err != nil {
		return nil, err
	}
	tr.Printf(ctx, txid, "order %s: %s", o.Status, reason)
	return map[string]bool{"cancelled": true, "paid": false}, nil
}

// cancel moves an order to CANCELLED. The transition table has no REFUSED→CANCELLED: a refused
// order goes back to PENDING first, two allowed steps.
func (s *core) cancel(ctx context.Context, txid string) (*checkout.Order, error) {
	o, err := s.Store.GetOrder(ctx, txid, "")
	if err != nil {
		return nil, err
	}
	if o.Status == checkout.Refused {
		if _, err := s.Store.Move(ctx, txid, checkout.Pending, store.Change{}, store.HeadOnly); err != nil {
			return nil, err
		}
	}
	return s.Store.Move(ctx, txid, checkout.Cancelled, store.Change{}, store.BodyFrom(o))
}

// --- HTTP: the buyer's order page ------------------------------------------------------

// buyerOrder reads the order of {txid} for the buyer: the cart token as a Bearer
// token, or, when readOnly, the link token of an e-mailed link as ?token=. A link token
// only reads: paying and retrying need the cart token.
func (s *core) buyerOrder(ctx context.Context, r *httpapi.Request, readOnly bool) (*store.OrderState, error) {
	const op = "order.access"
	txid := r.PathParameters["txid"]
	if !trace.ValidTxID(txid) {
		return nil, checkout.Errorf(op, checkout.ENOTFOUND, "no order %q", txid)
	}
	bearer, berr := httpapi.Bearer(r)
	link := r.QueryStringParameters["token"]
	if berr != nil && (link == "" || !readOnly) {
		return nil, berr
	}
	state, err := s.Store.OrderState(ctx, txid, "")
	if err != nil {
		return nil, err
	}
	if berr == nil {
		if !checkout.TokenOpens(state.Order.TokenHash, checkout.HashToken(bearer)) {
			return nil, checkout.Errorf(op, checkout.EFORBIDDEN, "this token does not open order %s", txid)
		}
		return state, nil
	}
	if err := checkLinkToken(state.Order, link, s.now()); err != nil {
		return nil, err
	}
	return state, nil
}

// viewedOrder opens a buyer's read of the order (GET /orders/{txid} and its bill): the
// order, for its bearer token or its e-mailed link, and the shop it is shown in.
func (s *core) viewedOrder(ctx context.Context, r *httpapi.Request) (*store.OrderState, *checkout.Shop, error) {
	state, err := s.buyerOrder(ctx, r, true)
	if err != nil {
		return nil, nil, err
	}
	shop, _, err := s.Shops.Get(ctx)
	if err != nil {
		return nil, nil, err
	}
	return state, shop, nil
}

// OrderView is the buyer's view of a placed order.
type OrderView struct {
	TransactionID string             `json:"transactionId"`
	Status        checkout.Status    `json:"status"`
	Paymode       string             `json:"paymode"`
	Kind          string             `json:"kind"`
	Currency      string             `json:"currency"`
	Lines         []OrderLineView    `json:"lines"`
	Totals        checkout.Totals    `json:"totals"`
	Payment       *Instructions      `json:"payment,omitempty"`
	Payments      []checkout.Payment `json:"payments"`
	Waiting       string             `json:"waiting,omitempty"`    // payment | retry
	RetryModes    []string           `json:"retryModes,omitempty"` // after a failure: the modes to choose from
	DocumentKind  string             `json:"documentKind"`
	InvoiceNumber string             `json:"invoiceNumber,omitempty"`
	// CreditNote is given once an invoiced order was refunded, so the buyer's page can
	// say so and link the printable credit note (the bill with document=creditnote).
	CreditNote *CreditNoteRef `json:"creditNote,omitempty"`
	PlacedAt   time.Time      `json:"placedAt"`
	// LinkToken is a read-only link token, given to the cart token's holder only (to
	// open the bill in a new tab, to share the order's status).
	LinkToken string `json:"linkToken,omitempty"`
}

// CreditNoteRef names the credit note of a refunded invoiced order and the invoice it
// cancels.
type CreditNoteRef struct {
	Number  string    `json:"number"`
	Credits string    `json:"credits"`
	Date    time.Time `json:"date"`
}

// OrderLineView is a line as the order page lists it.
type OrderLineView struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Quantity int    `json:"quantity"`
	Taxed    int64  `json:"taxed"`
}

func (s *Payment) orderView(shop *checkout.Shop, state *store.OrderState) OrderView {
	o := state.Order
	v := OrderView{
		TransactionID: o.TxID, Status: o.Status, Paymode: o.Paymode, Kind: checkout.PaymodeKind(o.Paymode), Currency: o.Currency,
		Totals: o.Totals, Payments: o.Payments, DocumentKind: o.DocumentKind(), InvoiceNumber: o.InvoiceNumber,
		PlacedAt: o.PlacedAt, Lines: []OrderLineView{},
	}
	if v.Payments == nil {
		v.Payments = []checkout.Payment{}
	}
	if o.CreditNoteNumber != "" {
		v.CreditNote = &CreditNoteRef{Number: o.CreditNoteNumber, Credits: o.InvoiceNumber}
		if o.CreditedAt != nil {
			v.CreditNote.Date = *o.CreditedAt
		}
	}
	for _, l := range o.Lines {
		v.Lines = append(v.Lines, OrderLineView{Code: l.Code, Name: l.Name, Quantity: l.Quantity, Taxed: l.Taxed})
	}
	v.Payment = ShownInstructions(state)
	v.Waiting = waiting(state)
	if o.Status == checkout.Failed || o.Status == checkout.Refused {
		v.RetryModes = s.Offered(shop, o.Totals.Final)
	}
	return v
}

// ShownInstructions are the payment instructions the order page shows, nil while it
// has none to show: those of the order's current mode, stored by the payment start in
// its move to PENDING, shown while the order waits for its payment. The storefront
// offers the payment (its buttons, the provider's page) only once they are there.
func ShownInstructions(state *store.OrderState) *Instructions {
	o := state.Order
	if state.Instructions == "" || (o.Status != checkout.Pending && o.Status != checkout.Placed) {
		return nil
	}
	var ins Instructions
	if json.Unmarshal([]byte(state.Instructions), &ins) != nil || ins.Mode != o.Paymode {
		return nil
	}
	return &ins
}

// waiting names what the order's workflow waits for, once the order is in that wait:
// PENDING for a payment (the start task stores its token just before that move),
// FAILED or REFUSED for a retry; "" otherwise (a completed order waits for nothing,
// whatever token is left on it).
func waiting(state *store.OrderState) string {
	o := state.Order
	switch {
	case state.TaskToken == "":
	case state.TaskState == statePayment && o.Status == checkout.Pending,
		state.TaskState == stateRetry && (o.Status == checkout.Failed || o.Status == checkout.Refused):
		return state.TaskState
	}
	return ""
}

// GetOrder answers GET /orders/{txid}.
func (s *Payment) GetOrder(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	state, shop, err := s.viewedOrder(ctx, r)
	if err != nil {
		return httpapi.Response{}, err
	}
	v := s.orderView(shop, state)
	if _, berr := httpapi.Bearer(r); berr == nil {
		v.LinkToken = s.linkToken(state.Order)
	}
	return httpapi.JSON(http.StatusOK, v), nil
}

// RetryPayment answers POST /orders/{txid}/payment {"paymode"}: after a failed or
// refused payment, the buyer pays another way. The order's paymode changes, then the
// retry wait completes with the new mode's plan and the Payment state starts again.
func (s *Payment) RetryPayment(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	const op = "payment.retry"
	state, err := s.buyerOrder(ctx, r, false)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in struct {
		Paymode string `json:"paymode"`
	}
	if err := httpapi.Decode(r, &in); err != nil {
		return httpapi.Response{}, err
	}
	o := state.Order
	if o.Status != checkout.Failed && o.Status != checkout.Refused {
		return httpapi.Response{}, checkout.Errorf(op, checkout.ECONFLICT, "order %s is %s: another payment mode can be chosen only after a failed or refused payment", o.TxID, o.Status)
	}
	if state.TaskState != stateRetry || state.TaskToken == "" {
		return httpapi.Response{}, checkout.Errorf(op, checkout.ECONFLICT, "order %s is not waiting for another payment yet; try again in a moment", o.TxID)
	}
	shop, _, err := s.Shops.Get(ctx)
	if err != nil {
		return httpapi.Response{}, err
	}
	offered := s.Offered(shop, o.Totals.Final)
	if !slices.Contains(offered, in.Paymode) {
		return httpapi.Response{}, checkout.Invalid(op, "payment mode not offered",
			checkout.FieldError{Field: "paymode", Message: fmt.Sprintf("must be one of %v", offered)})
	}
	// The new mode is written only by the request that claims the retry wait, in the
	// same conditional write: a double submit cannot leave on the order a mode other
	// than the one the workflow is told to await.
	if err := s.Store.ClaimTask(ctx, o.TxID, state.TaskToken, stateRetry, stateRetrying, store.Change{Paymode: in.Paymode}); err != nil {
		if checkout.KindOf(err) == checkout.ECONFLICT {
			return httpapi.Response{}, checkout.Errorf(op, checkout.ECONFLICT, "order %s is no longer waiting for another payment", o.TxID)
		}
		return httpapi.Response{}, err
	}
	if err := s.Tokens.Succeed(ctx, state.TaskToken, checkout.PlanFor(shop, in.Paymode)); err != nil {
		if checkout.KindOf(err) == checkout.ECONFLICT {
			return httpapi.Response{}, checkout.Errorf(op, checkout.ECONFLICT, "order %s is no longer waiting for another payment", o.TxID)
		}
		// Not delivered for a reason that may pass: give the wait back, so the buyer
		// can try again, with this mode or another.
		if rerr := s.giveBack(ctx, func(ctx context.Context) error {
			return s.Store.ClaimTask(ctx, o.TxID, state.TaskToken, stateRetrying, stateRetry, store.Change{})
		}); rerr != nil {
			s.log().Error("give back the retry wait", "txid", o.TxID, "err", rerr)
		}
		return httpapi.Response{}, err
	}
	s.tracer(trace.SourcePayment).Printf(ctx, o.TxID, "buyer retries the payment with %s", in.Paymode)
	o.Paymode = in.Paymode
	state.TaskToken, state.Instructions = "", ""
	return httpapi.JSON(http.StatusAccepted, s.orderView(shop, state)), nil
}

// Callback is a simulated provider callback, ready to be posted to the test webhook.
type Callback struct {
	URL     string            `json:"url"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// TestPayment answers POST /orders/{txid}/payment/test {"action": "pay"|"fail"|"defer"},
// the test mode's buttons.
func (s *Payment) TestPayment(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	const op = "payment.test"
	state, err := s.buyerOrder(ctx, r, false)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in struct {
		Action string `json:"action"`
	}
	if err := httpapi.Decode(r, &in); err != nil {
		return httpapi.Response{}, err
	}
	shop, _, err := s.Shops.Get(ctx)
	if err != nil {
		return httpapi.Response{}, err
	}
	o := state.Order
	if o.Paymode != checkout.PaymodeTest || !shop.TestMode {
		return httpapi.Response{}, checkout.Errorf(op, checkout.ECONFLICT, "order %s is not paid in test mode", o.TxID)
	}
	if state.TaskState != statePayment || state.TaskToken == "" {
		return httpapi.Response{}, checkout.Errorf(op, checkout.ECONFLICT, "order %s is not waiting for a payment", o.TxID)
	}
	tr := s.tracer(trace.SourceTest)
	switch in.Action {
	case "pay":
		tr.Printf(ctx, o.TxID, "paying")
		// The status the payment moved the order to is traced here, with the move:
		// production no longer reads the order, so its own line cannot say it.
		if o, err = s.Store.Move(ctx, o.TxID, checkout.SoldOut, store.Change{Payment: &checkout.Payment{
			Mode: checkout.PaymodeTest, Outcome: payment.Paid.String(), Amount: o.Totals.Final, At: s.now()},
			Trace: []trace.Line{tr.Line(o.TxID, "paid: order %s", checkout.SoldOut)}}, store.BodyFrom(o)); err != nil {
			return httpapi.Response{}, err
		}
		if _, err := s.succeed(ctx, o.TxID, state.TaskToken, map[string]string{"mode": checkout.PaymodeTest, "outcome": "paid"}); err != nil {
			return httpapi.Response{}, err
		}
	case "fail":
		tr.Printf(ctx, o.TxID, "failing")
		// PLACED→FAILED is not a transition: a start still moving the order to PENDING
		// is overtaken by doing that move here (a no-op when already PENDING).
		if _, err := s.Store.Move(ctx, o.TxID, checkout.Pending, store.Change{}, store.HeadOnly); err != nil {
			return httpapi.Response{}, err
		}
		if o, err = s.Store.Move(ctx, o.TxID, checkout.Failed, store.Change{Payment: &checkout.Payment{
			Mode: checkout.PaymodeTest, Outcome: payment.Failed.String(), At: s.now()}}, store.BodyFrom(o)); err != nil {
			return httpapi.Response{}, err
		}
		if err := s.Tokens.Fail(ctx, state.TaskToken, ErrPaymentFailed, "the buyer pressed the test mode's fail button"); err != nil && checkout.KindOf(err) != checkout.ECONFLICT {
			return httpapi.Response{}, err
		}
	case "defer":
		if s.TestProvider == nil {
			return httpapi.Response{}, checkout.Errorf(op, checkout.ECONFLICT, "the simulated provider is not configured (no test secret)")
		}
		if o, err = s.Store.Move(ctx, o.TxID, checkout.Pending, store.Change{}, store.BodyFrom(o)); err != nil {
			return httpapi.Response{}, err
		}
		body, h, err := s.TestProvider.Callback(payment.TestCallback{TxID: o.TxID, Outcome: "paid", Amount: o.Totals.Final, Currency: o.Currency})
		if err != nil {
			return httpapi.Response{}, checkout.Wrap(op, err)
		}
		cb := Callback{URL: webhookURL(o, checkout.PaymodeTest), Method: http.MethodPost, Headers: map[string]string{}, Body: string(body)}
		for k := range h {
			cb.Headers[k] = h.Get(k)
		}
		tr.Printf(ctx, o.TxID, "deferred confirmation: simulated provider callback issued")
		state.Order = o
		return httpapi.JSON(http.StatusAccepted, map[string]any{"order": s.orderView(shop, state), "callback": cb}), nil
	default:
		return httpapi.Response{}, checkout.Invalid(op, "unknown test action", checkout.FieldError{Field: "action", Message: "must be pay, fail or defer"})
	}
	state.Order = o
	return httpapi.JSON(http.StatusOK, s.orderView(shop, state)), nil
}
