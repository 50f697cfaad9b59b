package workflow

import (
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/pricing"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
)

// AdminRouteKey is the operators' route: API Gateway checks their user pool token
// (JWT authorizer), and the function checks their groups and routes the rest of the
// path itself. OpsRouteKey serves the same actions to automation signed with SigV4
// (AWS_IAM), whose IAM policy is what grants it.
const (
	AdminRouteKey = "ANY /admin/{proxy+}"
	OpsRouteKey   = "ANY /ops/{proxy+}"
)

// The operators' roles: the user pool's groups (template.yaml).
const (
	RoleShopAdmin  = "shop-admin" // everything, the catalogue and the shop settings included
	RoleSales      = "sales"      // orders: read, record offline payments, cancel, settle flagged orders
	RoleAccounting = "accounting" // orders and invoices, read only; exports
)

// permissions lists, per back-office action (method and path pattern), the groups
// that may run it. An action missing here is refused to every operator. docs/api.md's
// table of roles has a row per action and says the same (TestAPIRolesTableIsThePermissions).
var permissions = map[string][]string{
	"GET me":                         {RoleShopAdmin, RoleSales, RoleAccounting},
	"GET orders":                     {RoleShopAdmin, RoleSales, RoleAccounting},
	"GET orders.csv":                 {RoleShopAdmin, RoleAccounting},
	"GET orders/*":                   {RoleShopAdmin, RoleSales, RoleAccounting},
	"GET orders/*/trace":             {RoleShopAdmin, RoleSales, RoleAccounting},
	"GET products/*":                 {RoleShopAdmin, RoleSales, RoleAccounting},
	"GET flags":                      {RoleShopAdmin, RoleSales, RoleAccounting},
	"POST orders/*/settle":           {RoleShopAdmin, RoleSales},
	"POST orders/*/refund":           {RoleShopAdmin, RoleSales},
	"POST orders/*/payment-received": {RoleShopAdmin, RoleSales},
	"POST orders/*/cancel":           {RoleShopAdmin, RoleSales},
	"POST orders/*/transition":       {RoleShopAdmin, RoleSales},
	"GET catalog":                    {RoleShopAdmin},
	"PUT catalog/items/*":            {RoleShopAdmin},
	"GET shop":                       {RoleShopAdmin},
	"PUT shop":                       {RoleShopAdmin},
}

// caller is who sent a back-office request, as API Gateway's authorizer vouched.
type caller struct {
	who    string   // the operator's e-mail (or username), or the IAM ARN
	groups []string // the user pool groups; none for IAM callers
	iam    bool     // signed with SigV4: automation whose IAM policy grants the route
}

// callerOf reads the caller from the authorizer's context. Without one the route was
// deployed without its authorizer: nothing is allowed.
func callerOf(r *httpapi.Request) (caller, error) {
	a := r.RequestContext.Authorizer
	switch {
	case a != nil && a.JWT != nil:
		c := a.JWT.Claims
		who := cmp.Or(c["email"], c["username"], c["cognito:username"], c["sub"])
		if who == "" {
			return caller{}, checkout.Errorf("admin.caller", checkout.EUNAUTHORIZED, "the token names no operator")
		}
		return caller{who: who, groups: parseGroups(c["cognito:groups"])}, nil
	case a != nil && a.IAM != nil && a.IAM.UserARN != "":
		return caller{who: a.IAM.UserARN, iam: true}, nil
	}
	return caller{}, checkout.Errorf("admin.caller", checkout.EUNAUTHORIZED, "no operator identity on the request")
}

// parseGroups reads cognito:groups as HTTP API passes a list claim: "[sales accounting]"
// (group names hold no spaces). A JSON array is accepted too.
func parseGroups(v string) []string {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "[\"") {
		var out []string
		if json.Unmarshal([]byte(v), &out) == nil {
			return out
		}
	}
	return strings.Fields(strings.Trim(v, "[]"))
}

// may reports whether the caller may run action. IAM callers may run every action:
// their IAM policy (execute-api:Invoke on /ops) is their grant.
func (c caller) may(action string) bool {
	if c.iam {
		return true
	}
	return slices.ContainsFunc(permissions[action], func(allowed string) bool { return slices.Contains(c.groups, allowed) })
}

