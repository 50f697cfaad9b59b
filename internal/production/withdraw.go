package production

import (
	"context"
	"fmt"
	"time"
)

// EventWithdrawn is recorded on an instance taken back because its order was refunded.
const EventWithdrawn = "withdrawn"

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
)

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
