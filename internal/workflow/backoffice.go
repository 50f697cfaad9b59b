package workflow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
)

// AdminRouteKey is the back office's one route: API Gateway authenticates operators
// with IAM, and the function routes the rest of the path itself.
const AdminRouteKey = "ANY /admin/{proxy+}"

// allStatuses lists the statuses in the order of docs/spec.md, for listing and validation.
var allStatuses = []checkout.Status{
	checkout.Working, checkout.Placed, checkout.Pending, checkout.PreProd, checkout.SoldOut, checkout.Partial,
	checkout.Complete, checkout.Payback, checkout.Failed, checkout.Refused, checkout.Cancelled,
}

func knownStatus(s checkout.Status) bool {
	for _, k := range allStatuses {
		if k == s {
			return true
		}
	}
	return false
}

// Backoffice answers every /admin/… request (see docs/spec.md, Back office), routing on
// the method and the raw path:
//
//	GET  /admin/orders?status=&from=&to=
//	GET  /admin/orders/{txid}
//	POST /admin/orders/{txid}/payment-received   {"mode","amount","reference"}
//	POST /admin/orders/{txid}/cancel
//	POST /admin/orders/{txid}/transition         {"to"}
//	GET  /admin/orders/{txid}/trace              JSON, or merchant trace text (Accept: text/plain)
//	GET  /admin/products/{reference}             a product instance and its events
//	GET  /admin/catalog
//	PUT  /admin/catalog/items/{code}
//	GET  /admin/shop, PUT /admin/shop
func (s *Service) Backoffice(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	method := r.RequestContext.HTTP.Method
	path := strings.Trim(r.RawPath, "/")
	seg := strings.Split(path, "/")
	if len(seg) == 0 || seg[0] != "admin" {
		return httpapi.Response{}, checkout.Errorf("admin", checkout.ENOTFOUND, "no route %s %s", method, r.RawPath)
	}
	seg = seg[1:]
	route := method + " " + strings.Join(pattern(seg), "/")
	switch route {
	case "GET orders":
		return s.adminList(ctx, r)
	case "GET orders/*":
		return s.adminOrder(ctx, seg[1])
	case "POST orders/*/payment-received":
		return s.adminPaymentReceived(ctx, r, seg[1])
	case "POST orders/*/cancel":
		return s.adminCancel(ctx, r, seg[1])
	case "POST orders/*/transition":
		return s.adminTransition(ctx, r, seg[1])
	case "GET orders/*/trace":
		return s.adminTrace(ctx, r, seg[1])
	case "GET products/*":
		in, err := s.Store.Instance(ctx, seg[1])
		if errors.Is(err, production.ErrNotFound) {
			return httpapi.Response{}, checkout.Errorf("admin.product", checkout.ENOTFOUND, "no product instance %q", seg[1])
		}
		if err != nil {
			return httpapi.Response{}, checkout.Wrap("admin.product", err)
		}
		return httpapi.JSON(http.StatusOK, in), nil
	case "GET catalog":
		s.Shops.Invalidate() // operators read what is stored, not a warm copy
		_, cat, err := s.Shops.Get(ctx)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, cat), nil
	case "PUT catalog/items/*":
		return s.adminPutItem(ctx, r, seg[2])
	case "GET shop":
		s.Shops.Invalidate()
		shop, _, err := s.Shops.Get(ctx)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, shop), nil
	case "PUT shop":
		return s.adminPutShop(ctx, r)
	}
	return httpapi.Response{}, checkout.Errorf("admin", checkout.ENOTFOUND, "no route %s %s", method, r.RawPath)
}

// pattern replaces the variable segments of an admin path (the transaction ID after
// "orders", the reference after "products", the code after "catalog/items") with "*".
func pattern(seg []string) []string {
	out := append([]string(nil), seg...)
	for i := 1; i < len(out); i++ {
		if (i == 1 && (seg[0] == "orders" || seg[0] == "products")) || (i == 2 && seg[1] == "items") {
			out[i] = "*"
		}
	}
	return out
}

