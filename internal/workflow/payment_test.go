package workflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/payment/providertest"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/workflow"
)

func TestPaymentStartPerMode(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		mode       string
		final      int64
		wantStatus checkout.Status
		wantKind   string // instructions shown on the order page ("" = none)
		wantTokens int    // tokens completed at once
		check      func(t *testing.T, v workflow.OrderView)
	}{
		{mode: "freeorder", final: 0, wantStatus: checkout.SoldOut, wantTokens: 1},
		{mode: "test", final: 12000, wantStatus: checkout.Pending, wantKind: payment.InstructionsButtons},
		{mode: "check", final: 12000, wantStatus: checkout.Pending, wantKind: payment.InstructionsOffline, check: func(t *testing.T, v workflow.OrderView) {
			if o := v.Payment.Offline; o == nil || !strings.Contains(o.Address, "rue de la Paix") || o.Reference != v.TransactionID || o.Amount != 12000 {
				t.Errorf("check instructions %+v: want the shop's address, the txid as reference, 12000", o)
			}
		}},
		{mode: "transfer", final: 12000, wantStatus: checkout.Pending, wantKind: payment.InstructionsOffline, check: func(t *testing.T, v workflow.OrderView) {
			if o := v.Payment.Offline; o == nil || o.IBAN == "" || o.BIC != "AGRIFRPP" || o.Reference != v.TransactionID {
				t.Errorf("transfer instructions %+v: want IBAN, BIC and the txid as reference", o)
			}
		}},
		{mode: "stripe", final: 12000, wantStatus: checkout.Pending, wantKind: payment.InstructionsRedirect, check: func(t *testing.T, v workflow.OrderView) {
			if !strings.HasPrefix(v.Payment.RedirectURL, e.stripe.URL+"/c/pay/cs_test_") {
				t.Errorf("stripe redirect %q: want the session's URL", v.Payment.RedirectURL)
			}
			// The session closes with the order's online wait (1 h by default), not
			// Stripe's 24 h default.
			sessions := e.stripe.Sessions()
			at, err := strconv.ParseInt(sessions[len(sessions)-1].Form.Get("expires_at"), 10, 64)
			if d := time.Until(time.Unix(at, 0)); err != nil || d > time.Hour+time.Minute || d < time.Hour-time.Minute {
				t.Errorf("stripe session expires_at %v (in %s), want in 1 h", at, d)
			}
		}},
		{mode: "paypal", final: 12000, wantStatus: checkout.Pending, wantKind: payment.InstructionsRedirect, check: func(t *testing.T, v workflow.OrderView) {
			u, err := url.Parse(v.Payment.RedirectURL)
			if err != nil || u.Query().Get("amount") != "120.00" || u.Query().Get("custom") != v.TransactionID || u.Query().Get("notify_url") != "https://api.example/webhooks/paypal" {
				t.Errorf("paypal redirect %q: want amount 120.00, custom = txid, notify_url = our webhook", v.Payment.RedirectURL)
			}
		}},
		{mode: "systempay", final: 12000, wantStatus: checkout.Pending, wantKind: payment.InstructionsForm, check: func(t *testing.T, v workflow.OrderView) {
			f := map[string]string{}
			for _, fd := range v.Payment.Form.Fields {
				f[fd.Name] = fd.Value
			}
			if f["vads_amount"] != "12000" || f["vads_order_id"] != v.TransactionID || f["signature"] == "" {
				t.Errorf("systempay form %v: want vads_amount 12000, vads_order_id = txid, a signature", f)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			txid, token := e.place(tt.mode, tt.final)
			before, _ := e.sfn.calls()
			e.startPayment(txid, "T-"+txid)
			after, _ := e.sfn.calls()
			if n := len(after) - len(before); n != tt.wantTokens {
				t.Errorf("%d tokens completed at start, want %d", n, tt.wantTokens)
			}
			v := e.getOrder(txid, token)
			if v.Status != tt.wantStatus {
				t.Errorf("status %s, want %s", v.Status, tt.wantStatus)
			}
			switch {
			case tt.wantKind == "" && v.Payment != nil:
				t.Errorf("instructions %+v, want none", v.Payment)
			case tt.wantKind != "" && (v.Payment == nil || v.Payment.Kind != tt.wantKind):
				t.Fatalf("instructions %+v, want kind %s", v.Payment, tt.wantKind)
			}
			if tt.check != nil {
				tt.check(t, v)
			}
			offline := len(e.mail.to(buyerEmail, "")) > 0 && strings.Contains(lastMailTo(e, buyerEmail), txid)
			if want := tt.wantKind == payment.InstructionsOffline; offline != want {
				t.Errorf("offline instructions e-mailed to the buyer: %v, want %v", offline, want)
			}
		})
	}
	t.Run("mode not available", func(t *testing.T) {
		txid, _ := e.place("bitcoin", 12000)
		if _, errType := e.task(e.payment, map[string]any{"action": "start", "txid": txid, "token": "T-X"}); errType != workflow.ErrPaymentFailed {
			t.Fatalf("start with an unknown mode reported %q, want %s", errType, workflow.ErrPaymentFailed)
		}
	})
	t.Run("free order with a price", func(t *testing.T) {
		txid, _ := e.place("freeorder", 500)
		if _, errType := e.task(e.payment, map[string]any{"action": "start", "txid": txid, "token": "T-Y"}); errType != workflow.ErrPaymentFailed {
			t.Fatalf("freeorder with 500 reported %q, want %s", errType, workflow.ErrPaymentFailed)
		}
		if s := e.order(txid).Status; s == checkout.SoldOut {
			t.Fatalf("a paying order went through as free: %s", s)
		}
	})
}

func lastMailTo(e *env, addr string) string {
	m := e.mail.to(addr, "")
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1].Text
}

