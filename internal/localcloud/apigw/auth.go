package apigw

import (
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// authorize runs the route's authorizer, if it has one, and returns what HTTP API puts
// in requestContext.authorizer, or the refusal to send (status, API Gateway's message
// and extra headers). It is the one place the gateway decides who may call a route.
func (g *Gateway) authorize(r *http.Request, rt route, body []byte, now time.Time) (*events.APIGatewayV2HTTPRequestContextAuthorizerDescription, int, string, http.Header) {
	switch {
	case rt.IAM:
		accessKey, status, msg := verifySigV4(r, body, g.opts.Credentials, g.opts.Region, now)
		if status != 0 {
			g.log.Info("apigw: signature refused", "route", rt.Key(), "reason", msg)
			return nil, status, msg, nil
		}
		return &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
			AccessKey: accessKey,
			AccountID: g.opts.AccountID,
			CallerID:  accessKey,
			UserARN:   "arn:aws:iam::" + g.opts.AccountID + ":user/local",
			UserID:    accessKey,
		}}, 0, "", nil
	case rt.Authorizer != "":
		jwt, denied := g.authorizeJWT(r, rt.Authorizer, rt.Scopes, now)
		if denied != nil {
			g.log.Info("apigw: token refused", "route", rt.Key(), "authorizer", rt.Authorizer, "reason", denied.reason)
			switch denied.status {
			case http.StatusUnauthorized:
				return nil, denied.status, "Unauthorized", http.Header{"Www-Authenticate": {wwwAuthenticate(denied.reason)}}
			case http.StatusForbidden:
				return nil, denied.status, "Forbidden", nil
			default:
				return nil, denied.status, "Internal Server Error", nil
			}
		}
		return &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: jwt}, 0, "", nil
	}
	return nil, 0, "", nil
}
