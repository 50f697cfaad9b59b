package iam

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"

	"github.com/lmsshop/checkout/internal/localcloud/sigv4"
)

// maxBody bounds the bodies the proxies read; DynamoDB's largest request
// (TransactWriteItems of 100 items of 400 KB) stays under it.
const maxBody = 64 << 20

// Proxy returns an http.Handler that enforces IAM in front of svc's local server at
// upstream (e.g. "http://127.0.0.1:8000"): it verifies the request's SigV4 signature
// with the secret of its access key, finds the role the key acts as, authorises every
// action the request performs, and only then forwards it. A refused request never
// reaches the upstream and gets the answer AWS gives: for the JSON protocols HTTP 400
// with AccessDeniedException, for SES v2 HTTP 403.
func (a *Authorizer) Proxy(svc Service, upstream string) (http.Handler, error) {
	u, err := url.Parse(upstream)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, &Error{Op: "iam.proxy", Kind: KindInvalid, Message: "upstream " + upstream + " is not an absolute URL"}
	}
	if svc != SESv2 && targetPrefix[svc] == "" {
		return nil, &Error{Op: "iam.proxy", Kind: KindInvalid, Message: "no proxy for service " + string(svc)}
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			a.cfg.Log.Error("iam: upstream unreachable", "service", svc, "upstream", upstream, "err", err)
			writeError(w, svc, http.StatusServiceUnavailable, "ServiceUnavailableException", "the local "+string(svc)+" server is unreachable")
		},
	}
	return &proxy{a: a, svc: svc, next: rp}, nil
}

type proxy struct {
	a    *Authorizer
	svc  Service
	next http.Handler
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		writeError(w, p.svc, http.StatusBadRequest, "SerializationException", "could not read the request body")
		return
	}
	if len(body) > maxBody {
		writeError(w, p.svc, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "request body over "+strconv.Itoa(maxBody)+" bytes")
		return
	}

	key, fail := sigv4.Verify(r, body, p.secretOf, p.a.cfg.Region, string(p.svc), p.a.cfg.Now())
	if fail != nil {
		code := map[sigv4.Reason]string{
			sigv4.Missing:    "MissingAuthenticationTokenException",
			sigv4.Malformed:  "IncompleteSignatureException",
			sigv4.UnknownKey: "UnrecognizedClientException",
			sigv4.Invalid:    "InvalidSignatureException",
		}[fail.Reason]
		msg := fail.Message
		if fail.Reason == sigv4.Missing {
			// API Gateway's "Forbidden" is not what the service endpoints say.
			msg = "Request is missing Authentication Token"
		}
		p.a.cfg.Log.Warn("iam: signature refused", "service", p.svc, "reason", fail.Message)
		writeError(w, p.svc, deniedStatus(p.svc), code, msg)
		return
	}
	p.a.mu.Lock()
	k := p.a.keys[key]
	p.a.mu.Unlock()

	checks, err := p.a.classify(p.svc, r, body)
	var ce *classifyError
	if errors.As(err, &ce) {
		writeError(w, p.svc, ce.status, ce.code, ce.message)
		return
	}
	if err != nil {
		writeError(w, p.svc, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	if err := p.a.check(k.role, k.session, checks); err != nil {
		writeError(w, p.svc, deniedStatus(p.svc), "AccessDeniedException", err.Error())
		return
	}

	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	p.next.ServeHTTP(w, r)
}

func (p *proxy) secretOf(accessKey string) (string, bool) {
	p.a.mu.Lock()
	defer p.a.mu.Unlock()
	k, ok := p.a.keys[accessKey]
	return k.secret, ok
}

// deniedStatus is the status of an authentication or authorisation refusal: 400 for
// the JSON protocols, 403 for the REST ones.
func deniedStatus(svc Service) int {
	if svc == SESv2 {
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

// writeError answers in the service's protocol. JSON 1.0/1.1 services send the code in
// x-amzn-ErrorType and in the body's __type, with a Message; REST JSON services (SES
// v2) send the code in x-amzn-ErrorType and a body with a message. The SDKs read
// either.
func writeError(w http.ResponseWriter, svc Service, status int, code, message string) {
	h := w.Header()
	h.Set("x-amzn-RequestId", requestID())
	h.Set("x-amzn-ErrorType", code)
	var body map[string]string
	switch svc {
	case SESv2:
		h.Set("Content-Type", "application/json")
		body = map[string]string{"message": message}
	case SecretsManager:
		h.Set("Content-Type", "application/x-amz-json-1.1")
		body = map[string]string{"__type": code, "Message": message}
	default:
		h.Set("Content-Type", "application/x-amz-json-1.0")
		body = map[string]string{"__type": "com.amazon.coral.service#" + code, "Message": message}
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
