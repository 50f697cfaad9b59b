package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/localcloud/cloudtest"
	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/payment/providertest"
	"github.com/lmsshop/checkout/internal/storefront"
)

// buyerOn is newBuyer on a given (private) local cloud.
func buyerOn(t *testing.T, c *cloudtest.Cloud) *buyer {
	t.Helper()
	r := call(t, "POST", c.APIURL+"/carts", "", "")
	if r.status != http.StatusCreated {
		t.Fatalf("POST /carts = %d %s", r.status, r.raw)
	}
	return &buyer{t: t, Client: storefront.Client{API: c.APIURL, HTTP: noRedirect, TxID: r.body["transactionId"].(string), Token: r.body["cartToken"].(string)}}
}

// reconcileReport fires the daily schedule of ReconcileFunction and returns its answer.
func reconcileReport(t *testing.T, c *cloudtest.Cloud) notify.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := c.RunSchedule(ctx, "ReconcileFunction")
	if err != nil {
		t.Fatalf("reconciliation: %v", err)
	}
	var rep notify.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("reconciliation answered %s: %v", out, err)
	}
	return rep
}

type flagView struct {
	TxID   string `json:"txid"`
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

func openFlags(t *testing.T, c *cloudtest.Cloud) []flagView {
	t.Helper()
	status, body := admin(t, c, "GET", "/admin/flags", "", "")
	var v struct {
		Flags []flagView `json:"flags"`
	}
	if status != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil {
		t.Fatalf("GET /admin/flags = %d %s", status, body)
	}
	return v.Flags
}

type paymentView struct {
	Mode, Outcome, Reference string
	Amount                   int64
}

func orderPayments(t *testing.T, c *cloudtest.Cloud, txid string) (string, []paymentView) {
	t.Helper()
	status, body := admin(t, c, "GET", "/admin/orders/"+txid, "", "")
	var v struct {
		Order struct {
			Status   string        `json:"status"`
			Payments []paymentView `json:"payments"`
		} `json:"order"`
	}
	if status != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil {
		t.Fatalf("GET /admin/orders/%s = %d %s", txid, status, body)
	}
	return v.Order.Status, v.Order.Payments
}

func reportMails(t *testing.T, c *cloudtest.Cloud) []string {
	t.Helper()
	msgs, err := c.Mail(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		raw, _ := json.Marshal(m)
		if strings.Contains(m.Subject, "Reconciliation") && strings.Contains(string(raw), "sales@example.com") {
			out = append(out, m.Body.Text)
		}
	}
	return out
}

// Issue 11, point 8: a Stripe payment whose webhook never came is found by the daily
// reconciliation and moves its order on to delivery; an order left waiting for days is
// flagged; the sales managers get the report; a second run, and the webhook coming
// late, change nothing. On a private local cloud whose settings name a fake Stripe (the
// shared one offers no online provider), IAM enforced on every call, the schedule fired
// as EventBridge Scheduler would, as its role.
func TestReconciliationFindsAPaymentNeverNotifiedAndFlagsAStuckOrder(t *testing.T) {
	const key, whsec = "sk_test_reconcile", "whsec_reconcile"
	stripe := providertest.NewStripeServer(t, key)
	c := cloudtest.StartWith(t, cloudtest.Options{Settings: map[string]string{
		"PAYMENT_STRIPE_SECRET_KEY": key, "PAYMENT_STRIPE_WEBHOOK_SECRET": whsec, "PAYMENT_STRIPE_API_URL": stripe.URL,
	}})
	ctx := context.Background()

	// A buyer pays with Stripe; the webhook is lost.
	paid := buyerOn(t, c)
	placed := paid.placeOne("GO-101", "stripe")
	final := int64(placed.body["order"].(map[string]any)["totals"].(map[string]any)["final"].(float64))
	paid.waitFor("PENDING", "payment")
	var session string
	for _, s := range stripe.Sessions() {
		if s.Form.Get("client_reference_id") == paid.TxID {
			session = s.ID
		}
	}
	if session == "" || !stripe.Pay(session) {
		t.Fatalf("no Stripe Checkout Session for %s", paid.TxID)
	}

	// Another order waits for its test payment since three days: its workflow stopped
	// (the clock is moved back on the stored order, as three days would).
	stuck := buyerOn(t, c)
	stuck.placeOne("GO-101", "test")
	stuck.waitFor("PENDING", "payment")
	old := time.Now().UTC().Add(-72 * time.Hour).Format(time.RFC3339Nano)
	if _, err := c.DynamoDB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(c.Table),
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "TX#" + stuck.TxID}, "sk": &types.AttributeValueMemberS{Value: "ORDER"}},
		UpdateExpression:          aws.String("SET placedAt = :t, updatedAt = :t, gsi1sk = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberS{Value: old}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.ClearMail(ctx); err != nil {
		t.Fatal(err)
	}

	rep := reconcileReport(t, c)
	if len(rep.Providers) != 1 || rep.Providers[0].Name != "stripe" || rep.Providers[0].Error != "" {
		t.Fatalf("providers %+v, want Stripe read", rep.Providers)
	}
	if len(rep.Recorded) != 1 || rep.Recorded[0].TxID != paid.TxID || rep.Recorded[0].Reference != session || rep.Recorded[0].Outcome != "paid" {
		t.Fatalf("recorded %+v, want %s's session %s, paid", rep.Recorded, paid.TxID, session)
	}
	if len(rep.Stuck) != 1 || rep.Stuck[0].TxID != stuck.TxID {
		t.Fatalf("stuck %+v, want %s", rep.Stuck, stuck.TxID)
	}

	// The payment found resumes the workflow: produced, billed.
	paid.waitStatus("COMPLETE")
	status, pays := orderPayments(t, c, paid.TxID)
	if status != "COMPLETE" || len(pays) != 1 || pays[0].Mode != "stripe" || pays[0].Reference != session || pays[0].Amount != final {
		t.Errorf("order %s with payments %+v, want COMPLETE with the Stripe session %s of %d", status, pays, session, final)
	}
	flags := openFlags(t, c)
	stuckFlagged := 0
	for _, f := range flags {
		if f.TxID == paid.TxID {
			t.Errorf("the paid order is flagged: %+v", f)
		}
		if f.TxID == stuck.TxID && f.Reason == "stuck" {
			stuckFlagged++
		}
	}
	if stuckFlagged != 1 {
		t.Errorf("open flags %+v, want the stuck order flagged once", flags)
	}
	mails := reportMails(t, c)
	if len(mails) != 1 || !strings.Contains(mails[0], paid.TxID) || !strings.Contains(mails[0], stuck.TxID) || !strings.Contains(mails[0], session) {
		t.Fatalf("report e-mails to the sales managers: %q, want one naming both orders and the session", mails)
	}

	// Again, then the lost webhook arrives: nothing changes.
	again := reconcileReport(t, c)
	if len(again.Recorded) != 0 || again.Providers[0].Known != 1 {
		t.Errorf("second run recorded %+v, providers %+v; want nothing new, the payment known", again.Recorded, again.Providers)
	}
	body := providertest.StripeEvent("evt_late_webhook", "checkout.session.completed", map[string]any{
		"id": session, "object": "checkout.session", "amount_total": final, "currency": "eur",
		"client_reference_id": paid.TxID, "payment_status": "paid", "metadata": map[string]string{"txid": paid.TxID}})
	if r := postCallback(t, c.APIURL+"/webhooks/stripe", string(body), map[string]string{
		"Content-Type": "application/json", "Stripe-Signature": providertest.SignStripe(body, whsec, time.Now())}); r.status != 200 {
		t.Errorf("late webhook = %d %s, want 200", r.status, r.raw)
	}
	if status2, pays2 := orderPayments(t, c, paid.TxID); status2 != "COMPLETE" || len(pays2) != 1 {
		t.Errorf("after a second run and the webhook: %s with payments %+v, want COMPLETE with one", status2, pays2)
	}
	if n := len(openFlags(t, c)); n != len(flags) {
		t.Errorf("%d open flags after a second run, want %d", n, len(flags))
	}
	if n := len(reportMails(t, c)); n != 1 {
		t.Errorf("%d report e-mails after a second run the same day, want 1", n)
	}
}

