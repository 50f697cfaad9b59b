package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/lmsshop/checkout/internal/localcloud/cloudtest"
)

// postCallback delivers a provider callback as the provider would: its own body and
// headers, no cart token.
func postCallback(t *testing.T, url, body string, headers map[string]string) reply {
	t.Helper()
	hdr := []string{}
	for k, v := range headers {
		hdr = append(hdr, k, v)
	}
	return call(t, "POST", url, "", body, hdr...)
}

// The deferred confirmation of the test mode goes through the webhook path of every
// provider: verified before anything changes, processed once however often it comes.
func TestWebhookVerifiedAndProcessedOnce(t *testing.T) {
	c := cloudtest.Start(t)
	b := newBuyer(t)
	b.placeOne("GO-101", "test")
	b.waitFor("PENDING", "payment")
	deferred := b.must(202, "POST", "/orders/{txid}/payment/test", `{"action":"defer"}`)
	var cb struct {
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	}
	raw, _ := json.Marshal(deferred.body["callback"])
	if err := json.Unmarshal(raw, &cb); err != nil || cb.Body == "" {
		t.Fatalf("no callback in %s", deferred.raw)
	}
	url := c.APIURL + "/webhooks/test"

	// Forged: the signature of another body; tampered: the amount changed after signing.
	forged := map[string]string{}
	for k, v := range cb.Headers {
		forged[k] = v
	}
	for k := range forged {
		if strings.EqualFold(k, "X-Test-Signature") {
			forged[k] = "t=1,v1=" + strings.Repeat("ab", 32)
		}
	}
	if r := postCallback(t, url, cb.Body, forged); r.status != 401 && r.status != 400 {
		t.Errorf("forged callback = %d %s, want 401/400", r.status, r.raw)
	}
	tampered := strings.Replace(cb.Body, `"amount":20995`, `"amount":1`, 1)
	if tampered == cb.Body {
		t.Fatalf("callback body has no amount to tamper with: %s", cb.Body)
	}
	if r := postCallback(t, url, tampered, cb.Headers); r.status != 401 && r.status != 400 {
		t.Errorf("tampered callback = %d %s, want 401/400", r.status, r.raw)
	}
	if s := statusOf(b.do("GET", "/orders/{txid}", "")); s != "PENDING" {
		t.Fatalf("after forged and tampered callbacks the order is %s, want PENDING unchanged", s)
	}

	// The genuine one, delivered 30 times at once.
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := postCallback(t, url, cb.Body, cb.Headers)
			mu.Lock()
			statuses[r.status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if statuses[200] != 30 {
		t.Errorf("30 deliveries answered %v, want 200 each", statuses)
	}
	b.waitStatus("COMPLETE")
	// Replayed after completion: acknowledged, nothing changes.
	if r := postCallback(t, url, cb.Body, cb.Headers); r.status != 200 {
		t.Errorf("replay after completion = %d %s", r.status, r.raw)
	}
	status, body := admin(t, c, "GET", "/admin/orders/"+b.TxID, "", "")
	var view struct {
		Order struct {
			Status   string `json:"status"`
			Payments []struct {
				Outcome string `json:"outcome"`
				Amount  int64  `json:"amount"`
			} `json:"payments"`
		} `json:"order"`
	}
	if err := json.Unmarshal([]byte(body), &view); err != nil || status != 200 {
		t.Fatalf("order view = %d %s", status, body)
	}
	paid := 0
	for _, p := range view.Order.Payments {
		if p.Outcome == "paid" {
			paid++
		}
	}
	if paid != 1 || view.Order.Status != "COMPLETE" {
		t.Errorf("payments %+v, status %s: want one paid payment, COMPLETE", view.Order.Payments, view.Order.Status)
	}
}

// Many buyers at once on the same seats pack: every order is placed whole, with its own
// seats and its own transaction.
func TestManyBuyersAtOnceOnOneSeatsPack(t *testing.T) {
	const buyers = 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	txids := map[string]bool{}
	for i := 0; i < buyers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			b := newBuyer(t)
			seats := fmt.Sprintf(`{"participants":[{"email":"a%[1]d@example.com","lastName":"A","firstName":"B","city":"Lyon"},
				{"email":"b%[1]d@example.com","lastName":"C","firstName":"D","city":"Lyon"},{"email":"s%[1]d@example.com","lastName":"E","firstName":"F","city":"Lyon"}],
				"seats":[{"code":"SEC-201-SEATS","role":"student","email":"a%[1]d@example.com"},{"code":"SEC-201-SEATS","role":"student","email":"b%[1]d@example.com"},
				{"code":"SEC-201-SEATS","role":"supervisor","email":"s%[1]d@example.com"}]}`, i)
			steps := []struct{ method, path, body string }{
				{"PUT", "/carts/{txid}/lines/SEC-201-SEATS", `{"quantity":2}`},
				{"PUT", "/carts/{txid}/seats", seats},
				{"PUT", "/carts/{txid}/customer", customerJSON},
			}
			for _, s := range steps {
				if r := b.do(s.method, s.path, s.body); r.status != 200 {
					t.Errorf("buyer %d: %s %s = %d %s", i, s.method, s.path, r.status, r.raw)
					return
				}
			}
			r := b.do("POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"check"}`)
			if r.status != http.StatusCreated {
				t.Errorf("buyer %d: placement = %d %s", i, r.status, r.raw)
				return
			}
			o := r.body["order"].(map[string]any)
			if n := len(o["seats"].([]any)); n != 3 || o["totals"].(map[string]any)["final"].(float64) != 108000 {
				t.Errorf("buyer %d: order has %d seats, final %v; want 3 seats, 108000", i, n, o["totals"].(map[string]any)["final"])
			}
			mu.Lock()
			txids[b.TxID] = true
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	if len(txids) != buyers {
		t.Errorf("%d distinct orders for %d buyers", len(txids), buyers)
	}
}
