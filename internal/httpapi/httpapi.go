// Package httpapi is the HTTP edge of the checkout's functions: it decodes API Gateway
// (HTTP API, payload 2.0) requests with limits, routes them by route key, and answers an
// error with the status of its kind (checkout's one table, Kind.HTTPStatus) and a JSON
// problem body.
package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lmsshop/checkout/internal/checkout"
)

// MaxBody bounds request bodies: no checkout request needs more.
const MaxBody = 64 << 10

// Request is an HTTP API request.
type Request = events.APIGatewayV2HTTPRequest

// Response is an HTTP API response.
type Response = events.APIGatewayV2HTTPResponse

// HandlerFunc answers one route.
type HandlerFunc func(ctx context.Context, r *Request) (Response, error)

// Router dispatches on the route key API Gateway puts in the event ("GET /carts/{txid}").
type Router struct {
	routes map[string]HandlerFunc
	Log    *slog.Logger
}

// NewRouter returns an empty router.
func NewRouter(log *slog.Logger) *Router {
	if log == nil {
		log = slog.Default()
	}
	return &Router{routes: map[string]HandlerFunc{}, Log: log}
}

// Handle registers h for a route key.
func (rt *Router) Handle(routeKey string, h HandlerFunc) { rt.routes[routeKey] = h }

// RouteKeys lists the routes served, for the consistency check against template.yaml.
func (rt *Router) RouteKeys() []string {
	var out []string
	for k := range rt.routes {
		out = append(out, k)
	}
	return out
}

// Serve answers one request; it never returns an error to Lambda, whose only answer
// would be a bare 500.
func (rt *Router) Serve(ctx context.Context, r Request) (Response, error) {
	h, ok := rt.routes[r.RouteKey]
	if !ok {
		return Error(rt.Log, checkout.Errorf("request.route", checkout.ENOTFOUND, "no route %s", r.RouteKey)), nil
	}
	resp, err := h(ctx, &r)
	if err != nil {
		return Error(rt.Log, err), nil
	}
	return resp, nil
}

// Error renders err as the APIs' error body (checkout.Problem) with the status of its
// kind. Internal errors are logged with their cause and answered without it.
func Error(log *slog.Logger, err error) Response {
	kind := checkout.KindOf(err)
	var e *checkout.Error
	if errors.As(err, &e) && kind != checkout.EINTERNAL {
		return JSON(kind.HTTPStatus(), checkout.NewProblem(kind, e.Message, e.Fields...))
	}
	log.Error("request failed", "err", err)
	return JSON(kind.HTTPStatus(), checkout.NewProblem(kind, "internal error"))
}

// JSON renders v with status.
func JSON(status int, v any) Response {
	body, err := json.Marshal(v)
	if err != nil {
		return Response{StatusCode: http.StatusInternalServerError, Body: `{"error":{"code":"internal","message":"internal error"}}`}
	}
	return Response{StatusCode: status, Headers: JSONHeaders(), Body: string(body)}
}

// JSONHeaders are the headers of a JSON answer, a new map each time: a handler may set
// its own (the catalog's cache-control).
func JSONHeaders() map[string]string {
	return map[string]string{"content-type": "application/json", "cache-control": "no-store"}
}

// Body returns the request body, decoded from base64 when API Gateway encoded it,
// refusing bodies over MaxBody.
func Body(r *Request) ([]byte, error) {
	raw := []byte(r.Body)
	if r.IsBase64Encoded {
		d, err := base64.StdEncoding.DecodeString(r.Body)
		if err != nil {
			return nil, checkout.Errorf("request.decode", checkout.EINVALID, "body is not valid base64")
		}
		raw = d
	}
	if len(raw) > MaxBody {
		return nil, checkout.Errorf("request.decode", checkout.ETOOLARGE, "body of %d bytes is over the %d-byte limit", len(raw), MaxBody)
	}
	return raw, nil
}

// Decode reads a JSON body into v strictly: JSON content type, one value, no unknown
// fields (so a client sending a price learns it is not accepted), size-limited.
func Decode(r *Request, v any) error {
	raw, err := Body(r)
	if err != nil {
		return err
	}
	if ct := header(r, "content-type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return checkout.Errorf("request.decode", checkout.EINVALID, "content type must be application/json, not %q", ct)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return checkout.Errorf("request.decode", checkout.EINVALID, "a JSON body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return checkout.Errorf("request.decode", checkout.EINVALID, "body must hold a single JSON value")
	}
	return nil
}

func decodeError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return checkout.Errorf("request.decode", checkout.EINVALID, "malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return checkout.Invalid("request.decode", "wrong type", checkout.FieldError{Field: te.Field, Message: fmt.Sprintf("must be a %s", te.Type)})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return checkout.Invalid("request.decode", "unknown field", checkout.FieldError{Field: name, Message: "is not accepted here"})
	case errors.Is(err, io.ErrUnexpectedEOF):
		return checkout.Errorf("request.decode", checkout.EINVALID, "malformed JSON: unexpected end")
	default:
		return checkout.Errorf("request.decode", checkout.EINVALID, "malformed JSON: %v", err)
	}
}

func header(r *Request, name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Bearer returns the token of an "Authorization: Bearer …" header, or an EUNAUTHORIZED error.
func Bearer(r *Request) (string, error) {
	h := header(r, "authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", checkout.Errorf("request.bearer", checkout.EUNAUTHORIZED, "send the cart token as Authorization: Bearer <token>")
	}
	return strings.TrimSpace(h[len(prefix):]), nil
}