func TestTaskErrorsAreNamedForTheStateMachine(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name    string
		h       *workflow.Handler
		payload map[string]any
		want    string
	}{
		{"bad txid", e.payment, map[string]any{"action": "start", "txid": "nope", "token": "x"}, workflow.ErrTaskFailed},
		{"unknown action", e.payment, map[string]any{"action": "dance", "txid": "AAAAAAAAAAAAAAAA"}, workflow.ErrTaskFailed},
		{"unknown order", e.bill, map[string]any{"action": "invoice", "txid": "AAAAAAAAAAAAAAAA"}, workflow.ErrTaskFailed},
		{"task to an HTTP-only function", e.webhook, map[string]any{"action": "start", "txid": "AAAAAAAAAAAAAAAA"}, workflow.ErrTaskFailed},
		{"neither task nor request", e.payment, map[string]any{"hello": "world"}, workflow.ErrTaskFailed},
	}
	for _, tt := range tests {
		if _, got := e.task(tt.h, tt.payload); got != tt.want {
			t.Errorf("%s: errorType %q, want %q", tt.name, got, tt.want)
		}
	}
	// A cancelled order leaves Payment through the state machine's OrderCancelled catch.
	txid, _ := e.place("check", 12000)
	e.mustTask(e.payment, map[string]any{"action": "cancel", "txid": txid, "reason": "test"})
	if _, got := e.task(e.payment, map[string]any{"action": "start", "txid": txid, "token": "T-C"}); got != workflow.ErrOrderCancelled {
		t.Errorf("start of a cancelled order: %q, want %s", got, workflow.ErrOrderCancelled)
	}
}

// webhookReq posts a provider notification.
func webhookReq(provider string, body []byte, headers map[string]string) req {
	return req{method: "POST", routeKey: "POST /webhooks/{provider}", path: "/webhooks/" + provider,
		params: map[string]string{"provider": provider}, headers: headers, body: string(body)}
}

func stripeHeaders(body []byte, at time.Time, secret string) map[string]string {
	return map[string]string{"content-type": "application/json", "stripe-signature": providertest.SignStripe(body, secret, at)}
}

func TestStripeWebhook(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name       string
		amount     int64
		secret     string
		at         time.Duration // signature age
		wantCode   int
		wantStatus checkout.Status
	}{
		{"verified", 12000, stripeWebhook, 0, http.StatusOK, checkout.SoldOut},
		{"forged signature", 12000, "whsec_forged", 0, http.StatusUnauthorized, checkout.Pending},
		{"replayed after the tolerance", 12000, stripeWebhook, -time.Hour, http.StatusBadRequest, checkout.Pending},
		// An authentic payment of another amount is stored and flagged, not lost.
		{"underpayment", 100, stripeWebhook, 0, http.StatusOK, checkout.Pending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txid, _ := e.place("stripe", 12000)
			token := "T-" + txid
			e.startPayment(txid, token)
			body := providertest.CheckoutSessionEvent("evt_"+txid, "checkout.session.completed", txid, tt.amount, "EUR", "paid")
			code, resp, _ := e.http(e.webhook, webhookReq("stripe", body, stripeHeaders(body, time.Now().Add(tt.at), tt.secret)))
			if code != tt.wantCode {
				t.Fatalf("answer %d %s, want %d", code, resp, tt.wantCode)
			}
			o := e.order(txid)
			if o.Status != tt.wantStatus {
				t.Errorf("status %s, want %s", o.Status, tt.wantStatus)
			}
			succ, _ := e.sfn.calls()
			completed := false
			for _, c := range succ {
				completed = completed || c.Token == token
			}
			if completed != (tt.wantStatus == checkout.SoldOut) {
				t.Errorf("payment token completed: %v, want %v", completed, tt.wantStatus == checkout.SoldOut)
			}
			if tt.wantCode != http.StatusOK && len(o.Payments) != 0 {
				t.Errorf("refused notification left payments %+v", o.Payments)
			}
			if tt.name == "underpayment" && (len(o.Payments) != 1 || !strings.Contains(e.traceText(txid), "FLAGGED for an operator: underpayment")) {
				t.Errorf("underpayment not stored and flagged: %+v\n%s", o.Payments, e.traceText(txid))
			}
		})
	}
}

