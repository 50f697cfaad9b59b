package workflow_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/workflow"
)

// admin sends a back-office request as API Gateway delivers it: one route key, the
// path in rawPath, the claims of a shop-admin operator's token in the request context.
func (e *env) admin(method, path, body string, query, headers map[string]string) (int, string, map[string]string) {
	e.t.Helper()
	return e.adminAs(jwtCaller("admin@example.com", "[shop-admin]"), method, path, body, query, headers)
}

// jwtCaller is what the JWT authorizer passes for an operator: the token's claims,
// flattened to strings as HTTP API does (a list claim as "[a b]").
func jwtCaller(email, groups string) *events.APIGatewayV2HTTPRequestContextAuthorizerDescription {
	claims := map[string]string{"email": email, "token_use": "id", "sub": "u-" + email}
	if groups != "" {
		claims["cognito:groups"] = groups
	}
	return &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}
}

func (e *env) adminAs(authz *events.APIGatewayV2HTTPRequestContextAuthorizerDescription, method, path, body string, query, headers map[string]string) (int, string, map[string]string) {
	e.t.Helper()
	if headers == nil {
		headers = map[string]string{"content-type": "application/json"}
	}
	route, prefix := workflow.AdminRouteKey, "/admin/"
	if strings.HasPrefix(path, "/ops/") {
		route, prefix = workflow.OpsRouteKey, "/ops/"
	}
	return e.http(e.backoffice, req{method: method, routeKey: route, path: path, query: query, headers: headers, body: body,
		params: map[string]string{"proxy": strings.TrimPrefix(path, prefix)}, authz: authz})
}

func TestBackofficeTransitions(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name     string
		from     func() string
		to       string
		wantCode int
		want     checkout.Status
	}{
		{"pending to cancelled", func() string { tx, _ := e.place("check", 12000); e.startPayment(tx, "T-"+tx); return tx }, "CANCELLED", http.StatusOK, checkout.Cancelled},
		{"paid to payback", func() string { tx, _ := e.paidOrder(); return tx }, "payback", http.StatusOK, checkout.Payback},
		{"complete back to pending", func() string {
			tx, _ := e.paidOrder()
			e.mustTask(e.bill, map[string]any{"action": "invoice", "txid": tx})
			return tx
		}, "PENDING", http.StatusConflict, checkout.Complete},
		{"placed to failed", func() string { tx, _ := e.place("check", 12000); return tx }, "FAILED", http.StatusConflict, checkout.Placed},
		{"unknown status", func() string { tx, _ := e.place("check", 12000); return tx }, "LOST", http.StatusBadRequest, checkout.Placed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txid := tt.from()
			code, body, _ := e.admin("POST", "/admin/orders/"+txid+"/transition", `{"to":"`+tt.to+`"}`, nil, nil)
			if code != tt.wantCode {
				t.Fatalf("transition to %s: %d %s, want %d", tt.to, code, body, tt.wantCode)
			}
			if s := e.order(txid).Status; s != tt.want {
				t.Fatalf("status %s, want %s", s, tt.want)
			}
			if tt.wantCode == http.StatusConflict && !strings.Contains(e.traceText(txid), "REFUSED") {
				t.Errorf("refused transition not traced:\n%s", e.traceText(txid))
			}
		})
	}
	// Cancelling a waiting order ends its workflow through the OrderCancelled catch.
	_, fail := e.sfn.calls()
	if len(fail) != 1 || fail[0].Error != workflow.ErrOrderCancelled {
		t.Errorf("token failures %+v: want the cancelled order's wait failed with OrderCancelled", fail)
	}
}

func TestBackofficeOfflinePayment(t *testing.T) {
	e := newEnv(t)
	txid := e.awaitingPayment("transfer")
	tests := []struct {
		body     string
		wantCode int
	}{
		{`{"mode":"transfer","amount":0,"reference":"VIR-0"}`, http.StatusBadRequest},
		{`{"mode":"stripe","amount":12000,"reference":"VIR-1"}`, http.StatusBadRequest},
		{`{"mode":"transfer","amount":12000}`, http.StatusBadRequest},
		{`{"mode":"transfer","amount":12000,"reference":"VIR-1","price":1}`, http.StatusBadRequest},
		{`{"mode":"transfer","amount":12000,"reference":"VIR-1"}`, http.StatusOK},
	}
	for _, tt := range tests {
		code, body := e.recordPayment(txid, tt.body)
		if code != tt.wantCode {
			t.Fatalf("payment-received %s: %d %s, want %d", tt.body, code, body, tt.wantCode)
		}
		if code != http.StatusOK && e.order(txid).Status != checkout.Pending {
			t.Fatalf("a refused record changed the order")
		}
	}
	o := e.order(txid)
	if o.Status != checkout.SoldOut || len(o.Payments) != 1 || o.Payments[0].EventID != "VIR-1" {
		t.Fatalf("after the record: %s %+v; want SOLDOUT with the transfer", o.Status, o.Payments)
	}
	succ, _ := e.sfn.calls()
	if len(succ) != 1 || succ[0].Token != "T-"+txid {
		t.Fatalf("completions %+v: want the payment wait completed", succ)
	}
}

