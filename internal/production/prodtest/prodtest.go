// Package prodtest gives production tests a store over a fresh table (made
// from template.yaml by dynamotest) and a fixed clock.
package prodtest

import (
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/localcloud/dynamotest"
	"github.com/lmsshop/checkout/internal/store"
)

// Now is the fixed clock reading tests produce at.
var Now = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

// NewStore returns a store over a fresh table, deleted when the test ends.
// The table lives in the DynamoDB Local dynamotest starts once per test binary (or
// the one at $DYNAMODB_ENDPOINT).
func NewStore(t testing.TB) *store.Store {
	t.Helper()
	db, name := dynamotest.NewTable(t)
	return &store.Store{DB: db, Table: name, Now: func() time.Time { return Now }}
}
