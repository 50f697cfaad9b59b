// Package sigv4 verifies AWS Signature Version 4 on requests that reach the local
// cloud: the API Gateway emulation's AWS_IAM routes and the IAM-enforcing proxies in
// front of the local services.
//
// Rather than re-implement the canonical request, Verify re-signs a copy of the
// request holding only the headers the client signed, with the SDK's own signer and
// the secret it knows for the access key, and compares signatures in constant time.
// Using the same signer as the clients keeps both sides in step when the SDK changes.
package sigv4

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

const (
	algorithm = "AWS4-HMAC-SHA256"
	amzDate   = "20060102T150405Z"
	// MaxSkew is how far a signature's time may be from the verifier's clock, as in AWS.
	MaxSkew = 5 * time.Minute
)

// Reason says why a signature was refused; each service turns it into its own error
// code (API Gateway answers 403 "Forbidden" for all of them, the JSON services name
// MissingAuthenticationToken, UnrecognizedClient or InvalidSignature).
type Reason int

// The reasons a signature is refused.
const (
	// Missing: no Authorization header.
	Missing Reason = iota + 1
	// Malformed: the header lacks Credential, SignedHeaders or Signature.
	Malformed
	// UnknownKey: no secret is known for the access key.
	UnknownKey
	// Invalid: wrong date, scope, clock skew or signature.
	Invalid
)

// Failure is a refused signature: why, and the message AWS answers with.
type Failure struct {
	Reason  Reason
	Message string
}

func (f *Failure) Error() string { return "sigv4: " + f.Message }

// The messages AWS answers with, so that clients see what they would in the cloud.
const (
	msgMissing      = "Forbidden"
	msgMissingParts = "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters."
	msgNoDate       = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
	msgUnknownKey   = "The security token included in the request is invalid."
	msgBadSignature = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgBadRegion    = "Credential should be scoped to a valid region."
	msgBadDate      = "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP."
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
	rest, ok := strings.CutPrefix(h, algorithm+" ")
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

// Verify checks r's signature for service (the signing name: "execute-api",
// "dynamodb", "states", "ses", "secretsmanager") in region. body is the request's
// whole body, already read. secretOf returns the secret of an access key. It returns
// the caller's access key, or the failure to answer with.
func Verify(r *http.Request, body []byte, secretOf func(accessKey string) (string, bool), region, service string, now time.Time) (string, *Failure) {
	raw := r.Header.Get("Authorization")
	if raw == "" {
		return "", &Failure{Missing, msgMissing}
	}
	a, ok := parseAuthorization(raw)
	if !ok {
		return "", &Failure{Malformed, msgMissingParts}
	}
	secret, ok := secretOf(a.accessKey)
	if !ok {
		return "", &Failure{UnknownKey, msgUnknownKey}
	}
	signedAt, err := time.Parse(amzDate, r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "", &Failure{Invalid, msgNoDate}
	}
	switch {
	case a.date != signedAt.Format("20060102"):
		return "", &Failure{Invalid, msgBadDate}
	case a.region != region:
		return "", &Failure{Invalid, msgBadRegion}
	case a.service != service || a.terminator != "aws4_request":
		return "", &Failure{Invalid, "Credential should be scoped to correct service: '" + service + "'."}
	}
	if signedAt.Before(now.Add(-MaxSkew)) {
		return "", &Failure{Invalid, "Signature expired: " + signedAt.Format(amzDate) +
			" is now earlier than " + now.Add(-MaxSkew).Format(amzDate) + " (" + now.Format(amzDate) + " - 5 min.)"}
	}
	if signedAt.After(now.Add(MaxSkew)) {
		return "", &Failure{Invalid, "Signature not yet current: " + signedAt.Format(amzDate) +
			" is still later than " + now.Add(MaxSkew).Format(amzDate) + " (" + now.Format(amzDate) + " + 5 min.)"}
	}

	want, wantHeaders, err := resign(r, body, a, secret, signedAt)
	if err != nil || wantHeaders != a.signedHeaders ||
		subtle.ConstantTimeCompare([]byte(want), []byte(a.signature)) != 1 {
		return "", &Failure{Invalid, msgBadSignature}
	}
	return a.accessKey, nil
}

// resign signs a copy of r carrying only the headers the client listed, and returns
// the signature and signed-header list the SDK signer computes for it.
func resign(r *http.Request, body []byte, a authHeader, secret string, at time.Time) (signature, signedHeaders string, err error) {
	host := r.Host
	if host == "" {
		// A client-side request (as tests build them) has its host only in the URL.
		host = r.URL.Host
	}
	u := &url.URL{Scheme: "http", Host: host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	c := &http.Request{Method: r.Method, URL: u, Host: host, Header: http.Header{}}
	for _, name := range strings.Split(a.signedHeaders, ";") {
		switch name {
		case "host":
		case "content-length":
			n, err := strconv.ParseInt(r.Header.Get("Content-Length"), 10, 64)
			if err != nil {
				n = r.ContentLength
			}
			c.ContentLength = n
		default:
			c.Header[http.CanonicalHeaderKey(name)] = r.Header.Values(name)
		}
	}
	sum := sha256.Sum256(body)
	cred := aws.Credentials{AccessKeyID: a.accessKey, SecretAccessKey: secret, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := v4.NewSigner().SignHTTP(r.Context(), cred, c, hex.EncodeToString(sum[:]), a.service, a.region, at); err != nil {
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

const errUnparsableResign = resignError("sigv4: SDK signer produced an unparsable Authorization header")