// actions lists what the caller may do, for the page to show only those.
func (c caller) actions() []string {
	out := []string{}
	for a := range permissions {
		if c.may(a) {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// serve answers every /admin/… (operators) and /ops/… (automation) request (see
// docs/spec.md#back-office): it reads the action from the method and the raw path,
// checks the caller may run it (see permissions), and has the back office's router
// (routes) answer it:
//
//	GET  /admin/me                               who is calling, groups, allowed actions
//	GET  /admin/orders?status=&from=&to=[&format=csv]
//	GET  /admin/orders/{txid}
//	POST /admin/orders/{txid}/payment-received   {"mode","amount","reference"}
//	POST /admin/orders/{txid}/cancel
//	GET  /admin/flags                            payments an operator must settle
//	POST /admin/orders/{txid}/settle             {"action":"deliver"|"refund","key","reference","note"}
//	POST /admin/orders/{txid}/transition         {"to"}
//	POST /admin/orders/{txid}/refund             {"key","reference","note"}
//	GET  /admin/orders/{txid}/trace              JSON, or merchant trace text (Accept: text/plain)
//	GET  /admin/products/{reference}             a product instance and its events
//	GET  /admin/catalog
//	PUT  /admin/catalog/items/{code}
//	GET  /admin/shop, PUT /admin/shop
func (s *Backoffice) serve(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	method := r.RequestContext.HTTP.Method
	path := strings.Trim(r.RawPath, "/")
	seg := strings.Split(path, "/")
	if len(seg) == 0 || (seg[0] != "admin" && seg[0] != "ops") {
		return httpapi.Response{}, checkout.Errorf("admin.route", checkout.ENOTFOUND, "no route %s %s", method, r.RawPath)
	}
	seg = seg[1:]
	pat, params := pattern(seg)
	route := method + " " + strings.Join(pat, "/")
	action := route
	if route == "GET orders" && r.QueryStringParameters["format"] == "csv" {
		action = "GET orders.csv"
	}
	who, err := callerOf(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	if _, known := permissions[action]; known && !who.may(action) {
		// Refused before anything is read or written, and not traced: the trace records
		// what was done to an order, and nothing was.
		s.log().Info("admin: action refused", "operator", who.who, "groups", strings.Join(who.groups, ","), "action", action)
		return httpapi.Response{}, checkout.Errorf("admin.authorize", checkout.EFORBIDDEN, "%s may not %s (groups: %s)", who.who, action, strings.Join(who.groups, ", "))
	}
	ctx = withCaller(ctx, who)
	// The action's own route: method and pattern, the variable segments as parameters.
	in := *r
	in.RouteKey, in.PathParameters = route, params
	return s.admin.Serve(ctx, in)
}

// routes is the back office's router, keyed by action (see permissions): Backoffice
// routes each request to it once the caller is allowed.
func (s *Backoffice) routes() *httpapi.Router {
	rt := httpapi.NewRouter(s.Log)
	rt.Handle("GET me", func(ctx context.Context, _ *httpapi.Request) (httpapi.Response, error) {
		who, _ := ctx.Value(callerKey{}).(caller)
		return httpapi.JSON(http.StatusOK, map[string]any{"operator": who.who, "groups": nonNil(who.groups), "iam": who.iam, "actions": who.actions()}), nil
	})
	rt.Handle("GET orders", s.adminList)
	rt.Handle("GET orders/*", func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		return s.adminOrder(ctx, r.PathParameters["txid"])
	})
	rt.Handle("POST orders/*/payment-received", func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		return s.adminPaymentReceived(ctx, r, r.PathParameters["txid"])
	})
	rt.Handle("GET flags", func(ctx context.Context, _ *httpapi.Request) (httpapi.Response, error) { return s.adminFlags(ctx) })
	rt.Handle("POST orders/*/settle", func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		return s.adminSettle(ctx, r, r.PathParameters["txid"])
	})
	rt.Handle("POST orders/*/refund", func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		return s.adminRefund(ctx, r, r.PathParameters["txid"])
	})
	rt.Handle("POST orders/*/cancel", func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		return s.adminCancel(ctx, r, r.PathParameters["txid"])
	})
	rt.Handle("POST orders/*/transition", func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		return s.adminTransition(ctx, r, r.PathParameters["txid"])
	})
	rt.Handle("GET orders/*/trace", func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		return s.adminTrace(ctx, r, r.PathParameters["txid"])
	})
	rt.Handle("GET products/*", s.adminProduct)
	rt.Handle("GET catalog", func(ctx context.Context, _ *httpapi.Request) (httpapi.Response, error) {
		s.Shops.Invalidate() // operators read what is stored, not a warm copy
		_, cat, err := s.Shops.Get(ctx)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, cat), nil
	})
	rt.Handle("PUT catalog/items/*", func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		return s.adminPutItem(ctx, r, r.PathParameters["code"])
	})
	rt.Handle("GET shop", func(ctx context.Context, _ *httpapi.Request) (httpapi.Response, error) {
		s.Shops.Invalidate()
		shop, _, err := s.Shops.Get(ctx)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, shop), nil
	})
	rt.Handle("PUT shop", s.adminPutShop)
	return rt
}

