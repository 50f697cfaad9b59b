package httpapi_test

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/httpapi"
)

// defaultDomain is the API's default endpoint's domain, as HTTP API puts it in
// requestContext.
const defaultDomain = "abc123.execute-api.eu-west-3.amazonaws.com"

// BaseURL builds the API's own URL from what API Gateway put in the request, and
// refuses what could point anywhere else.
func TestBaseURLIsTheAPIsOwnFromTheRequest(t *testing.T) {
	for _, tc := range []struct {
		name    string
		domain  string
		headers map[string]string
		want    string // "" = refused
	}{
		{"AWS default endpoint", defaultDomain, map[string]string{"x-forwarded-proto": "https", "x-forwarded-port": "443"}, "https://" + defaultDomain},
		{"custom domain", "api.shop.example", map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"}, "https://api.shop.example"},
		{"no forwarded headers: HTTP API is https", defaultDomain, nil, "https://" + defaultDomain},
		{"local emulation on its own port", "127.0.0.1", map[string]string{"x-forwarded-proto": "http", "x-forwarded-port": "41234"}, "http://127.0.0.1:41234"},
		{"http on its default port", "localhost", map[string]string{"x-forwarded-proto": "http", "x-forwarded-port": "80"}, "http://localhost"},
		{"no domain", "", map[string]string{"x-forwarded-proto": "https"}, ""},
		{"a domain with a path", "evil.example/steal", nil, ""},
		{"a domain with credentials", "user@evil.example", nil, ""},
		{"another scheme", defaultDomain, map[string]string{"x-forwarded-proto": "javascript"}, ""},
		{"a port that is not one", defaultDomain, map[string]string{"x-forwarded-port": "443/x"}, ""},
		{"a port out of range", defaultDomain, map[string]string{"x-forwarded-port": "70000"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := httpapi.BaseURL(&httpapi.Request{Headers: tc.headers, RequestContext: events.APIGatewayV2HTTPRequestContext{DomainName: tc.domain}})
			if tc.want == "" {
				if err == nil || checkout.KindOf(err) != checkout.EINVALID {
					t.Errorf("BaseURL = %q, %v; want an invalid-request error", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("BaseURL = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
