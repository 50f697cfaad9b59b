package production

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// RoleSupervisor is the role of the buyer of a training session.
const RoleSupervisor = "supervisor"

// session sets up a training session: every assigned seat participant is
// enrolled in the course with the seat's role, and the buyer as supervisor.
// Params: course (required), group (optional), duration/start/end as enrol.
type session struct{ base }

// Roles implements Handler: seats may also name supervisors besides the buyer.
func (*session) Roles() []string { return []string{RoleSupervisor} }

func (*session) ValidateParams(p map[string]string) error {
	if _, err := parseEnrolTerms(p); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	return nil
}

func (h *session) Check(ctx context.Context, field, value string) error {
	return checkCourse(ctx, h.lms, field, value)
}

func (h *session) Postpay(ctx context.Context, j Job) (Result, error) {
	j, err := h.prepare(j)
	if err != nil {
		return Result{}, err
	}
	t, err := parseEnrolTerms(j.Params)
	if err != nil {
		return Result{}, fmt.Errorf("session %s: %w", j.ItemCode, err)
	}
	if len(j.Seats) == 0 {
		return Result{}, fmt.Errorf("session %s: no participant is assigned", j.ItemCode)
	}
	// Seat i is unit i; the buyer's supervision is the unit after the seats.
	seats := append([]Seat(nil), j.Seats...)
	seats = append(seats, Seat{Participant: Participant{Email: j.Customer.Email, FirstName: j.Customer.FirstName, LastName: j.Customer.LastName}, Role: RoleSupervisor})
	var res Result
	var fb feedbackBuilder
	for i, s := range seats {
		role := s.Role
		if role == "" {
			role = RoleStudent
		}
		p := s.Participant.Person()
		inst, err := h.deliver(ctx, j, i, nil, func(ctx context.Context, now time.Time, _ map[string]string) (draft, error) {
			start, end := t.window(now)
			uid, _, err := h.lms.EnsureUser(ctx, p)
			if err != nil {
				return draft{}, fmt.Errorf("ensure user %s: %w", p.Email, err)
			}
			if err := h.lms.Enrol(ctx, Enrolment{User: uid, Course: t.course, Role: role, Start: start, End: end, Group: t.group}); err != nil {
				return draft{}, fmt.Errorf("enrol %s in %s as %s: %w", p.Email, t.course, role, err)
			}
			return draft{inst: Instance{
				Beneficiary: strings.ToLower(p.Email), Context: t.course, Start: start, End: end,
				Data: map[string]string{"role": role, "group": t.group, "userId": uid},
			}}, nil
		})
		if err != nil {
			return Result{}, err
		}
		res.Instances = append(res.Instances, inst)
		fb.add(fmt.Sprintf("%s joins the session %s as %s.", inst.Beneficiary, t.course, role), "",
			fmt.Sprintf("session %s: %s in %s as %s [%s]", j.ItemCode, inst.Beneficiary, t.course, role, inst.Reference))
	}
	res.Feedback = fb.feedback()
	return res, nil
}