func (s *Backoffice) adminProduct(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	ref := r.PathParameters["reference"]
	in, err := s.Store.Instance(ctx, ref)
	if errors.Is(err, production.ErrNotFound) {
		return httpapi.Response{}, checkout.Errorf("admin.product", checkout.ENOTFOUND, "no product instance %q", ref)
	}
	if err != nil {
		return httpapi.Response{}, checkout.Wrap("admin.product", err)
	}
	return httpapi.JSON(http.StatusOK, in), nil
}

// pattern replaces the variable segments of an admin path (the transaction ID after
// "orders", the reference after "products", the code after "catalog/items") with "*",
// and returns them by name (txid, reference, code).
func pattern(seg []string) ([]string, map[string]string) {
	out := append([]string(nil), seg...)
	params := map[string]string{}
	for i := 1; i < len(out); i++ {
		switch {
		case i == 1 && seg[0] == "orders":
			params["txid"], out[i] = seg[i], "*"
		case i == 1 && seg[0] == "products":
			params["reference"], out[i] = seg[i], "*"
		case i == 2 && seg[1] == "items":
			params["code"], out[i] = seg[i], "*"
		}
	}
	return out, params
}

type callerKey struct{}

func withCaller(ctx context.Context, c caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// operator names who made a back-office request, for the trace: the operator's e-mail
// from their token, or the IAM caller's ARN.
func operator(ctx context.Context) string {
	if c, ok := ctx.Value(callerKey{}).(caller); ok && c.who != "" {
		return trace.Sanitize(c.who)
	}
	return "operator"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Backoffice) adminList(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	const op = "admin.orders"
	q := r.QueryStringParameters
	var fields checkout.Fields
	statuses := checkout.Statuses
	if v := q["status"]; v != "" {
		status := checkout.Status(strings.ToUpper(v))
		if !slices.Contains(checkout.Statuses, status) {
			fields.Add("status", "unknown status %q", v)
		}
		statuses = []checkout.Status{status}
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
	for _, status := range statuses {
		list, err := s.Store.ListOrders(ctx, status, from, to, 100)
		if err != nil {
			return httpapi.Response{}, err
		}
		orders = append(orders, list...)
	}
	if q["format"] == "csv" {
		return ordersCSV(orders), nil
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"orders": orders}), nil
}

// cell keeps a buyer-typed value from being read as a formula by a spreadsheet.
func cell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// ordersCSV is the accountants' export: one row per order, amounts in minor units.
func ordersCSV(orders []checkout.Order) httpapi.Response {
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"transactionId", "placedAt", "status", "paymode", "currency", "untaxed", "discount", "taxes", "final",
		"invoiceNumber", "customerEmail", "organisation"})
	for _, o := range orders {
		_ = w.Write([]string{o.TxID, o.PlacedAt.UTC().Format(time.RFC3339), string(o.Status), o.Paymode, o.Currency,
			strconv.FormatInt(o.Totals.Untaxed, 10), strconv.FormatInt(o.Totals.Discount, 10), strconv.FormatInt(o.Totals.Taxes, 10),
			strconv.FormatInt(o.Totals.Final, 10), o.InvoiceNumber, cell(o.Customer.Email), cell(o.Customer.Organisation)})
	}
	w.Flush() // a strings.Builder never fails a write
	return httpapi.Response{StatusCode: http.StatusOK, Body: b.String(), Headers: map[string]string{
		"content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="orders.csv"`, "cache-control": "no-store"}}
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
	Flags     []store.Flag          `json:"flags"`
	LinkToken string                `json:"linkToken"`
}

func (s *Backoffice) adminOrder(ctx context.Context, txid string) (httpapi.Response, error) {
	state, err := s.Store.OrderState(ctx, txid, "")
	if err != nil {
		return httpapi.Response{}, err
	}
	o := state.Order
	v := AdminOrder{Order: o, Waiting: waiting(state), Payments: o.Payments, Products: []production.Instance{}, LinkToken: s.linkToken(o)}
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
	if v.Flags, err = s.Store.OrderFlags(ctx, txid); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, v), nil
}