func TestBackofficeReading(t *testing.T) {
	e := newEnv(t)
	txid := e.awaitingPayment("check")
	other, _ := e.paidOrder()

	code, body, _ := e.admin("GET", "/admin/orders", "", map[string]string{"status": "pending"}, nil)
	if code != http.StatusOK || !strings.Contains(body, txid) || strings.Contains(body, other) {
		t.Fatalf("orders?status=pending: %d; want %s listed and not %s: %s", code, txid, other, body)
	}
	today := time.Now().UTC().Format("2006-01-02")
	yesterday := time.Now().UTC().Add(-24 * time.Hour).Format("2006-01-02")
	for _, tt := range []struct {
		from, to string
		listed   bool
	}{
		{today, today, true},
		{yesterday, yesterday, false},
		{"", yesterday, false},
		{today, "", true},
	} {
		_, body, _ := e.admin("GET", "/admin/orders", "", map[string]string{"status": "PENDING", "from": tt.from, "to": tt.to}, nil)
		if strings.Contains(body, txid) != tt.listed {
			t.Errorf("orders from %q to %q: listed %v, want %v", tt.from, tt.to, !tt.listed, tt.listed)
		}
	}
	if code, _, _ := e.admin("GET", "/admin/orders", "", map[string]string{"status": "LOST"}, nil); code != http.StatusBadRequest {
		t.Errorf("unknown status filter: %d, want 400", code)
	}
	if code, _, _ := e.admin("GET", "/admin/orders", "", map[string]string{"from": "yesterday"}, nil); code != http.StatusBadRequest {
		t.Errorf("bad date filter: %d, want 400", code)
	}
	code, body, _ = e.admin("GET", "/admin/orders/"+txid, "", nil, nil)
	var v workflow.AdminOrder
	if code != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil || v.Order.TxID != txid || v.Waiting != "payment" || len(v.Trace) == 0 {
		t.Fatalf("order %s: %d %s", txid, code, body)
	}

	code, body, h := e.admin("GET", "/admin/orders/"+txid+"/trace", "", nil, map[string]string{"accept": "text/plain"})
	line := regexp.MustCompile(`(?m)^-- \d{4}-\d{1,2}-\d{1,2} \d{2}:\d{2}:\d{2} \d{3} -- \[` + txid + `\] Payment : attempt 1: 120.00 EUR by check$`)
	if code != http.StatusOK || !strings.HasPrefix(h["content-type"], "text/plain") || !line.MatchString(body) {
		t.Fatalf("text trace: %d %v\n%s", code, h, body)
	}
	code, body, _ = e.admin("GET", "/admin/orders/"+txid+"/trace", "", nil, nil)
	if code != http.StatusOK || !strings.Contains(body, `"lines":[{`) {
		t.Fatalf("JSON trace: %d %s", code, body)
	}
	e.mustTask(e.produce, map[string]any{"action": "postpay", "txid": other})
	insts, err := e.st.CustomerInstances(e.ctx, buyerEmail)
	if err != nil || len(insts) != 1 {
		t.Fatalf("instances %+v %v", insts, err)
	}
	code, body, _ = e.admin("GET", "/admin/products/"+insts[0].Reference, "", nil, nil)
	if code != http.StatusOK || !strings.Contains(body, insts[0].Reference) || !strings.Contains(body, `"Type":"delivered"`) {
		t.Fatalf("product %s: %d %s; want the instance with its delivered event", insts[0].Reference, code, body)
	}
	if code, _, _ := e.admin("GET", "/admin/products/AAAA-BBBB-CCCC-DD00", "", nil, nil); code != http.StatusNotFound {
		t.Errorf("unknown product: %d, want 404", code)
	}
	if code, _, _ := e.admin("DELETE", "/admin/orders/"+txid, "", nil, nil); code != http.StatusNotFound {
		t.Errorf("unknown admin route: %d, want 404", code)
	}
}

