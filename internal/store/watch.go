package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/checkout"
)

// StatusIndex is the index of orders by status and placement time (gsi1): the only
// one the watch reads, so its role is granted Query on it alone.
const StatusIndex = "gsi1"

// OrderAge is what the watch needs to know of an order: which status it is in, since
// when, and how it is paid.
type OrderAge struct {
	TxID      string          `json:"transactionId"`
	Status    checkout.Status `json:"status"`
	Paymode   string          `json:"paymode"`
	PlacedAt  time.Time       `json:"placedAt"`
	UpdatedAt time.Time       `json:"updatedAt"`
}

// OrdersPlacedBefore lists every order in one status placed before a time, oldest
// first, page by page (Query on the status index, only the attributes the watch
// reads). An order's updatedAt is never before its placedAt, so this bounds every
// order that has stayed unchanged since before that time.
func (st *Store) OrdersPlacedBefore(ctx context.Context, status checkout.Status, before time.Time) ([]OrderAge, error) {
	const op = "store.ordersPlacedBefore"
	in := &dynamodb.QueryInput{
		TableName: &st.Table, IndexName: aws.String(StatusIndex),
		KeyConditionExpression:   aws.String("gsi1pk = :pk AND gsi1sk < :before"),
		ProjectionExpression:     aws.String("transactionId, #st, paymode, placedAt, updatedAt"),
		ExpressionAttributeNames: map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s(statusKey(status)), ":before": s(before.UTC().Format(time.RFC3339Nano)),
		},
	}
	var out []OrderAge
	for item, err := range st.query(ctx, in) {
		if err != nil {
			return nil, checkout.Wrap(op, err)
		}
		var a OrderAge
		if err := unmarshal(item, &a); err != nil {
			return nil, checkout.Wrap(op, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// ShopSettings reads a shop's configuration without its catalog: one GetItem, for a
// function that needs only the shop's delays.
func (st *Store) ShopSettings(ctx context.Context, shopID string) (*checkout.Shop, error) {
	const op = "store.shopSettings"
	var r shopRecord
	ok, err := st.get(ctx, shopPK(shopID), "CONFIG", &r)
	if err != nil {
		return nil, checkout.Wrap(op, err)
	}
	if !ok {
		return nil, checkout.Errorf(op, checkout.ENOTFOUND, "no shop %q", shopID)
	}
	return &r.Shop, nil
}
