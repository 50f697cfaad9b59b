package httpapi

import (
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/lmsshop/checkout/internal/checkout"
)

// hostPattern is a DNS name or an IPv4 address: what requestContext.domainName holds.
// Compiled on first use: its bounded repetition compiles to hundreds of instructions,
// a cost every cold start paid at package init.
var hostPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)
})

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
	if !hostPattern().MatchString(host) {
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