// operator names who made a back-office request, for the trace.
func operator(r *httpapi.Request) string {
	if a := r.RequestContext.Authorizer; a != nil && a.IAM != nil && a.IAM.UserARN != "" {
		return a.IAM.UserARN
	}
	return "operator"
}

func (s *Service) adminList(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	const op = "admin.orders"
	q := r.QueryStringParameters
	var fields checkout.Fields
	statuses := allStatuses
	if v := q["status"]; v != "" {
		st := checkout.Status(strings.ToUpper(v))
		if !knownStatus(st) {
			fields.Add("status", "unknown status %q", v)
		}
		statuses = []checkout.Status{st}
	}
	from, _ := parseDay(&fields, "from", q["from"])
	to, day := parseDay(&fields, "to", q["to"])
	if day {
		to = to.Add(24 * time.Hour) // "to" a day includes that day
	}
	if err := fields.Err(op, "invalid filter"); err != nil {
		return httpapi.Response{}, err
	}
	orders := []checkout.Order{}
	for _, st := range statuses {
		list, err := s.Store.ListOrders(ctx, st, from, to, 100)
		if err != nil {
			return httpapi.Response{}, err
		}
		orders = append(orders, list...)
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"orders": orders}), nil
}

// parseDay reads an RFC 3339 time or a UTC day (2006-01-02, reported by day); "" is
// the zero time.
func parseDay(f *checkout.Fields, name, v string) (t time.Time, day bool) {
	if v == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), false
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, true
	}
	f.Add(name, "must be a date (2006-01-02) or an RFC 3339 time")
	return time.Time{}, false
}

// AdminOrder is one order as the back office shows it.
type AdminOrder struct {
	Order     *checkout.Order       `json:"order"`
	Waiting   string                `json:"waiting,omitempty"`
	Payments  []checkout.Payment    `json:"payments"`
	Products  []production.Instance `json:"products"`
	Trace     []trace.Line          `json:"trace"`
	LinkToken string                `json:"linkToken"`
}

func (s *Service) adminOrder(ctx context.Context, txid string) (httpapi.Response, error) {
	st, err := s.Store.OrderState(ctx, txid, "")
	if err != nil {
		return httpapi.Response{}, err
	}
	o := st.Order
	v := AdminOrder{Order: o, Waiting: waiting(st), Payments: o.Payments, Products: []production.Instance{}, LinkToken: LinkToken(o)}
	if v.Payments == nil {
		v.Payments = []checkout.Payment{}
	}
	insts, err := s.Store.CustomerInstances(ctx, o.Customer.Email)
	if err != nil {
		return httpapi.Response{}, checkout.Wrap("admin.order", err)
	}
	for _, in := range insts {
		if in.TxID == txid {
			v.Products = append(v.Products, in)
		}
	}
	if v.Trace, err = s.Store.ListTrace(ctx, txid); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, v), nil
}

// adminPaymentReceived records a cheque or a transfer: the amount must be the order's
// total, the order becomes SOLDOUT and its payment wait completes.
func (s *Service) adminPaymentReceived(ctx context.Context, r *httpapi.Request, txid string) (httpapi.Response, error) {
	const op = "admin.paymentReceived"
	var in struct {
		Mode      string `json:"mode"`
		Amount    int64  `json:"amount"`
		Reference string `json:"reference"`
	}
	if err := httpapi.Decode(r, &in); err != nil {
		return httpapi.Response{}, err
	}
	o, err := s.Store.GetOrder(ctx, txid, "")
	if err != nil {
		return httpapi.Response{}, err
	}
	var f checkout.Fields
	if in.Mode != payment.NameCheck && in.Mode != payment.NameTransfer {
		f.Add("mode", "must be check or transfer")
	}
	if in.Amount != o.Totals.Final {
		f.Add("amount", "%d does not match the order's total %d", in.Amount, o.Totals.Final)
	}
	if strings.TrimSpace(in.Reference) == "" {
		f.Add("reference", "is required (cheque number, transfer reference)")
	}
	tr := s.tracer(srcBackoffice)
	if err := f.Err(op, "payment not recorded"); err != nil {
		tr.Printf(ctx, txid, "%s: payment NOT recorded: %v", operator(r), err)
		return httpapi.Response{}, err
	}
	moved, err := s.Store.Move(ctx, txid, checkout.SoldOut, store.Change{Payment: &checkout.Payment{
		Mode: in.Mode, Outcome: payment.Paid.String(), Amount: in.Amount, EventID: trace.Sanitize(in.Reference), At: s.now()}})
	if err != nil {
		tr.Printf(ctx, txid, "%s: payment NOT recorded: %v", operator(r), err)
		return httpapi.Response{}, err
	}
	tr.Printf(ctx, txid, "%s recorded a %s payment of %s, reference %s", operator(r), in.Mode, money(in.Amount, o.Currency), in.Reference)
	if err := s.resume(ctx, moved); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, moved), nil
}

