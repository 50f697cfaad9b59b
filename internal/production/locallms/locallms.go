// Package locallms is the LMS adapter used by `make run`: it records users,
// enrolments, role assignments, categories and courses in the checkout's own
// DynamoDB table, so that production can be exercised without a Moodle.
package locallms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lmsshop/checkout/internal/production"
)

// LMS is the local LMS adapter.
type LMS struct {
	tables
}

var _ production.LMS = (*LMS)(nil)

// New returns a local LMS keeping its records in the checkout's table.
func New(db *dynamodb.Client, table string) *LMS {
	return &LMS{tables{db: db, table: table}}
}

// DemoCourses are the short names the demo catalog refers to.
var DemoCourses = []string{"GO-101", "SEC-201", "PM-301", "COURSE-101"}

// Seed creates the given courses (short names) unless they exist; seeding twice is harmless.
func (l *LMS) Seed(ctx context.Context, shortnames ...string) error {
	for _, sn := range shortnames {
		sn = strings.TrimSpace(sn)
		if sn == "" {
			return errors.New("seed local LMS: empty course short name")
		}
		if _, _, err := l.ensureCourse(ctx, Course{Shortname: sn, Fullname: sn}); err != nil {
			return fmt.Errorf("seed local LMS: %w", err)
		}
	}
	return nil
}

// EnsureUser implements production.LMS; the user ID is the lowercased e-mail.
func (l *LMS) EnsureUser(ctx context.Context, p production.Person) (string, bool, error) {
	if !strings.Contains(p.Email, "@") {
		return "", false, fmt.Errorf("local LMS: user e-mail %q is not an address", p.Email)
	}
	u, created, err := l.ensureUser(ctx, User{Email: p.Email, FirstName: p.FirstName, LastName: p.LastName, Organisation: p.Organisation, Lang: p.Lang})
	if err != nil {
		return "", false, err
	}
	return u.ID, created, nil
}

// FindUser implements production.LMS: one read of the user's record.
func (l *LMS) FindUser(ctx context.Context, email string) (string, error) {
	u, err := l.user(ctx, email)
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

// CourseExists implements production.LMS.
func (l *LMS) CourseExists(ctx context.Context, shortname string) (bool, error) {
	_, err := l.Course(ctx, shortname)
	if errors.Is(err, production.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (l *LMS) mustCourse(ctx context.Context, shortname string) error {
	ok, err := l.CourseExists(ctx, shortname)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("local LMS: course %q: %w", shortname, production.ErrNotFound)
	}
	return nil
}

// Enrol implements production.LMS: enrolling again replaces the dates, role and group.
func (l *LMS) Enrol(ctx context.Context, e production.Enrolment) error {
	if e.User == "" || e.Role == "" {
		return errors.New("local LMS: enrolment needs a user and a role")
	}
	if err := l.mustCourse(ctx, e.Course); err != nil {
		return err
	}
	rec := Enrolment{User: e.User, Course: e.Course, Role: e.Role, Start: e.Start.UTC(), Group: e.Group}
	if !e.End.IsZero() {
		end := e.End.UTC()
		rec.End = &end
	}
	return l.putEnrolment(ctx, rec)
}

// AssignRole implements production.LMS.
func (l *LMS) AssignRole(ctx context.Context, user, role, level, instance string) error {
	switch level {
	case production.ContextSite:
		instance = ""
	case production.ContextCourse:
		if err := l.mustCourse(ctx, instance); err != nil {
			return err
		}
	default:
		return fmt.Errorf("local LMS: unknown context level %q", level)
	}
	if user == "" || role == "" {
		return errors.New("local LMS: role assignment needs a user and a role")
	}
	return l.putRole(ctx, Role{User: user, Role: role, Level: level, Instance: instance})
}

// UnassignRole implements production.LMS.
func (l *LMS) UnassignRole(ctx context.Context, user, role, level, instance string) error {
	if level == production.ContextSite {
		instance = ""
	}
	if user == "" || role == "" {
		return errors.New("local LMS: role unassignment needs a user and a role")
	}
	return l.deleteRole(ctx, Role{User: user, Role: role, Level: level, Instance: instance})
}

// ExtendEnrolment implements production.LMS.
func (l *LMS) ExtendEnrolment(ctx context.Context, user, course string, until time.Time) error {
	return l.setEnrolmentEnd(ctx, user, course, until)
}

// Enrolment implements production.LMS.
func (l *LMS) Enrolment(ctx context.Context, user, course string) (production.Enrolment, error) {
	e, err := l.enrolment(ctx, user, course)
	if err != nil {
		return production.Enrolment{}, err
	}
	out := production.Enrolment{User: e.User, Course: e.Course, Role: e.Role, Start: e.Start.UTC(), Group: e.Group}
	if e.End != nil {
		out.End = e.End.UTC()
	}
	return out, nil
}

// EnsureCategory implements production.LMS.
func (l *LMS) EnsureCategory(ctx context.Context, name, parent string) (string, bool, error) {
	if strings.TrimSpace(name) == "" {
		return "", false, errors.New("local LMS: category name is empty")
	}
	if parent != "" {
		ok, err := l.categoryExists(ctx, parent)
		if err != nil {
			return "", false, err
		}
		if !ok {
			return "", false, fmt.Errorf("local LMS: parent category %q: %w", parent, production.ErrNotFound)
		}
	}
	return l.ensureCategory(ctx, name, parent)
}

// EnsureCourse implements production.LMS.
func (l *LMS) EnsureCourse(ctx context.Context, shortname, fullname, categoryID string) (string, bool, error) {
	if categoryID != "" {
		ok, err := l.categoryExists(ctx, categoryID)
		if err != nil {
			return "", false, err
		}
		if !ok {
			return "", false, fmt.Errorf("local LMS: category %q: %w", categoryID, production.ErrNotFound)
		}
	}
	c, created, err := l.ensureCourse(ctx, Course{Shortname: shortname, Fullname: fullname, Category: categoryID})
	if err != nil {
		return "", false, err
	}
	return c.ID, created, nil
}
