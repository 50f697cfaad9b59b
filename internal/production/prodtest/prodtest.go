// Package prodtest gives production tests a store over a fresh table (made
// from template.yaml by dynamotest) and a fixed clock.
package prodtest

import (
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lmsshop/checkout/internal/localcloud/dynamotest"
	"github.com/lmsshop/checkout/internal/store"
)

// Now is the fixed clock reading tests produce at.
var Now = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

// NewStore returns a store over a fresh table, deleted when the test ends.
// With $DYNAMODB_ENDPOINT unset it uses the shared development DynamoDB Local
// on 127.0.0.1:8000 rather than starting another one: the machine is small.
func NewStore(t testing.TB) *store.Store {
	t.Helper()
	if os.Getenv("DYNAMODB_ENDPOINT") != "" {
		db, name := dynamotest.NewTable(t)
		return &store.Store{DB: db, Table: name, Now: func() time.Time { return Now }}
	}
	db := dynamodb.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "localsecret", ""),
	}, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String("http://127.0.0.1:8000") })
	name := dynamotest.CreateTable(t, db)
	return &store.Store{DB: db, Table: name, Now: func() time.Time { return Now }}
}