func TestWebhookDuplicatesAndLateness(t *testing.T) {
	e := newEnv(t)
	t.Run("100 concurrent deliveries pay once", func(t *testing.T) {
		txid, _ := e.place("stripe", 12000)
		token := "T-" + txid
		e.startPayment(txid, token)
		body := providertest.CheckoutSessionEvent("evt_dup_"+txid, "checkout.session.completed", txid, 12000, "EUR", "paid")
		h := stripeHeaders(body, time.Now(), stripeWebhook)
		var wg sync.WaitGroup
		codes, bodies := make([]int, 100), make([]string, 100)
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i], bodies[i], _ = e.http(e.webhook, webhookReq("stripe", body, h))
			}()
		}
		wg.Wait()
		duplicates := 0
		for i, c := range codes {
			if c != http.StatusOK {
				t.Fatalf("delivery %d answered %d, want 200", i, c)
			}
			if strings.Contains(bodies[i], `"duplicate":true`) {
				duplicates++
			}
		}
		if duplicates != 99 {
			t.Fatalf("%d deliveries recognised as duplicates, want 99: the notification must be processed once", duplicates)
		}
		o := e.order(txid)
		if o.Status != checkout.SoldOut || len(o.Payments) != 1 {
			t.Fatalf("after 100 deliveries: status %s, %d payments; want SOLDOUT and 1", o.Status, len(o.Payments))
		}
		succ, _ := e.sfn.calls()
		n := 0
		for _, c := range succ {
			if c.Token == token {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("token completed %d times, want 1", n)
		}
	})
	t.Run("failure then retry notice", func(t *testing.T) {
		txid := e.awaitingPayment("stripe")
		body := providertest.PaymentIntentFailedEvent("evt_fail_"+txid, txid, 12000, "EUR")
		code, resp, _ := e.http(e.webhook, webhookReq("stripe", body, stripeHeaders(body, time.Now(), stripeWebhook)))
		if code != http.StatusOK {
			t.Fatalf("failure notice: %d %s", code, resp)
		}
		_, fail := e.sfn.calls()
		if len(fail) == 0 || fail[len(fail)-1].Token != "T-"+txid || fail[len(fail)-1].Error != workflow.ErrPaymentFailed {
			t.Fatalf("failures %+v: want T-%s failed with PaymentFailed", fail, txid)
		}
		e.wantStatus(t, txid, checkout.Failed)
	})
	t.Run("notification after the wait ended is recorded and answered 200", func(t *testing.T) {
		txid := e.awaitingPayment("test")
		// The token is gone (timed out): the fake refuses it like Step Functions would.
		if err := e.tokens.Succeed(e.ctx, "T-"+txid, map[string]string{}); err != nil {
			t.Fatal(err)
		}
		code, resp := e.deliverTest(txid, "", 12000)
		if code != http.StatusOK || !strings.Contains(resp, "no longer waiting") {
			t.Fatalf("late notification: %d %s; want 200 saying the workflow was no longer waiting", code, resp)
		}
		if o := e.order(txid); o.Status != checkout.SoldOut || len(o.Payments) != 1 {
			t.Fatalf("late payment: status %s payments %d; want it recorded (SOLDOUT, 1)", o.Status, len(o.Payments))
		}
	})
	t.Run("a delivery that died before acting is taken over after the lease", func(t *testing.T) {
		for _, tt := range []struct {
			name      string
			age       time.Duration
			wantTaken bool
		}{
			{"within the lease", 0, false},
			{"past the lease", 2 * workflow.NotificationLease, true},
		} {
			txid := e.awaitingPayment("stripe")
			eventID := "evt_crash_" + txid
			// The first delivery recorded the notification, then its Lambda died.
			e.st.Now = func() time.Time { return time.Now().Add(-tt.age) }
			if _, err := e.st.RecordNotification(e.ctx, txid, "stripe", eventID, map[string]string{"id": eventID}); err != nil {
				t.Fatal(err)
			}
			e.st.Now = time.Now
			body := providertest.CheckoutSessionEvent(eventID, "checkout.session.completed", txid, 12000, "EUR", "paid")
			code, resp, _ := e.http(e.webhook, webhookReq("stripe", body, stripeHeaders(body, time.Now(), stripeWebhook)))
			if code != http.StatusOK {
				t.Fatalf("%s: redelivery answered %d %s", tt.name, code, resp)
			}
			if taken := e.order(txid).Status == checkout.SoldOut; taken != tt.wantTaken {
				t.Fatalf("%s: acted upon %v (%s), want %v", tt.name, taken, resp, tt.wantTaken)
			}
			if tt.wantTaken {
				// Settled now: one more delivery is a plain duplicate.
				_, again, _ := e.http(e.webhook, webhookReq("stripe", body, stripeHeaders(body, time.Now(), stripeWebhook)))
				if !strings.Contains(again, `"duplicate":true`) {
					t.Fatalf("delivery after the take-over: %s, want a duplicate", again)
				}
			}
		}
	})
	t.Run("unknown provider", func(t *testing.T) {
		if code, _, _ := e.http(e.webhook, webhookReq("bitcoin", []byte(`{}`), nil)); code != http.StatusNotFound {
			t.Fatalf("unknown provider answered %d, want 404", code)
		}
	})
}