// adminPaymentReceived records a cheque or a transfer: the amount must be the order's
// total, the order becomes SOLDOUT and its payment wait completes.
func (s *Backoffice) adminPaymentReceived(ctx context.Context, r *httpapi.Request, txid string) (httpapi.Response, error) {
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
	if in.Mode != checkout.PaymodeCheck && in.Mode != checkout.PaymodeTransfer {
		f.Add("mode", "must be check or transfer")
	}
	if in.Amount <= 0 {
		f.Add("amount", "must be the positive amount received, in minor units")
	}
	if strings.TrimSpace(in.Reference) == "" {
		f.Add("reference", "is required (cheque number, transfer reference)")
	}
	tr := s.tracer(trace.SourceBackOffice)
	if err := f.Err(op, "payment not recorded"); err != nil {
		tr.Printf(ctx, txid, "%s: payment NOT recorded: %v", operator(ctx), err)
		return httpapi.Response{}, err
	}
	ref := trace.Sanitize(in.Reference)
	got, err := s.receive(ctx, o, trace.SourceBackOffice, checkout.Payment{
		Mode: in.Mode, Outcome: payment.Paid.String(), Amount: in.Amount, EventID: ref, Reference: ref, At: s.now()})
	if err != nil {
		tr.Printf(ctx, txid, "%s: payment NOT recorded: %v", operator(ctx), err)
		return httpapi.Response{}, err
	}
	switch {
	case got.Flag != nil:
		// Stored, and flagged: the answer says so, with what the operator must settle.
		tr.Printf(ctx, txid, "%s recorded a %s payment of %s, reference %s: flagged (%s)", operator(ctx), in.Mode, pricing.FormatPlain(in.Amount, o.Currency), ref, got.Flag.Reason)
		return httpapi.JSON(http.StatusAccepted, map[string]any{"order": got.Order, "flag": got.Flag}), nil
	case got.Duplicate && !got.Moved:
		tr.Printf(ctx, txid, "%s: the %s payment reference %s was recorded before; nothing changed", operator(ctx), in.Mode, ref)
	default:
		tr.Printf(ctx, txid, "%s recorded a %s payment of %s, reference %s", operator(ctx), in.Mode, pricing.FormatPlain(in.Amount, o.Currency), ref)
	}
	if err := s.resume(ctx, got.Order); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, got.Order), nil
}

// resume completes the workflow's wait after an operator moved the order: a paid order
// (SOLDOUT, or PREPROD when the operator has it produced before the money comes) leaves
// Payment (or the retry wait, which goes round to Payment and sees it paid); a
// cancelled one ends in Cancelled.
func (s *waits) resume(ctx context.Context, o *checkout.Order) error {
	return s.resumeBy(ctx, o, "operator", trace.SourceBackOffice)
}

