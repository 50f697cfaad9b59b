package workflow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/store"
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
				return txid, e.relayedMail(t, txid)
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
			e.mail.holdBack(func(m notify.Email) bool {
				if !strings.Contains(m.Subject, tc.held) || !strings.Contains(m.Subject, txid) {
					return false
				}
				cancel() // the invocation's deadline passes while SES holds the e-mail
				return true
			})
			_, err = h.Invoke(ctx, raw) // it fails or not: the e-mail is what counts
			t.Logf("the held run: %v", err)
			e.mail.holdBack(nil)
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

// relayedMail is the Notify function's mail task of an OrderPlaced e-mail about txid
// sent once under the name "Relayed", as the back office hands its e-mails over; its
// subject starts "[Relayed] New order <txid>".
func (e *env) relayedMail(t *testing.T, txid string) map[string]any {
	t.Helper()
	ev := notify.Event{Kind: notify.OrderPlaced, Lang: "en",
		Shop: notify.Shop{Name: "Relayed", SellerEmail: e.shop.SellerEmail, SalesManagers: e.shop.SalesManagers, Currency: "EUR"},
		Order: notify.Order{TxID: txid, Status: "PLACED", Paymode: "test", Final: 12000, Currency: "EUR", PlacedAt: time.Now().UTC(),
			Customer: notify.Person{FirstName: "Ada", LastName: "Lovelace", Email: buyerEmail},
			Lines:    []notify.Line{{Code: "COURSE-101", Name: "Go for beginners", Quantity: 1, Total: 12000}}}}
	raw, err := json.Marshal(workflow.Task{Event: workflow.EventMail, TxID: txid, Mail: &workflow.Mail{Name: "Relayed", Event: ev}})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// When the claim of an e-mail that could not be sent cannot be given back either
// (DynamoDB unreachable), it stays held and no retry will send the e-mail: the trace
// says so on the failed send's line, and the log is an error naming the claim.
func TestMailClaimLeftHeldIsTracedAndLogged(t *testing.T) {
	e := newEnv(t)
	var (
		mu       sync.Mutex
		downNow  bool
		logged   bytes.Buffer
		releases int
	)
	// Only the writes that give a claim back fail, as DynamoDB failing between the
	// claim and its release.
	db := dynamodb.New(e.st.DB.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("releaseDown", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				release := false
				switch p := in.Parameters.(type) {
				case *dynamodb.DeleteItemInput:
					release = true
				case *dynamodb.UpdateItemInput:
					release = strings.HasPrefix(aws.ToString(p.UpdateExpression), "REMOVE #n") || strings.HasPrefix(aws.ToString(p.UpdateExpression), "REMOVE #once")
				}
				mu.Lock()
				defer mu.Unlock()
				if release && downNow {
					releases++
					return middleware.InitializeOutput{}, middleware.Metadata{}, errors.New("DynamoDB unreachable")
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
		})
	})
	e.common.Store = store.New(db, e.st.Table)
	e.common.Log = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logged}, nil))
	e.build()
	tests := []struct {
		name  string
		task  func() (txid string, h *workflow.Handler, payload map[string]any)
		mail  notify.Kind
		claim string // as the log names it
	}{
		{
			name: "sendOnce",
			task: func() (string, *workflow.Handler, map[string]any) {
				txid, _ := e.place("test", 12000)
				return txid, e.notify, e.relayedMail(t, txid)
			},
			mail: notify.OrderPlaced, claim: "ONCE#mail#Relayed",
		},
		{
			name: "UpdateOnce",
			task: func() (string, *workflow.Handler, map[string]any) {
				txid, _ := e.place("test", 12000)
				return txid, e.payment, map[string]any{"action": "start", "txid": txid, "token": "T-PAY-1"}
			},
			mail: notify.OrderPlaced, claim: "ORDER once#mail#OrderPlaced",
		},
		{
			name: "OnceEach",
			task: func() (string, *workflow.Handler, map[string]any) {
				txid, _ := e.paidOrder()
				return txid, e.notify, map[string]any{"event": "delivered", "txid": txid}
			},
			mail: notify.ProductsDelivered, claim: "ONCE#mail#delivered ProductsDelivered",
		},
	}
	setDown := func(down bool) {
		mu.Lock()
		downNow, releases = down, 0
		logged.Reset()
		mu.Unlock()
		e.mail.mu.Lock()
		e.mail.fail = nil
		if down {
			e.mail.fail = errors.New("SES unreachable")
		}
		e.mail.mu.Unlock()
	}
	defer setDown(false)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			txid, h, payload := tc.task()
			setDown(true)
			_, _ = e.task(h, payload)
			mu.Lock()
			log, n := logged.String(), releases
			mu.Unlock()
			setDown(false)
			if n == 0 {
				t.Fatal("no claim was given back")
			}
			want := "e-mail " + string(tc.mail) + " NOT sent and will not be retried: its claim"
			if tr := e.traceText(txid); strings.Count(tr, want) != 1 || strings.Contains(tr, "e-mail "+string(tc.mail)+" NOT sent: ") {
				t.Errorf("trace: want one line %q and no other line of that send:\n%s", want, tr)
			}
			if !strings.Contains(log, "level=ERROR") || !strings.Contains(log, "e-mail claim left held") || !strings.Contains(log, tc.claim) {
				t.Errorf("log: want an error naming the claim %q:\n%s", tc.claim, log)
			}
		})
	}
}

