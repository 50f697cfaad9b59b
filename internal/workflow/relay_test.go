package workflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/lmsshop/checkout/internal/workflow"
)

// relay is the mail state machine as the back office sees it: it keeps each run's input
// (as JSON, which is how the run passes it to the Notify function), or fails to start.
type relay struct {
	mu     sync.Mutex
	inputs [][]byte
	fail   error
}

func (r *relay) Pass(_ context.Context, input any) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return "", r.fail
	}
	raw, err := json.Marshal(input)
	if err != nil {
		return "", err
	}
	r.inputs = append(r.inputs, raw)
	return fmt.Sprintf("arn:aws:states:us-east-1:000000000000:express:mail:run-%d", len(r.inputs)), nil
}

func (r *relay) runs() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.inputs...)
}

// TestBackofficeHandsItsEmailsToNotify: the back office sends no e-mail itself (it links
// no SES client); it hands each to the Notify function through the mail state machine,
// after the refund is recorded. A hand-off that fails fails the operator's action,
// which the retry finishes; the Notify function sends the e-mail once however many
// times a run gives it the task (Express runs are at least once), and gives it back to
// the run's retry when SES fails.
func TestBackofficeHandsItsEmailsToNotify(t *testing.T) {
	e := newEnv(t)
	txid := e.paidByStripe()
	e.stripe.Paid("cs_test_"+txid, 12000, "EUR")
	mails := &relay{fail: errors.New("StartExecution: throttled")}
	m := e.mailing
	m.Mail, m.Relay = nil, mails // as internal/wire/ops builds it: no sender at all
	e.backoffice = workflow.NewBackoffice(e.common, m, e.tokens, e.starter, e.providers.Modes, e.producers).Handler()

	code, _, resp := e.refund(txid, `{}`)
	if code != http.StatusServiceUnavailable || !strings.Contains(resp, "Notify function") {
		t.Fatalf("refund whose e-mail cannot be handed over = %d %s, want 503 saying so", code, resp)
	}
	o := e.order(txid)
	if o.CreditNoteNumber == "" {
		t.Fatalf("the refund was not recorded before its e-mail: %+v", o)
	}
	mails.fail = nil
	if code, _, resp := e.refund(txid, `{}`); code != http.StatusOK {
		t.Fatalf("the operator's retry = %d %s", code, resp)
	}
	runs := mails.runs()
	if len(runs) != 1 {
		t.Fatalf("%d mail runs, want 1", len(runs))
	}
	if got := e.mail.to(buyerEmail, o.CreditNoteNumber); len(got) != 0 {
		t.Fatalf("the back office sent %+v itself", got)
	}

	var task map[string]any
	if err := json.Unmarshal(runs[0], &task); err != nil {
		t.Fatal(err)
	}
	if task["event"] != workflow.EventMail || task["txid"] != txid {
		t.Fatalf("the run's input %s is not the Notify function's mail task of %s", runs[0], txid)
	}
	e.mail.fail = errors.New("SES: throttled")
	if _, errType := e.task(e.notify, task); errType != workflow.ErrTransient {
		t.Fatalf("Notify with SES failing: %q, want %s for the run's retry", errType, workflow.ErrTransient)
	}
	e.mail.fail = nil
	for range 2 { // the run's retry, and Express running the task once more
		e.mustTask(e.notify, task)
	}
	got := e.mail.to(buyerEmail, o.CreditNoteNumber)
	if len(got) != 1 || !strings.Contains(got[0].Text, "/orders/"+txid+"/bill?document=creditnote&format=html&token=") {
		t.Fatalf("credit-note e-mails to the buyer: %+v; want one, with the credit note's link", got)
	}

	// Bad input: a mail task that carries no e-mail of its order sends nothing.
	for _, bad := range []map[string]any{
		{"event": workflow.EventMail, "txid": txid},
		{"event": workflow.EventMail, "txid": txid, "mail": map[string]any{"name": "", "event": task["mail"].(map[string]any)["event"]}},
		{"event": workflow.EventMail, "txid": e.paidByStripe(), "mail": task["mail"]},
	} {
		if _, errType := e.task(e.notify, bad); errType != workflow.ErrTaskFailed {
			t.Errorf("mail task %v: %q, want %s", bad, errType, workflow.ErrTaskFailed)
		}
	}
	if got := e.mail.to(buyerEmail, o.CreditNoteNumber); len(got) != 1 {
		t.Fatalf("%d credit-note e-mails after the bad tasks, want still 1", len(got))
	}
}
