package workflow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/lmsshop/checkout/internal/localcloud/cloudtest"
	"github.com/lmsshop/checkout/internal/localcloud/cognitolocal"
	"github.com/lmsshop/checkout/internal/storefront"
	"github.com/lmsshop/checkout/internal/workflow"
)

// buyer drives the public API of a running local cloud as the storefront does.
type buyer struct {
	t            *testing.T
	c            *cloudtest.Cloud
	txid, token  string
	executionARN string
}

func (b *buyer) do(method, path, body string) (int, []byte) {
	b.t.Helper()
	r, err := storefront.Call(context.Background(), nil, method, b.c.APIURL+path, b.token, body)
	if err != nil {
		b.t.Fatal(err)
	}
	return r.Status, r.Body
}

func (b *buyer) must(method, path, body string, want int) []byte {
	b.t.Helper()
	code, out := b.do(method, path, body)
	if code != want {
		b.t.Fatalf("%s %s: %d %s, want %d", method, path, code, out, want)
	}
	return out
}

// place fills a cart with GO-101 and places it with paymode.
func (b *buyer) place(paymode string) {
	b.t.Helper()
	var created struct {
		TransactionID string `json:"transactionId"`
		CartToken     string `json:"cartToken"`
	}
	if err := json.Unmarshal(b.must("POST", "/carts", "", http.StatusCreated), &created); err != nil {
		b.t.Fatal(err)
	}
	b.txid, b.token = created.TransactionID, created.CartToken
	b.must("PUT", "/carts/"+b.txid+"/lines/GO-101", `{"quantity":1}`, http.StatusOK)
	b.must("PUT", "/carts/"+b.txid+"/customer", `{"email":"`+buyerEmail+`","lastName":"Lovelace","firstName":"Ada","address":"1 Main St","zip":"75001","city":"Paris","country":"FR"}`, http.StatusOK)
	b.must("POST", "/carts/"+b.txid+"/order", `{"acceptTerms":true,"paymode":"`+paymode+`"}`, http.StatusCreated)
	b.executionARN = strings.Replace(b.c.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + b.txid
}

// waitFor polls the order page until cond holds.
func (b *buyer) waitFor(what string, cond func(workflow.OrderView) bool) workflow.OrderView {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var v workflow.OrderView
	for time.Now().Before(deadline) {
		code, out := b.do("GET", "/orders/"+b.txid, "")
		if code == http.StatusOK && json.Unmarshal(out, &v) == nil && cond(v) {
			return v
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("order %s never %s; last view %+v", b.txid, what, v)
	return v
}

// waitExecution waits for the workflow to end and returns its status.
func (b *buyer) waitExecution() sfntypes.ExecutionStatus {
	b.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		out, err := b.c.SFN.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(b.executionARN)})
		if err == nil && out.Status != sfntypes.ExecutionStatusRunning {
			return out.Status
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("execution %s still running", b.executionARN)
	return ""
}

// TestEndToEndOnTheLocalCloud runs purchases through the real API Gateway emulation,
// the real state machine definition on the local engine, DynamoDB Local and SES local.
func TestEndToEndOnTheLocalCloud(t *testing.T) {
	c := cloudtest.Start(t)
	ctx := context.Background()

	t.Run("test mode: pay, produce, invoice, e-mail", func(t *testing.T) {
		b := &buyer{t: t, c: c}
		b.place("test")
		b.waitFor("waits for the test buttons", func(v workflow.OrderView) bool { return v.Waiting == "payment" })
		b.must("POST", "/orders/"+b.txid+"/payment/test", `{"action":"pay"}`, http.StatusOK)
		if st := b.waitExecution(); st != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("execution %s, want SUCCEEDED", st)
		}
		v := b.waitFor("is complete", func(v workflow.OrderView) bool { return v.Status == "COMPLETE" })
		if v.InvoiceNumber == "" || v.DocumentKind != "invoice" {
			t.Fatalf("complete order without an invoice: %+v", v)
		}
		var bill workflow.BillView
		if err := json.Unmarshal(b.must("GET", "/orders/"+b.txid+"/bill", "", http.StatusOK), &bill); err != nil || bill.Number != v.InvoiceNumber {
			t.Fatalf("bill %+v (%v), want invoice %s", bill, err, v.InvoiceNumber)
		}
		mails, err := c.Mail(ctx)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, m := range mails {
			found = found || (strings.Contains(m.Body.Text, "/#/bill/"+b.txid) && len(m.Destination.To) == 1 && m.Destination.To[0] == buyerEmail)
		}
		if !found {
			t.Fatalf("no delivery e-mail with the bill link among %d mails", len(mails))
		}
	})

	t.Run("failed, retried by cheque, recorded by an operator", func(t *testing.T) {
		b := &buyer{t: t, c: c}
		b.place("test")
		b.waitFor("waits for the test buttons", func(v workflow.OrderView) bool { return v.Waiting == "payment" })
		b.must("POST", "/orders/"+b.txid+"/payment/test", `{"action":"fail"}`, http.StatusOK)
		b.waitFor("waits for a retry", func(v workflow.OrderView) bool { return v.Status == "FAILED" && v.Waiting == "retry" })
		b.must("POST", "/orders/"+b.txid+"/payment", `{"paymode":"check"}`, http.StatusAccepted)
		v := b.waitFor("waits for the cheque", func(v workflow.OrderView) bool {
			return v.Status == "PENDING" && v.Waiting == "payment" && v.Payment != nil && v.Payment.Mode == "check"
		})
		body, _ := json.Marshal(map[string]any{"mode": "check", "amount": v.Totals.Final, "reference": "CHQ-0042"})
		// A sales operator, signed in to the local user pool, records the cheque.
		r := c.OperatorRequest(t, "sales", "POST", "/admin/orders/"+b.txid+"/payment-received", body)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("payment-received: %d %s", resp.StatusCode, out)
		}
		if st := b.waitExecution(); st != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("execution %s, want SUCCEEDED", st)
		}
		b.waitFor("is complete", func(v workflow.OrderView) bool { return v.Status == "COMPLETE" })

		r = c.OperatorRequest(t, "accounting", "GET", "/admin/orders/"+b.txid+"/trace", nil)
		r.Header.Set("Accept", "text/plain")
		resp, err = http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		var trace bytes.Buffer
		_, _ = io.Copy(&trace, resp.Body)
		resp.Body.Close()
		for _, want := range []string{"Test Processing : failing", "buyer retries the payment with check",
			"sales@" + cognitolocal.OperatorDomain + " recorded a check payment", "invoice "} {
			if !strings.Contains(trace.String(), want) {
				t.Errorf("trace lacks %q:\n%s", want, trace.String())
			}
		}
	})
}
