package apigw

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SigV4 verification for AWS_IAM routes. Rather than re-implement the canonical
// request, the gateway re-signs a copy of the request holding only the headers the
// client signed, with the SDK's own signer and the secret it knows for the access
// key, and compares signatures in constant time. Using the same signer as the clients
// keeps both sides in step when the SDK changes.

const (
	sigAlgorithm = "AWS4-HMAC-SHA256"
	sigService   = "execute-api"
	amzDate      = "20060102T150405Z"
	// maxSkew is how far a signature's time may be from the gateway's clock, as in AWS.
	maxSkew = 5 * time.Minute
)

// The messages AWS answers with, so that clients see what they would in the cloud.
const (
	msgForbidden      = "Forbidden"
	msgMissingParts   = "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters."
	msgNoDate         = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
	msgUnknownKey     = "The security token included in the request is invalid."
	msgBadSignature   = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgBadScopeRegion = "Credential should be scoped to a valid region."
	msgBadScopeSvc    = "Credential should be scoped to correct service: 'execute-api'."
	msgBadScopeDate   = "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP."
)

type authHeader struct {
	accessKey, date, region, service, terminator string
	signedHeaders                                string
	signature                                    string
}

// parseAuthorization splits "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/execute-api/aws4_request,
// SignedHeaders=host;x-amz-date, Signature=…".
func parseAuthorization(h string) (authHeader, bool) {
	var a authHeader
	rest, ok := strings.CutPrefix(h, sigAlgorithm+" ")
	if !ok {
		return a, false
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, false
		}
		switch k {
		case "Credential":
			scope := strings.Split(v, "/")
			if len(scope) != 5 {
				return a, false
			}
			a.accessKey, a.date, a.region, a.service, a.terminator = scope[0], scope[1], scope[2], scope[3], scope[4]
		case "SignedHeaders":
			a.signedHeaders = v
		case "Signature":
			a.signature = v
		}
	}
	if a.accessKey == "" || a.signedHeaders == "" || a.signature == "" {
		return a, false
	}
	return a, true
}

// verifySigV4 checks r's signature. It returns the caller's access key, or an HTTP
// status and the message to send.
func verifySigV4(r *http.Request, body []byte, creds map[string]string, region string, now time.Time) (accessKey string, status int, msg string) {
	raw := r.Header.Get("Authorization")
	if raw == "" {
		return "", http.StatusForbidden, msgForbidden
	}
	a, ok := parseAuthorization(raw)
	if !ok {
		return "", http.StatusForbidden, msgMissingParts
	}
	secret, ok := creds[a.accessKey]
	if !ok {
		return "", http.StatusForbidden, msgUnknownKey
	}
	signedAt, err := time.Parse(amzDate, r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "", http.StatusForbidden, msgNoDate
	}
	switch {
	case a.date != signedAt.Format("20060102"):
		return "", http.StatusForbidden, msgBadScopeDate
	case a.region != region:
		return "", http.StatusForbidden, msgBadScopeRegion
	case a.service != sigService || a.terminator != "aws4_request":
		return "", http.StatusForbidden, msgBadScopeSvc
	}
	if signedAt.Before(now.Add(-maxSkew)) {
		return "", http.StatusForbidden, "Signature expired: " + signedAt.Format(amzDate) +
			" is now earlier than " + now.Add(-maxSkew).Format(amzDate) + " (" + now.Format(amzDate) + " - 5 min.)"
	}
	if signedAt.After(now.Add(maxSkew)) {
		return "", http.StatusForbidden, "Signature not yet current: " + signedAt.Format(amzDate) +
			" is still later than " + now.Add(maxSkew).Format(amzDate) + " (" + now.Format(amzDate) + " + 5 min.)"
	}

	want, wantHeaders, err := resign(r, body, a, secret, signedAt)
	if err != nil || wantHeaders != a.signedHeaders ||
		subtle.ConstantTimeCompare([]byte(want), []byte(a.signature)) != 1 {
		return "", http.StatusForbidden, msgBadSignature
	}
	return a.accessKey, 0, ""
}

// resign signs a copy of r carrying only the headers the client listed, and returns
// the signature and signed-header list the SDK signer computes for it.
func resign(r *http.Request, body []byte, a authHeader, secret string, at time.Time) (signature, signedHeaders string, err error) {
	u := &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	c := &http.Request{Method: r.Method, URL: u, Host: r.Host, Header: http.Header{}}
	for _, name := range strings.Split(a.signedHeaders, ";") {
		switch name {
		case "host":
		case "content-length":
			c.ContentLength, _ = strconv.ParseInt(r.Header.Get("Content-Length"), 10, 64)
		default:
			c.Header[http.CanonicalHeaderKey(name)] = r.Header.Values(name)
		}
	}
	sum := sha256.Sum256(body)
	cred := aws.Credentials{AccessKeyID: a.accessKey, SecretAccessKey: secret, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := v4.NewSigner().SignHTTP(r.Context(), cred, c, hex.EncodeToString(sum[:]), sigService, a.region, at); err != nil {
		return "", "", err
	}
	got, ok := parseAuthorization(c.Header.Get("Authorization"))
	if !ok {
		return "", "", errUnparsableResign
	}
	return got.signature, got.signedHeaders, nil
}

type resignError string

func (e resignError) Error() string { return string(e) }

const errUnparsableResign = resignError("apigw: SDK signer produced an unparsable Authorization header")
