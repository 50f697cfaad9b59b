package production_test

import (
	"context"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/production"
)

// TestWithdraw: the handlers that can take a refunded unit back do it, and doing it
// again takes nothing more; the others do not claim to.
func TestWithdraw(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	at := now.Add(48 * time.Hour)
	tests := []struct {
		name, handler, line string
		params              map[string]string
		check               func(t *testing.T, in production.Instance)
	}{
		{"enrol: the enrolment ends", "enrol", "a", map[string]string{"course": "GO-101", "duration": "30"}, func(t *testing.T, in production.Instance) {
			got, ok := e.enrolment(t, in.Data["userId"], "GO-101")
			if !ok || !got.End.Equal(at) {
				t.Fatalf("enrolment %+v, want it ended at %s", got, at)
			}
		}},
		{"assignrole: the role is taken back", "assignrole", "b", map[string]string{"role": "studentplus", "context": "GO-101"}, func(t *testing.T, in production.Instance) {
			roles, err := e.lms.Roles(ctx, in.Data["userId"])
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range roles {
				if r.Role == "studentplus" {
					t.Fatalf("roles %+v: studentplus still there", roles)
				}
			}
		}},
		{"credits: the credits come off the balance, once", "credits", "c", map[string]string{"credits": "10"}, func(t *testing.T, in production.Instance) {
			got, err := e.st.Balance(ctx, buyer.Email, production.BalanceCredits)
			if err != nil || got != 0 {
				t.Fatalf("credits balance %d (%v), want 0 after 30 added and withdrawn", got, err)
			}
			again, err := e.st.Instance(ctx, in.Reference)
			if err != nil || again.Status != production.StatusWithdrawn {
				t.Fatalf("instance after withdrawal: %+v %v, want withdrawn", again, err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := job(tc.handler, 1, tc.params)
			if tc.handler == "credits" {
				j.Quantity = 3
			}
			j.LineID = tc.line
			res, err := e.hs[tc.handler].Postpay(ctx, j)
			if err != nil {
				t.Fatal(err)
			}
			w, ok := e.hs[tc.handler].(production.Withdrawer)
			if !ok {
				t.Fatalf("%s cannot withdraw", tc.handler)
			}
			for range 2 { // a retried refund takes nothing more
				if what, err := w.Withdraw(ctx, res.Instances[0], at); err != nil || what == "" {
					t.Fatalf("Withdraw = %q, %v", what, err)
				}
			}
			tc.check(t, res.Instances[0])
		})
	}
	for _, name := range []string{"certificate", "licence", "category", "coursespace", "seatspack", "extension", "quizattempts"} {
		if _, ok := e.hs[name].(production.Withdrawer); ok {
			t.Errorf("%s claims to withdraw what it cannot take back", name)
		}
	}
}
