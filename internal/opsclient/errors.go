package opsclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/lmsshop/checkout/internal/checkout"
)

// APIError is an answer the back office refused: the checkout's JSON problem
// {"error":{"code","message","fields"}}, or API Gateway's own {"message"} when it turned
// the request away before the function (a bad signature, an unknown key).
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the checkout's error kind ("invalid", "conflict", "not_found", …); for
	// a refusal by the gateway itself it is "gateway".
	Code checkout.Kind
	// Message is for the operator to read.
	Message string
	// Fields addresses problems to request fields (e.g. "amount").
	Fields []checkout.FieldError
}

// CodeGateway marks an error API Gateway answered itself, before the back office ran.
const CodeGateway checkout.Kind = "gateway"

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s: %s", e.StatusCode, e.Code, e.Message)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	return b.String()
}

// IsKind reports whether err is an *APIError of kind k.
func IsKind(err error, k checkout.Kind) bool {
	var e *APIError
	return errors.As(err, &e) && e.Code == k
}

// decodeError turns an error answer into an *APIError, keeping whatever the body says
// when it is not one of the two known shapes: an operator needs the server's words.
func decodeError(status int, raw []byte) error {
	var body struct {
		checkout.Problem
		Message string `json:"message"` // API Gateway's own refusal
	}
	e := &APIError{StatusCode: status}
	switch err := json.Unmarshal(raw, &body); {
	case err == nil && body.Error != nil:
		e.Code, e.Message, e.Fields = body.Error.Code, body.Error.Message, body.Error.Fields
	case err == nil && body.Message != "":
		e.Code, e.Message = CodeGateway, body.Message
	default:
		e.Code = checkout.KindOfStatus(status)
		e.Message = strings.TrimSpace(string(raw))
		if len(e.Message) > 500 {
			e.Message = e.Message[:500] + "…"
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}
