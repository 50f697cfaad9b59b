package production

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// extension extends the beneficiary's enrolment in a course by days × quantity,
// counted from the current end, or from now when the enrolment has expired.
// Params: course, days (both required).
type extension struct{ base }

func (*extension) ValidateParams(p map[string]string) error {
	if _, err := required(p, "course"); err != nil {
		return fmt.Errorf("extension: %w", err)
	}
	if _, err := positiveInt(p, "days"); err != nil {
		return fmt.Errorf("extension: %w", err)
	}
	return nil
}

func (h *extension) Check(ctx context.Context, field, value string) error {
	return checkCourse(ctx, h.lms, field, value)
}

const pinUntil = "until"

func (h *extension) Postpay(ctx context.Context, j Job) (Result, error) {
	j, err := h.prepare(j)
	if err != nil {
		return Result{}, err
	}
	if err := h.ValidateParams(j.Params); err != nil {
		return Result{}, err
	}
	course := strings.TrimSpace(j.Params["course"])
	days, _ := positiveInt(j.Params, "days")
	total := days * j.Quantity
	people := beneficiaries(j)
	if len(people) != 1 {
		return Result{}, fmt.Errorf("extension %s: extends one enrolment, the line names %d people", j.ItemCode, len(people))
	}
	p := people[0]
	var uid string
	var prev Enrolment
	// The new end is computed once and pinned: extending is not idempotent
	// ("end + N days" moves on every run), setting the end to a pinned date is.
	decide := func(ctx context.Context, now time.Time) (map[string]string, error) {
		var err error
		if uid, _, err = h.lms.EnsureUser(ctx, p); err != nil {
			return nil, fmt.Errorf("ensure user %s: %w", p.Email, err)
		}
		prev, err = h.lms.Enrolment(ctx, uid, course)
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%s has no enrolment in %s to extend", p.Email, course)
		}
		if err != nil {
			return nil, fmt.Errorf("read enrolment of %s in %s: %w", p.Email, course, err)
		}
		if prev.End.IsZero() {
			return nil, fmt.Errorf("the enrolment of %s in %s has no end date: nothing to extend", p.Email, course)
		}
		from := prev.End
		if from.Before(now) {
			from = now // expired: the buyer pays for days from today, not for days already past
		}
		return map[string]string{pinUntil: from.AddDate(0, 0, total).Format(time.RFC3339), "previousEnd": prev.End.Format(time.RFC3339)}, nil
	}
	inst, err := h.deliver(ctx, j, 0, decide, func(ctx context.Context, now time.Time, pinned map[string]string) (draft, error) {
		until, err := time.Parse(time.RFC3339, pinned[pinUntil])
		if err != nil {
			return draft{}, fmt.Errorf("pinned end %q: %w", pinned[pinUntil], err)
		}
		if uid == "" { // decisions came from an earlier run
			if uid, _, err = h.lms.EnsureUser(ctx, p); err != nil {
				return draft{}, fmt.Errorf("ensure user %s: %w", p.Email, err)
			}
		}
		if err := h.lms.ExtendEnrolment(ctx, uid, course, until); err != nil {
			return draft{}, fmt.Errorf("extend %s in %s: %w", p.Email, course, err)
		}
		return draft{inst: Instance{
			Beneficiary: strings.ToLower(p.Email), Context: course, Start: now, End: until.UTC(),
			Data:   map[string]string{"days": itoa(total), "previousEnd": pinned["previousEnd"], "userId": uid},
			Events: []Event{{Type: EventExtended, At: now, Data: map[string]string{"until": pinned[pinUntil]}}},
		}}, nil
	})
	if err != nil {
		return Result{}, err
	}
	return Result{Instances: []Instance{inst}, Feedback: Feedback{
		Public:     fmt.Sprintf("Your access to %s is extended until %s.", course, day(inst.End)),
		SalesAdmin: fmt.Sprintf("extension %s: %s in %s +%d days → %s [%s]", j.ItemCode, inst.Beneficiary, course, total, day(inst.End), inst.Reference),
	}}, nil
}
