package apigw

import (
	"net/http"
	"time"

	"github.com/lmsshop/checkout/internal/localcloud/sigv4"
)

// verifySigV4 checks the signature of a request to an AWS_IAM route (signing name
// execute-api) with the shared verifier. It returns the caller's access key, or an
// HTTP status and the message to send: API Gateway answers every refusal with 403.
func verifySigV4(r *http.Request, body []byte, creds map[string]string, region string, now time.Time) (accessKey string, status int, msg string) {
	key, f := sigv4.Verify(r, body, func(k string) (string, bool) {
		s, ok := creds[k]
		return s, ok
	}, region, "execute-api", now)
	if f != nil {
		return "", http.StatusForbidden, f.Message
	}
	return key, 0, ""
}
