package production

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Planned is one delivery of an order as placement sees it, before payment, in the
// order production will deliver them (a bundle through its parts): the Job production
// would run (its handler, parameters, customer and seats are what the rule reads).
type Planned struct {
	// Line names the delivery to the buyer: the code of the cart line (a bundle's, for
	// its parts).
	Line string
	Job  Job
}

// enrols lists who the delivery enrols in its course, by the handlers' own rules:
// enrol its beneficiaries (beneficiaries, as Postpay), session every seat and the buyer
// (as supervisor); nil for the other handlers.
func (p Planned) enrols() []Person {
	j := p.Job
	switch j.Handler {
	case "enrol":
		return beneficiaries(j)
	case "session":
		out := []Person{j.Customer.Person()}
		for _, s := range j.Seats {
			out = append(out, s.Participant.Person())
		}
		return out
	}
	return nil
}

// Unmet returns why production would refuse, for good, a planned delivery once the
// order is paid, keyed by its Line; an LMS that cannot answer is an error. Placement
// asks it so that a buyer is not taken money for what cannot be delivered. One rule
// is checked: a certificate is released only to a beneficiary enrolled in its course,
// in the LMS now or by a delivery that comes before it in the same order (the course
// part of a bundle, a course line before it), since production delivers in that order.
// The LMS is read only for certificates, so an order without one costs no call.
func Unmet(ctx context.Context, lms LMS, plan []Planned) (map[string]string, error) {
	enrolledBy := map[string]bool{} // course + " " + e-mail, by an earlier delivery
	unmet := map[string]string{}
	for _, p := range plan {
		course := p.Job.Params["course"]
		for _, b := range p.enrols() {
			enrolledBy[course+" "+strings.ToLower(b.Email)] = true
		}
		if p.Job.Handler != "certificate" {
			continue
		}
		for _, b := range beneficiaries(p.Job) {
			email := strings.ToLower(b.Email)
			if enrolledBy[course+" "+email] {
				continue
			}
			ok, err := enrolled(ctx, lms, email, course)
			if err != nil {
				return nil, err
			}
			if !ok && unmet[p.Line] == "" {
				unmet[p.Line] = fmt.Sprintf("the certificate of %s is released only to a learner enrolled in that course, and %s is not: buy the course with it, or enrol first", course, email)
			}
		}
	}
	return unmet, nil
}

// enrolled reports whether email has an account enrolled in course, creating nothing.
func enrolled(ctx context.Context, lms LMS, email, course string) (bool, error) {
	uid, err := lms.FindUser(ctx, email)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("find the LMS account of %s: %w", email, err)
	}
	_, err = lms.Enrolment(ctx, uid, course)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the enrolment of %s in %s: %w", email, course, err)
	}
	return true, nil
}