func TestBackofficeCatalogAndShop(t *testing.T) {
	e := newEnv(t)
	code, body, _ := e.admin("GET", "/admin/catalog", "", nil, nil)
	if code != http.StatusOK || !strings.Contains(body, "COURSE-101") {
		t.Fatalf("catalog: %d %s", code, body)
	}
	item := `{"code":"COURSE-202","name":"Advanced Go","status":"AVAILABLE","tiers":[{"upTo":0,"unitPrice":20000}],"taxCode":"TVA","maxQuantity":0,"seats":"none","audience":"anyone","handler":"enrol","handlerParams":{"course":"COURSE-101"},"order":2}`
	tests := []struct {
		name, path, body string
		want             int
	}{
		{"valid item", "/admin/catalog/items/COURSE-202", item, http.StatusOK},
		{"code differs from path", "/admin/catalog/items/OTHER", item, http.StatusBadRequest},
		{"no price tier", "/admin/catalog/items/COURSE-202", strings.Replace(item, `[{"upTo":0,"unitPrice":20000}]`, `[]`, 1), http.StatusBadRequest},
		{"unknown handler", "/admin/catalog/items/COURSE-202", strings.Replace(item, `"handler":"enrol"`, `"handler":"teleport"`, 1), http.StatusBadRequest},
	}
	for _, tt := range tests {
		if code, body, _ := e.admin("PUT", tt.path, tt.body, nil, nil); code != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, code, body, tt.want)
		}
	}
	_, cat, err := e.st.LoadShop(e.ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if it, ok := cat.Item("COURSE-202"); !ok || it.Tiers[0].UnitPrice != 20000 {
		t.Fatalf("saved item: %+v %v", it, ok)
	}

	code, body, _ = e.admin("GET", "/admin/shop", "", nil, nil)
	var shop checkout.Shop
	if code != http.StatusOK || json.Unmarshal([]byte(body), &shop) != nil || shop.ID != "demo" {
		t.Fatalf("shop: %d %s", code, body)
	}
	shop.Name = "Renamed shop"
	good, _ := json.Marshal(shop)
	if code, body, _ := e.admin("PUT", "/admin/shop", string(good), nil, nil); code != http.StatusOK {
		t.Fatalf("valid shop: %d %s", code, body)
	}
	shop.Currency = "EURO"
	bad, _ := json.Marshal(shop)
	if code, _, _ := e.admin("PUT", "/admin/shop", string(bad), nil, nil); code != http.StatusBadRequest {
		t.Fatalf("invalid currency accepted")
	}
	saved, _, err := e.st.LoadShop(e.ctx, "demo")
	if err != nil || saved.Name != "Renamed shop" || saved.Currency != "EUR" {
		t.Fatalf("stored shop %+v (%v): want the valid update only", saved, err)
	}
}

// TestPreprodResumesTheWaitingWorkflow: an operator who moves an order to PREPROD (to
// produce before the payment) completes the payment wait, so the workflow goes on to
// production instead of waiting until it times out.
func TestPreprodResumesTheWaitingWorkflow(t *testing.T) {
	e := newEnv(t)
	txid, _ := e.place("check", 12000)
	// The Payment state has stored its token; the order is still PLACED.
	token := "T-" + txid
	if _, err := e.st.Update(e.ctx, txid, store.Change{TaskToken: &token, TaskState: "payment"}); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := e.admin("POST", "/admin/orders/"+txid+"/transition", `{"to":"PREPROD"}`, nil, nil); code != http.StatusOK {
		t.Fatalf("transition to PREPROD: %d %s", code, body)
	}
	succ, _ := e.sfn.calls()
	if len(succ) != 1 || succ[0].Token != token {
		t.Fatalf("completions %+v: want the payment wait completed", succ)
	}
	// The Payment state's start, running late, finds the order settled and waits no more.
	e.wantStatus(t, txid, checkout.PreProd)
}

