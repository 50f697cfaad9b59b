package httpapi

import (
	"net"
	"strconv"
	"strings"

	"github.com/lmsshop/checkout/internal/checkout"
)

// validHost reports whether host is a DNS name or an IPv4 address, what
// requestContext.domainName holds: 1 to 253 letters, digits, dots and hyphens, starting
// and ending with a letter or digit. Not a regular expression: its bounded repetition
// compiled to hundreds of instructions at every cold start.
func validHost(host string) bool {
	if len(host) == 0 || len(host) > 253 {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && ((c != '.' && c != '-') || i == 0 || i == len(host)-1) {
			return false
		}
	}
	return true
}

// BaseURL is the base URL of the API a request came through, e.g.
// "https://abc123.execute-api.eu-west-3.amazonaws.com": the scheme from the
// x-forwarded-proto header and the host from requestContext.domainName, both set by
// HTTP API (payload 2.0), and the x-forwarded-port when it is not the scheme's default
// (the local API emulation listens on a port of its own). The template cannot give the
// functions this URL: the API refers to the functions, so they cannot refer to it.
//
// The API is assumed to be served at the root of its domain: the default endpoint, or
// a custom domain mapped without a path.
func BaseURL(r *Request) (string, error) {
	const op = "request.baseURL"
	proto := strings.ToLower(header(r, "x-forwarded-proto"))
	if proto == "" {
		proto = "https"
	}
	if proto != "https" && proto != "http" {
		return "", checkout.Errorf(op, checkout.EINVALID, "x-forwarded-proto %q: want http or https", proto)
	}
	host := r.RequestContext.DomainName
	if !validHost(host) {
		return "", checkout.Errorf(op, checkout.EINVALID, "the request does not name the API's domain (requestContext.domainName %q)", host)
	}
	port := header(r, "x-forwarded-port")
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", checkout.Errorf(op, checkout.EINVALID, "x-forwarded-port %q is not a port", port)
		}
	}
	if port == "" || (proto == "https" && port == "443") || (proto == "http" && port == "80") {
		return proto + "://" + host, nil
	}
	return proto + "://" + net.JoinHostPort(host, port), nil
}
