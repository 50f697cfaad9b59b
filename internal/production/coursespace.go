package production

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// courseSpace creates a course per unit, short name (and full name) from the
// unit's required data, and makes the buyer its teacher.
// Params: category (required LMS category ID), role (buyer's role, default editingteacher).
type courseSpace struct{ base }

// validShortname keeps short names to what URLs, e-mails and the table keys carry safely:
// 1 to 100 letters, digits, underscores, dots and hyphens, starting with a letter or digit.
// (Not a regular expression: its bounded repetition compiled at every cold start.)
func validShortname(v string) bool {
	if len(v) == 0 || len(v) > 100 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && ((c != '_' && c != '.' && c != '-') || i == 0) {
			return false
		}
	}
	return true
}

func (*courseSpace) ValidateParams(p map[string]string) error {
	if _, err := required(p, "category"); err != nil {
		return fmt.Errorf("coursespace: %w", err)
	}
	return nil
}

// Check implements Handler: a "shortname" must be well-formed and not taken.
func (h *courseSpace) Check(ctx context.Context, field, value string) error {
	switch field {
	case "shortname":
		if !validShortname(value) {
			return fmt.Errorf("short name %q: use 1-100 letters, digits, '.', '_' or '-'", value)
		}
		taken, err := h.lms.CourseExists(ctx, value)
		if err != nil {
			return fmt.Errorf("check short name %q: %w", value, err)
		}
		if taken {
			return fmt.Errorf("short name %q is already used by a course", value)
		}
	case "fullname":
		return checkName("full name", value)
	}
	return nil
}

const pinTaken = "shortnameTaken"

func (h *courseSpace) Postpay(ctx context.Context, j Job) (Result, error) {
	j, err := h.prepare(j)
	if err != nil {
		return Result{}, err
	}
	cat, err := required(j.Params, "category")
	if err != nil {
		return Result{}, fmt.Errorf("coursespace %s: %w", j.ItemCode, err)
	}
	role := strings.TrimSpace(j.Params["role"])
	if role == "" {
		role = "editingteacher"
	}
	var res Result
	var fb feedbackBuilder
	for i := 0; i < j.Quantity; i++ {
		short := unitValue(j, i, "shortname")
		if !validShortname(short) {
			return Result{}, fmt.Errorf("coursespace %s unit %d: short name %q is missing or malformed", j.ItemCode, i, short)
		}
		full := unitValue(j, i, "fullname")
		if full == "" {
			full = short
		}
		// Whether the short name was free is decided once and pinned: a retry
		// after a crash finds the course it created itself, while a name taken
		// by someone else must never make the buyer teacher of that course.
		decide := func(ctx context.Context, _ time.Time) (map[string]string, error) {
			taken, err := h.lms.CourseExists(ctx, short)
			if err != nil {
				return nil, fmt.Errorf("check short name %s: %w", short, err)
			}
			return map[string]string{pinTaken: fmt.Sprint(taken)}, nil
		}
		inst, err := h.deliver(ctx, j, i, decide, func(ctx context.Context, now time.Time, pinned map[string]string) (draft, error) {
			if pinned[pinTaken] != "false" {
				return draft{}, fmt.Errorf("short name %q is already used by a course", short)
			}
			id, _, err := h.lms.EnsureCourse(ctx, short, full, cat)
			if err != nil {
				return draft{}, fmt.Errorf("create course %s: %w", short, err)
			}
			uid, _, err := h.lms.EnsureUser(ctx, j.Customer.Person())
			if err != nil {
				return draft{}, fmt.Errorf("ensure user %s: %w", j.Customer.Email, err)
			}
			if err := h.lms.Enrol(ctx, Enrolment{User: uid, Course: short, Role: role, Start: now}); err != nil {
				return draft{}, fmt.Errorf("enrol %s in %s as %s: %w", j.Customer.Email, short, role, err)
			}
			return draft{inst: Instance{Context: short, Start: now,
				Data: map[string]string{"courseId": id, "fullname": full, "category": cat, "role": role}}}, nil
		})
		if err != nil {
			return Result{}, err
		}
		res.Instances = append(res.Instances, inst)
		fb.add(fmt.Sprintf("Your course space %s (%s) is ready; you are its %s.", short, full, role), "",
			fmt.Sprintf("coursespace %s: %s id %s in category %s [%s]", j.ItemCode, short, inst.Data["courseId"], cat, inst.Reference))
	}
	res.Feedback = fb.feedback()
	return res, nil
}
