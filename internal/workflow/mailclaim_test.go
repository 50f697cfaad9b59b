package workflow_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/workflow"
)

// An e-mail whose send fails because the invocation's context ended (SES not answering
// before the deadline, the caller gone) has its once-only claim given back all the same,
// so the task's retry sends it, exactly once. Given back under that ended context, the
// claim stayed held and no retry ever sent the e-mail (seen in the bench's log as
// "release e-mail claim … DeliveryReport … context canceled").
func TestMailClaimGivenBackWhenTheContextEnds(t *testing.T) {
	e := newEnv(t)
	sent := func(txid string) map[string]int {
		return map[string]int{
			"OrderPlaced":       len(e.mail.to(salesEmail, "New order "+txid)),
			"ProductsDelivered": len(e.mail.to(buyerEmail, "Your order "+txid+" is ready")),
			"DeliveryReport":    len(e.mail.to(salesEmail, "Delivery report for order "+txid)),
			"Relayed":           len(e.mail.to(salesEmail, "[Relayed] New order "+txid)),
		}
	}
	tests := []struct {
		name string
		// task is the task that sends the e-mails of a new order txid: it is run once
		// with SES holding the e-mail held until the invocation's context ends, then
		// retried as Step Functions does.
		task func(t *testing.T) (txid string, payload map[string]any)
		held string         // the e-mail SES holds on the first run
		want map[string]int // e-mails sent after the retry, and a second retry
	}{
		{
			name: "sendOnce: the Notify function's mail task",
			task: func(t *testing.T) (string, map[string]any) {
				txid, _ := e.place("test", 12000)
				ev := notify.Event{Kind: notify.OrderPlaced, Lang: "en",
					Shop: notify.Shop{Name: "Relayed", SellerEmail: e.shop.SellerEmail, SalesManagers: e.shop.SalesManagers, Currency: "EUR"},
					Order: notify.Order{TxID: txid, Status: "PLACED", Paymode: "test", Final: 12000, Currency: "EUR", PlacedAt: time.Now().UTC(), Customer: notify.Person{FirstName: "Ada", LastName: "Lovelace", Email: buyerEmail},
						Lines: []notify.Line{{Code: "COURSE-101", Name: "Go for beginners", Quantity: 1, Total: 12000}}}}
				return txid, taskOf(t, workflow.Task{Event: workflow.EventMail, TxID: txid, Mail: &workflow.Mail{Name: "Relayed", Event: ev}})
			},
			held: "New order", want: map[string]int{"Relayed": 1},
		},
		{
			name: "UpdateOnce: the payment start's OrderPlaced, sent aside",
			task: func(t *testing.T) (string, map[string]any) {
				txid, _ := e.place("test", 12000)
				return txid, map[string]any{"action": "start", "txid": txid, "token": "T-PAY-1"}
			},
			held: "New order", want: map[string]int{"OrderPlaced": 1},
		},
		{
			name: "OnceEach: ProductsDelivered held, the report's claim given back with it",
			task: func(t *testing.T) (string, map[string]any) {
				txid, _ := e.paidOrder()
				return txid, map[string]any{"event": "delivered", "txid": txid}
			},
			held: "is ready", want: map[string]int{"ProductsDelivered": 1, "DeliveryReport": 1},
		},
		{
			name: "OnceEach: DeliveryReport held after ProductsDelivered was sent",
			task: func(t *testing.T) (string, map[string]any) {
				txid, _ := e.paidOrder()
				return txid, map[string]any{"event": "delivered", "txid": txid}
			},
			held: "Delivery report", want: map[string]int{"ProductsDelivered": 1, "DeliveryReport": 1},
		},
	}
	handler := map[string]*workflow.Handler{"start": e.payment, "delivered": e.notify, workflow.EventMail: e.notify}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			txid, payload := tc.task(t)
			ev, _ := payload["event"].(string)
			action, _ := payload["action"].(string)
			h := handler[ev+action]
			raw, err := json.Marshal(payload)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(e.ctx)
			defer cancel()
			e.mail.mu.Lock()
			e.mail.hold = func(m notify.Email) bool {
				if !strings.Contains(m.Subject, tc.held) || !strings.Contains(m.Subject, txid) {
					return false
				}
				cancel() // the invocation's deadline passes while SES holds the e-mail
				return true
			}
			e.mail.mu.Unlock()
			_, err = h.Invoke(ctx, raw) // it fails or not: the e-mail is what counts
			t.Logf("the held run: %v", err)
			e.mail.mu.Lock()
			e.mail.hold = nil
			e.mail.mu.Unlock()
			if ctx.Err() == nil {
				t.Fatalf("SES was never handed the e-mail %q", tc.held)
			}

			for range 2 { // Step Functions' retry, and one more run
				e.mustTask(h, payload)
			}
			got := sent(txid)
			for name, want := range tc.want {
				if got[name] != want {
					t.Errorf("%s sent %d time(s) after the retries, want %d (all: %v)\ntrace:\n%s", name, got[name], want, got, e.traceText(txid))
				}
			}
		})
	}
}

// taskOf is t as the JSON object a state machine hands to a function.
func taskOf(t *testing.T, task workflow.Task) map[string]any {
	t.Helper()
	raw, err := json.Marshal(task)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
