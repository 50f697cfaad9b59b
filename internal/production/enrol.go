package production

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// enrol enrols the line's beneficiaries (student seats, or the buyer) in a course.
// Params: course (required), role (default student), duration in days or
// start/end (YYYY-MM-DD or RFC 3339), group.
type enrol struct{ base }

// enrolTerms is the parsed handlerParams of enrol.
type enrolTerms struct {
	course, role, group string
	days                int
	start, end          time.Time
}

func parseDate(v string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD or RFC 3339", v)
	}
	return t.UTC(), nil
}

func parseEnrolTerms(p map[string]string) (enrolTerms, error) {
	var t enrolTerms
	var err error
	if t.course, err = required(p, "course"); err != nil {
		return t, err
	}
	t.role = strings.TrimSpace(p["role"])
	if t.role == "" {
		t.role = RoleStudent
	}
	t.group = strings.TrimSpace(p["group"])
	if p["duration"] != "" {
		if p["start"] != "" || p["end"] != "" {
			return t, fmt.Errorf("parameters duration and start/end are exclusive")
		}
		if t.days, err = positiveInt(p, "duration"); err != nil {
			return t, err
		}
	}
	if p["start"] != "" {
		if t.start, err = parseDate(p["start"]); err != nil {
			return t, fmt.Errorf("parameter start: %w", err)
		}
	}
	if p["end"] != "" {
		if t.end, err = parseDate(p["end"]); err != nil {
			return t, fmt.Errorf("parameter end: %w", err)
		}
		if !t.start.IsZero() && !t.end.After(t.start) {
			return t, fmt.Errorf("parameter end %s is not after start %s", day(t.end), day(t.start))
		}
	}
	return t, nil
}

// window returns the enrolment dates for a delivery at now.
func (t enrolTerms) window(now time.Time) (time.Time, time.Time) {
	start, end := now, t.end
	if !t.start.IsZero() {
		start = t.start
	}
	if t.days > 0 {
		end = start.AddDate(0, 0, t.days)
	}
	return start, end
}

func (*enrol) ValidateParams(p map[string]string) error {
	if _, err := parseEnrolTerms(p); err != nil {
		return fmt.Errorf("enrol: %w", err)
	}
	return nil
}

// Check implements Handler: a "course" value must name an existing course.
func (h *enrol) Check(ctx context.Context, field, value string) error {
	return checkCourse(ctx, h.lms, field, value)
}

func checkCourse(ctx context.Context, lms LMS, field, value string) error {
	if field != "course" {
		return nil
	}
	ok, err := lms.CourseExists(ctx, value)
	if err != nil {
		return fmt.Errorf("check course %q: %w", value, err)
	}
	if !ok {
		return fmt.Errorf("course %q does not exist", value)
	}
	return nil
}

func (h *enrol) Postpay(ctx context.Context, j Job) (Result, error) {
	j, err := h.prepare(j)
	if err != nil {
		return Result{}, err
	}
	t, err := parseEnrolTerms(j.Params)
	if err != nil {
		return Result{}, fmt.Errorf("enrol %s: %w", j.ItemCode, err)
	}
	people := beneficiaries(j)
	if len(j.Seats) == 0 && j.Quantity > 1 {
		return Result{}, fmt.Errorf("enrol %s: quantity %d needs %d assigned seats, the line has none", j.ItemCode, j.Quantity, j.Quantity)
	}
	if len(people) == 0 {
		return Result{}, fmt.Errorf("enrol %s: no student seat on the line", j.ItemCode)
	}
	return h.perPerson(ctx, j, people, func(ctx context.Context, now time.Time, p Person, uid string) (Instance, error) {
		start, end := t.window(now)
		if err := h.lms.Enrol(ctx, Enrolment{User: uid, Course: t.course, Role: t.role, Start: start, End: end, Group: t.group}); err != nil {
			return Instance{}, fmt.Errorf("enrol %s in %s: %w", p.Email, t.course, err)
		}
		return Instance{
			Beneficiary: strings.ToLower(p.Email), Context: t.course, Start: start, End: end,
			Data: map[string]string{"role": t.role, "group": t.group, "userId": uid},
		}, nil
	}, func(inst Instance) (string, string, string) {
		until := "without end date"
		if !inst.End.IsZero() {
			until = "until " + day(inst.End)
		}
		return fmt.Sprintf("%s is enrolled in %s %s.", inst.Beneficiary, t.course, until),
			fmt.Sprintf("%s: log in with %s to reach %s (reference %s).", inst.Beneficiary, inst.Beneficiary, t.course, inst.Reference),
			fmt.Sprintf("enrol %s: %s in %s as %s %s [%s]", j.ItemCode, inst.Beneficiary, t.course, t.role, until, inst.Reference)
	})
}

// itoa is strconv.Itoa, named for brevity in Data maps.
func itoa(n int) string { return strconv.Itoa(n) }
