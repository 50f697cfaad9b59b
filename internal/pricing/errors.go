package pricing

import (
	"errors"
	"fmt"
)

// FieldError is one configuration or input problem, located by a field path
// such as "discounts[2].Codes[0].Rate". Validate methods return one or more
// of them joined with errors.Join, so an API can list every faulty field at
// once (errors.As finds the first; see Fields for all of them). It is the
// checkout's one field-error type (checkout.FieldError): the API lists them as
// {"field", "message"}.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error implements error.
func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Fields returns every FieldError contained in err (joined or wrapped), in
// order, so a caller can report them per field.
func Fields(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if fe, ok := e.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				walk(c)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// problems collects FieldErrors under a path prefix.
type problems struct{ errs []error }

func (p *problems) add(field, format string, args ...any) {
	p.errs = append(p.errs, &FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// merge re-roots the FieldErrors of err under prefix (e.g. "taxes[1]" +
// ".Ratio"); other errors are kept as they are.
func (p *problems) merge(prefix string, err error) {
	if err == nil {
		return
	}
	fes := Fields(err)
	if len(fes) == 0 {
		p.errs = append(p.errs, err)
		return
	}
	for _, fe := range fes {
		p.errs = append(p.errs, &FieldError{Field: join(prefix, fe.Field), Message: fe.Message})
	}
}

func (p *problems) err() error { return errors.Join(p.errs...) }

func join(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	case field[0] == '[':
		return prefix + field
	}
	return prefix + "." + field
}