func mustTestProvider(t *testing.T) *payment.TestProvider {
	p, err := payment.NewTestProvider(payment.TestConfig{Secret: testSecret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOtherProvidersWebhooks(t *testing.T) {
	e := newEnv(t)
	t.Run("paypal", func(t *testing.T) {
		txid := e.awaitingPayment("paypal")
		forged := providertest.PayPalIPNBody(providertest.PayPalPayment(paypalSeller, "PP-"+txid, txid, "120.00", "EUR", "Completed"))
		if code, _, _ := e.http(e.webhook, webhookReq("paypal", forged, map[string]string{"content-type": "application/x-www-form-urlencoded"})); code == http.StatusOK {
			t.Fatalf("an IPN PayPal never issued was accepted")
		}
		body := e.paypal.Issue(providertest.PayPalPayment(paypalSeller, "PP-"+txid, txid, "120.00", "EUR", "Completed"))
		if code, resp, _ := e.http(e.webhook, webhookReq("paypal", body, map[string]string{"content-type": "application/x-www-form-urlencoded"})); code != http.StatusOK {
			t.Fatalf("verified IPN: %d %s", code, resp)
		}
		e.wantStatus(t, txid, checkout.SoldOut)
	})
	t.Run("systempay refused", func(t *testing.T) {
		txid := e.awaitingPayment("systempay")
		body := providertest.SystempayIPN(systempayKey, providertest.SystempayPayment("12345678", txid, "uuid-"+txid, "REFUSED", 12000, "978"))
		if code, resp, _ := e.http(e.webhook, webhookReq("systempay", body, map[string]string{"content-type": "application/x-www-form-urlencoded"})); code != http.StatusOK {
			t.Fatalf("refused IPN: %d %s", code, resp)
		}
		_, fail := e.sfn.calls()
		if s := e.order(txid).Status; s != checkout.Refused || len(fail) == 0 || fail[len(fail)-1].Error != workflow.ErrPaymentRefused {
			t.Fatalf("status %s, failures %+v; want REFUSED and the token failed with PaymentRefused", s, fail)
		}
	})
}

// TestRetryAfterFailure: the test mode's "fail" button, the retry wait, a new mode.
func TestRetryAfterFailure(t *testing.T) {
	e := newEnv(t)
	txid, token := e.place("test", 12000)
	e.startPayment(txid, "T-1")
	post := func(path, body string) (int, string) {
		code, resp, _ := e.http(e.payment, req{method: "POST", routeKey: "POST /orders/{txid}" + path, path: "/orders/" + txid + path,
			params: map[string]string{"txid": txid}, headers: bearer(token), body: body})
		return code, resp
	}
	if code, resp := post("/payment", `{"paymode":"check"}`); code != http.StatusConflict {
		t.Fatalf("retry before any failure: %d %s, want 409", code, resp)
	}
	if code, resp := post("/payment/test", `{"action":"fail"}`); code != http.StatusOK {
		t.Fatalf("fail button: %d %s", code, resp)
	}
	_, fail := e.sfn.calls()
	if len(fail) != 1 || fail[0].Token != "T-1" || fail[0].Error != workflow.ErrPaymentFailed {
		t.Fatalf("failures %+v: want T-1 failed with PaymentFailed", fail)
	}
	// The state machine catches PaymentFailed into PaymentNotAccepted.
	e.mustTask(e.payment, map[string]any{"action": "awaitRetry", "txid": txid, "token": "T-2",
		"error": map[string]string{"Error": "PaymentFailed", "Cause": "the buyer pressed the test mode's fail button"}})
	retryMail := e.mail.to(buyerEmail, "")
	if len(retryMail) != 1 || !strings.Contains(retryMail[0].Text, "https://shop.example/#/order/"+txid) {
		t.Fatalf("buyer e-mails %+v: want one PaymentFailed with the retry link", retryMail)
	}
	v := e.getOrder(txid, token)
	if v.Status != checkout.Failed || v.Waiting != "retry" || len(v.RetryModes) == 0 {
		t.Fatalf("order view after failure: %s waiting %q modes %v", v.Status, v.Waiting, v.RetryModes)
	}
	if code, _ := post("/payment", `{"paymode":"freeorder"}`); code != http.StatusBadRequest {
		t.Fatalf("retry with a mode not offered: %d, want 400", code)
	}
	if code, resp := post("/payment", `{"paymode":"check"}`); code != http.StatusAccepted {
		t.Fatalf("retry with check: %d %s", code, resp)
	}
	succ, _ := e.sfn.calls()
	if len(succ) != 1 || succ[0].Token != "T-2" {
		t.Fatalf("completions %+v: want the retry token T-2", succ)
	}
	var plan struct {
		Kind           string `json:"kind"`
		TimeoutSeconds int64  `json:"timeoutSeconds"`
	}
	if err := json.Unmarshal([]byte(succ[0].Output), &plan); err != nil || plan.Kind != "offline" || plan.TimeoutSeconds <= 0 {
		t.Fatalf("retry output %s: want the offline plan with a timeout", succ[0].Output)
	}
	// A second submit with another mode is refused and leaves the mode awaited as it is.
	if code, _ := post("/payment", `{"paymode":"transfer"}`); code != http.StatusConflict {
		t.Fatalf("a second retry on a used token: %d, want 409", code)
	}
	if pm := e.order(txid).Paymode; pm != "check" {
		t.Fatalf("after a refused second retry the stored paymode is %q, want check (the mode awaited)", pm)
	}
	// The state machine goes round to Payment with the new mode.
	e.startPayment(txid, "T-3")
	v = e.getOrder(txid, token)
	if v.Status != checkout.Pending || v.Paymode != "check" || v.Payment == nil || v.Payment.Kind != payment.InstructionsOffline || v.Payment.Attempt != 1 {
		t.Fatalf("after the retry: %s %s %+v; want PENDING by check with offline instructions of attempt 1", v.Status, v.Paymode, v.Payment)
	}
}

// TestPaymentTasksWithTheOrderFromTheInput: the payment start and the retry wait take
// the order's lines from the execution input's copy when they are given one, and its
// head (mode, status, payments) from their own write: a copy made at placement, older
// than a failed attempt and a retry with another mode, leads neither to the old mode
// nor to the first attempt's number, and the e-mails list the lines as without a copy.
func TestPaymentTasksWithTheOrderFromTheInput(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name     string
		withCopy bool
	}{{"with the input's copy", true}, {"without a copy (too large to carry)", false}} {
		t.Run(tc.name, func(t *testing.T) {
			txid, token := e.place("test", 12000)
			copied := e.order(txid) // the copy placement puts in the execution input
			task := func(payload map[string]any) {
				t.Helper()
				if tc.withCopy {
					payload["order"] = copied
				}
				e.mustTask(e.payment, payload)
			}
			task(map[string]any{"action": "start", "txid": txid, "token": "T-1-" + txid})
			// OrderPlaced goes to the sales managers, and lists the lines.
			var placedMail []string
			for _, m := range e.mail.to(salesEmail, "") {
				if strings.Contains(m.Text, txid) {
					placedMail = append(placedMail, m.Text)
				}
			}
			if len(placedMail) != 1 || !strings.Contains(placedMail[0], copied.Lines[0].Name) {
				t.Fatalf("OrderPlaced e-mails %q: want one, listing the line %q", placedMail, copied.Lines[0].Name)
			}
			code, resp, _ := e.http(e.payment, req{method: "POST", routeKey: "POST /orders/{txid}/payment/test", path: "/orders/" + txid + "/payment/test",
				params: map[string]string{"txid": txid}, headers: bearer(token), body: `{"action":"fail"}`})
			if code != http.StatusOK {
				t.Fatalf("fail button: %d %s", code, resp)
			}
			task(map[string]any{"action": "awaitRetry", "txid": txid, "token": "T-2-" + txid,
				"error": map[string]string{"Error": "PaymentFailed", "Cause": "the buyer pressed the test mode's fail button"}})
			code, resp, _ = e.http(e.payment, req{method: "POST", routeKey: "POST /orders/{txid}/payment", path: "/orders/" + txid + "/payment",
				params: map[string]string{"txid": txid}, headers: bearer(token), body: `{"paymode":"check"}`})
			if code != http.StatusAccepted {
				t.Fatalf("retry with check: %d %s", code, resp)
			}
			task(map[string]any{"action": "start", "txid": txid, "token": "T-3-" + txid})
			v := e.getOrder(txid, token)
			if v.Status != checkout.Pending || v.Paymode != "check" || v.Payment == nil || v.Payment.Kind != payment.InstructionsOffline || v.Payment.Attempt != 1 {
				t.Fatalf("after the retry: %s %s %+v; want PENDING by check with offline instructions of attempt 1", v.Status, v.Paymode, v.Payment)
			}
			if len(v.Lines) != 1 || v.Lines[0].Code != copied.Lines[0].Code {
				t.Errorf("order view lines %+v, want the order's", v.Lines)
			}
		})
	}
}

// TestRetryDoubleSubmit: two retries sent at once with different modes; one is
// accepted, and the stored paymode is the mode the workflow was told to await.
func TestRetryDoubleSubmit(t *testing.T) {
	e := newEnv(t)
	for round := 0; round < 3; round++ {
		txid, token := e.place("test", 12000)
		e.startPayment(txid, "T-1-"+txid)
		if _, err := e.st.Move(e.ctx, txid, checkout.Pending, store.Change{}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.Move(e.ctx, txid, checkout.Failed, store.Change{}); err != nil {
			t.Fatal(err)
		}
		e.mustTask(e.payment, map[string]any{"action": "awaitRetry", "txid": txid, "token": "T-2-" + txid,
			"error": map[string]string{"Error": "PaymentFailed", "Cause": "test"}})
		modes := []string{"check", "transfer"}
		codes := make([]int, len(modes))
		var wg sync.WaitGroup
		for i, m := range modes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i], _, _ = e.http(e.payment, req{method: "POST", routeKey: "POST /orders/{txid}/payment", path: "/orders/" + txid + "/payment",
					params: map[string]string{"txid": txid}, headers: bearer(token), body: `{"paymode":"` + m + `"}`})
			}()
		}
		wg.Wait()
		accepted := ""
		for i, c := range codes {
			switch c {
			case http.StatusAccepted:
				if accepted != "" {
					t.Fatalf("both retries accepted: %v", codes)
				}
				accepted = modes[i]
			case http.StatusConflict:
			default:
				t.Fatalf("retry %s answered %d", modes[i], c)
			}
		}
		if accepted == "" {
			t.Fatalf("no retry accepted: %v", codes)
		}
		if pm := e.order(txid).Paymode; pm != accepted {
			t.Fatalf("stored paymode %q, but the accepted retry was %q", pm, accepted)
		}
	}
}

