// Package checkout holds the domain of the checkout: the shop and its catalog, the cart
// and the purchase steps, orders and their statuses. It is plain Go: no AWS, no HTTP.
// Adapters (internal/store, internal/httpapi, …) depend on it, never the reverse.
package checkout

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/lmsshop/checkout/internal/pricing"
)

// Kind classifies an error for its caller; the HTTP edge maps each kind to one status
// in one table (internal/httpapi).
type Kind string

// The kinds of error the checkout reports.
const (
	EINVALID      Kind = "invalid"      // malformed or unacceptable input
	EUNAUTHORIZED Kind = "unauthorized" // no credentials
	EFORBIDDEN    Kind = "forbidden"    // credentials that do not grant this
	ENOTFOUND     Kind = "not_found"    // no such thing
	ECONFLICT     Kind = "conflict"     // the state does not allow it (placed cart, concurrent edit, transition)
	EGONE         Kind = "gone"         // existed, expired
	ETOOLARGE     Kind = "too_large"    // body over the limit
	EINCOMPLETE   Kind = "incomplete"   // well-formed, but the purchase is not ready (missing steps)
	EINTERNAL     Kind = "internal"     // our fault
	EUNAVAILABLE  Kind = "unavailable"  // a dependency is down; retrying may work
)

// FieldError addresses one problem to one field, e.g. "lines[0].quantity" or
// "requirements.COURSE-101[2].shortname": pricing's, the one field-error type.
type FieldError = pricing.FieldError

// Error is the checkout's error: the operation that failed, its kind, a message a user
// can read, the fields at fault, and the underlying error for logs.
type Error struct {
	Op      string
	Kind    Kind
	Message string
	Fields  []FieldError
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error of a kind with a formatted message.
func Errorf(op string, kind Kind, format string, args ...any) *Error {
	return &Error{Op: op, Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Invalid builds an EINVALID error listing the fields at fault.
func Invalid(op, message string, fields ...FieldError) *Error {
	return &Error{Op: op, Kind: EINVALID, Message: message, Fields: fields}
}

// Wrap attaches an operation to an error, keeping its kind (EINTERNAL for foreign errors).
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		c := *e
		if c.Op == "" {
			c.Op = op
		} else {
			c.Op = op + ": " + c.Op
		}
		return &c
	}
	return &Error{Op: op, Kind: EINTERNAL, Message: "internal error", Err: err}
}

// KindOf returns the kind of err, EINTERNAL for errors that are not *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return EINTERNAL
}

// Problem is the APIs' error body, {"error":{"code","message","fields"}}: the one
// declaration of it, which internal/httpapi answers with and the operators' client
// reads. Error is a pointer so that a reader can tell the body from another JSON
// object (API Gateway's own {"message"}).
type Problem struct {
	Error *ProblemDetail `json:"error"`
}

// ProblemDetail is what a Problem says: the kind, a message for people, the fields at fault.
type ProblemDetail struct {
	Code    Kind         `json:"code"`
	Message string       `json:"message"`
	Fields  []FieldError `json:"fields,omitempty"`
}

// NewProblem builds the error body of one refusal.
func NewProblem(kind Kind, message string, fields ...FieldError) Problem {
	return Problem{Error: &ProblemDetail{Code: kind, Message: message, Fields: fields}}
}

// Fields collects field errors; Err returns nil when there are none.
type Fields []FieldError

// Add records one problem.
func (f *Fields) Add(field, format string, args ...any) {
	*f = append(*f, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns an EINVALID error carrying the fields, or nil.
func (f Fields) Err(op, message string) error {
	if len(f) == 0 {
		return nil
	}
	return Invalid(op, message, f...)
}

// statusOf is the one table from error kinds to the HTTP statuses the APIs answer
// with; the operators' client reads it backwards.
var statusOf = map[Kind]int{
	EINVALID:      http.StatusBadRequest,
	EUNAUTHORIZED: http.StatusUnauthorized,
	EFORBIDDEN:    http.StatusForbidden,
	ENOTFOUND:     http.StatusNotFound,
	ECONFLICT:     http.StatusConflict,
	EGONE:         http.StatusGone,
	ETOOLARGE:     http.StatusRequestEntityTooLarge,
	EINCOMPLETE:   http.StatusUnprocessableEntity,
	EUNAVAILABLE:  http.StatusServiceUnavailable,
	EINTERNAL:     http.StatusInternalServerError,
}

// HTTPStatus is the status an API answers an error of this kind with (500 for a kind
// the table does not know).
func (k Kind) HTTPStatus() int {
	if s, ok := statusOf[k]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// KindOfStatus names the kind of an HTTP status, the table read backwards; a gateway's
// 502 and 504 are EUNAVAILABLE like 503, and any other status EINTERNAL.
func KindOfStatus(status int) Kind {
	switch status {
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return EUNAVAILABLE
	}
	for k, s := range statusOf {
		if s == status {
			return k
		}
	}
	return EINTERNAL
}