// `make run` fires the template's schedules on demand at its schedules URL; a function
// no schedule invokes cannot be fired as if one did.
func TestOnlyScheduledFunctionsRunOnSchedule(t *testing.T) {
	c := cloudtest.Start(t)
	if _, err := c.RunSchedule(context.Background(), "OrderFunction"); err == nil {
		t.Error("OrderFunction was run as a schedule, though the template schedules it nowhere")
	}
	list := call(t, "GET", c.SchedulesURL+"/", "", "")
	if raw := list.raw; list.status != 200 || !strings.Contains(raw, `"ReconcileFunction"`) || !strings.Contains(raw, `"WatchFunction"`) {
		t.Errorf("GET schedules = %d %s, want Reconcile and Watch", list.status, raw)
	}
	// Watch, an EventBridge rule's target: its answer is the operator-wait count.
	if r := call(t, "POST", c.SchedulesURL+"/WatchFunction", "", ""); r.status != 200 || r.body["waiting"] == nil {
		t.Errorf("POST schedules/WatchFunction = %d %s, want Watch's report", r.status, r.raw)
	}
	// Reconcile on the shared cloud, which offers no online provider: nothing to ask,
	// the report still goes out (and the function's grants are exercised).
	if r := call(t, "POST", c.SchedulesURL+"/ReconcileFunction", "", ""); r.status != 200 || r.body["providers"] == nil {
		t.Errorf("POST schedules/ReconcileFunction = %d %s, want its report", r.status, r.raw)
	}
	if mails := reportMails(t, c); len(mails) != 1 || !strings.Contains(mails[0], "none can be asked") {
		t.Errorf("report e-mails %q, want one saying no provider can be asked", mails)
	}
	if r := call(t, "POST", c.SchedulesURL+"/OrderFunction", "", ""); r.status != 404 {
		t.Errorf("POST schedules/OrderFunction = %d %s, want 404", r.status, r.raw)
	}
}