// Each role runs only its actions; a refused action answers 403 in the API's error
// shape and changes nothing: not the order, not the catalog, not the trace. Allowed
// actions are traced with the operator's e-mail.
func TestBackofficeRoles(t *testing.T) {
	e := newEnv(t)
	item := `{"code":"COURSE-303","name":"Go at scale","status":"AVAILABLE","tiers":[{"upTo":0,"unitPrice":30000}],"taxCode":"TVA","seats":"none","audience":"anyone","order":3}`
	type call struct{ method, path, body string }
	// Each test gets a fresh waiting cheque order, so a refusal can be checked against it.
	tests := []struct {
		name   string
		authz  *events.APIGatewayV2HTTPRequestContextAuthorizerDescription
		call   func(txid string) call
		status int
		traced string // a line the trace must hold afterwards ("" when refused)
	}{
		{"sales records a cheque", jwtCaller("sam@example.com", "[sales]"),
			func(tx string) call {
				return call{"POST", "/admin/orders/" + tx + "/payment-received", `{"mode":"check","amount":12000,"reference":"CHQ-9"}`}
			},
			200, "sam@example.com recorded a check payment"},
		{"sales cancels", jwtCaller("sam@example.com", "[sales]"), func(tx string) call { return call{"POST", "/admin/orders/" + tx + "/cancel", ""} }, 200, "sam@example.com cancelled the order"},
		{"sales cannot edit the catalogue", jwtCaller("sam@example.com", "[sales]"), func(string) call { return call{"PUT", "/admin/catalog/items/COURSE-303", item} }, 403, ""},
		{"sales cannot read the shop settings", jwtCaller("sam@example.com", "[sales]"), func(string) call { return call{"GET", "/admin/shop", ""} }, 403, ""},
		{"sales lists orders", jwtCaller("sam@example.com", "[sales]"), func(string) call { return call{"GET", "/admin/orders", ""} }, 200, ""},
		{"accounting reads an order", jwtCaller("ann@example.com", "[accounting]"), func(tx string) call { return call{"GET", "/admin/orders/" + tx, ""} }, 200, ""},
		{"accounting cannot record a payment", jwtCaller("ann@example.com", "[accounting]"),
			func(tx string) call {
				return call{"POST", "/admin/orders/" + tx + "/payment-received", `{"mode":"check","amount":12000,"reference":"CHQ-9"}`}
			}, 403, ""},
		{"accounting cannot cancel", jwtCaller("ann@example.com", "[accounting]"), func(tx string) call { return call{"POST", "/admin/orders/" + tx + "/cancel", ""} }, 403, ""},
		{"accounting cannot settle a flagged payment", jwtCaller("ann@example.com", "[accounting]"),
			func(tx string) call {
				return call{"POST", "/admin/orders/" + tx + "/settle", `{"action":"refund","reference":"RF-1"}`}
			}, 403, ""},
		{"accounting lists the flagged payments", jwtCaller("ann@example.com", "[accounting]"), func(string) call { return call{"GET", "/admin/flags", ""} }, 200, ""},
		{"accounting cannot move an order", jwtCaller("ann@example.com", "[accounting]"), func(tx string) call { return call{"POST", "/admin/orders/" + tx + "/transition", `{"to":"CANCELLED"}`} }, 403, ""},
		{"no group may do nothing", jwtCaller("nobody@example.com", ""), func(tx string) call { return call{"GET", "/admin/orders/" + tx, ""} }, 403, ""},
		{"an unknown group may do nothing", jwtCaller("eve@example.com", "[shop-admins]"), func(tx string) call { return call{"POST", "/admin/orders/" + tx + "/cancel", ""} }, 403, ""},
		{"no authorizer context", nil, func(tx string) call { return call{"GET", "/admin/orders/" + tx, ""} }, 401, ""},
		{"shop-admin edits the catalogue", jwtCaller("ada@example.com", "[shop-admin]"), func(string) call { return call{"PUT", "/admin/catalog/items/COURSE-303", item} }, 200, ""},
		{"IAM automation on /ops", &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{UserARN: "arn:aws:iam::1:role/ci"}},
			func(tx string) call { return call{"POST", "/ops/orders/" + tx + "/cancel", ""} }, 200, "arn:aws:iam::1:role/ci cancelled the order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txid := e.awaitingPayment("check")
			beforeOrder, beforeTrace := e.order(txid), e.traceText(txid)
			c := tt.call(txid)
			code, body, _ := e.adminAs(tt.authz, c.method, c.path, c.body, nil, nil)
			if code != tt.status {
				t.Fatalf("%s %s: %d %s, want %d", c.method, c.path, code, body, tt.status)
			}
			if code >= 400 {
				var shape struct {
					Error struct{ Code, Message string } `json:"error"`
				}
				if err := json.Unmarshal([]byte(body), &shape); err != nil || shape.Error.Code != map[int]string{401: "unauthorized", 403: "forbidden"}[code] {
					t.Errorf("error body %s: not the API's error shape with code for %d", body, code)
				}
				if after := e.order(txid); after.Status != beforeOrder.Status || len(after.Payments) != len(beforeOrder.Payments) {
					t.Errorf("refused call changed the order: %s → %s", beforeOrder.Status, after.Status)
				}
				if after := e.traceText(txid); after != beforeTrace {
					t.Errorf("refused call wrote to the trace:\n%s", strings.TrimPrefix(after, beforeTrace))
				}
				if _, cat, _ := e.st.LoadShop(e.ctx, "demo"); c.method == "PUT" {
					if _, ok := cat.Item("COURSE-303"); ok {
						t.Error("refused catalogue edit was saved")
					}
				}
				return
			}
			if tt.traced != "" && !strings.Contains(e.traceText(txid), tt.traced) {
				t.Errorf("trace lacks %q:\n%s", tt.traced, e.traceText(txid))
			}
		})
	}
}

