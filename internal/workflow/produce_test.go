package workflow_test

import (
	"strings"
	"testing"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/workflow"
)

func TestProduceRefusals(t *testing.T) {
	e := newEnv(t)
	t.Run("postpay of an unpaid order", func(t *testing.T) {
		txid, _ := e.place("check", 12000)
		if _, errType := e.task(e.produce, map[string]any{"action": "postpay", "txid": txid}); errType != workflow.ErrTaskFailed {
			t.Fatalf("postpay of a PLACED order reported %q, want %s", errType, workflow.ErrTaskFailed)
		}
		if insts, _ := e.st.CustomerInstances(e.ctx, buyerEmail); len(insts) != 0 {
			t.Fatalf("an unpaid order was delivered: %+v", insts)
		}
		if !strings.Contains(e.traceText(txid), "full production refused: order is PLACED") {
			t.Errorf("refusal not traced:\n%s", e.traceText(txid))
		}
	})
	t.Run("line without a handler", func(t *testing.T) {
		txid, _ := e.paidOrder()
		enrol := e.producers["enrol"]
		delete(e.producers, "enrol") // the map the Produce function's service holds
		defer func() { e.producers["enrol"] = enrol }()
		if _, errType := e.task(e.produce, map[string]any{"action": "postpay", "txid": txid}); errType != workflow.ErrTaskFailed {
			t.Fatalf("unknown handler reported %q, want %s", errType, workflow.ErrTaskFailed)
		}
		if !strings.Contains(e.traceText(txid), `no production handler "enrol"`) {
			t.Errorf("missing handler not traced:\n%s", e.traceText(txid))
		}
	})
	// A certificate whose buyer is not enrolled in its course (placement checks it, but
	// the enrolment may end while an offline payment is awaited): retrying cannot
	// change it, so it is TaskFailed, not Transient, and the deliver run goes straight
	// to its fault state instead of retrying for half a minute. Nothing is delivered.
	t.Run("certificate for a buyer not enrolled", func(t *testing.T) {
		txid, _ := e.placeWith("test", 12000, func(o *checkout.Order) {
			o.Lines[0].Code, o.Lines[0].Handler, o.Lines[0].Params = "CERT-101", "certificate", map[string]string{"course": "COURSE-101"}
		})
		if _, err := e.st.Move(e.ctx, txid, checkout.SoldOut, store.Change{}); err != nil {
			t.Fatal(err)
		}
		if _, errType := e.task(e.produce, map[string]any{"action": "postpay", "txid": txid}); errType != workflow.ErrTaskFailed {
			t.Fatalf("certificate without enrolment reported %q, want %s (not worth a retry)", errType, workflow.ErrTaskFailed)
		}
		if tr := e.traceText(txid); !strings.Contains(tr, "is not enrolled in COURSE-101: no certificate to release") {
			t.Errorf("the reason is not traced for the operator:\n%s", tr)
		}
		if insts, _ := e.st.CustomerInstances(e.ctx, buyerEmail); len(insts) != 0 {
			t.Fatalf("a certificate was released: %+v", insts)
		}
		if o := e.order(txid); o.Status != checkout.SoldOut {
			t.Errorf("order %s, want it left SOLDOUT for an operator", o.Status)
		}
	})
	t.Run("fault path is traced", func(t *testing.T) {
		txid, _ := e.place("check", 12000)
		e.mustTask(e.produce, map[string]any{"action": "fault", "txid": txid, "state": "Produce",
			"error": map[string]string{"Error": "Transient", "Cause": "LMS unreachable"}})
		if tr := e.traceText(txid); !strings.Contains(tr, "Production Controller : FAULT in state Produce: Transient LMS unreachable") {
			t.Errorf("fault not traced:\n%s", tr)
		}
	})
}

func TestProductionFeedbackReachesTheBuyer(t *testing.T) {
	e := newEnv(t)
	txid, _ := e.paidOrder()
	e.mustTask(e.produce, map[string]any{"action": "prepay", "txid": txid})
	e.mustTask(e.produce, map[string]any{"action": "postpay", "txid": txid})
	fb, err := e.st.Feedback(e.ctx, txid)
	if err != nil {
		t.Fatal(err)
	}
	post := fb["postpay"]
	if len(post) != 1 || post[0].Line != "L01" || post[0].Public == "" {
		t.Fatalf("postpay feedback %+v: want one line with public feedback", post)
	}
	// Prepay created the buyer's LMS account: one welcome e-mail, however often it runs.
	e.mustTask(e.produce, map[string]any{"action": "prepay", "txid": txid})
	if got := len(e.mail.to(buyerEmail, "account has been created")); got != 1 {
		t.Errorf("AccountCreated e-mails = %d, want 1", got)
	}
	e.mustTask(e.notify, map[string]any{"event": "delivered", "txid": txid})
	mails := e.mail.to(buyerEmail, "is ready")
	if len(mails) != 1 {
		t.Fatalf("buyer got %d delivery e-mails, want 1", len(mails))
	}
	firstLine := strings.SplitN(post[0].Public, "\n", 2)[0]
	if !strings.Contains(mails[0].Text, firstLine) {
		t.Errorf("delivery e-mail lacks the handler's feedback %q:\n%s", firstLine, mails[0].Text)
	}
	if o := e.order(txid); o.Status != checkout.SoldOut {
		t.Errorf("notify changed the order: %s", o.Status)
	}
}
