package production

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// category creates a course category per unit. The name comes from the
// unit's required data field "name", or from the parameter name.
// Params: name (optional default), parent (optional parent category ID).
type category struct{ base }

func (*category) ValidateParams(map[string]string) error { return nil }

// Check implements Handler: a category name must be non-blank and at most 255 characters (Moodle's limit).
func (*category) Check(_ context.Context, field, value string) error {
	if field != "name" {
		return nil
	}
	return checkName("category name", value)
}

func checkName(what, v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if len([]rune(v)) > 255 {
		return fmt.Errorf("%s is longer than 255 characters", what)
	}
	return nil
}

// unitValue returns unit i's required-data field, falling back to a parameter.
func unitValue(j Job, i int, field string) string {
	if i < len(j.Required) {
		if v := strings.TrimSpace(j.Required[i][field]); v != "" {
			return v
		}
	}
	return strings.TrimSpace(j.Params[field])
}

func (h *category) Postpay(ctx context.Context, j Job) (Result, error) {
	j, err := h.prepare(j)
	if err != nil {
		return Result{}, err
	}
	parent := strings.TrimSpace(j.Params["parent"])
	var res Result
	var fb feedbackBuilder
	for i := 0; i < j.Quantity; i++ {
		name := unitValue(j, i, "name")
		if err := checkName("category name", name); err != nil {
			return Result{}, fmt.Errorf("category %s unit %d: %w", j.ItemCode, i, err)
		}
		inst, err := h.deliver(ctx, j, i, nil, func(ctx context.Context, now time.Time, _ map[string]string) (draft, error) {
			id, created, err := h.lms.EnsureCategory(ctx, name, parent)
			if err != nil {
				return draft{}, fmt.Errorf("create category %q: %w", name, err)
			}
			return draft{inst: Instance{Context: "category:" + id, Start: now,
				Data: map[string]string{"categoryId": id, "name": name, "parent": parent, "created": fmt.Sprint(created)}}}, nil
		})
		if err != nil {
			return Result{}, err
		}
		res.Instances = append(res.Instances, inst)
		fb.add(fmt.Sprintf("The course category %q is ready.", name), "",
			fmt.Sprintf("category %s: %q id %s [%s]", j.ItemCode, name, inst.Data["categoryId"], inst.Reference))
	}
	res.Feedback = fb.feedback()
	return res, nil
}
