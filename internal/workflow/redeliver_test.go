package workflow_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/production/locallms"
	"github.com/lmsshop/checkout/internal/workflow"
)

// TestLatePaymentDeliveredAfterARefund: an order delivered, invoiced and refunded
// (its products withdrawn, a credit note issued) receives a late payment, flagged; the
// operator settles it with deliver, and the workflow started again produces and bills
// the order. The buyer has their access back in the LMS, the back office shows a new
// product instance for the unit beside the old one (withdrawn), the trace names it,
// and the order is invoiced again under a new number (the first invoice and its credit
// note stay as issued). Production and billing retried change nothing more; a second
// refund withdraws the new instance and credits the new invoice, leaving the old
// instance as the first refund left it.
func TestLatePaymentDeliveredAfterARefund(t *testing.T) {
	credits := func(o *checkout.Order) {
		o.Lines[0].Handler, o.Lines[0].Params = "credits", map[string]string{"credits": "5"}
	}
	role := func(o *checkout.Order) {
		o.Lines[0].Handler, o.Lines[0].Params = "assignrole", map[string]string{"role": "studentplus", "context": "COURSE-101"}
	}
	tests := []struct {
		name string
		edit func(*checkout.Order)
	}{
		{"enrolment", nil},
		{"credits", credits},
		{"role", role},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			starter := &fakeStarter{}
			e.starter = starter
			lms := locallms.New(e.st.DB, e.st.Table)
			e.build()

			txid, first, firstNote, copied := e.refundedThenDelivered(t, starter, tt.edit)
			again := map[string]any{"action": "postpay", "txid": txid, "order": copied}
			out := e.mustTask(e.produce, again)
			if retried := e.mustTask(e.produce, again); fmt.Sprint(retried["products"]) != fmt.Sprint(out["products"]) {
				t.Errorf("production retried answered %v, want %v", retried["products"], out["products"])
			}
			invoice := map[string]any{"action": "invoice", "txid": txid, "order": copied, "products": out["products"]}
			second := fmt.Sprint(e.mustTask(e.bill, invoice)["invoice"])
			if retried := fmt.Sprint(e.mustTask(e.bill, invoice)["invoice"]); retried != second {
				t.Errorf("billing retried answered %s, want %s", retried, second)
			}

			// What the buyer and the operator check.
			o := e.order(txid)
			if o.Status != checkout.Complete || o.InvoiceNumber != second || second == first || second == "" {
				t.Fatalf("re-delivered order %s invoiced %q (first invoice %s); want COMPLETE with a new invoice number", o.Status, o.InvoiceNumber, first)
			}
			if o.CreditNoteNumber != "" {
				t.Errorf("re-delivered order still shows credit note %s as its own", o.CreditNoteNumber)
			}
			old, fresh := e.redelivered(t, txid)
			e.wantAccess(t, lms, fresh, true)
			if withdrawals(old.Events) != 1 {
				t.Errorf("old product %s events %+v, want one withdrawn", old.Reference, old.Events)
			}
			if tr := e.traceText(txid); !strings.Contains(tr, fresh.Reference) || !strings.Contains(tr, "invoice "+second) ||
				!strings.Contains(tr, "invoice "+first+" and its credit note "+firstNote+" kept as issued") {
				t.Errorf("the trace does not name %s delivered, invoice %s, and the first invoice kept:\n%s", fresh.Reference, second, tr)
			}
			billed := false
			for _, ev := range fresh.Events {
				billed = billed || (ev.Type == production.EventBilled && ev.Data["invoice"] == second)
			}
			if !billed {
				t.Errorf("new product %s events %+v, want billed on %s", fresh.Reference, fresh.Events, second)
			}
			documented := false
			for _, doc := range o.EarlierDocuments {
				documented = documented || (doc.InvoiceNumber == first && doc.CreditNoteNumber == firstNote)
			}
			if !documented {
				t.Errorf("earlier documents %+v, want invoice %s with credit note %s", o.EarlierDocuments, first, firstNote)
			}

			// A second refund takes the new unit back, credits the new invoice, and
			// leaves the old unit as the first refund left it.
			if code, _, resp := e.refund(txid, `{"key":"check#CHQ-2","reference":"CHQ-2 returned"}`); code != http.StatusOK {
				t.Fatalf("second refund = %d %s", code, resp)
			}
			o = e.order(txid)
			if o.Status != checkout.Cancelled || o.CreditNoteNumber == "" || o.CreditNoteNumber == firstNote {
				t.Fatalf("after the second refund: %s, credit note %q; want CANCELLED with a new credit note", o.Status, o.CreditNoteNumber)
			}
			old, fresh = e.redelivered(t, txid)
			if fresh.Status != production.StatusWithdrawn || withdrawals(fresh.Events) != 1 || withdrawals(old.Events) != 1 {
				t.Fatalf("after the second refund: new %s %+v, old %+v; want each withdrawn once", fresh.Status, fresh.Events, old.Events)
			}
			e.wantAccess(t, lms, fresh, false)
		})
	}
}

