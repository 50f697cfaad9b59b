package production

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Phases of production: prepay runs at placement, postpay once paid (see
// docs/spec.md#production-and-product-handlers).
const (
	PhasePrepay  = "prepay"
	PhasePostpay = "postpay"
)

// Event types recorded on a product instance.
const (
	EventDelivered  = "delivered"
	EventBilled     = "billed"
	EventExtended   = "extended"
	EventExpired    = "expired"
	EventUnassigned = "unassigned"
)

// RoleStudent is the role every seat line has; handlers may ask for more.
const RoleStudent = "student"

// Customer is the buyer as the order froze it.
type Customer struct {
	Email, FirstName, LastName, Organisation, Lang string
}

// Participant is a beneficiary of a seat, keyed by e-mail.
type Participant struct {
	Email, FirstName, LastName string
}

// Seat assigns one participant to one role on an order line.
type Seat struct {
	Participant Participant
	Role        string
}

// Job is one order line to produce, as the workflow gives it.
type Job struct {
	TxID, LineID, ItemCode, ItemName, Handler string
	Params                                    map[string]string
	Quantity                                  int
	Customer                                  Customer
	Seats                                     []Seat
	// Required holds, per purchased unit, the buyer's answers (field → value).
	Required []map[string]string
	// Now is the workflow's clock reading for this step; handlers derive every
	// date from it so that a retried step computes the same dates.
	Now time.Time
	// Round is the order's delivery this job is part of (Key.Round): 0, or how many
	// times the order was delivered again after it was cancelled.
	Round int
}

// Validate reports what makes a job impossible to produce.
func (j Job) Validate() error {
	var errs []error
	if j.TxID == "" {
		errs = append(errs, errors.New("missing transaction ID"))
	}
	if j.LineID == "" {
		errs = append(errs, errors.New("missing line ID"))
	}
	if j.Quantity < 1 {
		errs = append(errs, fmt.Errorf("quantity %d: must be at least 1", j.Quantity))
	}
	if !strings.Contains(j.Customer.Email, "@") {
		errs = append(errs, fmt.Errorf("customer e-mail %q is not an address", j.Customer.Email))
	}
	if j.Now.IsZero() {
		errs = append(errs, errors.New("missing production time"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("job %s/%s: %w", j.TxID, j.LineID, err)
	}
	return nil
}

// Person returns the buyer as an LMS person.
func (c Customer) Person() Person {
	return Person(c)
}

// Person returns the participant as an LMS person.
func (p Participant) Person() Person {
	return Person{Email: p.Email, FirstName: p.FirstName, LastName: p.LastName}
}

// Feedback is what a handler tells its three audiences: buyer, buyer only, sales admin.
type Feedback struct {
	Public     string // shown to the buyer on the order page
	Private    string // sent to the buyer only (access information, keys)
	SalesAdmin string // sent to the sales managers
	// AccountCreated is set by a prepay that created the buyer's LMS account, so the
	// workflow can welcome them (the account-created e-mail).
	AccountCreated bool
}

// Result is what one phase of a handler produced.
type Result struct {
	Instances []Instance
	Feedback  Feedback
}

// Handler delivers one kind of catalog item (the item's handler and handlerParams).
type Handler interface {
	// Name is the catalog's handler value, e.g. "enrol".
	Name() string
	// Roles lists the seat roles the handler uses besides "student".
	Roles() []string
	// ValidateParams checks an item's handlerParams when the catalog is configured.
	ValidateParams(params map[string]string) error
	// Check applies the handler's own rule to one required-data value.
	Check(ctx context.Context, field, value string) error
	// Prepay runs at placement, before the payment is confirmed.
	Prepay(ctx context.Context, j Job) (Result, error)
	// Postpay delivers the products once the order is paid.
	Postpay(ctx context.Context, j Job) (Result, error)
}

// Person is a user account in the LMS, keyed by e-mail.
type Person struct {
	Email, FirstName, LastName, Organisation, Lang string
}

// Enrolment is one user's participation in a course.
type Enrolment struct {
	User, Course, Role string
	// Start and End bound the enrolment; a zero End means no end.
	Start, End time.Time
	// Group, when set, is the name of the course group to join (created if absent).
	Group string
}

// Context levels for AssignRole.
const (
	ContextSite   = "site"
	ContextCourse = "course"
)

// ErrNotFound is returned (wrapped) when an LMS object or an instance does not exist.
var ErrNotFound = errors.New("not found")

// ErrIneligible is returned (wrapped) when a beneficiary may not receive what was
// bought (a certificate for a course they are not enrolled in): retrying changes
// nothing until someone changes the LMS, so the workflow does not retry it.
var ErrIneligible = errors.New("not eligible")

// LMS is the port to the learning-management system. Every method is idempotent
// (production's at-most-once delivery relies on it): ensuring, enrolling and assigning
// are sets.
type LMS interface {
	// EnsureUser returns the account for p.Email, creating it when absent.
	EnsureUser(ctx context.Context, p Person) (userID string, created bool, err error)
	// CourseExists reports whether a course has this short name.
	CourseExists(ctx context.Context, shortname string) (bool, error)
	// Enrol enrols (or re-enrols, updating the dates) a user in a course.
	Enrol(ctx context.Context, e Enrolment) error
	// AssignRole gives user a role on a context: level ContextSite (instance
	// ignored) or ContextCourse (instance = course short name).
	AssignRole(ctx context.Context, user, role, contextLevel, instance string) error
	// UnassignRole takes the role back (a refund); unassigning a role the user does not
	// have changes nothing.
	UnassignRole(ctx context.Context, user, role, contextLevel, instance string) error
	// ExtendEnrolment sets the end of an existing enrolment to until.
	ExtendEnrolment(ctx context.Context, user, course string, until time.Time) error
	// Enrolment returns a user's enrolment in a course; the error wraps ErrNotFound when there is none.
	Enrolment(ctx context.Context, user, course string) (Enrolment, error)
	// FindUser returns the ID of the account of email without creating it; the error
	// wraps ErrNotFound when there is none. Placement's checks read with it.
	FindUser(ctx context.Context, email string) (userID string, err error)
	// EnsureCategory returns the category named name under parent ("" = top), creating it when absent.
	EnsureCategory(ctx context.Context, name, parent string) (id string, created bool, err error)
	// EnsureCourse returns the course with this short name, creating it in category when absent.
	EnsureCourse(ctx context.Context, shortname, fullname, category string) (id string, created bool, err error)
}
