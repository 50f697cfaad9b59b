// Package apigw emulates API Gateway HTTP API (payload format 2.0) in front of
// in-process Lambda handlers, for the local cloud and end-to-end tests.
//
// It takes its routes from template.yaml (through internal/samtemplate), turns each HTTP
// request into the event HTTP API would send, hands it to the function's real handler
// through lambda.Handler.Invoke (a real JSON round trip, so the code path is the
// deployed one) and turns the function's answer back into HTTP the way HTTP API does,
// including its "inferred" response format and its error bodies.
package apigw

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/lmsshop/checkout/internal/cfn"
)

// Defaults mirror HTTP API's own limits and the local cloud's fixed identity.
const (
	// DefaultMaxBody is HTTP API's request payload limit (10 MB).
	DefaultMaxBody = 10 << 20
	// DefaultTimeout is HTTP API's maximum integration timeout (30 s).
	DefaultTimeout = 30 * time.Second
	// DefaultRegion is the region the local cloud pretends to run in.
	DefaultRegion = "us-east-1"
	// DefaultAccountID is the account ID local events and ARNs carry.
	DefaultAccountID = "000000000000"
	// DefaultAPIID is the apiId local events carry.
	DefaultAPIID = "localapi"
)

// Options configures the gateway. The zero value works for public routes; IAM routes
// need Credentials, JWT routes their authorizer.
type Options struct {
	// Credentials maps an access key ID to its secret key. IAM routes accept only
	// requests signed (SigV4, service execute-api) with one of them.
	Credentials map[string]string
	// JWTAuthorizers are the HttpApi's JWT authorizers by name; a route naming one
	// accepts only requests bearing a token it validates.
	JWTAuthorizers map[string]JWTAuthorizer
	// Region is the signing region expected on IAM routes (DefaultRegion if empty).
	Region string
	// AccountID and APIID fill requestContext (defaults above).
	AccountID string
	APIID     string
	// Logger receives one line per request and every handler error (slog.Default if nil).
	Logger *slog.Logger
	// MaxBody caps the request body in bytes (DefaultMaxBody if 0).
	MaxBody int
	// Timeout bounds one invocation (DefaultTimeout if 0).
	Timeout time.Duration
	// CORS, when set, is the HttpApi's CorsConfiguration: preflights are answered by
	// the gateway and CORS headers added to every response, as HTTP API does.
	CORS *CORS
	// Now is the clock used for request times and signature expiry (time.Now if nil).
	Now func() time.Time
	// Hosts are the names the API answers to (the Host header, without its port), as
	// an API's domain in AWS; nil means the loopback names (localhost, 127.0.0.0/8,
	// ::1). Any other Host is refused, as AWS refuses a domain that is not the API's:
	// functions build the API's own URL from it (requestContext.domainName), and a
	// page on another site cannot reach the local API through DNS rebinding.
	Hosts []string
}

// CORS is an HttpApi CorsConfiguration.
type CORS struct {
	AllowOrigins     []string
	AllowMethods     []string
	AllowHeaders     []string
	ExposeHeaders    []string
	MaxAge           int // seconds; 0 sends no Access-Control-Max-Age
	AllowCredentials bool
}

// Gateway is the HTTP API emulation. Build it with New.
type Gateway struct {
	routes   []route
	handlers map[string]lambda.Handler
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	jwks     jwksCache
}

var _ http.Handler = (*Gateway)(nil)

// route is a cfn.Route with its path split once for matching.
type route struct {
	cfn.Route
	segments []string
}

