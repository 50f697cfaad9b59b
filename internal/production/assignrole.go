package production

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// assignRole gives the line's beneficiaries a role on a context, e.g. the
// upgraded "Student+" role on a course or site-wide.
// Params: role (required), context = a course short name or "site" (default).
type assignRole struct{ base }

var _ Handler = (*assignRole)(nil)

func (*assignRole) Name() string { return "assignrole" }

func roleTerms(p map[string]string) (role, level, instance string, err error) {
	if role, err = required(p, "role"); err != nil {
		return "", "", "", err
	}
	c := strings.TrimSpace(p["context"])
	if c == "" || c == ContextSite {
		return role, ContextSite, "", nil
	}
	return role, ContextCourse, c, nil
}

func (*assignRole) ValidateParams(p map[string]string) error {
	if _, _, _, err := roleTerms(p); err != nil {
		return fmt.Errorf("assignrole: %w", err)
	}
	return nil
}

// Check implements Handler: a "context" value must be "site" or an existing course.
func (h *assignRole) Check(ctx context.Context, field, value string) error {
	if field == "context" && value != ContextSite {
		return checkCourse(ctx, h.lms, "course", value)
	}
	return nil
}

func (h *assignRole) Prepay(ctx context.Context, j Job) (Result, error) {
	return h.prepay(ctx, h.Name(), j)
}

func (h *assignRole) Postpay(ctx context.Context, j Job) (Result, error) {
	j, err := h.prepare(h.Name(), j)
	if err != nil {
		return Result{}, err
	}
	role, level, instance, err := roleTerms(j.Params)
	if err != nil {
		return Result{}, fmt.Errorf("assignrole %s: %w", j.ItemCode, err)
	}
	where := ContextSite
	if level == ContextCourse {
		where = instance
	}
	var res Result
	var fb feedbackBuilder
	for i, p := range beneficiaries(j) {
		inst, err := h.deliver(ctx, h.Name(), j, i, nil, func(ctx context.Context, now time.Time, _ map[string]string) (draft, error) {
			uid, _, err := h.lms.EnsureUser(ctx, p)
			if err != nil {
				return draft{}, fmt.Errorf("ensure user %s: %w", p.Email, err)
			}
			if err := h.lms.AssignRole(ctx, uid, role, level, instance); err != nil {
				return draft{}, fmt.Errorf("assign %s to %s on %s: %w", role, p.Email, where, err)
			}
			return draft{inst: Instance{
				Beneficiary: strings.ToLower(p.Email), Context: where, Start: now,
				Data: map[string]string{"role": role, "userId": uid},
			}}, nil
		})
		if err != nil {
			return Result{}, err
		}
		res.Instances = append(res.Instances, inst)
		fb.add(fmt.Sprintf("%s now has the role %s on %s.", inst.Beneficiary, role, where), "",
			fmt.Sprintf("assignrole %s: %s → %s on %s [%s]", j.ItemCode, inst.Beneficiary, role, where, inst.Reference))
	}
	res.Feedback = fb.feedback()
	return res, nil
}
