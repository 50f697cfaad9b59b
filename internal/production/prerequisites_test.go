package production_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lmsshop/checkout/internal/production"
)

// downLMS is an LMS whose reads fail, as when it cannot be reached.
type downLMS struct {
	production.LMS
	reads int
}

func (d *downLMS) FindUser(context.Context, string) (string, error) {
	d.reads++
	return "", errors.New("connection refused")
}

func TestUnmetCertificates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	uid, _, err := e.lms.EnsureUser(ctx, production.Person{Email: "enrolled@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.lms.Enrol(ctx, production.Enrolment{User: uid, Course: "GO-101", Role: "student"}); err != nil {
		t.Fatal(err)
	}
	// An account without the enrolment.
	if _, _, err := e.lms.EnsureUser(ctx, production.Person{Email: "account@example.org"}); err != nil {
		t.Fatal(err)
	}
	// planned is a delivery of handler in GO-101 to the buyer, or to student seats.
	planned := func(handler, line, buyer string, students ...string) production.Planned {
		p := production.Planned{Line: line, Job: production.Job{Handler: handler, Params: map[string]string{"course": "GO-101"}, Customer: production.Customer{Email: buyer}}}
		for _, s := range students {
			p.Job.Seats = append(p.Job.Seats, production.Seat{Participant: production.Participant{Email: s}, Role: production.RoleStudent})
		}
		return p
	}
	cert := func(line, buyer string, students ...string) production.Planned {
		return planned("certificate", line, buyer, students...)
	}
	course := func(line, buyer string, students ...string) production.Planned {
		return planned("enrol", line, buyer, students...)
	}
	session := planned("session", "SEC-GO", "nobody@example.org", "trainee@example.org")
	tests := []struct {
		name string
		plan []production.Planned
		want map[string]string // line → a part of the reason
	}{
		{name: "enrolled in the course", plan: []production.Planned{cert("CERT-GO", "Enrolled@Example.org")}},
		{name: "no LMS account", plan: []production.Planned{cert("CERT-GO", "nobody@example.org")},
			want: map[string]string{"CERT-GO": "the certificate of GO-101 is released only to a learner enrolled in that course, and nobody@example.org is not"}},
		{name: "an account, not enrolled", plan: []production.Planned{cert("CERT-GO", "account@example.org")},
			want: map[string]string{"CERT-GO": "account@example.org is not"}},
		{name: "a bundle's course part before its certificate", plan: []production.Planned{course("GO-BUNDLE", "nobody@example.org"), cert("GO-BUNDLE", "Nobody@example.org")}},
		{name: "a course line before the certificate line", plan: []production.Planned{course("GO-101", "nobody@example.org"), cert("CERT-GO", "nobody@example.org")}},
		// Production delivers in order: the certificate would come before the enrolment.
		{name: "the course line after the certificate line", plan: []production.Planned{cert("CERT-GO", "nobody@example.org"), course("GO-101", "nobody@example.org")},
			want: map[string]string{"CERT-GO": "nobody@example.org is not"}},
		{name: "the course for someone else", plan: []production.Planned{course("GO-101", "other@example.org"), cert("CERT-GO", "nobody@example.org")},
			want: map[string]string{"CERT-GO": "nobody@example.org is not"}},
		{name: "seats: one student of two not enrolled", plan: []production.Planned{cert("CERT-SEATS", "nobody@example.org", "enrolled@example.org", "account@example.org")},
			want: map[string]string{"CERT-SEATS": "account@example.org is not"}},
		// A session enrols its participants and the buyer (as supervisor).
		{name: "a session before the certificate, for its buyer", plan: []production.Planned{session, cert("CERT-GO", "nobody@example.org")}},
		{name: "a session before the certificate, for a trainee", plan: []production.Planned{session, cert("CERT-SEATS", "nobody@example.org", "trainee@example.org")}},
		{name: "no certificate", plan: []production.Planned{course("GO-101", "nobody@example.org")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := production.Unmet(ctx, e.lms, tt.plan)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("unmet %v, want %d line(s) %v", got, len(tt.want), tt.want)
			}
			for line, part := range tt.want {
				if !strings.Contains(got[line], part) {
					t.Errorf("unmet[%s] = %q, want it to contain %q", line, got[line], part)
				}
			}
		})
	}
	t.Run("nothing created in the LMS", func(t *testing.T) {
		if _, err := e.lms.FindUser(ctx, "nobody@example.org"); !errors.Is(err, production.ErrNotFound) {
			t.Fatalf("FindUser(nobody) = %v, want ErrNotFound: the checks must not create accounts", err)
		}
	})
	t.Run("an LMS that cannot answer", func(t *testing.T) {
		down := &downLMS{LMS: e.lms}
		if _, err := production.Unmet(ctx, down, []production.Planned{cert("CERT-GO", "a@example.org")}); err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("err = %v, want the LMS's failure", err)
		}
		// An order without a certificate costs no LMS call.
		down.reads = 0
		if got, err := production.Unmet(ctx, down, []production.Planned{course("GO-101", "a@example.org")}); err != nil || len(got) != 0 || down.reads != 0 {
			t.Fatalf("no certificate: %v, %v, %d LMS reads; want nothing and no read", got, err, down.reads)
		}
	})
}
