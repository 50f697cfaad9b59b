package providertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v84"
	"github.com/stripe/stripe-go/v84/webhook"
)

// StripeServer is a fake Stripe API accepting, exactly as stripe-go sends them
// (form-encoded, Bearer key): POST /v1/checkout/sessions; GET /v1/checkout/sessions
// (created[gte|gt|lte|lt], status, limit, starting_after; newest first, has_more), as
// reconciliation reads them; GET /v1/checkout/sessions/{id}; and POST /v1/refunds (with
// Idempotency-Key, as Stripe: a replay answers the first refund, the same key with
// other parameters is refused).
type StripeServer struct {
	*httptest.Server
	key string

	mu       sync.Mutex
	sessions []StripeSession
	byKey    map[string][]byte         // idempotency key → response, like Stripe replays
	objects  []map[string]any          // every session, in creation order
	byID     map[string]map[string]any // the same, by ID
	intents  map[string]*stripeIntent
	refunds  []StripeRefund
	refundBy map[string]stripeReplay // idempotency key → first request and answer
}

// StripeRefund is one refund the fake made.
type StripeRefund struct {
	ID, PaymentIntent, IdempotencyKey string
	Amount                            int64
	Form                              url.Values
}

type stripeIntent struct {
	amount, refunded int64
	currency         string
}

type stripeReplay struct {
	params string
	status int
	body   []byte
}

// StripeSession is one session creation the fake received.
type StripeSession struct {
	ID             string
	Form           url.Values
	IdempotencyKey string
}

// NewStripeServer starts a fake Stripe API that accepts the secret key key;
// it is closed when t ends.
func NewStripeServer(t testing.TB, key string) *StripeServer {
	s := &StripeServer{key: key, byKey: map[string][]byte{}, byID: map[string]map[string]any{},
		intents: map[string]*stripeIntent{}, refundBy: map[string]stripeReplay{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Sessions returns the sessions created so far, in order (replays of an
// idempotency key are not counted twice).
func (s *StripeServer) Sessions() []StripeSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]StripeSession(nil), s.sessions...)
}

func stripeError(w http.ResponseWriter, status int, typ, param, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"type": typ, "param": param, "message": msg}})
}