// refundedThenDelivered makes an order delivered, invoiced and refunded, then records a
// late payment on it, flagged late, which the operator settles with deliver. It returns
// the order's transaction ID, its first invoice and credit note numbers, and the order
// the execution started again carries.
func (e *env) refundedThenDelivered(t *testing.T, starter *fakeStarter, edit func(*checkout.Order)) (txid, invoice, creditNote string, copied checkout.Order) {
	t.Helper()
	txid, _ = e.placeWith("check", 12000, edit)
	e.startPayment(txid, "T-"+txid)
	if code, body := e.recordPayment(txid, `{"mode":"check","amount":12000,"reference":"CHQ-1"}`); code != http.StatusOK {
		t.Fatalf("payment received: %d %s", code, body)
	}
	e.mustTask(e.produce, map[string]any{"action": "postpay", "txid": txid, "order": e.order(txid)})
	invoice = fmt.Sprint(e.mustTask(e.bill, map[string]any{"action": "invoice", "txid": txid})["invoice"])
	if code, _, resp := e.refund(txid, `{"reference":"CHQ-1 returned"}`); code != http.StatusOK {
		t.Fatalf("refund = %d %s", code, resp)
	}
	refunded := e.order(txid)
	if refunded.Status != checkout.Cancelled || refunded.CreditNoteNumber == "" {
		t.Fatalf("refunded order %s, credit note %q; want CANCELLED with a credit note", refunded.Status, refunded.CreditNoteNumber)
	}
	if code, body := e.recordPayment(txid, `{"mode":"check","amount":12000,"reference":"CHQ-2"}`); code != http.StatusAccepted {
		t.Fatalf("late payment: %d %s", code, body)
	}
	if f := e.flagOf(txid); f == nil || f.Reason != workflow.ReasonLate {
		t.Fatalf("flag %+v, want late", f)
	}
	if code, resp, _ := e.admin("POST", "/admin/orders/"+txid+"/settle", `{"action":"deliver"}`, nil, nil); code != http.StatusOK {
		t.Fatalf("settle deliver: %d %s", code, resp)
	}
	in, ok := starter.input(txid + "-deliver")
	if !ok {
		t.Fatalf("no workflow started again: %v", starter.started)
	}
	if err := json.Unmarshal(in.Order, &copied); err != nil {
		t.Fatalf("execution input's order: %v", err)
	}
	return txid, invoice, refunded.CreditNoteNumber, copied
}

