package e2e_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/localcloud/cloudtest"
	"github.com/lmsshop/checkout/internal/localcloud/faultproxy"
	"github.com/lmsshop/checkout/internal/localcloud/launcher"
	"github.com/lmsshop/checkout/internal/payment/providertest"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/production/locallms"
)

// These tests drive, IAM enforced, the paths that use grants no other test of the
// package uses, so the least-privilege check of a full run (cloudtest.MainLeastPrivilege) holds them
// as needed rather than unused.

// The USERS step answers its own GET: a buyer reloading the seats page sees the seats
// saved (UsersFunction reads the cart: dynamodb:GetItem).
func TestSeatsStepShowsTheSavedSeats(t *testing.T) {
	b := newBuyer(t)
	b.must(200, "PUT", "/carts/{txid}/lines/SEC-201-SEATS", `{"quantity":1}`)
	b.must(200, "PUT", "/carts/{txid}/seats", `{"participants":[
		{"email":"Bob@Example.com","lastName":"martin","firstName":"bob","city":"Lyon"},
		{"email":"boss@example.com","lastName":"petit","firstName":"anne","city":"Lyon"}],
		"seats":[{"code":"SEC-201-SEATS","role":"student","email":"bob@example.com"},
		{"code":"SEC-201-SEATS","role":"supervisor","email":"boss@example.com"}]}`)
	r := b.must(200, "GET", "/carts/{txid}/seats", "")
	var emails []string
	ps, _ := r.body["participants"].([]any)
	for _, p := range ps {
		emails = append(emails, p.(map[string]any)["email"].(string))
	}
	if strings.Join(emails, ",") != "bob@example.com,boss@example.com" {
		t.Errorf("GET seats participants = %v, want bob@example.com and boss@example.com", emails)
	}
	if s := step(r, "USERS"); s["complete"] != true {
		t.Errorf("USERS = %v after every seat was assigned", s)
	}
}

