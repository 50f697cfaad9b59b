package locallms_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/production/locallms"
	"github.com/lmsshop/checkout/internal/production/prodtest"
)

func TestLocalLMS(t *testing.T) {
	st := prodtest.NewStore(t)
	l := locallms.New(st.DB, st.Table)
	ctx := context.Background()
	if err := l.Seed(ctx, locallms.DemoCourses...); err != nil {
		t.Fatal(err)
	}
	if err := l.Seed(ctx, locallms.DemoCourses...); err != nil {
		t.Fatalf("seeding twice: %v", err)
	}
	for _, c := range locallms.DemoCourses {
		if ok, err := l.CourseExists(ctx, c); err != nil || !ok {
			t.Fatalf("seeded course %s: %v, %v", c, ok, err)
		}
	}
	uid, created, err := l.EnsureUser(ctx, production.Person{Email: "Eve@X.org", FirstName: "Eve", LastName: "E"})
	if err != nil || !created || uid != "eve@x.org" {
		t.Fatalf("EnsureUser = %q, %v, %v", uid, created, err)
	}
	end := prodtest.Now.AddDate(0, 1, 0)
	if err := l.Enrol(ctx, production.Enrolment{User: uid, Course: "GO-101", Role: "student", Start: prodtest.Now, End: end}); err != nil {
		t.Fatal(err)
	}
	later := end.AddDate(0, 0, 10)
	if err := l.ExtendEnrolment(ctx, uid, "GO-101", later); err != nil {
		t.Fatal(err)
	}
	if e, err := l.Enrolment(ctx, uid, "GO-101"); err != nil || !e.End.Equal(later) || e.Role != "student" {
		t.Fatalf("Enrolment after extension = %+v, %v; want end %s", e, err, later)
	}

	tests := []struct {
		name     string
		call     func() error
		wantText string
		notFound bool
	}{
		{"empty seed", func() error { return l.Seed(ctx, " ") }, "empty course short name", false},
		{"bad e-mail", func() error { _, _, err := l.EnsureUser(ctx, production.Person{Email: "eve"}); return err }, "not an address", false},
		{"enrol in missing course", func() error {
			return l.Enrol(ctx, production.Enrolment{User: uid, Course: "NOPE", Role: "student"})
		}, "NOPE", true},
		{"enrol without role", func() error { return l.Enrol(ctx, production.Enrolment{User: uid, Course: "GO-101"}) }, "needs a user and a role", false},
		{"unknown context level", func() error { return l.AssignRole(ctx, uid, "x", "galaxy", "") }, `context level "galaxy"`, false},
		{"role on missing course", func() error { return l.AssignRole(ctx, uid, "x", production.ContextCourse, "NOPE") }, "NOPE", true},
		{"extend missing enrolment", func() error { return l.ExtendEnrolment(ctx, uid, "SEC-201", time.Now()) }, "SEC-201", true},
		{"category under missing parent", func() error { _, _, err := l.EnsureCategory(ctx, "Child", "cat-000"); return err }, "cat-000", true},
		{"course in missing category", func() error { _, _, err := l.EnsureCourse(ctx, "NEW-1", "New", "cat-000"); return err }, "cat-000", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil || !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantText)
			}
			if errors.Is(err, production.ErrNotFound) != tc.notFound {
				t.Errorf("errors.Is(err, ErrNotFound) = %v, want %v", !tc.notFound, tc.notFound)
			}
		})
	}
}
