package workflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/production/locallms"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/workflow"
)

// racingStore is the table as production sees it, with the operator's refund landing
// at one moment of the first postpay unit's delivery: just before its commit (after
// its claim and its effect in the LMS), or just after it. The refund runs in the same
// goroutine, so the interleaving is the one named, every time.
type racingStore struct {
	*store.Store
	beforeCommit, afterCommit func()
	// failCommit makes that commit fail without writing, as a table that does not
	// answer: the task is retried, and the refund lands before the retry.
	failCommit bool
	// loseKnowingCommit loses the answer of the commit a run makes knowing that the
	// refund closed the unit (production.Commit.Refunded), as a run that stops right
	// after it: the unit is committed and not withdrawn yet when the task is retried.
	loseKnowingCommit bool
	once, knowing     sync.Once
}

func (r *racingStore) Commit(ctx context.Context, c production.Commit) error {
	if c.Key.Phase != production.PhasePostpay {
		return r.Store.Commit(ctx, c)
	}
	if c.Refunded && r.loseKnowingCommit {
		err := r.Store.Commit(ctx, c)
		lost := false
		r.knowing.Do(func() { lost = true })
		if err == nil && lost {
			return errors.New("the run stopped after its commit")
		}
		return err
	}
	first := false
	r.once.Do(func() { first = true })
	if first && r.beforeCommit != nil {
		r.beforeCommit()
	}
	if first && r.failCommit {
		return errors.New("the table did not answer")
	}
	err := r.Store.Commit(ctx, c)
	if first && r.afterCommit != nil {
		r.afterCommit()
	}
	return err
}

