package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/trace"
)

var _ trace.Store = (*Store)(nil)

// traceSeq orders lines written in the same millisecond by one process.
var traceSeq atomic.Uint64

type traceRecord struct {
	PK      string `json:"pk"`
	SK      string `json:"sk"`
	At      string `json:"at"`
	TxID    string `json:"txid,omitempty"`
	Source  string `json:"source"`
	Message string `json:"message"`
}

// noTx is the partition of lines written before a transaction ID exists.
const noTx = "TX#-"

// traceItem is a trace line as stored, under its transaction and sorted by time.
func traceItem(l trace.Line) (map[string]types.AttributeValue, error) {
	pk := noTx
	if l.TxID != "" {
		pk = txPK(l.TxID)
	}
	rec := traceRecord{
		PK: pk, SK: fmt.Sprintf("TRACE#%013d#%012d", l.At.UnixMilli(), traceSeq.Add(1)),
		At: l.At.UTC().Format(time.RFC3339Nano), TxID: l.TxID, Source: l.Source, Message: l.Message,
	}
	return marshal(rec)
}

// AppendTrace stores one trace line.
func (st *Store) AppendTrace(ctx context.Context, l trace.Line) error {
	item, err := traceItem(l)
	if err != nil {
		return checkout.Wrap("store.appendTrace", err)
	}
	_, err = st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.Table, Item: item})
	return checkout.Wrap("store.appendTrace", err)
}

// ListTrace returns a transaction's whole trace in order, with one Query.
func (st *Store) ListTrace(ctx context.Context, txid string) ([]trace.Line, error) {
	p := dynamodb.NewQueryPaginator(st.DB, &dynamodb.QueryInput{
		TableName: &st.Table, KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :t)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(txPK(txid)), ":t": s("TRACE#")},
	})
	var out []trace.Line
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, checkout.Wrap("store.listTrace", err)
		}
		for _, item := range page.Items {
			var rec traceRecord
			if err := unmarshal(item, &rec); err != nil {
				return nil, checkout.Wrap("store.listTrace", err)
			}
			at, _ := time.Parse(time.RFC3339Nano, rec.At)
			out = append(out, trace.Line{At: at, TxID: rec.TxID, Source: rec.Source, Message: rec.Message})
		}
	}
	return out, nil
}