// lockedWriter is a writer shared by goroutines (a send aside logs beside its task).
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// The buyer's retry claims the order's retry wait before it completes the workflow's
// token; when that completion fails because the request's context ended (the buyer
// gone before Step Functions answered), the wait is given back all the same, so the
// buyer's next try is accepted. Given back under the ended context, the order stayed
// claimed and every later retry answered 409.
func TestRetryWaitGivenBackWhenTheRequestEnds(t *testing.T) {
	e := newEnv(t)
	txid, token := e.place("test", 12000)
	e.startPayment(txid, "T-1")
	for _, to := range []checkout.Status{checkout.Pending, checkout.Failed} {
		if _, err := e.st.Move(e.ctx, txid, to, store.Change{}); err != nil {
			t.Fatal(err)
		}
	}
	e.mustTask(e.payment, map[string]any{"action": "awaitRetry", "txid": txid, "token": "T-2",
		"error": map[string]string{"Error": "PaymentFailed", "Cause": "test"}})
	retry := func(ctx context.Context, mode string) int {
		saved := e.ctx
		e.ctx = ctx
		defer func() { e.ctx = saved }()
		code, _, _ := e.http(e.payment, req{method: "POST", routeKey: "POST /orders/{txid}/payment", path: "/orders/" + txid + "/payment",
			params: map[string]string{"txid": txid}, headers: bearer(token), body: `{"paymode":"` + mode + `"}`})
		return code
	}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	e.sfn.mu.Lock()
	e.sfn.hold = func(tok string) bool {
		cancel() // the buyer leaves while Step Functions holds the completion
		return tok == "T-2"
	}
	e.sfn.mu.Unlock()
	if code := retry(ctx, "check"); code != http.StatusServiceUnavailable {
		t.Fatalf("the retry whose request ended before Step Functions answered: %d, want 503", code)
	}
	e.sfn.mu.Lock()
	e.sfn.hold = nil
	e.sfn.mu.Unlock()
	if code := retry(e.ctx, "transfer"); code != http.StatusAccepted {
		t.Fatalf("the buyer's next retry: %d, want 202 (the wait given back)", code)
	}
	if succ, _ := e.sfn.calls(); len(succ) != 1 || succ[0].Token != "T-2" {
		t.Fatalf("completions %+v: want T-2 once", succ)
	}
	if pm := e.order(txid).Paymode; pm != "transfer" {
		t.Fatalf("stored paymode %q, want transfer (the accepted retry's)", pm)
	}
}

// The reconciliation report's daily claim is given back when its send fails because
// the run's context ended (the function's deadline), so the scheduler's retry sends
// the report, once. Given back under the ended context, the claim stayed held and no
// report was sent that day.
func TestReconciliationReportClaimGivenBackWhenTheContextEnds(t *testing.T) {
	e := newEnv(t)
	r := e.reconciler()
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	e.mail.holdBack(func(m notify.Email) bool {
		if !strings.Contains(m.Subject, "Reconciliation") {
			return false
		}
		cancel() // the run's deadline passes while SES holds the report
		return true
	})
	if _, err := r.Run(ctx); err == nil {
		t.Fatal("the run whose report was held until its context ended succeeded")
	}
	e.mail.holdBack(nil)
	for range 2 { // the scheduler's retry, and a second run the same day
		if _, err := r.Run(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.mail.to(salesEmail, "Reconciliation"); len(got) != 1 {
		t.Fatalf("%d reconciliation reports after the retries, want 1", len(got))
	}
}

// A send gives up before the invocation's deadline, leaving time to give its claim back:
// in Lambda the context's deadline is the function's timeout, when the invocation is
// stopped, so a send cut off only then leaves the claim held whatever the release's own
// context. SES holds DeliveryReport until the send's context ends: the invocation must
// be done before its own deadline, and the retry sends the report once.
func TestMailSendEndsBeforeTheInvocationsDeadline(t *testing.T) {
	e := newEnv(t)
	txid, _ := e.paidOrder()
	// The send's deadline is a second away, the invocation's a minute.
	defer workflow.SetReleaseReserve(59 * time.Second)()
	ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
	defer cancel()
	e.mail.holdBack(func(m notify.Email) bool { return strings.Contains(m.Subject, "Delivery report for order "+txid) })
	payload := map[string]any{"event": "delivered", "txid": txid}
	raw, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.notify.Invoke(ctx, raw); err == nil {
		t.Fatal("the delivered task whose report SES held succeeded")
	}
	if ctx.Err() != nil {
		t.Fatal("the send was held until the invocation's own deadline: no time was left to give its claim back")
	}
	e.mail.holdBack(nil)
	e.mustTask(e.notify, payload)
	if n := len(e.mail.to(salesEmail, "Delivery report for order "+txid)); n != 1 {
		t.Fatalf("%d delivery reports after the retry, want 1", n)
	}
}