// TestRefundRacingProduction: an operator refunds a paid order while production
// delivers it. Wherever the refund lands in the unit's delivery — between its claim and
// its commit (its effect made in the LMS; and the run stopping right after it records
// the unit), just after its commit, or between a commit that failed and the task's
// retry — once both are done the buyer has the money back
// and no product: the enrolment is ended or the credits are off the balance, the back
// office's order shows the unit with one withdrawn event, the trace says what happened,
// and retrying either side (the production task, the operator's refund) gives nothing
// and takes nothing twice.
func TestRefundRacingProduction(t *testing.T) {
	credits := func(o *checkout.Order) {
		o.Lines[0].Handler, o.Lines[0].Params = "credits", map[string]string{"credits": "5"}
	}
	role := func(o *checkout.Order) {
		o.Lines[0].Handler, o.Lines[0].Params = "assignrole", map[string]string{"role": "studentplus", "context": "COURSE-101"}
	}
	const (
		beforeCommit = "between claim and commit"
		afterCommit  = "just after the commit"
		beforeRetry  = "between a failed commit and the retry"
		lostCommit   = "between claim and commit, the run stopping after it"
	)
	tests := []struct {
		name    string
		edit    func(*checkout.Order)
		moment  string
		wantErr string // the production task's error (its retry's, beforeRetry)
	}{
		{"enrolment", nil, beforeCommit, workflow.ErrTaskFailed},
		{"credits", credits, beforeCommit, workflow.ErrTaskFailed},
		{"role", role, beforeCommit, workflow.ErrTaskFailed},
		{"enrolment", nil, afterCommit, ""},
		{"credits", credits, afterCommit, ""},
		{"role", role, afterCommit, ""},
		{"enrolment", nil, beforeRetry, workflow.ErrTaskFailed},
		{"credits", credits, beforeRetry, workflow.ErrTaskFailed},
		{"role", role, beforeRetry, workflow.ErrTaskFailed},
		{"enrolment", nil, lostCommit, workflow.ErrTaskFailed},
		{"credits", credits, lostCommit, workflow.ErrTaskFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name+", refunded "+tt.moment, func(t *testing.T) {
			e := newEnv(t)
			lms := locallms.New(e.st.DB, e.st.Table)
			race := &racingStore{Store: e.st}
			e.producers = production.Handlers(lms, race, nil)
			e.build()

			txid, _ := e.placeWith("check", 12000, tt.edit)
			// The execution input's copy: production does not read the order.
			postpay := map[string]any{"action": "postpay", "txid": txid, "order": e.order(txid)}
			e.startPayment(txid, "T-"+txid)
			if code, body := e.recordPayment(txid, `{"mode":"check","amount":12000,"reference":"CHQ-1"}`); code != http.StatusOK {
				t.Fatalf("payment received: %d %s", code, body)
			}
			refund := func() {
				if code, _, resp := e.refund(txid, `{"reference":"CHQ-1 returned"}`); code != http.StatusOK {
					t.Fatalf("refund = %d %s", code, resp)
				}
			}
			switch tt.moment {
			case beforeCommit:
				race.beforeCommit = refund
			case afterCommit:
				race.afterCommit = refund
			case beforeRetry:
				race.failCommit = true
			case lostCommit:
				race.beforeCommit, race.loseKnowingCommit = refund, true
			}
			_, errName := e.task(e.produce, postpay)
			switch tt.moment {
			case beforeRetry:
				if errName != workflow.ErrTransient {
					t.Fatalf("production task with a failed commit: error %q, want %q", errName, workflow.ErrTransient)
				}
				refund()
				_, errName = e.task(e.produce, postpay)
			case lostCommit:
				if errName != workflow.ErrTransient {
					t.Fatalf("production task stopped after its commit: error %q, want %q", errName, workflow.ErrTransient)
				}
				_, errName = e.task(e.produce, postpay)
			}

			check := func(when string) {
				t.Helper()
				o := e.order(txid)
				refunds := 0
				for _, p := range o.Payments {
					if p.Outcome == workflow.OutcomeRefunded {
						refunds++
					}
				}
				if o.Status != checkout.Cancelled || refunds != 1 {
					t.Fatalf("%s: order %s with %d refund(s), want CANCELLED with one", when, o.Status, refunds)
				}
				code, body, _ := e.admin("GET", "/admin/orders/"+txid, "", nil, nil)
				var v workflow.AdminOrder
				if code != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil {
					t.Fatalf("%s: back-office order = %d %s", when, code, body)
				}
				if len(v.Products) != 1 || v.Products[0].Status != production.StatusWithdrawn {
					t.Fatalf("%s: back-office order shows products %+v, want the one unit, withdrawn", when, v.Products)
				}
				ref := v.Products[0].Reference
				code, body, _ = e.admin("GET", "/admin/products/"+ref, "", nil, nil)
				var in production.Instance
				if code != http.StatusOK || json.Unmarshal([]byte(body), &in) != nil {
					t.Fatalf("%s: back-office product %s = %d %s", when, ref, code, body)
				}
				if withdrawals(in.Events) != 1 {
					t.Fatalf("%s: product %s events %+v, want one withdrawn", when, ref, in.Events)
				}
				switch in.Handler {
				case "enrol":
					e.wantEnrolmentEnded(t, in.Data["userId"])
				case "credits":
					if n, err := e.st.Balance(e.ctx, buyerEmail, production.BalanceCredits); err != nil || n != 0 {
						t.Fatalf("%s: credits balance %d %v, want 0", when, n, err)
					}
				case "assignrole":
					if roles, err := lms.Roles(e.ctx, in.Data["userId"]); err != nil || len(roles) != 0 {
						t.Fatalf("%s: the buyer's roles in the LMS %+v %v, want none", when, roles, err)
					}
				default:
					t.Fatalf("%s: handler %q", when, in.Handler)
				}
				if tr := e.traceText(txid); !strings.Contains(tr, ref) || !strings.Contains(tr, "withdrawn") {
					t.Fatalf("%s: the trace does not say %s was withdrawn:\n%s", when, ref, tr)
				}
			}
			check("after the race")
			if errName != tt.wantErr {
				t.Errorf("production task error %q, want %q", errName, tt.wantErr)
			}

			if _, errName := e.task(e.produce, postpay); errName != workflow.ErrTaskFailed {
				t.Errorf("production retried: error %q, want %q", errName, workflow.ErrTaskFailed)
			}
			check("after production retried")
			refund()
			check("after the refund retried")
			if mails := e.mail.to(buyerEmail, "refunded"); len(mails) != 1 {
				t.Errorf("%d refund e-mails, want 1", len(mails))
			}
		})
	}
}