func (s *StripeServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.key {
		stripeError(w, http.StatusUnauthorized, "invalid_request_error", "", "Invalid API Key provided")
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/checkout/sessions":
		s.list(w, r)
		return
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/checkout/sessions/"):
		s.getSession(w, strings.TrimPrefix(r.URL.Path, "/v1/checkout/sessions/"))
		return
	case r.Method == http.MethodPost && r.URL.Path == "/v1/refunds":
		s.refund(w, r)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/checkout/sessions" {
		stripeError(w, http.StatusNotFound, "invalid_request_error", "", "Unrecognized request URL ("+r.Method+": "+r.URL.Path+")")
		return
	}
	if err := r.ParseForm(); err != nil {
		stripeError(w, http.StatusBadRequest, "invalid_request_error", "", "Invalid form body: "+err.Error())
		return
	}
	f := r.PostForm
	for _, p := range []string{"mode", "success_url", "line_items[0][quantity]", "line_items[0][price_data][currency]",
		"line_items[0][price_data][unit_amount]", "line_items[0][price_data][product_data][name]"} {
		if f.Get(p) == "" {
			stripeError(w, http.StatusBadRequest, "invalid_request_error", p, "Missing required param: "+p+".")
			return
		}
	}
	unit, err := strconv.ParseInt(f.Get("line_items[0][price_data][unit_amount]"), 10, 64)
	if err != nil || unit < 1 {
		stripeError(w, http.StatusBadRequest, "invalid_request_error", "line_items[0][price_data][unit_amount]", "Invalid integer")
		return
	}
	qty, err := strconv.ParseInt(f.Get("line_items[0][quantity]"), 10, 64)
	if err != nil || qty < 1 {
		stripeError(w, http.StatusBadRequest, "invalid_request_error", "line_items[0][quantity]", "Invalid integer")
		return
	}

	now := time.Now().Unix()
	expires := now + 24*3600 // Stripe's default
	if v := f.Get("expires_at"); v != "" {
		// As documented: from 30 minutes to 24 hours after the session's creation.
		at, err := strconv.ParseInt(v, 10, 64)
		if err != nil || at < now+30*60 || at > now+24*3600 {
			stripeError(w, http.StatusBadRequest, "invalid_request_error", "expires_at",
				"The `expires_at` timestamp must be between 30 minutes and 24 hours after Checkout Session creation.")
			return
		}
		expires = at
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	idem := r.Header.Get("Idempotency-Key")
	if body, ok := s.byKey[idem]; ok && idem != "" {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Idempotent-Replayed", "true")
		_, _ = w.Write(body)
		return
	}
	id := fmt.Sprintf("cs_test_%04d%s", len(s.objects)+1, strings.Repeat("a", 20))
	metadata := map[string]string{}
	for k := range f {
		if name, ok := strings.CutPrefix(k, "metadata["); ok {
			metadata[strings.TrimSuffix(name, "]")] = f.Get(k)
		}
	}
	session := map[string]any{
		"id": id, "object": "checkout.session", "livemode": false,
		"amount_subtotal": unit * qty, "amount_total": unit * qty,
		"currency": f.Get("line_items[0][price_data][currency]"), "client_reference_id": nullable(f.Get("client_reference_id")),
		"customer_email": nullable(f.Get("customer_email")), "metadata": metadata, "mode": f.Get("mode"),
		"payment_status": "unpaid", "status": "open", "success_url": f.Get("success_url"),
		"cancel_url": nullable(f.Get("cancel_url")), "created": now, "expires_at": expires,
		"url": s.URL + "/c/pay/" + id,
	}
	body, err := json.Marshal(session)
	if err != nil {
		stripeError(w, http.StatusInternalServerError, "api_error", "", err.Error())
		return
	}
	s.sessions = append(s.sessions, StripeSession{ID: id, Form: f, IdempotencyKey: idem})
	s.objects = append(s.objects, session)
	s.byID[id] = session
	if idem != "" {
		s.byKey[idem] = body
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// Paid marks the Checkout Session id paid, as when the buyer completes it, with a
// payment intent of amount in currency, and returns the intent's ID. A session the
// fake did not create (one a test's webhook event names) is registered.
func (s *StripeServer) Paid(id string, amount int64, currency string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	pi := "pi_" + strings.TrimPrefix(id, "cs_")
	sess := s.byID[id]
	if sess == nil {
		sess = map[string]any{"id": id, "object": "checkout.session", "mode": "payment", "amount_total": amount,
			"currency": strings.ToLower(currency), "metadata": map[string]string{}}
		s.objects = append(s.objects, sess)
		s.byID[id] = sess
	}
	sess["payment_status"], sess["status"], sess["payment_intent"] = "paid", "complete", pi
	s.intents[pi] = &stripeIntent{amount: amount, currency: strings.ToLower(currency)}
	return pi
}

// Refunds returns the refunds made so far, in order (replays are not counted).
func (s *StripeServer) Refunds() []StripeRefund {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]StripeRefund(nil), s.refunds...)
}

func (s *StripeServer) getSession(w http.ResponseWriter, id string) {
	s.mu.Lock()
	sess, ok := s.byID[id]
	var body []byte
	var err error
	if ok {
		body, err = json.Marshal(sess)
	}
	s.mu.Unlock()
	switch {
	case !ok:
		stripeError(w, http.StatusNotFound, "invalid_request_error", "id", "No such checkout.session: '"+id+"'")
	case err != nil:
		stripeError(w, http.StatusInternalServerError, "api_error", "", err.Error())
	default:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}
}

// refund is POST /v1/refunds as Stripe answers it: the payment intent must exist and
// be paid, the amount (default: what is left) at most what is left to refund.
func (s *StripeServer) refund(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		stripeError(w, http.StatusBadRequest, "invalid_request_error", "", "Invalid form body: "+err.Error())
		return
	}
	f := r.PostForm
	idem := r.Header.Get("Idempotency-Key")
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.refundBy[idem]; ok && idem != "" {
		if prev.params != f.Encode() {
			stripeError(w, http.StatusBadRequest, "idempotency_error", "",
				"Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '"+idem+"' if you meant to execute a different request.")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(prev.status)
		_, _ = w.Write(prev.body)
		return
	}
	status, body := s.makeRefund(f, idem)
	if idem != "" {
		s.refundBy[idem] = stripeReplay{params: f.Encode(), status: status, body: body}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *StripeServer) makeRefund(f url.Values, idem string) (int, []byte) {
	fail := func(status int, param, msg string) (int, []byte) {
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"type": "invalid_request_error", "param": param, "message": msg}})
		return status, b
	}
	pi := f.Get("payment_intent")
	if pi == "" {
		return fail(http.StatusBadRequest, "payment_intent", "One of the following params should be provided for this request: payment_intent or charge.")
	}
	in, ok := s.intents[pi]
	if !ok {
		return fail(http.StatusBadRequest, "payment_intent", "No such payment_intent: '"+pi+"'")
	}
	left := in.amount - in.refunded
	amount := left
	if v := f.Get("amount"); v != "" {
		a, err := strconv.ParseInt(v, 10, 64)
		if err != nil || a < 1 {
			return fail(http.StatusBadRequest, "amount", "Invalid positive integer")
		}
		amount = a
	}
	if left == 0 {
		return fail(http.StatusBadRequest, "", "Charge for payment intent "+pi+" has already been refunded.")
	}
	if amount > left {
		return fail(http.StatusBadRequest, "amount", fmt.Sprintf("Refund amount (%d) is greater than unrefunded amount on charge (%d)", amount, left))
	}
	in.refunded += amount
	id := fmt.Sprintf("re_test_%04d%s", len(s.refunds)+1, strings.Repeat("b", 20))
	metadata := map[string]string{}
	for k := range f {
		if name, ok := strings.CutPrefix(k, "metadata["); ok {
			metadata[strings.TrimSuffix(name, "]")] = f.Get(k)
		}
	}
	s.refunds = append(s.refunds, StripeRefund{ID: id, PaymentIntent: pi, IdempotencyKey: idem, Amount: amount, Form: f})
	b, _ := json.Marshal(map[string]any{
		"id": id, "object": "refund", "amount": amount, "currency": in.currency, "payment_intent": pi,
		"status": "succeeded", "reason": nullable(f.Get("reason")), "metadata": metadata, "created": time.Now().Unix(),
	})
	return http.StatusOK, b
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// StripeEvent returns the JSON of a Stripe event of type typ wrapping object,
// with the API version stripe-go expects.
func StripeEvent(id, typ string, object map[string]any) []byte {
	b, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "api_version": stripe.APIVersion, "created": time.Now().Unix(),
		"livemode": false, "pending_webhooks": 1, "type": typ,
		"data": map[string]any{"object": object},
	})
	if err != nil {
		panic(err) // only maps of JSON values: cannot fail
	}
	return b
}

