package production

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// EventWithdrawn is recorded on an instance taken back because its order was refunded.
const EventWithdrawn = "withdrawn"

// StatusWithdrawn is the status of an instance taken back.
const StatusWithdrawn = "withdrawn"

// PhaseWithdraw names the withdrawal of a unit among its production steps: committed
// once, like a delivery, so what it takes back is taken back once.
const PhaseWithdraw = "withdraw"

// Withdrawer is a handler that can take back a unit it delivered, when the order is
// refunded. Handlers that cannot (a released certificate, a licence key given, a course
// created) do not implement it: the workflow lists their instances for the operator.
type Withdrawer interface {
	// Withdraw takes back what in delivered, as of now, and says what it did. It is
	// idempotent: withdrawing again changes nothing more.
	Withdraw(ctx context.Context, in Instance, now time.Time) (string, error)
}

var (
	_ Withdrawer = (*enrol)(nil)
	_ Withdrawer = (*session)(nil)
	_ Withdrawer = (*assignRole)(nil)
	_ Withdrawer = (*credits)(nil)
)

// Withdraw implements Withdrawer: the role given is taken back.
func (h *assignRole) Withdraw(ctx context.Context, in Instance, _ time.Time) (string, error) {
	uid, role := in.Data["userId"], in.Data["role"]
	if uid == "" || role == "" || in.Context == "" {
		return "", fmt.Errorf("withdraw %s: the instance names no user, role or context", in.Reference)
	}
	level, instance := ContextCourse, in.Context
	if in.Context == ContextSite {
		level, instance = ContextSite, ""
	}
	if err := h.lms.UnassignRole(ctx, uid, role, level, instance); err != nil {
		return "", fmt.Errorf("withdraw %s: take %s back from %s on %s: %w", in.Reference, role, in.Beneficiary, in.Context, err)
	}
	return fmt.Sprintf("role %s of %s on %s taken back", role, in.Beneficiary, in.Context), nil
}

// Withdraw implements Withdrawer: the credits added are taken off the buyer's balance,
// committed once under the unit's withdraw marker with the instance marked withdrawn
// (the balance may go below zero when the buyer spent them: what they owe shows).
func (h *credits) Withdraw(ctx context.Context, in Instance, _ time.Time) (string, error) {
	n, err := strconv.ParseInt(in.Data["credits"], 10, 64)
	if err != nil || n <= 0 {
		return "", fmt.Errorf("withdraw %s: the instance holds no credits", in.Reference)
	}
	what := fmt.Sprintf("%d training credits taken off %s's balance", n, in.Customer)
	out := in
	out.Status, out.Events = StatusWithdrawn, nil
	err = h.store.Commit(ctx, Commit{Key: Key{TxID: in.TxID, LineID: in.LineID, Unit: in.Unit, Phase: PhaseWithdraw, Round: in.Round},
		Instance: out, Balances: map[string]int64{BalanceCredits: -n}})
	if errors.Is(err, ErrAlreadyProduced) {
		return what, nil // taken off by an earlier try
	}
	if err != nil {
		return "", fmt.Errorf("withdraw %s: %w", in.Reference, err)
	}
	return what, nil
}

// Withdraw implements Withdrawer: the enrolment ends now, so the beneficiary loses
// access to the course; the LMS keeps their work, as an expired enrolment does.
func (h *enrol) Withdraw(ctx context.Context, in Instance, now time.Time) (string, error) {
	return endEnrolment(ctx, h.lms, in, now)
}

// Withdraw implements Withdrawer: as enrol, for each participant's seat.
func (h *session) Withdraw(ctx context.Context, in Instance, now time.Time) (string, error) {
	return endEnrolment(ctx, h.lms, in, now)
}

func endEnrolment(ctx context.Context, lms LMS, in Instance, now time.Time) (string, error) {
	uid := in.Data["userId"]
	if uid == "" || in.Context == "" {
		return "", fmt.Errorf("withdraw %s: the instance names no user or course", in.Reference)
	}
	if err := lms.ExtendEnrolment(ctx, uid, in.Context, now.UTC()); err != nil {
		return "", fmt.Errorf("withdraw %s: end %s's enrolment in %s: %w", in.Reference, in.Beneficiary, in.Context, err)
	}
	return fmt.Sprintf("enrolment of %s in %s ended on %s", in.Beneficiary, in.Context, day(now)), nil
}
