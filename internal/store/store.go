// Package store is the DynamoDB adapter: the only place that knows the single table's
// keys and expressions. Every mutation is one conditional request that returns what the
// caller needs, so a step costs one round trip where possible.
//
// Keys (pk / sk):
//
//	TX#<txid>        CART                   the cart, TTL on expiresAt
//	TX#<txid>        ORDER                  the order's head, which moves (gsi1: status+date, gsi2: customer)
//	TX#<txid>        ORDER#BODY             the order's body: lines, terms, placement trace; written once
//	TX#<txid>        TRACE#<ms>#<seq>       merchant trace lines that rode on no write (trace.go);
//	                                        the others are in the `trace` list of the item
//	                                        whose write they describe (cart, order, feedback)
//	TX#<txid>        PAY#<provider>#<id>    a provider notification, processed once
//	TX#<txid>        PRODUCED#…, PIN#…      production markers (production.go)
//	TX#<txid>        ONCE#…, STATS          once-only markers (e-mails sent, order counted)
//	PARTNER#<key>    STATS, STATS#<code>    a partner's paid orders and revenue, in total and per item
//	SHOP#<shop>      CONFIG                 the shop's configuration
//	CATALOG#<id>     ITEM#<code>, CAT#<c>   catalog items and categories; META the catalog
//	CUST#<email>     ACCOUNT, PRODUCT#<ref> customer account, product instances
//	COUNTER#INVOICE#<shop>#<year>  COUNTER  gap-free invoice numbers
package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Store is the DynamoDB adapter over the single table.
type Store struct {
	DB    *dynamodb.Client
	Table string
	Now   func() time.Time
}

// New returns a Store on table.
func New(db *dynamodb.Client, table string) *Store {
	return &Store{DB: db, Table: table, Now: time.Now}
}

// query yields every item a Query answers, page after page, and stops at the first
// error: the one way the store reads a key range that may span pages.
func (st *Store) query(ctx context.Context, in *dynamodb.QueryInput) iter.Seq2[map[string]types.AttributeValue, error] {
	return func(yield func(map[string]types.AttributeValue, error) bool) {
		p := dynamodb.NewQueryPaginator(st.DB, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, item := range page.Items {
				if !yield(item, nil) {
					return
				}
			}
		}
	}
}

func (st *Store) now() time.Time {
	if st.Now == nil {
		return time.Now().UTC()
	}
	return st.Now().UTC()
}

// Records are written with their json tags, so one struct tag serves the API and the table.
func jsonTags(o *attributevalue.EncoderOptions)    { o.TagKey = "json" }
func jsonTagsDec(o *attributevalue.DecoderOptions) { o.TagKey = "json" }

func marshal(v any) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMapWithOptions(v, jsonTags)
}

func marshalValue(v any) (types.AttributeValue, error) {
	return attributevalue.MarshalWithOptions(v, jsonTags)
}

func unmarshal(m map[string]types.AttributeValue, v any) error {
	return attributevalue.UnmarshalMapWithOptions(m, v, jsonTagsDec)
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": s(pk), "sk": s(sk)}
}

func n(v int64) types.AttributeValue { return &types.AttributeValueMemberN{Value: fmt.Sprint(v)} }
func b(v bool) types.AttributeValue  { return &types.AttributeValueMemberBOOL{Value: v} }

// conditionFailed returns the item as it was when a conditional request failed (nil when
// there was none), and whether the error was a failed condition at all.
func conditionFailed(err error) (map[string]types.AttributeValue, bool) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item, true
	}
	return nil, false
}

func (st *Store) get(ctx context.Context, pk, sk string, v any) (bool, error) {
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.Table, Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, err
	}
	if out.Item == nil {
		return false, nil
	}
	return true, unmarshal(out.Item, v)
}