// CheckoutSessionEvent returns a checkout.session.* event (e.g.
// "checkout.session.completed") for the session paying txID.
func CheckoutSessionEvent(eventID, typ, txID string, amount int64, currency, paymentStatus string) []byte {
	return StripeEvent(eventID, typ, map[string]any{
		"id": "cs_test_" + txID, "object": "checkout.session", "amount_total": amount,
		"currency": strings.ToLower(currency), "client_reference_id": txID, "payment_status": paymentStatus,
		"status": "complete", "mode": "payment", "metadata": map[string]string{"txid": txID},
	})
}

// PaymentIntentFailedEvent returns a payment_intent.payment_failed event for
// a payment intent created by a session paying txID.
func PaymentIntentFailedEvent(eventID, txID string, amount int64, currency string) []byte {
	return StripeEvent(eventID, "payment_intent.payment_failed", map[string]any{
		"id": "pi_test_" + txID, "object": "payment_intent", "amount": amount,
		"currency": strings.ToLower(currency), "status": "requires_payment_method",
		"metadata":           map[string]string{"txid": txID},
		"last_payment_error": map[string]any{"code": "card_declined", "message": "Your card was declined."},
	})
}

// SignStripe returns the Stripe-Signature header value Stripe would send for
// payload signed with the endpoint secret at t.
func SignStripe(payload []byte, secret string, t time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: t}).Header
}