// TestRefundRacingARedelivery: the second refund of a refunded order delivered again
// lands while production delivers it again, between a unit's claim and its commit. The
// refund closes the new round's claim, and production takes the unit back itself: the
// buyer ends without access, the new instance withdrawn once, the old one untouched.
func TestRefundRacingARedelivery(t *testing.T) {
	e := newEnv(t)
	starter := &fakeStarter{}
	e.starter = starter
	lms := locallms.New(e.st.DB, e.st.Table)
	race := &racingStore{Store: e.st}
	e.producers = production.Handlers(lms, race, nil)
	e.build()
	txid, _, _, copied := e.refundedThenDelivered(t, starter, nil)
	race.once = sync.Once{} // the first delivery's commit was the first: the race is the next one
	race.beforeCommit = func() {
		if code, _, resp := e.refund(txid, `{"key":"check#CHQ-2","reference":"CHQ-2 returned"}`); code != http.StatusOK {
			t.Fatalf("second refund = %d %s", code, resp)
		}
	}
	again := map[string]any{"action": "postpay", "txid": txid, "order": copied}
	if _, errName := e.task(e.produce, again); errName != workflow.ErrTaskFailed {
		t.Fatalf("production racing the refund: error %q, want %q", errName, workflow.ErrTaskFailed)
	}
	if _, errName := e.task(e.produce, again); errName != workflow.ErrTaskFailed {
		t.Fatalf("production retried: error %q, want %q", errName, workflow.ErrTaskFailed)
	}
	old, fresh := e.redelivered(t, txid)
	if fresh.Status != production.StatusWithdrawn || withdrawals(fresh.Events) != 1 || withdrawals(old.Events) != 1 {
		t.Fatalf("new %s %+v, old %+v; want each withdrawn once", fresh.Status, fresh.Events, old.Events)
	}
	e.wantAccess(t, lms, fresh, false)
	if tr := e.traceText(txid); !strings.Contains(tr, "delivered while the order was refunded (CHQ-2 returned): withdrawn") {
		t.Errorf("the trace does not say production took the new unit back:\n%s", tr)
	}
}

// redelivered reads the back office's order, which must show two instances of the
// one unit: the first delivery's, withdrawn, and the re-delivery's.
func (e *env) redelivered(t *testing.T, txid string) (old, fresh production.Instance) {
	t.Helper()
	code, body, _ := e.admin("GET", "/admin/orders/"+txid, "", nil, nil)
	var v workflow.AdminOrder
	if code != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil {
		t.Fatalf("back-office order = %d %s", code, body)
	}
	if len(v.Products) != 2 {
		t.Fatalf("back-office order shows products %+v, want two: the first delivery and the new one", v.Products)
	}
	var got []production.Instance
	for _, p := range v.Products {
		code, body, _ := e.admin("GET", "/admin/products/"+p.Reference, "", nil, nil)
		var in production.Instance
		if code != http.StatusOK || json.Unmarshal([]byte(body), &in) != nil {
			t.Fatalf("back-office product %s = %d %s", p.Reference, code, body)
		}
		got = append(got, in)
	}
	old, fresh = got[0], got[1]
	if fresh.Round < old.Round {
		old, fresh = fresh, old
	}
	if old.Status != production.StatusWithdrawn || fresh.Round <= old.Round {
		t.Fatalf("products %+v, want the first delivery's withdrawn and a later one", got)
	}
	return old, fresh
}

// wantAccess fails t unless the buyer has (want) or has not the unit's effect in the LMS.
func (e *env) wantAccess(t *testing.T, lms *locallms.LMS, in production.Instance, want bool) {
	t.Helper()
	switch in.Handler {
	case "enrol":
		enr, err := lms.Enrolment(e.ctx, in.Data["userId"], "COURSE-101")
		active := err == nil && (enr.End.IsZero() || enr.End.After(time.Now()))
		if active != want {
			t.Fatalf("enrolment %+v %v: active %v, want %v", enr, err, active, want)
		}
	case "credits":
		n, err := e.st.Balance(e.ctx, buyerEmail, production.BalanceCredits)
		if err != nil || (n == 5) != want || (!want && n != 0) {
			t.Fatalf("credits balance %d %v, want active %v", n, err, want)
		}
	case "assignrole":
		roles, err := lms.Roles(e.ctx, in.Data["userId"])
		if err != nil || (len(roles) == 1) != want || (!want && len(roles) != 0) {
			t.Fatalf("the buyer's roles in the LMS %+v %v, want active %v", roles, err, want)
		}
	default:
		t.Fatalf("handler %q", in.Handler)
	}
}
