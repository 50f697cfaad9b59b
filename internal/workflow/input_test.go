package workflow_test

import (
	"strings"
	"testing"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/workflow"
)

// The state machine gives production and billing the order as it was placed (the
// execution input's copy, status PLACED) instead of letting them read it. What the
// copy cannot know — the order's current status — is checked by the tasks' own
// writes: a paid order is delivered and billed once, however often the tasks run; an
// order refunded meanwhile gets neither a delivery nor an invoice, and stays as the
// refund left it.
func TestTasksWithTheOrderFromTheInput(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name      string
		refunded  bool
		wantErr   string
		wantTrace string
	}{
		{name: "paid order", wantTrace: "Production Controller : Full production starting ..."},
		{name: "refunded before production", refunded: true, wantErr: workflow.ErrTaskFailed,
			wantTrace: "Production Controller : full production refused: the order is no longer paid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			txid, _ := e.place("test", 12000)
			copied := e.order(txid) // the copy placement puts in the execution input
			if _, err := e.st.Move(e.ctx, txid, checkout.SoldOut, store.Change{Payment: &checkout.Payment{Mode: "test", Outcome: "paid", Amount: 12000}}); err != nil {
				t.Fatal(err)
			}
			if tc.refunded {
				if _, err := e.st.Move(e.ctx, txid, checkout.Payback, store.Change{}); err != nil {
					t.Fatal(err)
				}
			}
			before := e.order(txid)
			postpay := map[string]any{"action": "postpay", "txid": txid, "order": copied}
			invoice := map[string]any{"action": "invoice", "txid": txid, "order": copied}
			var numbers []string
			for run := 0; run < 2; run++ { // a retried task changes nothing more
				produced, errType := e.task(e.produce, postpay)
				if errType != tc.wantErr {
					t.Fatalf("postpay run %d reported %q, want %q", run+1, errType, tc.wantErr)
				}
				if produced != nil {
					// The state machine gives billing the references production answered.
					invoice["products"] = produced["products"]
				}
				out, errType := e.task(e.bill, invoice)
				if errType != tc.wantErr {
					t.Fatalf("invoice run %d reported %q, want %q", run+1, errType, tc.wantErr)
				}
				if out != nil {
					numbers = append(numbers, out["invoice"].(string))
				}
			}
			insts, err := e.st.CustomerInstances(e.ctx, buyerEmail)
			if err != nil {
				t.Fatal(err)
			}
			delivered := 0
			for _, in := range insts {
				if in.TxID == txid {
					delivered++
				}
			}
			after := e.order(txid)
			if tc.refunded {
				if delivered != 0 || after.Status != checkout.Payback || after.InvoiceNumber != "" || !after.UpdatedAt.Equal(before.UpdatedAt) {
					t.Errorf("refunded order: %d instance(s), %s, invoice %q, updated %v (was %v); want nothing delivered and the order unchanged",
						delivered, after.Status, after.InvoiceNumber, after.UpdatedAt, before.UpdatedAt)
				}
			} else if delivered != 1 || after.Status != checkout.Complete || len(numbers) != 2 || numbers[0] != numbers[1] || numbers[0] != after.InvoiceNumber {
				t.Errorf("paid order: %d instance(s), %s, numbers %v (stored %q); want one delivery and one invoice number", delivered, after.Status, numbers, after.InvoiceNumber)
			}
			for _, in := range insts {
				if in.TxID != txid {
					continue
				}
				if got, err := e.st.Instance(e.ctx, in.Reference); err != nil || !billed(got.Events) {
					t.Errorf("instance %s: events %+v, %v; want it billed", in.Reference, got.Events, err)
				}
				if refs, _ := invoice["products"].([]any); len(refs) != 1 || refs[0] != in.Reference {
					t.Errorf("postpay answered products %v, want [%s]", invoice["products"], in.Reference)
				}
			}
			if tr := e.traceText(txid); !strings.Contains(tr, tc.wantTrace) {
				t.Errorf("trace lacks %q:\n%s", tc.wantTrace, tr)
			}
		})
	}
}

func billed(events []production.Event) bool {
	for _, ev := range events {
		if ev.Type == production.EventBilled {
			return true
		}
	}
	return false
}