// New returns a gateway serving routes with handlers, keyed by function logical ID.
// A route whose function has no handler answers 500 and logs why, as a misconfigured
// integration does in AWS; New does not fail so that a partly built stack still runs.
func New(routes []cfn.Route, handlers map[string]lambda.Handler, opts Options) *Gateway {
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	if opts.APIID == "" {
		opts.APIID = DefaultAPIID
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	g := &Gateway{handlers: handlers, opts: opts, log: opts.Logger, now: opts.Now}
	if g.log == nil {
		g.log = slog.Default()
	}
	if g.now == nil {
		g.now = time.Now
	}
	for _, r := range routes {
		g.routes = append(g.routes, route{Route: r, segments: splitPath(r.Path)})
	}
	return g
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := g.now().UTC()
	requestID := newID()
	w.Header().Set("Apigw-Requestid", requestID)
	if !g.knownHost(r.Host) {
		g.log.Info("apigw: unknown host refused", "host", r.Host)
		writeMessage(w, http.StatusForbidden, "Forbidden")
		return
	}

	if g.opts.CORS != nil && isPreflight(r) {
		g.opts.CORS.preflight(w, r)
		return
	}
	if g.opts.CORS != nil {
		g.opts.CORS.decorate(w, r)
	}

	rt, params, ok := g.match(r.Method, r.URL.Path)
	if !ok {
		writeMessage(w, http.StatusNotFound, "Not Found")
		return
	}

	body, err := io.ReadAll(io.LimitReader(r.Body, int64(g.opts.MaxBody)+1))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if len(body) > g.opts.MaxBody {
		writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}

	authz, status, msg, hdr := g.authorize(r, rt, body, now)
	if status != 0 {
		for k, v := range hdr {
			w.Header()[k] = v
		}
		writeMessage(w, status, msg)
		return
	}

	event := g.event(r, rt, params, body, requestID, now, authz)
	payload, err := json.Marshal(event)
	if err != nil {
		g.log.Error("apigw: encode event", "route", rt.Key(), "err", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}

	h, ok := g.handlers[rt.Function]
	if !ok {
		g.log.Error("apigw: no handler for function", "route", rt.Key(), "function", rt.Function)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), g.opts.Timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       newID(),
		InvokedFunctionArn: FunctionARN(g.opts.Region, g.opts.AccountID, rt.Function),
	})
	start := time.Now()
	out, err := Invoke(ctx, h, payload)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			g.log.Error("apigw: integration timeout", "route", rt.Key(), "function", rt.Function, "err", err)
			writeMessage(w, http.StatusServiceUnavailable, "Service Unavailable")
			return
		}
		g.log.Error("apigw: function error", "route", rt.Key(), "function", rt.Function, "err", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if err := writeResponse(w, out, g.opts.CORS != nil); err != nil {
		g.log.Error("apigw: malformed function response", "route", rt.Key(), "function", rt.Function, "err", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	g.log.Debug("apigw", "route", rt.Key(), "function", rt.Function, "duration", time.Since(start))
}

// Invoke runs h until it returns or ctx ends, whichever is first: HTTP API answers
// at its integration timeout, and Lambda ends an invocation at its function's Timeout,
// even when the function ignores its context. A panic becomes a *PanicError: in
// Lambda a panicking function fails its invocation, it does not take the gateway down.
func Invoke(ctx context.Context, h lambda.Handler, payload []byte) ([]byte, error) {
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1) // buffered: a late function must not block forever
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: &PanicError{Value: p}}
			}
		}()
		out, err := h.Invoke(ctx, payload)
		done <- result{out, err}
	}()
	select {
	case r := <-done:
		return r.out, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// PanicError is a function's panic, ending its invocation as an error.
type PanicError struct{ Value any }

func (e *PanicError) Error() string { return fmt.Sprintf("function panicked: %v", e.Value) }

// FunctionARN is the ARN the local cloud gives a function: the form Step Functions
// definitions and lambdacontext carry.
func FunctionARN(region, accountID, logicalID string) string {
	return "arn:aws:lambda:" + region + ":" + accountID + ":function:" + logicalID
}

// match finds the route HTTP API would pick: literal segments beat {parameters},
// which beat a greedy {proxy+}; on equal paths a route's own method beats ANY.
func (g *Gateway) match(method, path string) (route, map[string]string, bool) {
	segs := splitPath(path)
	var (
		best       route
		bestParams map[string]string
		bestScore  []int
		found      bool
	)
	for _, rt := range g.routes {
		if rt.Method != "ANY" && rt.Method != method {
			continue
		}
		params, score, ok := matchPath(rt.segments, segs)
		if !ok {
			continue
		}
		if rt.Method != "ANY" {
			score = append(score, 1)
		} else {
			score = append(score, 0)
		}
		if !found || better(score, bestScore) {
			best, bestParams, bestScore, found = rt, params, score, true
		}
	}
	return best, bestParams, found
}

// Segment scores: a higher score is more specific.
const (
	scoreGreedy = 1
	scoreParam  = 2
	scoreLit    = 3
)

// matchPath matches request segments against a route's. The score lists each route
// segment's specificity, compared left to right, so /carts/{txid}/order beats
// /carts/{proxy+} and /carts/new beats /carts/{txid}.
func matchPath(pattern, segs []string) (map[string]string, []int, bool) {
	params := map[string]string{}
	score := make([]int, 0, len(pattern))
	for i, p := range pattern {
		name, greedy, isParam := paramName(p)
		if greedy {
			// {proxy+} takes one or more remaining segments and must be last.
			if i >= len(segs) || i != len(pattern)-1 {
				return nil, nil, false
			}
			params[name] = decodeSegments(segs[i:])
			score = append(score, scoreGreedy)
			return params, score, true
		}
		if i >= len(segs) {
			return nil, nil, false
		}
		if isParam {
			if segs[i] == "" {
				return nil, nil, false
			}
			params[name] = decodeSegments(segs[i : i+1])
			score = append(score, scoreParam)
			continue
		}
		if p != segs[i] {
			return nil, nil, false
		}
		score = append(score, scoreLit)
	}
	if len(pattern) != len(segs) {
		return nil, nil, false
	}
	return params, score, true
}

func better(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return len(a) > len(b)
}

func paramName(seg string) (name string, greedy, ok bool) {
	if !strings.HasPrefix(seg, "{") || !strings.HasSuffix(seg, "}") {
		return "", false, false
	}
	name = seg[1 : len(seg)-1]
	if strings.HasSuffix(name, "+") {
		return strings.TrimSuffix(name, "+"), true, true
	}
	return name, false, true
}

func splitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// decodeSegments joins matched segments back into the parameter's value. Matching
// runs on the decoded path, so the value is already decoded.
func decodeSegments(segs []string) string { return strings.Join(segs, "/") }

// event builds the payload-2.0 event for r.
func (g *Gateway) event(r *http.Request, rt route, params map[string]string, body []byte, requestID string, now time.Time,
	authz *events.APIGatewayV2HTTPRequestContextAuthorizerDescription) events.APIGatewayV2HTTPRequest {
	sourceIP := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = host
	}
	headers := map[string]string{}
	var cookies []string
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			// HTTP API moves cookies out of the headers into their own list.
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lk] = strings.Join(vs, ",")
	}
	// HTTP API tells the function how it was reached: the client's address appended to
	// any X-Forwarded-For the client sent, the scheme and the port of the listener.
	// Functions build the API's own URL from these and requestContext.domainName
	// (httpapi.BaseURL), so they must be the gateway's, never the client's.
	headers["host"] = r.Host
	if prior := headers["x-forwarded-for"]; prior != "" {
		headers["x-forwarded-for"] = prior + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	headers["x-forwarded-proto"] = "http"
	if r.TLS != nil {
		headers["x-forwarded-proto"] = "https"
	}
	delete(headers, "x-forwarded-port")
	if port := listenerPort(r); port != "" {
		headers["x-forwarded-port"] = port
	}
	if len(body) > 0 {
		headers["content-length"] = strconv.Itoa(len(body))
	}

	var query map[string]string
	if r.URL.RawQuery != "" {
		values, _ := url.ParseQuery(r.URL.RawQuery) // keeps what parses, as HTTP API does
		if len(values) > 0 {
			query = make(map[string]string, len(values))
			for k, vs := range values {
				query[k] = strings.Join(vs, ",")
			}
		}
	}
	if len(params) == 0 {
		params = nil
	}

	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              rt.Key(),
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     rt.Key(),
			AccountID:    g.opts.AccountID,
			Stage:        "$default",
			RequestID:    requestID,
			APIID:        g.opts.APIID,
			DomainName:   hostOnly(r.Host),
			DomainPrefix: strings.SplitN(hostOnly(r.Host), ".", 2)[0],
			Time:         now.Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	ev.RequestContext.Authorizer = authz
	if len(body) > 0 {
		if IsTextContentType(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// knownHost reports whether the API answers to the Host header's name.
func (g *Gateway) knownHost(hostport string) bool {
	name := strings.ToLower(hostOnly(hostport))
	if g.opts.Hosts == nil {
		ip := net.ParseIP(name)
		return name == "localhost" || (ip != nil && ip.IsLoopback())
	}
	for _, h := range g.opts.Hosts {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}

// listenerPort is the port the gateway was reached on: the connection's local port,
// or the Host header's when the request did not come through a listener (tests).
func listenerPort(r *http.Request) string {
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, port, err := net.SplitHostPort(addr.String()); err == nil {
			return port
		}
	}
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		return port
	}
	return ""
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// IsTextContentType reports whether HTTP API passes a body of this type as text.
// Everything else — form posts included — arrives base64-encoded, which is why
// handlers must honour isBase64Encoded.
func IsTextContentType(contentType string) bool {
	if contentType == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	if strings.HasPrefix(mt, "text/") {
		return true
	}
	switch mt {
	case "application/json", "application/javascript", "application/ecmascript",
		"application/xml", "application/xhtml+xml", "application/ld+json":
		return true
	}
	return strings.HasPrefix(mt, "application/") &&
		(strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml"))
}

// writeResponse turns a function's output into HTTP. An object with a statusCode is
// an APIGatewayV2HTTPResponse; any other valid JSON is HTTP API's inferred format:
// 200, application/json, the value as the body (a JSON string as its bare text).
//
// With a CorsConfiguration, HTTP API ignores the function's own CORS headers
// (keepCORS: the gateway's, already set, win).
func writeResponse(w http.ResponseWriter, out []byte, keepCORS bool) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(out, &probe); err == nil {
		if _, structured := probe["statusCode"]; structured {
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				return fmt.Errorf("decode response: %w", err)
			}
			return writeStructured(w, resp, keepCORS)
		}
	}
	if !json.Valid(out) {
		return fmt.Errorf("function returned invalid JSON (%d bytes)", len(out))
	}
	body := out
	var s string
	if err := json.Unmarshal(out, &s); err == nil {
		body = []byte(s)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	writeBody(w, body)
	return nil
}

func writeStructured(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse, keepCORS bool) error {
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return fmt.Errorf("invalid statusCode %d", resp.StatusCode)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return fmt.Errorf("decode base64 body: %w", err)
		}
		body = b
	}
	h := w.Header()
	skip := func(k string) bool {
		return keepCORS && strings.HasPrefix(strings.ToLower(k), "access-control-")
	}
	for k, v := range resp.Headers {
		if !skip(k) {
			h.Set(k, v)
		}
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			if !skip(k) {
				h.Add(k, v)
			}
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if _, ok := h["Content-Type"]; !ok {
		// API Gateway sends no Content-Type the function did not set; stop net/http
		// from sniffing one so local behaviour matches.
		h["Content-Type"] = nil
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	writeBody(w, body)
	return nil
}

// writeBody ignores write errors on purpose: once the status line is out, a client
// that hung up is not the function's fault and nothing else can be sent.
func writeBody(w http.ResponseWriter, body []byte) { _, _ = w.Write(body) }

// writeMessage writes API Gateway's own error body: {"message": "..."}.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

func (c *CORS) allowedOrigin(origin string) (string, bool) {
	for _, o := range c.AllowOrigins {
		if o == "*" {
			if c.AllowCredentials {
				return origin, true // "*" is not allowed with credentials
			}
			return "*", true
		}
		if strings.EqualFold(o, origin) {
			return origin, true
		}
	}
	return "", false
}

// preflight answers an OPTIONS preflight as HTTP API does: 204, with CORS headers
// only when origin, method and headers are all allowed.
func (c *CORS) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	origin, ok := c.allowedOrigin(r.Header.Get("Origin"))
	method := r.Header.Get("Access-Control-Request-Method")
	if ok && containsFold(c.AllowMethods, method) && c.headersAllowed(r.Header.Get("Access-Control-Request-Headers")) {
		h.Set("Access-Control-Allow-Origin", origin)
		if containsFold(c.AllowMethods, "*") {
			h.Set("Access-Control-Allow-Methods", method)
		} else {
			h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
		}
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			if containsFold(c.AllowHeaders, "*") {
				h.Set("Access-Control-Allow-Headers", req)
			} else {
				h.Set("Access-Control-Allow-Headers", strings.ToLower(strings.Join(c.AllowHeaders, ",")))
			}
		}
		if c.MaxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAge))
		}
		if c.AllowCredentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		if origin != "*" {
			h.Add("Vary", "Origin")
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *CORS) headersAllowed(requested string) bool {
	if requested == "" || containsFold(c.AllowHeaders, "*") {
		return true
	}
	for _, name := range strings.Split(requested, ",") {
		if name = strings.TrimSpace(name); name != "" && !containsFold(c.AllowHeaders, name) {
			return false
		}
	}
	return true
}

// decorate adds the CORS headers HTTP API puts on an actual (non-preflight) response.
func (c *CORS) decorate(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	allowed, ok := c.allowedOrigin(origin)
	if !ok {
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", allowed)
	if len(c.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ","))
	}
	if c.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if allowed != "*" {
		h.Add("Vary", "Origin")
	}
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// newID returns a random request ID shaped like Lambda's (a UUIDv4).
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