// GET /admin/me tells the page who is signed in and what they may do; the accountants'
// CSV export is theirs and the shop administrator's only.
func TestBackofficeMeAndExport(t *testing.T) {
	e := newEnv(t)
	txid, _ := e.place("check", 12000)
	tests := []struct {
		groups      string
		wantActions []string
		deny        []string
		exportCode  int
	}{
		{"[sales]", []string{"POST orders/*/cancel", "GET orders"}, []string{"PUT shop", "GET orders.csv"}, 403},
		{"[accounting]", []string{"GET orders.csv", "GET orders/*"}, []string{"POST orders/*/cancel", "GET catalog"}, 200},
		{"[shop-admin]", []string{"PUT shop", "PUT catalog/items/*", "GET orders.csv"}, nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.groups, func(t *testing.T) {
			who := jwtCaller("op@example.com", tt.groups)
			code, body, _ := e.adminAs(who, "GET", "/admin/me", "", nil, nil)
			var me struct {
				Operator string   `json:"operator"`
				Groups   []string `json:"groups"`
				Actions  []string `json:"actions"`
			}
			if err := json.Unmarshal([]byte(body), &me); code != 200 || err != nil || me.Operator != "op@example.com" {
				t.Fatalf("me: %d %s", code, body)
			}
			has := map[string]bool{}
			for _, a := range me.Actions {
				has[a] = true
			}
			for _, a := range tt.wantActions {
				if !has[a] {
					t.Errorf("actions %v lack %q", me.Actions, a)
				}
			}
			for _, a := range tt.deny {
				if has[a] {
					t.Errorf("actions %v hold %q", me.Actions, a)
				}
			}
			code, body, headers := e.adminAs(who, "GET", "/admin/orders", "", map[string]string{"format": "csv"}, nil)
			if code != tt.exportCode {
				t.Fatalf("export: %d %s, want %d", code, body, tt.exportCode)
			}
			if code == 200 && (!strings.HasPrefix(headers["content-type"], "text/csv") || !strings.Contains(body, txid+",")) {
				t.Errorf("export: %s %q lacks the order %s", headers["content-type"], body, txid)
			}
		})
	}
}

// Every back-office route has its line in the role table: a route missing there would be
// open to every signed-in operator, whatever their group. The shop administrator's
// actions (GET /admin/me) must therefore name each route the back office's router serves.
func TestEveryBackofficeRouteHasItsRoles(t *testing.T) {
	e := newEnv(t)
	routes := workflow.BackofficeActions(workflow.NewBackoffice(e.common, e.mailing, e.tokens, e.starter, e.providers.Modes, e.producers))
	if len(routes) < 10 {
		t.Fatalf("the back office's router serves %d routes, want every action of docs/api.md", len(routes))
	}
	code, body, _ := e.adminAs(jwtCaller("ada@example.com", "[shop-admin]"), "GET", "/admin/me", "", nil, nil)
	var me struct {
		Actions []string `json:"actions"`
	}
	if err := json.Unmarshal([]byte(body), &me); code != 200 || err != nil {
		t.Fatalf("me: %d %s", code, body)
	}
	for _, r := range routes {
		found := false
		for _, a := range me.Actions {
			found = found || a == r
		}
		if !found {
			t.Errorf("route %q has no roles: any operator could run it", r)
		}
	}
}