// resume completes the workflow's wait after an operator moved the order: a paid order
// leaves Payment (or the retry wait, which goes round to Payment and sees it paid); a
// cancelled one ends in Cancelled.
func (s *Service) resume(ctx context.Context, o *checkout.Order) error {
	token, state, err := s.Store.TaskToken(ctx, o.TxID)
	if err != nil || token == "" {
		return err
	}
	switch {
	case o.Status == checkout.SoldOut && state == statePayment:
		err = s.Tokens.Succeed(ctx, token, map[string]string{"mode": o.Paymode, "outcome": "paid", "by": "operator"})
	case o.Status == checkout.SoldOut && state == stateRetry:
		shop, _, serr := s.Shops.Get(ctx)
		if serr != nil {
			return serr
		}
		err = s.Tokens.Succeed(ctx, token, httpapi.PlanFor(shop, o.Paymode))
	case o.Status == checkout.Cancelled:
		err = s.Tokens.Fail(ctx, token, ErrOrderCancelled, "cancelled by an operator")
	default:
		return nil
	}
	if checkout.KindOf(err) == checkout.ECONFLICT {
		s.tracer(srcBackoffice).Printf(ctx, o.TxID, "the workflow was no longer waiting (%s)", state)
		return nil
	}
	return err
}

func (s *Service) adminCancel(ctx context.Context, r *httpapi.Request, txid string) (httpapi.Response, error) {
	tr := s.tracer(srcBackoffice)
	o, err := s.cancel(ctx, txid)
	if err != nil {
		tr.Printf(ctx, txid, "%s: cancel REFUSED: %v", operator(r), err)
		return httpapi.Response{}, err
	}
	tr.Printf(ctx, txid, "%s cancelled the order", operator(r))
	if err := s.resume(ctx, o); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, o), nil
}

// adminTransition moves an order along an allowed transition (docs/spec.md); any other is
// refused with 409 and traced.
func (s *Service) adminTransition(ctx context.Context, r *httpapi.Request, txid string) (httpapi.Response, error) {
	const op = "admin.transition"
	var in struct {
		To string `json:"to"`
	}
	if err := httpapi.Decode(r, &in); err != nil {
		return httpapi.Response{}, err
	}
	to := checkout.Status(strings.ToUpper(in.To))
	if !knownStatus(to) {
		return httpapi.Response{}, checkout.Invalid(op, "unknown status", checkout.FieldError{Field: "to", Message: fmt.Sprintf("%q is not a status", in.To)})
	}
	o, err := s.Store.GetOrder(ctx, txid, "")
	if err != nil {
		return httpapi.Response{}, err
	}
	tr := s.tracer(srcBackoffice)
	if !checkout.CanMove(o.Status, to) {
		tr.Printf(ctx, txid, "%s: transition %s → %s REFUSED", operator(r), o.Status, to)
		return httpapi.Response{}, checkout.Errorf(op, checkout.ECONFLICT, "order %s cannot move from %s to %s", txid, o.Status, to)
	}
	moved, err := s.Store.Move(ctx, txid, to, store.Change{})
	if err != nil {
		tr.Printf(ctx, txid, "%s: transition %s → %s REFUSED: %v", operator(r), o.Status, to, err)
		return httpapi.Response{}, err
	}
	tr.Printf(ctx, txid, "%s moved the order %s → %s", operator(r), o.Status, to)
	if err := s.resume(ctx, moved); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, moved), nil
}

