package wire

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
)

// lambdaAWSConfig is the SDK configuration of a Lambda function, read from the variables
// the Lambda runtime sets: AWS_REGION and the execution role's session
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), plus the SDK's endpoint
// variables (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>) that point a function at
// local services. It replaces config.LoadDefaultConfig, whose shared-file profiles, SSO,
// STS and IMDS providers a Lambda never uses but every binary linked (about 3.5 MB
// each). A missing region or key fails the cold start with the variable's name.
func lambdaAWSConfig(getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return aws.Config{}, errors.New("wire: AWS_REGION is not set (the Lambda runtime sets it)")
	}
	key, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if key == "" || secret == "" {
		return aws.Config{}, errors.New("wire: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (the Lambda runtime sets the execution role's session there)")
	}
	cfg := aws.Config{
		Region: region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
			key, secret, getenv("AWS_SESSION_TOKEN"))),
		ConfigSources: []any{envEndpoints(getenv)},
	}
	if ep := getenv("AWS_ENDPOINT_URL"); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	return cfg, nil
}

// envEndpoints gives each client its AWS_ENDPOINT_URL_<SERVICE> variable, the SDK's
// name for a service's endpoint (its ID in capitals, spaces as underscores).
type envEndpoints func(string) string

// GetServiceBaseEndpoint is the hook the SDK's clients ask for a service endpoint.
func (e envEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := e("AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_")))
	return v, v != "", nil
}

// FixedEndpoint answers every call with the endpoint resolved once when the client was
// built. The SDK's default resolver runs the service's endpoint rules on every call
// (about a tenth of a cart request's CPU); a function talks to one region and one
// endpoint for its whole life, so the answer never changes.
type FixedEndpoint[P any] struct{ ep smithyendpoints.Endpoint }

// ResolveEndpoint returns the endpoint resolved at construction.
func (f *FixedEndpoint[P]) ResolveEndpoint(context.Context, P) (smithyendpoints.Endpoint, error) {
	return f.ep, nil
}

// ResolveOnce runs the default resolver once with the client's region and base
// endpoint; if it fails, the client keeps the default resolver, which then reports the
// same error on the first call (a cold start does not fail on a call it may never make).
func ResolveOnce[P any](def interface {
	ResolveEndpoint(context.Context, P) (smithyendpoints.Endpoint, error)
}, params P, set func(*FixedEndpoint[P])) {
	ep, err := def.ResolveEndpoint(context.Background(), params)
	if err == nil {
		// A pointer: the SDK compares resolvers, and an endpoint (headers, properties)
		// is not comparable.
		set(&FixedEndpoint[P]{ep})
	}
}

func fixedDynamoDB(o *dynamodb.Options) {
	ResolveOnce(dynamodb.NewDefaultEndpointResolverV2(),
		dynamodb.EndpointParameters{Region: aws.String(o.Region), Endpoint: o.BaseEndpoint,
			AccountIdEndpointMode: aws.String(string(aws.AccountIDEndpointModeDisabled))}.WithDefaults(),
		func(f *FixedEndpoint[dynamodb.EndpointParameters]) { o.EndpointResolverV2 = f })
}
