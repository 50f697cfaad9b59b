package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lmsshop/checkout/internal/payment"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/storefront"
	"github.com/lmsshop/checkout/internal/workflow"
)

// The steps of one purchase, in order, as the report names them.
const (
	StepCreate   = "create"   // POST /carts
	StepLine     = "line"     // PUT /carts/{txid}/lines/GO-101
	StepCustomer = "customer" // PUT /carts/{txid}/customer
	StepPlace    = "place"    // POST /carts/{txid}/order
	StepPayable  = "payable"  // placement → the order page offers the payment (observed in the table)
	StepPay      = "pay"      // POST /orders/{txid}/payment/test {"action":"pay"}
	StepWorkflow = "workflow" // payment → the execution ends (PRODUCE, BILL, notify)
	StepView     = "view"     // GET /orders/{txid}, which must say COMPLETE
)

// Steps lists the steps in purchase order.
var Steps = []string{StepCreate, StepLine, StepCustomer, StepPlace, StepPayable, StepPay, StepWorkflow, StepView}

// apiSteps are the steps that are one HTTP request to the API.
var apiSteps = map[string]bool{StepCreate: true, StepLine: true, StepCustomer: true, StepPlace: true, StepPay: true, StepView: true}

const buyerJSON = `{"email":"bench@example.com","lastName":"Lovelace","firstName":"Ada","address":"1 Analytical Row","zip":"75005","city":"Paris","country":"FR","lang":"en"}`

// span is when one step ran, seen from the client.
type span struct{ start, end time.Time }

func (s span) dur() time.Duration { return s.end.Sub(s.start) }

// purchase is one buyer's run through the checkout.
type purchase struct {
	txid, token string
	execARN     string
	steps       map[string]span
	start, end  time.Time
	err         error
}

// buyer drives the API as the storefront does.
type buyer struct {
	cloud  *Cloud
	client *http.Client
}

func (b *buyer) call(ctx context.Context, method, path, token, body string) (int, []byte, error) {
	r, err := storefront.Call(ctx, b.client, method, b.cloud.APIURL+path, token, body)
	return r.Status, r.Body, err
}

// request is one API call of the benchmark's purchase: its step, what is sent ({txid}
// stands for the cart's transaction ID) and the status it must answer. Both drivers, the
// buyers through the gateway (run) and the CPU measurement straight into the handlers
// (cpuRun), make the same requests in the same order.
type request struct {
	step, method, path, body string
	want                     int
}

var (
	createCart = request{StepCreate, "POST", "/carts", "", http.StatusCreated}
	// toOrder fills the new cart and places its order, to be paid in test mode.
	toOrder = []request{
		{StepLine, "PUT", "/carts/{txid}/lines/GO-101", `{"quantity":1}`, http.StatusOK},
		{StepCustomer, "PUT", "/carts/{txid}/customer", buyerJSON, http.StatusOK},
		{StepPlace, "POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"test"}`, http.StatusCreated},
	}
	payTest   = request{StepPay, "POST", "/orders/{txid}/payment/test", `{"action":"pay"}`, http.StatusOK}
	viewOrder = request{StepView, "GET", "/orders/{txid}", "", http.StatusOK}
)

// on returns the request's path for the cart txid.
func (r request) on(txid string) string { return strings.ReplaceAll(r.path, "{txid}", txid) }

// refused is the error of a request answered with another status than its own.
func (r request) refused(code int, body []byte) error {
	return fmt.Errorf("%s: %s %s = %d %s, want %d", r.step, r.method, r.path, code, bytes.TrimSpace(body), r.want)
}

// cartCreated reads the transaction ID and cart token from createCart's answer.
func cartCreated(out []byte) (txid, token string, err error) {
	var created struct {
		TransactionID string `json:"transactionId"`
		CartToken     string `json:"cartToken"`
	}
	if err := json.Unmarshal(out, &created); err != nil {
		return "", "", fmt.Errorf("%s: %w", StepCreate, err)
	}
	return created.TransactionID, created.CartToken, nil
}

// step times one request and checks its status.
func (b *buyer) step(ctx context.Context, p *purchase, r request) ([]byte, error) {
	start := time.Now()
	code, out, err := b.call(ctx, r.method, r.on(p.txid), p.token, r.body)
	p.steps[r.step] = span{start, time.Now()}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.step, err)
	}
	if code != r.want {
		return nil, r.refused(code, out)
	}
	return out, nil
}

// payable reports whether the order page of txid offers the test payment's buttons: a
// buyer pays from that page, which shows them only with the instructions the payment
// start stores in its move to PENDING (workflow.ShownInstructions, what GET
// /orders/{txid} answers as "payment"). The task token alone is not enough: it is
// stored before the provider's session starts, and a payment made then lands while
// the start still runs, which no buyer on the page can do (the workflow tests cover
// that race: TestStartLosesTheRaceToASettler).
func payable(ctx context.Context, st *store.Store, txid string) bool {
	state, err := st.OrderState(ctx, txid, "")
	if err != nil {
		return false
	}
	ins := workflow.ShownInstructions(state)
	return ins != nil && ins.Kind == payment.InstructionsButtons
}

// run makes one full purchase paid in test mode and waits until it is COMPLETE.
func (b *buyer) run(ctx context.Context) *purchase {
	p := &purchase{steps: map[string]span{}, start: time.Now()}
	p.err = b.purchase(ctx, p)
	p.end = time.Now()
	return p
}

func (b *buyer) purchase(ctx context.Context, p *purchase) error {
	out, err := b.step(ctx, p, createCart)
	if err != nil {
		return err
	}
	if p.txid, p.token, err = cartCreated(out); err != nil {
		return err
	}
	p.execARN = strings.Replace(b.cloud.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + p.txid
	for _, r := range toOrder {
		if _, err := b.step(ctx, p, r); err != nil {
			return err
		}
	}
	// The buyer pays once the order page shows the pay buttons (payable). Watching the
	// table directly keeps the wait out of the counted traffic.
	start := time.Now()
	for !payable(ctx, b.cloud.Store, p.txid) {
		if ctx.Err() != nil {
			return fmt.Errorf("payable: the order never waited for its payment: %w", ctx.Err())
		}
		time.Sleep(2 * time.Millisecond)
	}
	p.steps[StepPayable] = span{start, time.Now()}
	if _, err := b.step(ctx, p, payTest); err != nil {
		return err
	}
	start = time.Now()
	info, err := b.cloud.StepFunctions.WaitExecution(ctx, p.execARN)
	p.steps[StepWorkflow] = span{start, time.Now()}
	if err != nil {
		return fmt.Errorf("workflow: %w", err)
	}
	if info.Status != "SUCCEEDED" {
		return fmt.Errorf("workflow: execution %s: %s %s", info.Status, info.Error, info.Cause)
	}
	out, err = b.step(ctx, p, viewOrder)
	if err != nil {
		return err
	}
	var view struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(out, &view); err != nil || view.Status != "COMPLETE" {
		return fmt.Errorf("view: order %s is %q after its workflow succeeded, want COMPLETE", p.txid, view.Status)
	}
	return nil
}
