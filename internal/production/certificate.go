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

func (*certificate) ValidateParams(p map[string]string) error {
	if _, err := required(p, "course"); err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	return nil
}

func (h *certificate) Check(ctx context.Context, field, value string) error {
	return checkCourse(ctx, h.lms, field, value)
}

func (h *certificate) Postpay(ctx context.Context, j Job) (Result, error) {
	j, err := h.prepare(j)
	if err != nil {
		return Result{}, err
	}
	course, err := required(j.Params, "course")
	if err != nil {
		return Result{}, fmt.Errorf("certificate %s: %w", j.ItemCode, err)
	}
	return h.perPerson(ctx, j, beneficiaries(j), func(ctx context.Context, now time.Time, p Person, uid string) (Instance, error) {
		if _, err := h.lms.Enrolment(ctx, uid, course); errors.Is(err, ErrNotFound) {
			return Instance{}, fmt.Errorf("%s is not enrolled in %s: no certificate to release: %w", p.Email, course, ErrIneligible)
		} else if err != nil {
			return Instance{}, fmt.Errorf("read enrolment of %s in %s: %w", p.Email, course, err)
		}
		return Instance{
			Beneficiary: strings.ToLower(p.Email), Context: course, Start: now,
			Data: map[string]string{"certificate": "released", "userId": uid},
		}, nil
	}, func(inst Instance) (string, string, string) {
		return fmt.Sprintf("The certificate of %s is released for %s.", course, inst.Beneficiary), "",
			fmt.Sprintf("certificate %s: %s for %s [%s]", j.ItemCode, course, inst.Beneficiary, inst.Reference)
	})
}