// A provider's notifications that do not pay the order go through the webhook: a
// failed payment fails the workflow's payment wait (PaymentWebhookFunction:
// states:SendTaskFailure), an underpayment is flagged for an operator and e-mailed to
// the sales managers (ses:SendEmail). On a private cloud whose settings name a fake
// Stripe, as the reconciliation test does.
func TestStripeWebhookFailsAPaymentAndFlagsAnUnderpayment(t *testing.T) {
	const key, whsec = "sk_test_webhook_paths", "whsec_webhook_paths"
	stripe := providertest.NewStripeServer(t, key)
	c := cloudtest.StartWith(t, cloudtest.Options{Settings: map[string]string{
		"PAYMENT_STRIPE_SECRET_KEY": key, "PAYMENT_STRIPE_WEBHOOK_SECRET": whsec, "PAYMENT_STRIPE_API_URL": stripe.URL,
	}})
	place := func() (*buyer, int64) {
		b := buyerOn(t, c)
		placed := b.placeOne("GO-101", "stripe")
		b.waitFor("PENDING", "payment")
		return b, int64(placed.body["order"].(map[string]any)["totals"].(map[string]any)["final"].(float64))
	}
	notify := func(body []byte) {
		t.Helper()
		r := postCallback(t, c.APIURL+"/webhooks/stripe", string(body), map[string]string{
			"Content-Type": "application/json", "Stripe-Signature": providertest.SignStripe(body, whsec, time.Now())})
		if r.status != 200 {
			t.Fatalf("webhook = %d %s, want 200", r.status, r.raw)
		}
	}

	failed, total := place()
	notify(providertest.CheckoutSessionEvent("evt_failed_"+failed.TxID, "checkout.session.async_payment_failed", failed.TxID, total, "EUR", "unpaid"))
	r := failed.waitFor("FAILED", "")
	if statusOf(r) != "FAILED" {
		t.Errorf("after the failed payment the order is %s, want FAILED", statusOf(r))
	}

	under, total := place()
	if err := c.ClearMail(context.Background()); err != nil {
		t.Fatal(err)
	}
	notify(providertest.CheckoutSessionEvent("evt_under_"+under.TxID, "checkout.session.completed", under.TxID, total-100, "EUR", "paid"))
	var flagged bool
	for _, f := range openFlags(t, c) {
		flagged = flagged || (f.TxID == under.TxID && f.Reason == "underpayment")
	}
	if !flagged {
		t.Errorf("open flags %+v, want %s flagged as an underpayment", openFlags(t, c), under.TxID)
	}
	if s := statusOf(under.do("GET", "/orders/{txid}", "")); s != "PENDING" {
		t.Errorf("the underpaid order is %s, want PENDING (an operator decides)", s)
	}
	msgs, err := c.Mail(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var mailed int
	for _, m := range msgs {
		raw, _ := json.Marshal(m)
		if strings.Contains(string(raw), "sales@example.com") && strings.Contains(string(raw), under.TxID) {
			mailed++
		}
	}
	if mailed != 1 {
		t.Errorf("%d e-mails to the sales managers about %s, want 1: %d sent", mailed, under.TxID, len(msgs))
	}
}

// An enrolment extension bought after the course extends the buyer's enrolment in the
// local LMS by its days (ProduceFunction updates the enrolment: dynamodb:UpdateItem).
func TestExtensionExtendsTheEnrolment(t *testing.T) {
	c := cloudtest.Start(t)
	ctx := context.Background()
	email := "ext-" + strings.ToLower(newBuyer(t).TxID) + "@example.com"
	buy := func(code string) {
		t.Helper()
		b := newBuyer(t)
		b.placeOneAs(code, "test", customerAs(email))
		b.waitFor("PENDING", "payment")
		b.must(200, "POST", "/orders/{txid}/payment/test", `{"action":"pay"}`)
		b.waitStatus("COMPLETE")
	}
	lms := locallms.New(c.DynamoDB, c.Table)
	end := func() time.Time {
		t.Helper()
		uid, _, err := lms.EnsureUser(ctx, production.Person{Email: email, FirstName: "Ada", LastName: "Lovelace"})
		if err != nil {
			t.Fatal(err)
		}
		e, err := lms.Enrolment(ctx, uid, "GO-101")
		if err != nil {
			t.Fatalf("enrolment of %s in GO-101: %v", email, err)
		}
		return e.End
	}

	buy("GO-101")
	before := end()
	if before.IsZero() {
		t.Fatalf("the GO-101 enrolment of %s has no end", email)
	}
	buy("EXTEND-30")
	// The new end is pinned to the second (RFC 3339) before it is applied.
	want := before.Truncate(time.Second).AddDate(0, 0, 30)
	if after := end(); !after.Equal(want) {
		t.Errorf("enrolment end after EXTEND-30 = %s, want %s (30 days after %s)", after, want, before)
	}
}

// A refunded role upgrade is taken back in the local LMS: the back office removes the
// role assignment (BackofficeFunction deletes the local LMS's record:
// dynamodb:DeleteItem), so the refund answers it withdrawn, not left to the operator.
func TestRefundWithdrawsAnAssignedRole(t *testing.T) {
	c := cloudtest.Start(t)
	b := newBuyer(t)
	b.placeOne("STUDENT-PLUS", "test")
	b.waitFor("PENDING", "payment")
	b.must(200, "POST", "/orders/{txid}/payment/test", `{"action":"pay"}`)
	b.waitStatus("COMPLETE")

	code, body := admin(t, c, "POST", "/admin/orders/"+b.TxID+"/refund", `{"reference":"REFUND-PLUS","note":"the buyer changed their mind"}`, "")
	var answer struct {
		Order struct {
			Status string `json:"status"`
		} `json:"order"`
		Withdrawn  []string `json:"withdrawn"`
		ToWithdraw []string `json:"toWithdraw"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &answer) != nil {
		t.Fatalf("refund = %d %s", code, body)
	}
	if answer.Order.Status != "CANCELLED" || len(answer.Withdrawn) != 1 || len(answer.ToWithdraw) != 0 {
		t.Errorf("refund answered %s; want CANCELLED, the role withdrawn, nothing left to the operator", body)
	}
}

// When SES fails, an e-mail's claim is given back (store.Release: dynamodb:DeleteItem,
// in ProduceFunction (the account created before payment), PaymentFunction,
// PaymentWebhookFunction and ReconcileFunction here), so a next
// attempt can send it: the reconciliation report is sent by the next run, once; the
// order placed goes on to its payment wait without its e-mail, and the underpayment is
// flagged without its e-mail. SES fails through a fault proxy on a
// private cloud whose settings name a fake Stripe.
func TestFailedEmailsAreSentByTheNextAttempt(t *testing.T) {
	const key, whsec = "sk_test_mail_fails", "whsec_mail_fails"
	stripe := providertest.NewStripeServer(t, key)
	ses := &sesFaults{t: t}
	c := cloudtest.StartWith(t, cloudtest.Options{
		Settings: map[string]string{"PAYMENT_STRIPE_SECRET_KEY": key, "PAYMENT_STRIPE_WEBHOOK_SECRET": whsec, "PAYMENT_STRIPE_API_URL": stripe.URL},
		Through:  ses.through,
	})
	ctx := context.Background()
	sesFails := ses.fail
	mails := func(to, about string) int {
		t.Helper()
		msgs, err := c.Mail(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range msgs {
			raw, _ := json.Marshal(m)
			if strings.Contains(strings.Join(m.Destination.To, ","), to) && strings.Contains(string(raw), about) {
				n++
			}
		}
		return n
	}
	sesFails(true)

	// The order placed: its e-mail fails, the order still waits for its payment.
	b := buyerOn(t, c)
	placed := b.placeOne("GO-101", "stripe")
	total := int64(placed.body["order"].(map[string]any)["totals"].(map[string]any)["final"].(float64))
	b.waitFor("PENDING", "payment")

	// An underpayment is flagged; its e-mail to the sales managers fails.
	under := providertest.CheckoutSessionEvent("evt_under_"+b.TxID, "checkout.session.completed", b.TxID, total-100, "EUR", "paid")
	deliver := func() {
		t.Helper()
		r := postCallback(t, c.APIURL+"/webhooks/stripe", string(under), map[string]string{
			"Content-Type": "application/json", "Stripe-Signature": providertest.SignStripe(under, whsec, time.Now())})
		if r.status != 200 {
			t.Fatalf("webhook = %d %s, want 200", r.status, r.raw)
		}
	}
	deliver()
	// The reconciliation's report fails to go.
	if _, err := c.RunSchedule(ctx, "ReconcileFunction"); err == nil {
		t.Log("the reconciliation answered without error though its report was not sent")
	}
	if n := mails("sales@example.com", ""); n != 0 {
		t.Fatalf("%d e-mails sent while SES fails", n)
	}

	sesFails(false)
	// The flag does not depend on its e-mail: the operators see it in the back office.
	var flagged bool
	for _, f := range openFlags(t, c) {
		flagged = flagged || (f.TxID == b.TxID && f.Reason == "underpayment")
	}
	if !flagged {
		t.Errorf("%s is not flagged as an underpayment after its e-mail failed", b.TxID)
	}
	reconcileReport(t, c)
	reconcileReport(t, c)
	if n := len(reportMails(t, c)); n != 1 {
		t.Errorf("%d reconciliation reports after two runs once SES works, want 1", n)
	}
}

// sesFaults puts a fault proxy in front of SES (cloudtest.Options.Through).
type sesFaults struct {
	t     *testing.T
	proxy *faultproxy.Proxy
}

func (f *sesFaults) through(service, endpoint string) (string, error) {
	if service != launcher.ServiceSES {
		return endpoint, nil
	}
	p, err := faultproxy.New(endpoint, faultproxy.Options{Name: "ses"})
	if err != nil {
		return "", err
	}
	f.t.Cleanup(func() { _ = p.Close() })
	f.proxy = p
	return p.Listen()
}

// fail makes every SES call fail (500, after the SDK's retries), or none.
func (f *sesFaults) fail(fail bool) {
	f.t.Helper()
	var faults faultproxy.Faults
	if fail {
		faults.ServerError = 1
	}
	if err := f.proxy.SetFaults(faults); err != nil {
		f.t.Fatal(err)
	}
}

// The delivery e-mail that SES refused is sent by the Notify task's retry once SES
// works again, once: NotifyFunction gives the claim back (dynamodb:UpdateItem,
// store.ReleaseEach).
func TestDeliveryEmailSentOnceAfterSESRecovers(t *testing.T) {
	ses := &sesFaults{t: t}
	c := cloudtest.StartWith(t, cloudtest.Options{Through: ses.through})
	ctx := context.Background()
	b := buyerOn(t, c)
	b.placeOne("GO-101", "test")
	b.waitFor("PENDING", "payment")
	if err := c.ClearMail(ctx); err != nil {
		t.Fatal(err)
	}

	// Paid while SES fails: the workflow's only task that fails on a lost e-mail is
	// NotifyDelivered; once it failed, SES works again and its retry sends the e-mail.
	ses.fail(true)
	b.must(200, "POST", "/orders/{txid}/payment/test", `{"action":"pay"}`)
	arn := strings.Replace(c.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + b.TxID
	// NotifyDelivered runs in the deliver run, whose failures the engine reads with the
	// execution's own (AWS shows them in the Express run's logs).
	failedTask := func() bool {
		failed, err := c.Engine.TaskFailures(arn)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range failed {
			if f.State == "NotifyDelivered" {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(30 * time.Second); !failedTask(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no task failed while SES failed")
		}
	}
	ses.fail(false)

	b.waitStatus("COMPLETE")
	var got []string
	for deadline := time.Now().Add(10 * time.Second); len(got) < 2 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		got = mailTo(t, c, "ada.lovelace@example.com", b.TxID)
	}
	// The buyer's delivery e-mail, and the delivery report (which names the buyer).
	if len(got) != 2 {
		t.Errorf("e-mails naming the buyer about %s after SES recovered: %q, want the delivery's and its report, once each", b.TxID, got)
	}
}

// A buyer who changes the cart after placing it is refused, and the refusal is written
// in the transaction's trace as a line of its own: a refused command changes no item
// for the line to ride on (CustomerFunction and UsersFunction: dynamodb:PutItem). The
// order keeps the customer and seats it was placed with.
func TestChangesAfterPlacementAreRefusedAndTraced(t *testing.T) {
	c := cloudtest.Start(t)
	b := newBuyer(t)
	b.must(200, "PUT", "/carts/{txid}/lines/SEC-201-SEATS", `{"quantity":1}`)
	seats := `{"participants":[{"email":"bob@example.com","lastName":"martin","firstName":"bob","city":"Lyon"},
		{"email":"boss@example.com","lastName":"petit","firstName":"anne","city":"Lyon"}],
		"seats":[{"code":"SEC-201-SEATS","role":"student","email":"bob@example.com"},
		{"code":"SEC-201-SEATS","role":"supervisor","email":"boss@example.com"}]}`
	b.must(200, "PUT", "/carts/{txid}/seats", seats)
	b.must(200, "PUT", "/carts/{txid}/customer", customerJSON)
	b.must(201, "POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"check"}`)
	b.waitStatus("PENDING")

	for _, tt := range []struct{ step, path, body string }{
		{"CUSTOMER", "/carts/{txid}/customer", strings.Replace(customerJSON, `"ada"`, `"joan"`, 1)},
		{"USERS", "/carts/{txid}/seats", strings.Replace(seats, `"bob"`, `"robert"`, 1)},
	} {
		r := b.do("PUT", tt.path, tt.body)
		if r.status < 400 || r.status >= 500 {
			t.Errorf("%s after placement = %d %s, want a 4xx refusal", tt.step, r.status, r.raw)
		}
	}
	code, tr := admin(t, c, "GET", "/admin/orders/"+b.TxID+"/trace", "", "text/plain")
	if code != 200 || strings.Count(tr, "refused") < 2 {
		t.Errorf("trace (%d) lacks the two refusals:\n%s", code, tr)
	}
	o := b.must(200, "GET", "/orders/{txid}", "")
	if raw, _ := json.Marshal(o.body); strings.Contains(string(raw), "Joan") || strings.Contains(string(raw), "joan") || strings.Contains(string(raw), "robert") {
		t.Errorf("the order changed after placement: %s", raw)
	}
}