func (s *Service) adminTrace(ctx context.Context, r *httpapi.Request, txid string) (httpapi.Response, error) {
	lines, err := s.Store.ListTrace(ctx, txid)
	if err != nil {
		return httpapi.Response{}, err
	}
	if r.QueryStringParameters["format"] == "text" || strings.Contains(header(r.Headers, "accept"), "text/plain") {
		var b strings.Builder
		for _, l := range lines {
			b.WriteString(l.Format(time.UTC))
			b.WriteByte('\n')
		}
		return httpapi.Response{StatusCode: http.StatusOK, Body: b.String(),
			Headers: map[string]string{"content-type": "text/plain; charset=utf-8", "cache-control": "no-store"}}, nil
	}
	if lines == nil {
		lines = []trace.Line{}
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"transactionId": txid, "lines": lines}), nil
}

func (s *Service) adminPutItem(ctx context.Context, r *httpapi.Request, code string) (httpapi.Response, error) {
	const op = "admin.putItem"
	var it checkout.Item
	if err := httpapi.Decode(r, &it); err != nil {
		return httpapi.Response{}, err
	}
	if it.Code == "" {
		it.Code = code
	}
	if it.Code != code {
		return httpapi.Response{}, checkout.Invalid(op, "item code differs from the path", checkout.FieldError{Field: "code", Message: "must be " + code})
	}
	if s.Producers != nil && it.Handler != "" {
		h, ok := s.Producers[it.Handler]
		if !ok {
			return httpapi.Response{}, checkout.Invalid(op, "unknown handler", checkout.FieldError{Field: "handler", Message: fmt.Sprintf("no production handler %q", it.Handler)})
		}
		if err := h.ValidateParams(it.HandlerParams); err != nil {
			return httpapi.Response{}, checkout.Invalid(op, "invalid handler parameters", checkout.FieldError{Field: "handlerParams", Message: err.Error()})
		}
	}
	s.Shops.Invalidate()
	shop, cat, err := s.Shops.Get(ctx)
	if err != nil {
		return httpapi.Response{}, err
	}
	// Passwords never travel in item JSON: an edit keeps the stored one.
	if old, ok := cat.Item(it.Code); ok {
		it.Password = old.Password
	}
	if err := s.Store.PutCatalogItem(ctx, shop.ID, shop.CatalogID, &it); err != nil {
		return httpapi.Response{}, err
	}
	s.Shops.Invalidate()
	s.tracer(srcBackoffice).Printf(ctx, "", "%s saved catalog item %s of catalog %s", operator(r), it.Code, shop.CatalogID)
	return httpapi.JSON(http.StatusOK, it), nil
}

func (s *Service) adminPutShop(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	const op = "admin.putShop"
	var in checkout.Shop
	if err := httpapi.Decode(r, &in); err != nil {
		return httpapi.Response{}, err
	}
	shop, _, err := s.Shops.Get(ctx)
	if err != nil {
		return httpapi.Response{}, err
	}
	if in.ID == "" {
		in.ID = shop.ID
	}
	if in.ID != shop.ID {
		return httpapi.Response{}, checkout.Invalid(op, "shop id differs", checkout.FieldError{Field: "id", Message: "must be " + shop.ID})
	}
	if err := s.Store.PutShop(ctx, &in); err != nil {
		return httpapi.Response{}, err
	}
	s.Shops.Invalidate()
	s.tracer(srcBackoffice).Printf(ctx, "", "%s saved the configuration of shop %s", operator(r), in.ID)
	return httpapi.JSON(http.StatusOK, in), nil
}
