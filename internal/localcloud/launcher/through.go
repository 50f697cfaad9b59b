package launcher

import (
	"context"
	"fmt"
	"strings"
)

// The services whose endpoint a Through hook is asked about, named as the SDK's
// AWS_ENDPOINT_URL_<SERVICE> variables name them.
const (
	ServiceDynamoDB      = "DYNAMODB"
	ServiceStepFunctions = "SFN"
	ServiceSES           = "SESV2"
)

// Through is given each service's local endpoint once it runs and returns the endpoint
// the functions use instead — a counting or fault-injecting proxy in front of it
// (internal/localcloud/faultproxy). Returning the endpoint unchanged keeps the direct path.
type Through func(service, endpoint string) (string, error)

// StartThrough is Start with the functions' AWS endpoints passed through through: the
// functions, the table's creation and the demo seed reach DynamoDB, Step Functions and
// SES at the endpoints it returns, and Cloud.AWS holds them too. Cloud.DynamoDBURL,
// StepFunctionsURL and SESURL stay the services' own, for tests that read behind the
// proxy's back.
func StartThrough(ctx context.Context, cfg Config, through Through) (*Cloud, error) {
	cfg.Through = through
	return Start(ctx, cfg)
}

// throughEndpoints passes each service endpoint (keyed by service) through the hook.
func throughEndpoints(endpoints map[string]string, through Through) error {
	for _, svc := range []string{ServiceDynamoDB, ServiceStepFunctions, ServiceSES} {
		via, err := through(svc, endpoints[svc])
		if err != nil {
			return fmt.Errorf("launcher: endpoint of %s: %w", strings.ToLower(svc), err)
		}
		endpoints[svc] = via
	}
	return nil
}