// Pay completes session id as a buyer paying on the Checkout page does (status
// complete, payment_status paid) without sending any webhook: the payment the
// provider has and the checkout may not know. It returns false for an unknown ID.
func (s *StripeServer) Pay(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.byID[id]
	if ok {
		sess["status"], sess["payment_status"] = "complete", "paid"
	}
	return ok
}

// AddPaid records a Checkout Session for txID, created at created, complete and paid
// (amount in minor units), as if created and paid through the API; it returns its ID.
func (s *StripeServer) AddPaid(txID string, amount int64, currency string, created time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := fmt.Sprintf("cs_test_%04d%s", len(s.objects)+1, strings.Repeat("b", 20))
	sess := map[string]any{
		"id": id, "object": "checkout.session", "livemode": false, "amount_subtotal": amount, "amount_total": amount,
		"currency": strings.ToLower(currency), "client_reference_id": nullable(txID), "metadata": map[string]string{"txid": txID},
		"mode": "payment", "payment_status": "paid", "status": "complete", "created": created.Unix(),
		"expires_at": created.Add(24 * time.Hour).Unix(), "url": nil,
	}
	s.objects = append(s.objects, sess)
	s.byID[id] = sess
	return id
}

// stripeListParams are the parameters GET /v1/checkout/sessions accepts here; Stripe
// refuses unknown ones, and so does the fake.
var stripeListParams = map[string]bool{"limit": true, "starting_after": true, "ending_before": true, "status": true,
	"created": true, "created[gte]": true, "created[gt]": true, "created[lte]": true, "created[lt]": true}

// list answers GET /v1/checkout/sessions as Stripe does: a list object, newest first.
func (s *StripeServer) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		if !stripeListParams[k] {
			stripeError(w, http.StatusBadRequest, "invalid_request_error", k, "Received unknown parameter: "+k)
			return
		}
	}
	if q.Get("ending_before") != "" {
		stripeError(w, http.StatusBadRequest, "invalid_request_error", "ending_before", "the fake pages forward only (starting_after)")
		return
	}
	limit := int64(10)
	if v := q.Get("limit"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > 100 {
			stripeError(w, http.StatusBadRequest, "invalid_request_error", "limit", "Invalid integer: limit must be between 1 and 100")
			return
		}
		limit = n
	}
	bounds := map[string]int64{}
	for _, op := range []string{"gte", "gt", "lte", "lt"} {
		v := q.Get("created[" + op + "]")
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			stripeError(w, http.StatusBadRequest, "invalid_request_error", "created["+op+"]", "Invalid integer: "+v)
			return
		}
		bounds[op] = n
	}
	status := q.Get("status")
	if status != "" && status != "open" && status != "complete" && status != "expired" {
		stripeError(w, http.StatusBadRequest, "invalid_request_error", "status", "Invalid status: must be one of open, complete, or expired")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []map[string]any
	for i := len(s.objects) - 1; i >= 0; i-- { // newest first
		o := s.objects[i]
		c, _ := o["created"].(int64)
		if v, ok := bounds["gte"]; ok && c < v {
			continue
		}
		if v, ok := bounds["gt"]; ok && c <= v {
			continue
		}
		if v, ok := bounds["lte"]; ok && c > v {
			continue
		}
		if v, ok := bounds["lt"]; ok && c >= v {
			continue
		}
		if status != "" && o["status"] != status {
			continue
		}
		match = append(match, o)
	}
	if after := q.Get("starting_after"); after != "" {
		if _, ok := s.byID[after]; !ok {
			stripeError(w, http.StatusBadRequest, "invalid_request_error", "starting_after", "No such checkout session: '"+after+"'")
			return
		}
		i := 0
		for i < len(match) && match[i]["id"] != after {
			i++
		}
		if i < len(match) {
			match = match[i+1:]
		} else {
			match = nil
		}
	}
	more := int64(len(match)) > limit
	if more {
		match = match[:limit]
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "url": "/v1/checkout/sessions", "has_more": more, "data": nonNil(match)})
}

func nonNil(v []map[string]any) []map[string]any {
	if v == nil {
		return []map[string]any{}
	}
	return v
}
