package production

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// certificate releases the course certificate to a beneficiary enrolled in the
// course; the instance is the release record the LMS certificate reads.
// Params: course (required).
type certificate struct{ base }

var _ Handler = (*certificate)(nil)

func (*certificate) Name() string { return "certificate" }

func (*certificate) ValidateParams(p map[string]string) error {
	if _, err := required(p, "course"); err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	return nil
}

func (h *certificate) Check(ctx context.Context, field, value string) error {
	return checkCourse(ctx, h.lms, field, value)
}

func (h *certificate) Prepay(ctx context.Context, j Job) (Result, error) {
	return h.prepay(ctx, h.Name(), j)
}

func (h *certificate) Postpay(ctx context.Context, j Job) (Result, error) {
	j, err := h.prepare(h.Name(), j)
	if err != nil {
		return Result{}, err
	}
	course, err := required(j.Params, "course")
	if err != nil {
		return Result{}, fmt.Errorf("certificate %s: %w", j.ItemCode, err)
	}
	var res Result
	var fb feedbackBuilder
	for i, p := range beneficiaries(j) {
		inst, err := h.deliver(ctx, h.Name(), j, i, nil, func(ctx context.Context, now time.Time, _ map[string]string) (draft, error) {
			uid, _, err := h.lms.EnsureUser(ctx, p)
			if err != nil {
				return draft{}, fmt.Errorf("ensure user %s: %w", p.Email, err)
			}
			if _, err := h.lms.Enrolment(ctx, uid, course); errors.Is(err, ErrNotFound) {
				return draft{}, fmt.Errorf("%s is not enrolled in %s: no certificate to release: %w", p.Email, course, ErrIneligible)
			} else if err != nil {
				return draft{}, fmt.Errorf("read enrolment of %s in %s: %w", p.Email, course, err)
			}
			return draft{inst: Instance{
				Beneficiary: strings.ToLower(p.Email), Context: course, Start: now,
				Data: map[string]string{"certificate": "released", "userId": uid},
			}}, nil
		})
		if err != nil {
			return Result{}, err
		}
		res.Instances = append(res.Instances, inst)
		fb.add(fmt.Sprintf("The certificate of %s is released for %s.", course, inst.Beneficiary), "",
			fmt.Sprintf("certificate %s: %s for %s [%s]", j.ItemCode, course, inst.Beneficiary, inst.Reference))
	}
	res.Feedback = fb.feedback()
	return res, nil
}
