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

func (h *assignRole) Postpay(ctx context.Context, j Job) (Result, error) {
	j, err := h.prepare(j)
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
	return h.perPerson(ctx, j, beneficiaries(j), func(ctx context.Context, now time.Time, p Person, uid string) (Instance, error) {
		if err := h.lms.AssignRole(ctx, uid, role, level, instance); err != nil {
			return Instance{}, fmt.Errorf("assign %s to %s on %s: %w", role, p.Email, where, err)
		}
		return Instance{
			Beneficiary: strings.ToLower(p.Email), Context: where, Start: now,
			Data: map[string]string{"role": role, "userId": uid},
		}, nil
	}, func(inst Instance) (string, string, string) {
		return fmt.Sprintf("%s now has the role %s on %s.", inst.Beneficiary, role, where), "",
			fmt.Sprintf("assignrole %s: %s → %s on %s [%s]", j.ItemCode, inst.Beneficiary, role, where, inst.Reference)
	})
}
