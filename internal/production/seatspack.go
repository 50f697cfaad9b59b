package production

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// seatsPack sells seats to assign later: one unassigned instance per unit.
// Params: course (optional: the course the seats will enrol in).
type seatsPack struct{ base }

func (*seatsPack) ValidateParams(map[string]string) error { return nil }

func (h *seatsPack) Check(ctx context.Context, field, value string) error {
	return checkCourse(ctx, h.lms, field, value)
}

func (h *seatsPack) Postpay(ctx context.Context, j Job) (Result, error) {
	j, err := h.prepare(j)
	if err != nil {
		return Result{}, err
	}
	course := strings.TrimSpace(j.Params["course"])
	var res Result
	for i := 0; i < j.Quantity; i++ {
		inst, err := h.deliver(ctx, j, i, nil, func(_ context.Context, now time.Time, _ map[string]string) (draft, error) {
			return draft{inst: Instance{
				Context: course, Status: StatusUnassigned, Start: now,
				Events: []Event{{Type: EventUnassigned, At: now}},
			}}, nil
		})
		if err != nil {
			return Result{}, err
		}
		res.Instances = append(res.Instances, inst)
	}
	refs := make([]string, len(res.Instances))
	for i, in := range res.Instances {
		refs[i] = in.Reference
	}
	res.Feedback = Feedback{
		Public:     fmt.Sprintf("%d seats are ready to be assigned.", j.Quantity),
		Private:    "Seat references: " + strings.Join(refs, ", "),
		SalesAdmin: fmt.Sprintf("seatspack %s: %d unassigned seats for %s", j.ItemCode, j.Quantity, j.Customer.Email),
	}
	return res, nil
}