// resumeBy is resume for whoever (by) moved the order, tracing under source.
func (s *waits) resumeBy(ctx context.Context, o *checkout.Order, by, source string) error {
	token, state, err := s.Store.TaskToken(ctx, o.TxID)
	if err != nil || token == "" {
		return err
	}
	switch {
	case paid(o.Status) && state == statePayment:
		err = s.Tokens.Succeed(ctx, token, map[string]string{"mode": o.Paymode, "outcome": "paid", "by": by})
	case paid(o.Status) && state == stateRetry:
		shop, _, serr := s.Shops.Get(ctx)
		if serr != nil {
			return serr
		}
		err = s.Tokens.Succeed(ctx, token, checkout.PlanFor(shop, o.Paymode))
	case o.Status == checkout.Cancelled:
		err = s.Tokens.Fail(ctx, token, ErrOrderCancelled, "cancelled by an operator")
	default:
		return nil
	}
	if checkout.KindOf(err) == checkout.ECONFLICT {
		s.tracer(source).Printf(ctx, o.TxID, "the workflow was no longer waiting (%s)", state)
		return nil
	}
	return err
}

func (s *Backoffice) adminCancel(ctx context.Context, r *httpapi.Request, txid string) (httpapi.Response, error) {
	tr := s.tracer(trace.SourceBackOffice)
	o, err := s.cancel(ctx, txid)
	if err != nil {
		tr.Printf(ctx, txid, "%s: cancel REFUSED: %v", operator(ctx), err)
		return httpapi.Response{}, err
	}
	tr.Printf(ctx, txid, "%s cancelled the order", operator(ctx))
	if err := s.resume(ctx, o); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, o), nil
}

// adminTransition moves an order along an allowed transition
// (docs/spec.md#statuses-and-transitions); any other is refused with 409 and traced.
func (s *Backoffice) adminTransition(ctx context.Context, r *httpapi.Request, txid string) (httpapi.Response, error) {
	const op = "admin.transition"
	var in struct {
		To string `json:"to"`
	}
	if err := httpapi.Decode(r, &in); err != nil {
		return httpapi.Response{}, err
	}
	to := checkout.Status(strings.ToUpper(in.To))
	if !slices.Contains(checkout.Statuses, to) {
		return httpapi.Response{}, checkout.Invalid(op, "unknown status", checkout.FieldError{Field: "to", Message: fmt.Sprintf("%q is not a status", in.To)})
	}
	o, err := s.Store.GetOrder(ctx, txid, "")
	if err != nil {
		return httpapi.Response{}, err
	}
	tr := s.tracer(trace.SourceBackOffice)
	if !checkout.CanMove(o.Status, to) {
		tr.Printf(ctx, txid, "%s: transition %s → %s REFUSED", operator(ctx), o.Status, to)
		return httpapi.Response{}, checkout.Errorf(op, checkout.ECONFLICT, "order %s cannot move from %s to %s", txid, o.Status, to)
	}
	moved, err := s.Store.Move(ctx, txid, to, store.Change{}, store.BodyFrom(o))
	if err != nil {
		tr.Printf(ctx, txid, "%s: transition %s → %s REFUSED: %v", operator(ctx), o.Status, to, err)
		return httpapi.Response{}, err
	}
	tr.Printf(ctx, txid, "%s moved the order %s → %s", operator(ctx), o.Status, to)
	if err := s.resume(ctx, moved); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, moved), nil
}

func (s *Backoffice) adminTrace(ctx context.Context, r *httpapi.Request, txid string) (httpapi.Response, error) {
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

func (s *Backoffice) adminPutItem(ctx context.Context, r *httpapi.Request, code string) (httpapi.Response, error) {
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
	s.tracer(trace.SourceBackOffice).Printf(ctx, "", "%s saved catalog item %s of catalog %s", operator(ctx), it.Code, shop.CatalogID)
	return httpapi.JSON(http.StatusOK, it), nil
}

func (s *Backoffice) adminPutShop(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
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
	s.tracer(trace.SourceBackOffice).Printf(ctx, "", "%s saved the configuration of shop %s", operator(ctx), in.ID)
	return httpapi.JSON(http.StatusOK, in), nil
}
