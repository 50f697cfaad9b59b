// Package opstest runs a stand-in of the back-office API for tests of its clients: an
// httptest server that checks, on /ops, every request's SigV4 signature the way API
// Gateway's AWS_IAM authorization does (with the SDK's own signer, so the check is the
// real algorithm, not a copy of the client's) and, on /admin, the operator's bearer
// token, then answers the routes from orders held in memory with the transition rules
// of docs/spec.md.
package opstest

import (
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/localcloud/sigv4"
	"github.com/lmsshop/checkout/internal/trace"
)

// The identity the server accepts, the local cloud's.
const (
	AccessKeyID     = "local"
	SecretAccessKey = "localsecret"
	Region          = "us-east-1"
	// OperatorToken is the one bearer token /admin accepts.
	OperatorToken = "operator-id-token"
)

// Request is one request the server accepted, for tests to inspect.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   string
}

// Server is the stand-in back office.
type Server struct {
	*httptest.Server
	// Now is the server's clock, for trace lines and signature freshness.
	Now func() time.Time

	mu       sync.Mutex
	orders   map[string]*checkout.Order
	traces   map[string][]trace.Line
	requests []Request
	refused  int
}

// NewServer starts a server closed at the end of the test.
func NewServer(t testing.TB) *Server {
	s := &Server{Now: time.Now, orders: map[string]*checkout.Order{}, traces: map[string][]trace.Line{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// The orders NewSeededServer holds.
const (
	TxPending = "TU80WKRYTI9QUMJ4" // a cheque order waiting for its payment, with a trace
	TxPlaced  = "AB12CD34EF56GH78" // a transfer order freshly placed, two days later
)

// PlacedAt is when TxPending was placed.
var PlacedAt = time.Date(2026, 7, 27, 11, 32, 13, 753_000_000, time.UTC)

// NewSeededServer starts a server holding the two orders TxPending and TxPlaced, the
// fixture the back-office clients' tests share.
func NewSeededServer(t testing.TB) *Server {
	s := NewServer(t)
	s.AddOrder(checkout.Order{TxID: TxPending, Status: checkout.Pending, Paymode: "check", Currency: "EUR",
		Totals:   checkout.Totals{Untaxed: 10288, Taxes: 2057, Final: 12345},
		PlacedAt: PlacedAt, Customer: checkout.Customer{Email: "ada@example.org", FirstName: "Ada", LastName: "Lovelace", Country: "FR"},
		Lines: []checkout.OrderLine{{PricedLine: checkout.PricedLine{Code: "COURSE-101", Name: "Go for teachers", Quantity: 1, UnitPrice: 10288}, Taxed: 12345}}},
		trace.Line{At: PlacedAt, TxID: TxPending, Source: "Test Processing", Message: "paying"},
		trace.Line{At: PlacedAt.Add(1008 * time.Millisecond), TxID: TxPending, Source: "Production Controller", Message: "Full production starting from SOLDOUT ..."},
	)
	s.AddOrder(checkout.Order{TxID: TxPlaced, Status: checkout.Placed, Paymode: "transfer", Currency: "EUR",
		Totals: checkout.Totals{Final: 500}, PlacedAt: PlacedAt.Add(48 * time.Hour), Customer: checkout.Customer{Email: "bob@example.org"}})
	return s
}

// AddOrder stores an order (a copy) and its trace.
func (s *Server) AddOrder(o checkout.Order, lines ...trace.Line) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders[o.TxID] = &o
	s.traces[o.TxID] = append(s.traces[o.TxID], lines...)
}

// Order returns a copy of the stored order.
func (s *Server) Order(txid string) (checkout.Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[txid]
	if !ok {
		return checkout.Order{}, false
	}
	return *o, true
}

// Requests returns the requests that passed the signature or token check.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Refused counts the requests turned away for their signature or token.
func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/admin/") {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+OperatorToken)) != 1 {
			s.mu.Lock()
			s.refused++
			s.mu.Unlock()
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Unauthorized"})
			return
		}
	} else if msg := s.verify(r, body); msg != "" {
		s.mu.Lock()
		s.refused++
		s.mu.Unlock()
		writeJSON(w, http.StatusForbidden, map[string]string{"message": msg})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: string(body)})
	s.route(w, r, body)
}

