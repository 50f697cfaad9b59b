package workflow_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/workflow"
)

// admin sends a back-office request as API Gateway delivers it: one route key, the
// path in rawPath, the operator's IAM identity in the request context.
func (e *env) admin(method, path, body string, query, headers map[string]string) (int, string, map[string]string) {
	e.t.Helper()
	if headers == nil {
		headers = map[string]string{"content-type": "application/json"}
	}
	return e.http(e.backoffice, req{method: method, routeKey: workflow.AdminRouteKey, path: path, query: query, headers: headers, body: body,
		params: map[string]string{"proxy": strings.TrimPrefix(path, "/admin/")}})
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
	txid, _ := e.place("transfer", 12000)
	e.startPayment(txid, "T-"+txid)
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
		code, body, _ := e.admin("POST", "/admin/orders/"+txid+"/payment-received", tt.body, nil, nil)
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
	txid, _ := e.place("check", 12000)
	e.startPayment(txid, "T-"+txid)
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
	if err := e.st.Update(e.ctx, txid, store.Change{TaskToken: &token, TaskState: "payment"}); err != nil {
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
	if s := e.order(txid).Status; s != checkout.PreProd {
		t.Fatalf("status %s, want PREPROD", s)
	}
}