func TestCancelUnpaid(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name    string
		prepare func(txid string)
		want    checkout.Status
	}{
		{"pending cheque", func(txid string) { e.startPayment(txid, "T-"+txid) }, checkout.Cancelled},
		{"refused, no retry", func(txid string) {
			e.startPayment(txid, "T-"+txid)
			if _, err := e.st.Move(e.ctx, txid, checkout.Refused, store.Change{}); err != nil {
				t.Fatal(err)
			}
		}, checkout.Cancelled},
		{"paid at the last moment", func(txid string) {
			e.startPayment(txid, "T-"+txid)
			if _, err := e.st.Move(e.ctx, txid, checkout.SoldOut, store.Change{}); err != nil {
				t.Fatal(err)
			}
		}, checkout.SoldOut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txid, _ := e.place("check", 12000)
			tt.prepare(txid)
			out := e.mustTask(e.payment, map[string]any{"action": "cancel", "txid": txid, "reason": "payment timeout"})
			if s := e.order(txid).Status; s != tt.want {
				t.Fatalf("status %s, want %s", s, tt.want)
			}
			// The state machine decides on this: a paid order goes on to production.
			if p, ok := out["paid"].(bool); !ok || p != (tt.want == checkout.SoldOut) {
				t.Fatalf("cancel answered %v, want paid=%v", out, tt.want == checkout.SoldOut)
			}
			if !strings.Contains(e.traceText(txid), "payment timeout") {
				t.Errorf("cancellation not traced")
			}
		})
	}
}

// TestPaymentFaultSaysWhetherPaid: the Payment state's fault path answers from the
// order's real status, so a payment that landed while the state failed is delivered.
func TestPaymentFaultSaysWhetherPaid(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name     string
		pay      bool
		wantPaid bool
	}{{"unpaid", false, false}, {"paid meanwhile", true, true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txid := e.awaitingPayment("check")
			if tt.pay {
				if _, err := e.st.Move(e.ctx, txid, checkout.SoldOut, store.Change{}); err != nil {
					t.Fatal(err)
				}
			}
			out := e.mustTask(e.payment, map[string]any{"action": "fault", "txid": txid, "state": "Payment",
				"error": map[string]string{"Error": "Lambda.Unknown", "Cause": "boom"}})
			if p, ok := out["paid"].(bool); !ok || p != tt.wantPaid {
				t.Fatalf("fault answered %v, want paid=%v", out, tt.wantPaid)
			}
		})
	}
}

