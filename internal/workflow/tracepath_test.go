package workflow_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// traceItems counts, per item of a transaction's partition, the trace lines it carries,
// and how many items hold nothing but trace lines (TRACE#…).
func (e *env) traceItems(txid string) (carried map[string]int, own int) {
	e.t.Helper()
	out, err := e.st.DB.Query(e.ctx, &dynamodb.QueryInput{
		TableName: &e.st.Table, ConsistentRead: aws.Bool(true), KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "TX#" + txid}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	carried = map[string]int{}
	for _, it := range out.Items {
		sk := it["sk"].(*types.AttributeValueMemberS).Value
		if strings.HasPrefix(sk, "TRACE#") {
			own++
			continue
		}
		if l, ok := it["trace"].(*types.AttributeValueMemberL); ok {
			carried[sk] = len(l.Value)
		}
	}
	return carried, own
}

// TestTraceRidesOnTheWrites: a task's trace lines travel in the write of the change
// they describe (no item and no call of their own), and the trace still reads them
// all, in order, in the trace format. A line whose step wrote nothing is stored once
// the invocation ends.
func TestTraceRidesOnTheWrites(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name        string
		task        func(txid string)
		wantOwn     int
		wantCarrier string
		wantLines   []string
	}{
		{
			name: "production: every line rides on the phase's feedback",
			task: func(txid string) {
				e.mustTask(e.produce, map[string]any{"action": "postpay", "txid": txid})
			},
			wantCarrier: "FEEDBACK#postpay",
			wantLines:   []string{"Order : placed", "Production Controller : Full production starting from SOLDOUT ...", "postpay done: 1 product(s)", "Production Controller : postpay production complete (1 line(s))"},
		},
		{
			name: "billing: the invoice line rides on the order's COMPLETE",
			task: func(txid string) {
				e.mustTask(e.bill, map[string]any{"action": "invoice", "txid": txid})
			},
			wantCarrier: "ORDER",
			wantLines:   []string{"Order : placed", "Billing : invoice DEMO-"},
		},
		{
			name: "a refusal with nothing written is stored on its own, once",
			task: func(txid string) {
				e.mustTask(e.bill, map[string]any{"action": "invoice", "txid": txid})
				e.mustTask(e.bill, map[string]any{"action": "fault", "txid": txid, "state": "Bill", "error": map[string]string{"Error": "X", "Cause": "y"}})
			},
			wantOwn:   1,
			wantLines: []string{"Order : placed", "Billing : invoice DEMO-", "Billing : FAULT in state Bill: X y"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txid, _ := e.paidOrder()
			tt.task(txid)
			carried, own := e.traceItems(txid)
			if own != tt.wantOwn {
				t.Errorf("items of trace lines alone = %d, want %d (carried: %v)", own, tt.wantOwn, carried)
			}
			if tt.wantCarrier != "" && carried[tt.wantCarrier] == 0 {
				t.Errorf("no line carried by %s: %v", tt.wantCarrier, carried)
			}
			text := e.traceText(txid)
			at := 0
			for _, want := range tt.wantLines {
				i := strings.Index(text[at:], want)
				if i < 0 {
					t.Fatalf("trace lacks %q after position %d:\n%s", want, at, text)
				}
				at += i + len(want)
			}
			for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
				if !strings.HasPrefix(l, "-- ") || !strings.Contains(l, "["+txid+"] ") {
					t.Errorf("line not in the trace format: %q", l)
				}
			}
		})
	}
}
