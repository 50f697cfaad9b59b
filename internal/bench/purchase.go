package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lmsshop/checkout/internal/storefront"
)

// The steps of one purchase, in order, as the report names them.
const (
	StepCreate   = "create"   // POST /carts
	StepLine     = "line"     // PUT /carts/{txid}/lines/GO-101
	StepCustomer = "customer" // PUT /carts/{txid}/customer
	StepPlace    = "place"    // POST /carts/{txid}/order
	StepPayable  = "payable"  // placement → the workflow waits for the payment (observed in the table)
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

// step times one request and checks its status.
func (b *buyer) step(ctx context.Context, p *purchase, name, method, path, body string, want int) ([]byte, error) {
	start := time.Now()
	code, out, err := b.call(ctx, method, strings.ReplaceAll(path, "{txid}", p.txid), p.token, body)
	p.steps[name] = span{start, time.Now()}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if code != want {
		return nil, fmt.Errorf("%s: %s %s = %d %s, want %d", name, method, path, code, bytes.TrimSpace(out), want)
	}
	return out, nil
}

// run makes one full purchase paid in test mode and waits until it is COMPLETE.
func (b *buyer) run(ctx context.Context) *purchase {
	p := &purchase{steps: map[string]span{}, start: time.Now()}
	p.err = b.purchase(ctx, p)
	p.end = time.Now()
	return p
}

func (b *buyer) purchase(ctx context.Context, p *purchase) error {
	out, err := b.step(ctx, p, StepCreate, "POST", "/carts", "", http.StatusCreated)
	if err != nil {
		return err
	}
	var created struct {
		TransactionID string `json:"transactionId"`
		CartToken     string `json:"cartToken"`
	}
	if err := json.Unmarshal(out, &created); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	p.txid, p.token = created.TransactionID, created.CartToken
	p.execARN = strings.Replace(b.cloud.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + p.txid
	if _, err := b.step(ctx, p, StepLine, "PUT", "/carts/{txid}/lines/GO-101", `{"quantity":1}`, http.StatusOK); err != nil {
		return err
	}
	if _, err := b.step(ctx, p, StepCustomer, "PUT", "/carts/{txid}/customer", buyerJSON, http.StatusOK); err != nil {
		return err
	}
	if _, err := b.step(ctx, p, StepPlace, "POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"test"}`, http.StatusCreated); err != nil {
		return err
	}
	// The payment can be made once the workflow's Payment state stored its task token.
	// Watching the table directly keeps the wait out of the counted traffic.
	start := time.Now()
	for {
		token, state, err := b.cloud.Store.TaskToken(ctx, p.txid)
		if err == nil && token != "" && state == "payment" {
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("payable: the order never waited for its payment: %w", ctx.Err())
		}
		time.Sleep(2 * time.Millisecond)
	}
	p.steps[StepPayable] = span{start, time.Now()}
	if _, err := b.step(ctx, p, StepPay, "POST", "/orders/{txid}/payment/test", `{"action":"pay"}`, http.StatusOK); err != nil {
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
	out, err = b.step(ctx, p, StepView, "GET", "/orders/{txid}", "", http.StatusOK)
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