// verify checks r's signature as the local cloud's API Gateway does (sigv4.Verify,
// signing name execute-api); it returns why it refuses, or "".
func (s *Server) verify(r *http.Request, body []byte) string {
	_, f := sigv4.Verify(r, body, func(key string) (string, bool) {
		return SecretAccessKey, key == AccessKeyID
	}, Region, "execute-api", s.Now())
	if f != nil {
		return f.Message
	}
	return ""
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, body []byte) {
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(seg) < 2 || (seg[0] != "admin" && seg[0] != "ops") || seg[1] != "orders" {
		problem(w, http.StatusNotFound, checkout.ENOTFOUND, "no route "+r.Method+" "+r.URL.Path)
		return
	}
	if len(seg) == 2 && r.Method == http.MethodGet {
		s.list(w, r)
		return
	}
	o, ok := s.orders[seg[2]]
	if !ok {
		problem(w, http.StatusNotFound, checkout.ENOTFOUND, "no order "+seg[2])
		return
	}
	switch {
	case len(seg) == 3 && r.Method == http.MethodGet:
		pays := o.Payments
		if pays == nil {
			pays = []checkout.Payment{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"order": o, "payments": pays, "products": []any{}, "trace": s.traces[o.TxID], "linkToken": "x"})
	case len(seg) == 4 && seg[3] == "trace" && r.Method == http.MethodGet:
		s.trace(w, r, o.TxID)
	case len(seg) == 4 && seg[3] == "payment-received" && r.Method == http.MethodPost:
		s.paymentReceived(w, o, body)
	case len(seg) == 4 && seg[3] == "cancel" && r.Method == http.MethodPost:
		s.move(w, o, checkout.Cancelled, "cancelled the order")
	case len(seg) == 4 && seg[3] == "transition" && r.Method == http.MethodPost:
		var in struct {
			To string `json:"to"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			problem(w, http.StatusBadRequest, checkout.EINVALID, "body is not JSON")
			return
		}
		s.move(w, o, checkout.Status(strings.ToUpper(in.To)), "moved the order")
	default:
		problem(w, http.StatusNotFound, checkout.ENOTFOUND, "no route "+r.Method+" "+r.URL.Path)
	}
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var from, to time.Time
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				problem(w, http.StatusBadRequest, checkout.EINVALID, "invalid filter", checkout.FieldError{Field: p.name, Message: "must be an RFC 3339 time"})
				return
			}
			*p.t = t
		}
	}
	out := []checkout.Order{}
	for _, o := range s.orders {
		if st := q.Get("status"); st != "" && string(o.Status) != st {
			continue
		}
		if (!from.IsZero() && o.PlacedAt.Before(from)) || (!to.IsZero() && o.PlacedAt.After(to)) {
			continue
		}
		out = append(out, *o)
	}
	slices.SortFunc(out, func(a, b checkout.Order) int { return b.PlacedAt.Compare(a.PlacedAt) })
	writeJSON(w, http.StatusOK, map[string]any{"orders": out})
}

func (s *Server) trace(w http.ResponseWriter, r *http.Request, txid string) {
	lines := s.traces[txid]
	if strings.Contains(r.Header.Get("Accept"), "text/plain") {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		for _, l := range lines {
			io.WriteString(w, l.Format(time.UTC)+"\n")
		}
		return
	}
	if lines == nil {
		lines = []trace.Line{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"transactionId": txid, "lines": lines})
}

func (s *Server) paymentReceived(w http.ResponseWriter, o *checkout.Order, body []byte) {
	var in struct {
		Mode      string `json:"mode"`
		Amount    int64  `json:"amount"`
		Reference string `json:"reference"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		problem(w, http.StatusBadRequest, checkout.EINVALID, "body is not JSON")
		return
	}
	var fields []checkout.FieldError
	if in.Mode != "check" && in.Mode != "transfer" {
		fields = append(fields, checkout.FieldError{Field: "mode", Message: "must be check or transfer"})
	}
	if in.Amount <= 0 {
		fields = append(fields, checkout.FieldError{Field: "amount", Message: "must be the positive amount received"})
	}
	if strings.TrimSpace(in.Reference) == "" {
		fields = append(fields, checkout.FieldError{Field: "reference", Message: "is required"})
	}
	if len(fields) > 0 {
		problem(w, http.StatusBadRequest, checkout.EINVALID, "payment not recorded", fields...)
		return
	}
	if in.Amount != o.Totals.Final {
		// Stored and flagged, as the API does: the order does not move.
		reason := "underpayment"
		if in.Amount > o.Totals.Final {
			reason = "overpayment"
		}
		o.Payments = append(o.Payments, checkout.Payment{Mode: in.Mode, Outcome: "paid", Amount: in.Amount, EventID: in.Reference, Reference: in.Reference, At: s.Now().UTC()})
		writeJSON(w, http.StatusAccepted, map[string]any{"order": o, "flag": map[string]any{
			"txid": o.TxID, "key": in.Mode + "#" + in.Reference, "reason": reason, "mode": in.Mode, "reference": in.Reference,
			"amount": in.Amount, "currency": o.Currency, "orderStatus": o.Status, "at": s.Now().UTC()}})
		return
	}
	if !checkout.CanMove(o.Status, checkout.SoldOut) {
		problem(w, http.StatusConflict, checkout.ECONFLICT, "order "+o.TxID+" cannot move from "+string(o.Status)+" to SOLDOUT")
		return
	}
	o.Payments = append(o.Payments, checkout.Payment{Mode: in.Mode, Outcome: "paid", Amount: in.Amount, EventID: in.Reference, At: s.Now().UTC()})
	s.moveTo(o, checkout.SoldOut, "recorded a "+in.Mode+" payment, reference "+in.Reference)
	writeJSON(w, http.StatusOK, o)
}

func (s *Server) move(w http.ResponseWriter, o *checkout.Order, to checkout.Status, what string) {
	if !checkout.CanMove(o.Status, to) {
		problem(w, http.StatusConflict, checkout.ECONFLICT, "order "+o.TxID+" cannot move from "+string(o.Status)+" to "+string(to))
		return
	}
	s.moveTo(o, to, what)
	writeJSON(w, http.StatusOK, o)
}

func (s *Server) moveTo(o *checkout.Order, to checkout.Status, what string) {
	from := o.Status
	o.Status, o.UpdatedAt = to, s.Now().UTC()
	s.traces[o.TxID] = append(s.traces[o.TxID], trace.Line{At: o.UpdatedAt, TxID: o.TxID, Source: trace.SourceBackOffice,
		Message: "operator " + what + " (" + string(from) + " → " + string(to) + ")"})
}

func problem(w http.ResponseWriter, status int, kind checkout.Kind, msg string, fields ...checkout.FieldError) {
	writeJSON(w, status, checkout.NewProblem(kind, msg, fields...))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client sees a truncated body if this fails
}