// enrolHook is the local LMS with a hook run once, at the first enrolment, before it
// is made: what happens while one run of production is in its LMS call.
type enrolHook struct {
	*locallms.LMS
	before func()
	ran    bool // the hook runs other enrolments: one goroutine, so no lock
}

func (l *enrolHook) Enrol(ctx context.Context, en production.Enrolment) error {
	if !l.ran {
		l.ran = true
		l.before()
	}
	return l.LMS.Enrol(ctx, en)
}

// TestTwoRunsOfProductionAndARefund: two runs of one production task (Express runs
// are at least once) deliver the same unit, and the refund lands while the first is
// about to enrol the buyer: the second run, claiming after the refund, enrols,
// records the unit and takes it back; then the first run's enrolment reopens the
// course, and its commit, refused, has it take the unit back too. The buyer ends with
// no access, the unit withdrawn once.
func TestTwoRunsOfProductionAndARefund(t *testing.T) {
	e := newEnv(t)
	lms := &enrolHook{LMS: locallms.New(e.st.DB, e.st.Table)}
	e.producers = production.Handlers(lms, e.st, nil)
	e.build()
	txid, _ := e.place("check", 12000)
	postpay := map[string]any{"action": "postpay", "txid": txid, "order": e.order(txid)}
	e.startPayment(txid, "T-"+txid)
	if code, body := e.recordPayment(txid, `{"mode":"check","amount":12000,"reference":"CHQ-1"}`); code != http.StatusOK {
		t.Fatalf("payment received: %d %s", code, body)
	}
	var second string
	lms.before = func() {
		if code, _, resp := e.refund(txid, `{"reference":"CHQ-1 returned"}`); code != http.StatusOK {
			t.Fatalf("refund = %d %s", code, resp)
		}
		_, second = e.task(e.produce, postpay)
	}
	_, first := e.task(e.produce, postpay)
	if first != workflow.ErrTaskFailed || second != workflow.ErrTaskFailed {
		t.Errorf("the two runs ended with %q and %q, want %q both", first, second, workflow.ErrTaskFailed)
	}
	insts, err := e.st.CustomerInstances(e.ctx, buyerEmail)
	if err != nil || len(insts) != 1 || insts[0].Status != production.StatusWithdrawn {
		t.Fatalf("the buyer's products %+v (%v), want the one unit, withdrawn", insts, err)
	}
	e.wantEnrolmentEnded(t, insts[0].Data["userId"])
	if events, err := e.st.ProductEvents(e.ctx, insts[0].Reference); err != nil || withdrawals(events) != 1 {
		t.Errorf("product events %+v (%v), want one withdrawn", events, err)
	}
}

// wantEnrolmentEnded fails t unless the LMS user's enrolment in the test catalog's
// course has ended: the learner has no access left.
func (e *env) wantEnrolmentEnded(t *testing.T, userID string) {
	t.Helper()
	enr, err := locallms.New(e.st.DB, e.st.Table).Enrolment(e.ctx, userID, "COURSE-101")
	if err != nil || enr.End.IsZero() || enr.End.After(time.Now()) {
		t.Fatalf("enrolment of %s: %+v %v; want it ended", userID, enr, err)
	}
}

// withdrawals counts the withdrawn events among events.
func withdrawals(events []production.Event) int {
	n := 0
	for _, ev := range events {
		if ev.Type == production.EventWithdrawn {
			n++
		}
	}
	return n
}