func TestDeferredTestConfirmation(t *testing.T) {
	e := newEnv(t)
	txid, token := e.place("test", 12000)
	e.startPayment(txid, "T-D")
	code, body, _ := e.http(e.payment, req{method: "POST", routeKey: "POST /orders/{txid}/payment/test", path: "/orders/" + txid + "/payment/test",
		params: map[string]string{"txid": txid}, headers: bearer(token), body: `{"action":"defer"}`})
	if code != http.StatusAccepted {
		t.Fatalf("defer: %d %s", code, body)
	}
	var out struct {
		Callback workflow.Callback `json:"callback"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	if out.Callback.URL != "https://api.example/webhooks/test" {
		t.Fatalf("callback URL %q", out.Callback.URL)
	}
	if s := e.order(txid).Status; s != checkout.Pending {
		t.Fatalf("status before the callback %s, want PENDING", s)
	}
	code, resp, _ := e.http(e.webhook, webhookReq("test", []byte(out.Callback.Body), out.Callback.Headers))
	if code != http.StatusOK {
		t.Fatalf("posting the simulated callback: %d %s", code, resp)
	}
	if s := e.order(txid).Status; s != checkout.SoldOut {
		t.Fatalf("status after the callback %s, want SOLDOUT", s)
	}
	// A shop that leaves test mode no longer listens to the simulated provider.
	txid2, token2 := e.place("test", 12000)
	e.startPayment(txid2, "T-D2")
	_, body2, _ := e.http(e.payment, req{method: "POST", routeKey: "POST /orders/{txid}/payment/test", path: "/orders/" + txid2 + "/payment/test",
		params: map[string]string{"txid": txid2}, headers: bearer(token2), body: `{"action":"defer"}`})
	var out2 struct {
		Callback workflow.Callback `json:"callback"`
	}
	if err := json.Unmarshal([]byte(body2), &out2); err != nil {
		t.Fatal(err)
	}
	live := testShop()
	live.TestMode = false
	e.common.Shops = fixedShop{live, testCatalog()}
	e.build()
	if code, _, _ := e.http(e.webhook, webhookReq("test", []byte(out2.Callback.Body), out2.Callback.Headers)); code != http.StatusForbidden {
		t.Fatalf("simulated callback to a live shop answered %d, want 403", code)
	}
	if s := e.order(txid2).Status; s != checkout.Pending {
		t.Fatalf("a live shop took a simulated payment: %s", s)
	}
	tampered := strings.Replace(out.Callback.Body, "12000", "1", 1)
	if code, _, _ := e.http(e.webhook, webhookReq("test", []byte(tampered), out.Callback.Headers)); code != http.StatusUnauthorized {
		t.Fatalf("tampered callback answered %d, want 401", code)
	}
}

func TestOrderAccess(t *testing.T) {
	e := newEnv(t)
	txid, token := e.place("test", 12000)
	o := e.order(txid)
	tests := []struct {
		name    string
		headers map[string]string
		query   map[string]string
		want    int
	}{
		{"cart token", bearer(token), nil, http.StatusOK},
		{"e-mailed link token", nil, map[string]string{"token": workflow.LinkToken(o, time.Now().Add(time.Hour))}, http.StatusOK},
		{"expired link token", nil, map[string]string{"token": workflow.LinkToken(o, time.Now().Add(-time.Second))}, http.StatusGone},
		{"link token with its expiry moved", nil, map[string]string{"token": "ffffffffff" + workflow.LinkToken(o, time.Now().Add(-time.Second))[10:]}, http.StatusForbidden},
		{"link token of the old format", nil, map[string]string{"token": strings.Repeat("0", 32)}, http.StatusForbidden},
		{"no credentials", nil, nil, http.StatusUnauthorized},
		{"someone else's token", bearer("tok-other"), nil, http.StatusForbidden},
		{"forged link token", nil, map[string]string{"token": strings.Repeat("0", 32)}, http.StatusForbidden},
	}
	for _, tt := range tests {
		code, body, _ := e.http(e.payment, req{method: "GET", routeKey: "GET /orders/{txid}", path: "/orders/" + txid,
			params: map[string]string{"txid": txid}, headers: tt.headers, query: tt.query})
		if code != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, code, body, tt.want)
		}
	}
	// The link token reads; it can neither pay nor retry: those need the cart token.
	link := map[string]string{"token": workflow.LinkToken(o, time.Now().Add(time.Hour))}
	for _, w := range []struct{ route, body string }{
		{"POST /orders/{txid}/payment/test", `{"action":"pay"}`},
		{"POST /orders/{txid}/payment", `{"paymode":"check"}`},
	} {
		code, body, _ := e.http(e.payment, req{method: "POST", routeKey: w.route, path: strings.Replace(strings.TrimPrefix(w.route, "POST "), "{txid}", txid, 1),
			params: map[string]string{"txid": txid}, query: link, headers: map[string]string{"content-type": "application/json"}, body: w.body})
		if code != http.StatusUnauthorized {
			t.Errorf("%s with the link token: %d %s, want 401", w.route, code, body)
		}
	}
	if s := e.order(txid).Status; s != checkout.Placed {
		t.Errorf("the link token changed the order: %s", s)
	}
	if code, _, _ := e.http(e.payment, req{method: "GET", routeKey: "GET /orders/{txid}", path: "/orders/X",
		params: map[string]string{"txid": "NOPE"}, headers: bearer(token)}); code != http.StatusNotFound {
		t.Errorf("malformed txid answered %d, want 404", code)
	}
}

// TestPayBeforeStartMovesToPending: the token is stored before the order moves to
// PENDING, so a buyer quick enough to press "pay" in between must not break the start.
func TestPayBeforeStartMovesToPending(t *testing.T) {
	e := newEnv(t)
	txid, token := e.place("test", 12000)
	tok := "T-RACE"
	if _, err := e.st.Update(e.ctx, txid, store.Change{TaskToken: &tok, TaskState: "payment"}); err != nil {
		t.Fatal(err)
	}
	code, body, _ := e.http(e.payment, req{method: "POST", routeKey: "POST /orders/{txid}/payment/test", path: "/orders/" + txid + "/payment/test",
		params: map[string]string{"txid": txid}, headers: bearer(token), body: `{"action":"pay"}`})
	if code != http.StatusOK {
		t.Fatalf("pay: %d %s", code, body)
	}
	if _, errType := e.task(e.payment, map[string]any{"action": "start", "txid": txid, "token": tok}); errType != "" {
		t.Fatalf("start after an early payment failed with %s", errType)
	}
	e.wantStatus(t, txid, checkout.SoldOut)
}

// fixedShop serves one shop and catalog, for tests that change the shop's settings.
type fixedShop struct {
	shop *checkout.Shop
	cat  *checkout.Catalog
}

func (f fixedShop) Get(context.Context) (*checkout.Shop, *checkout.Catalog, error) {
	return f.shop, f.cat, nil
}

func (fixedShop) Invalidate() {}

// racingMode is a payment mode during whose start someone else settles the order (a
// buyer paying at once, an operator cancelling it).
type racingMode struct {
	payment.Mode
	race func()
}

func (m racingMode) Start(ctx context.Context, r payment.Request) (payment.Instructions, error) {
	m.race()
	return m.Mode.Start(ctx, r)
}

// A start whose move to PENDING loses to a settler learns what the order became from
// the refused write itself, and ends as that settlement says.
func TestStartLosesTheRaceToASettler(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name      string
		to        checkout.Status
		wantErr   string
		wantTrace string
	}{
		{"paid meanwhile", checkout.SoldOut, "", "payment settled while it was starting (order SOLDOUT)"},
		{"cancelled meanwhile", checkout.Cancelled, workflow.ErrOrderCancelled, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			txid, _ := e.place("stripe", 12000)
			saved := e.providers.Modes["stripe"]
			defer func() { e.providers.Modes["stripe"] = saved }()
			e.providers.Modes["stripe"] = racingMode{Mode: saved, race: func() {
				if _, err := e.st.Move(e.ctx, txid, tc.to, store.Change{}); err != nil {
					t.Fatal(err)
				}
			}}
			out, errType := e.task(e.payment, map[string]any{"action": "start", "txid": txid, "token": "T-RACE"})
			if errType != tc.wantErr {
				t.Fatalf("start reported %q, want %q", errType, tc.wantErr)
			}
			if tc.wantErr == "" && out["settled"] != string(tc.to) {
				t.Errorf("start answered %v, want settled %s", out, tc.to)
			}
			if o := e.order(txid); o.Status != tc.to {
				t.Errorf("order is %s after the start, want %s as the settler left it", o.Status, tc.to)
			}
			if tc.wantTrace != "" && !strings.Contains(e.traceText(txid), tc.wantTrace) {
				t.Errorf("trace lacks %q:\n%s", tc.wantTrace, e.traceText(txid))
			}
		})
	}
}

// failingMode is a payment mode whose provider cannot start a payment (down, refusing).
type failingMode struct{ payment.Mode }

func (failingMode) Start(context.Context, payment.Request) (payment.Instructions, error) {
	return payment.Instructions{}, errors.New("the provider is unavailable")
}

// gatedMode is a provider that says when its Start was called (started), once the
// mode it wraps has done what it does there (created the session, failed, raced).
type gatedMode struct {
	payment.Mode
	started func()
}

func (m gatedMode) Start(ctx context.Context, r payment.Request) (payment.Instructions, error) {
	defer m.started()
	return m.Mode.Start(ctx, r)
}

// startMails names, in the order they were sent, the e-mails a payment start sends
// about txid: OrderPlaced to the sales managers, OfflineInstructions to the buyer.
func (e *env) startMails(txid string) []string {
	e.mail.mu.Lock()
	defer e.mail.mu.Unlock()
	var out []string
	for _, m := range e.mail.sent {
		switch {
		case strings.Contains(m.Subject, "New order "+txid) && slices.Contains(m.To, salesEmail):
			out = append(out, string(notify.OrderPlaced))
		case strings.Contains(m.Subject, "How to pay for your order "+txid) && slices.Contains(m.To, buyerEmail):
			out = append(out, string(notify.OfflineInstructions))
		case strings.Contains(m.Subject, txid):
			out = append(out, m.Subject)
		}
	}
	return out
}

// inOrder says whether each of want is found in text after the one before it, and if
// not, which is missing.
func inOrder(text string, want []string) (string, bool) {
	for _, w := range want {
		i := strings.Index(text, w)
		if i < 0 {
			return w, false
		}
		text = text[i+len(w):]
	}
	return "", true
}

// The payment start sends the OrderPlaced e-mail while the provider's session is
// created, so the buyer waits for the longer of the two, not both; it is still sent
// before the order leaves PLACED, exactly once on every way out of the start (a failed
// send gives its claim back, so the retried start sends it, and a further one does
// not), before the buyer's OfflineInstructions, and its trace line comes after the
// attempt's and before the start's outcome. SES holds OrderPlaced back until the
// provider's Start is called: a start that waits for SES before starting the payment
// never gets there, and the safety timeout fails the test instead of hanging it.
func TestOrderPlacedMailBesideTheProvidersStart(t *testing.T) {
	const safety = 30 * time.Second // generous: the concurrent start calls Start at once
	e := newEnv(t)
	move := func(to checkout.Status) func(t *testing.T, txid string) {
		return func(t *testing.T, txid string) {
			if _, err := e.st.Move(e.ctx, txid, to, store.Change{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	const mailed = "{OrderPlaced}" // in wantTrace: the e-mail's line, sent or NOT sent
	tests := []struct {
		name  string
		mode  string
		final int64
		// before changes the order before the start (settled or cancelled meanwhile);
		// wrap replaces the mode's provider for the start.
		before func(t *testing.T, txid string)
		wrap   func(t *testing.T, m payment.Mode, txid string) payment.Mode
		// gated: the first start calls the provider's Start (a configured provider,
		// whose Start the test sees), and so does a retried one when gatedRetry.
		gated, gatedRetry bool
		wantErr           string
		wantAtSend        checkout.Status // the order's status while OrderPlaced is with SES (after the provider's Start when gated)
		wantStatus        checkout.Status
		wantShown         string   // the kind of instructions the buyer's page shows ("" none)
		wantMails         []string // the start's e-mails, in order
		wantTrace         []string // lines of the first start's trace, in this order
	}{
		{name: "waits for a redirect", mode: "stripe", final: 12000, gated: true, gatedRetry: true,
			wantAtSend: checkout.Placed, wantStatus: checkout.Pending, wantShown: payment.InstructionsRedirect, wantMails: []string{"OrderPlaced"},
			wantTrace: []string{"attempt 1: 120.00 EUR by stripe", mailed, "waiting for the stripe payment (redirect)"}},
		{name: "waits for a PayPal redirect", mode: "paypal", final: 12000, gated: true, gatedRetry: true,
			wantAtSend: checkout.Placed, wantStatus: checkout.Pending, wantShown: payment.InstructionsRedirect, wantMails: []string{"OrderPlaced"},
			wantTrace: []string{"attempt 1: 120.00 EUR by paypal", mailed, "waiting for the paypal payment (redirect)"}},
		{name: "waits for the test buttons", mode: "test", final: 12000,
			wantAtSend: checkout.Placed, wantStatus: checkout.Pending, wantShown: payment.InstructionsButtons, wantMails: []string{"OrderPlaced"},
			wantTrace: []string{"attempt 1: 120.00 EUR by test", mailed, "waiting for the test payment (buttons)"}},
		{name: "waits for a cheque", mode: "check", final: 12000,
			wantAtSend: checkout.Placed, wantStatus: checkout.Pending, wantShown: payment.InstructionsOffline, wantMails: []string{"OrderPlaced", "OfflineInstructions"},
			wantTrace: []string{"attempt 1: 120.00 EUR by check", mailed, "waiting for the check payment (offline)", "e-mail OfflineInstructions"}},
		{name: "settled meanwhile", mode: "stripe", final: 12000, before: move(checkout.SoldOut),
			wantAtSend: checkout.SoldOut, wantStatus: checkout.SoldOut, wantMails: []string{"OrderPlaced"},
			wantTrace: []string{mailed, "payment already settled (order SOLDOUT)"}},
		{name: "free order", mode: "freeorder", final: 0,
			wantAtSend: checkout.Placed, wantStatus: checkout.SoldOut, wantMails: []string{"OrderPlaced"},
			wantTrace: []string{"attempt 1: 0.00 EUR by freeorder", mailed, "free order: SOLDOUT at once"}},
		{name: "cancelled", mode: "stripe", final: 12000, before: move(checkout.Cancelled), wantErr: workflow.ErrOrderCancelled,
			wantAtSend: checkout.Cancelled, wantStatus: checkout.Cancelled, wantMails: []string{"OrderPlaced"},
			wantTrace: []string{mailed}},
		{name: "mode refused", mode: "bitcoin", final: 12000, wantErr: workflow.ErrPaymentFailed,
			wantAtSend: checkout.Placed, wantStatus: checkout.Placed, wantMails: []string{"OrderPlaced"},
			wantTrace: []string{mailed, `payment mode "bitcoin" cannot be used`}},
		{name: "provider start failed", mode: "stripe", final: 12000, gated: true, gatedRetry: true, wantErr: workflow.ErrPaymentFailed,
			wrap:       func(_ *testing.T, m payment.Mode, _ string) payment.Mode { return failingMode{m} },
			wantAtSend: checkout.Placed, wantStatus: checkout.Placed, wantMails: []string{"OrderPlaced"},
			wantTrace: []string{"attempt 1: 120.00 EUR by stripe", mailed, "could not start the stripe payment: the provider is unavailable"}},
		// The settler pays inside the provider's start; the retried start finds the
		// order paid and calls no provider.
		{name: "start race", mode: "stripe", final: 12000, gated: true,
			wrap: func(t *testing.T, m payment.Mode, txid string) payment.Mode {
				return racingMode{Mode: m, race: func() {
					if _, err := e.st.Move(e.ctx, txid, checkout.SoldOut, store.Change{}); err != nil {
						t.Error(err)
					}
				}}
			},
			wantAtSend: checkout.SoldOut, wantStatus: checkout.SoldOut, wantMails: []string{"OrderPlaced"},
			wantTrace: []string{"attempt 1: 120.00 EUR by stripe", mailed, "payment settled while it was starting (order SOLDOUT)"}},
	}
	// shown is what the buyer's page shows of txid: its status and the kind of its
	// payment instructions (what GET /orders/{txid} answers as "payment").
	shown := func(txid string) (checkout.Status, string, error) {
		state, err := e.st.OrderState(e.ctx, txid, "")
		if err != nil {
			return "", "", err
		}
		if ins := workflow.ShownInstructions(state); ins != nil {
			return state.Order.Status, ins.Kind, nil
		}
		return state.Order.Status, "", nil
	}
	setSES := func(down bool, seen func(notify.Email)) {
		e.mail.mu.Lock()
		defer e.mail.mu.Unlock()
		e.mail.fail, e.mail.seen = nil, seen
		if down {
			e.mail.fail = errors.New("SES unreachable")
		}
	}
	defer setSES(false, nil)
	for _, tc := range tests {
		for _, sesDown := range []bool{false, true} {
			name := tc.name
			if sesDown {
				name += ", SES down"
			}
			t.Run(name, func(t *testing.T) {
				txid, _ := e.place(tc.mode, tc.final)
				if tc.before != nil {
					tc.before(t, txid)
				}
				provider := e.providers.Modes[tc.mode]
				if tc.wrap != nil {
					provider = tc.wrap(t, provider, txid)
				}
				if saved, ok := e.providers.Modes[tc.mode]; ok {
					defer func() { e.providers.Modes[tc.mode] = saved }()
				}
				var (
					mu     sync.Mutex
					atSend []string // what the buyer's page showed while OrderPlaced was first with SES
					held   bool     // a send timed out waiting for the provider: later ones are not held
				)
				// start runs one payment start; when gated, SES holds OrderPlaced back
				// until the provider's Start is called.
				start := func(gated bool) {
					t.Helper()
					var started chan struct{}
					if gated {
						started = make(chan struct{})
						e.providers.Modes[tc.mode] = gatedMode{Mode: provider, started: sync.OnceFunc(func() { close(started) })}
					} else if provider != nil {
						e.providers.Modes[tc.mode] = provider
					}
					setSES(sesDown, func(m notify.Email) {
						if !strings.Contains(m.Subject, "New order "+txid) {
							return
						}
						mu.Lock()
						wait := started != nil && !held
						mu.Unlock()
						if wait {
							select {
							case <-started:
							case <-time.After(safety):
								mu.Lock()
								held = true
								mu.Unlock()
								t.Errorf("OrderPlaced was handed to SES and the provider's Start was not called within %v: the start waits for SES before starting the payment", safety)
							}
						}
						mu.Lock()
						defer mu.Unlock()
						if atSend == nil {
							status, kind, err := shown(txid)
							atSend = []string{string(status), kind}
							if err != nil {
								atSend = []string{err.Error()}
							}
						}
					})
					if _, errType := e.task(e.payment, map[string]any{"action": "start", "txid": txid, "token": "T-" + txid}); errType != tc.wantErr {
						t.Fatalf("start reported %q, want %q", errType, tc.wantErr)
					}
				}
				start(tc.gated)
				mu.Lock()
				if want := []string{string(tc.wantAtSend), ""}; !slices.Equal(atSend, want) {
					t.Errorf("when OrderPlaced was handed to SES the buyer's page showed %q, want %q: the e-mail leaves before the start's move", atSend, want)
				}
				mu.Unlock()
				if status, kind, err := shown(txid); err != nil || status != tc.wantStatus || kind != tc.wantShown {
					t.Errorf("after the start the buyer's page shows %s with instructions %q (%v), want %s with %q", status, kind, err, tc.wantStatus, tc.wantShown)
				}
				line := "e-mail OrderPlaced sent to [" + salesEmail + "]"
				if sesDown {
					line = "e-mail OrderPlaced NOT sent: "
				}
				tr := e.traceText(txid)
				want := slices.Clone(tc.wantTrace)
				want[slices.Index(want, mailed)] = line
				if missing, ok := inOrder(tr, want); !ok {
					t.Errorf("the start's trace has no %q after the lines %q before it:\n%s", missing, want, tr)
				}
				if n := strings.Count(tr, "e-mail OrderPlaced"); n != 1 {
					t.Errorf("the start's trace has %d lines about OrderPlaced, want 1:\n%s", n, tr)
				}
				if !sesDown {
					if got := e.startMails(txid); !slices.Equal(got, tc.wantMails) {
						t.Errorf("e-mails after the start %q, want %q", got, tc.wantMails)
					}
					return
				}
				if got := e.startMails(txid); len(got) != 0 {
					t.Errorf("e-mails with SES down %q, want none", got)
				}
				// SES is back: the retried start sends what the failed one could not,
				// once, and leaves the order as the first start did.
				sesDown = false
				for range 2 {
					start(tc.gatedRetry)
					if got := e.startMails(txid); !slices.Equal(got, tc.wantMails) {
						t.Errorf("e-mails after a retried start %q, want %q", got, tc.wantMails)
					}
				}
				if status, kind, err := shown(txid); err != nil || status != tc.wantStatus || kind != tc.wantShown {
					t.Errorf("after the retries the buyer's page shows %s with instructions %q (%v), want %s with %q", status, kind, err, tc.wantStatus, tc.wantShown)
				}
			})
		}
	}
}