// templateWith writes a copy of template.yaml with extra resources added (YAML indented
// as under Resources), beside a copy of the state machine's definition.
func templateWith(t *testing.T, resources string) string {
	t.Helper()
	raw, err := os.ReadFile("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := string(raw)
	i := strings.Index(src, "\nOutputs:\n")
	if i < 0 {
		t.Fatal("template.yaml has no Outputs section: update the test")
	}
	return writeTemplate(t, src[:i]+"\n"+resources+src[i:])
}

// The schedule invokes the function as its role: a role IAM does not let invoke it
// (here an explicit Deny attached to the role SAM makes for the schedule) does not
// run it locally either, and nothing is reconciled.
func TestScheduleRoleThatMayNotInvokeIsRefused(t *testing.T) {
	path := templateWith(t, `  DenyReconcileSchedule:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: deny-invoke
      Roles: [!Ref ReconcileFunctionDailyRole]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Deny
            Action: lambda:InvokeFunction
            Resource: "*"
`)
	c := cloudtest.StartTemplate(t, path, nil)
	_, err := c.RunSchedule(context.Background(), "ReconcileFunction")
	if err == nil || !strings.Contains(err.Error(), "lambda:InvokeFunction") {
		t.Fatalf("schedule run with its role denied: %v, want the refusal naming lambda:InvokeFunction", err)
	}
	t.Logf("refused as AWS would: %v", err)
	if mails := reportMails(t, c); len(mails) != 0 {
		t.Errorf("the refused run sent %d report(s)", len(mails))
	}
}
