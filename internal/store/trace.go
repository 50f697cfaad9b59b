package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/trace"
)

// The merchant trace rides on the writes it describes (docs/architecture.md, "The
// trace's new path and why it is safe"): any item of a transaction's partition may
// carry a `trace` list of lines, appended in the same UpdateItem, PutItem or
// transaction as the change the lines describe (the cart's command, the order's move,
// an e-mail's claim, the production feedback). Lines that have no write to ride on (a
// refusal, a line after a request's last write, a line before any transaction ID) are
// stored as items of their own, TRACE#<ms>#<seq>, each holding one or more lines in the
// same `trace` list. ListTrace reads the partition once and merges them all by time.

var _ trace.Store = (*Store)(nil)
var _ trace.BatchStore = (*Store)(nil)

// traceSeq orders lines written in the same millisecond by one process.
var traceSeq atomic.Uint64

// traceAttr is the list attribute that carries trace lines on any item.
const traceAttr = "trace"

// MaxItemTrace caps the lines one cart item carries: a cart's holder may send any
// number of commands, and every line makes each later write of the cart bigger (write
// units are counted on the whole item) and brings it closer to DynamoDB's 400 KB item
// limit. Past the cap, a command's line is written as an item of its own.
const MaxItemTrace = 100

// traceEntry is one line inside a `trace` list; the transaction ID is the partition's.
// It is stored as a list [time, source, message], the time a number of nanoseconds
// since 1970 UTC: a line rides on items that are rewritten (the order's head, the cart)
// and every byte of it is paid again at each later write of its item, so a line costs
// 17 bytes besides its source and message instead of 44 as a map {at, src, msg} with
// an RFC 3339 time. A line in that older map form still reads.
type traceEntry struct {
	At      time.Time
	Source  string
	Message string
}

// MarshalDynamoDBAttributeValue stores the entry as [N nanoseconds, S source, S message].
func (e traceEntry) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return &types.AttributeValueMemberL{Value: []types.AttributeValue{
		&types.AttributeValueMemberN{Value: strconv.FormatInt(e.At.UnixNano(), 10)},
		&types.AttributeValueMemberS{Value: e.Source},
		&types.AttributeValueMemberS{Value: e.Message},
	}}, nil
}

// UnmarshalDynamoDBAttributeValue reads the list form, or the older map {at, src, msg}.
func (e *traceEntry) UnmarshalDynamoDBAttributeValue(av types.AttributeValue) error {
	str := func(v types.AttributeValue) string {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			return s.Value
		}
		return ""
	}
	switch v := av.(type) {
	case *types.AttributeValueMemberL:
		if len(v.Value) != 3 {
			return fmt.Errorf("trace line: %d elements, want 3", len(v.Value))
		}
		num, ok := v.Value[0].(*types.AttributeValueMemberN)
		if !ok {
			return fmt.Errorf("trace line: its time is not a number")
		}
		ns, err := strconv.ParseInt(num.Value, 10, 64)
		if err != nil {
			return fmt.Errorf("trace line: time %q: %w", num.Value, err)
		}
		*e = traceEntry{At: time.Unix(0, ns).UTC(), Source: str(v.Value[1]), Message: str(v.Value[2])}
	case *types.AttributeValueMemberM:
		at, _ := time.Parse(time.RFC3339Nano, str(v.Value["at"]))
		*e = traceEntry{At: at.UTC(), Source: str(v.Value["src"]), Message: str(v.Value["msg"])}
	default:
		return fmt.Errorf("trace line: unexpected %T", av)
	}
	return nil
}

func entriesOf(lines []trace.Line) []traceEntry {
	out := make([]traceEntry, 0, len(lines))
	for _, l := range lines {
		out = append(out, traceEntry{At: l.At.UTC(), Source: l.Source, Message: l.Message})
	}
	return out
}

// traceValue is lines as the value of a `trace` list.
func traceValue(lines []trace.Line) (types.AttributeValue, error) {
	return marshalValue(entriesOf(lines))
}

// appendTrace adds to an update's SET clauses the append of lines to the item's trace
// (nothing when there are none).
func appendTrace(set []string, names map[string]string, values map[string]types.AttributeValue, lines []trace.Line) ([]string, error) {
	if len(lines) == 0 {
		return set, nil
	}
	av, err := traceValue(lines)
	if err != nil {
		return nil, err
	}
	names["#trace"] = traceAttr
	values[":trace"], values[":tnil"] = av, &types.AttributeValueMemberL{}
	return append(set, "#trace = list_append(if_not_exists(#trace, :tnil), :trace)"), nil
}

// noTx is the partition of lines written before a transaction ID exists.
const noTx = "TX#-"

// traceRecord is an item of its own holding lines; older items hold one line in
// at/txid/source/message, which ListTrace still reads.
type traceRecord struct {
	PK      string       `json:"pk"`
	SK      string       `json:"sk"`
	At      string       `json:"at,omitempty"`
	TxID    string       `json:"txid,omitempty"`
	Source  string       `json:"source,omitempty"`
	Message string       `json:"message,omitempty"`
	Trace   []traceEntry `json:"trace,omitempty"`
}

// traceItem is lines of one transaction as an item of their own, sorted by time.
func traceItem(lines []trace.Line) (map[string]types.AttributeValue, error) {
	pk := noTx
	if lines[0].TxID != "" {
		pk = txPK(lines[0].TxID)
	}
	rec := traceRecord{
		PK: pk, SK: fmt.Sprintf("TRACE#%013d#%012d", lines[0].At.UnixMilli(), traceSeq.Add(1)),
		TxID: lines[0].TxID, Trace: entriesOf(lines),
	}
	return marshal(rec)
}

// AppendTrace stores one trace line as an item of its own.
func (st *Store) AppendTrace(ctx context.Context, l trace.Line) error {
	return st.AppendTraces(ctx, []trace.Line{l})
}

// AppendTraces stores lines of one transaction in one item of their own: one PutItem.
func (st *Store) AppendTraces(ctx context.Context, lines []trace.Line) error {
	if len(lines) == 0 {
		return nil
	}
	item, err := traceItem(lines)
	if err != nil {
		return checkout.Wrap("store.appendTrace", err)
	}
	_, err = st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.Table, Item: item})
	return checkout.Wrap("store.appendTrace", err)
}

// pendingTrace takes the lines of txid waiting in ctx (trace.WithPending), for a write
// on the transaction's items to carry; give them back with restoreTrace when that write
// does not happen.
func pendingTrace(ctx context.Context, txid string) []trace.Line {
	return trace.PendingFrom(ctx).Take(txid)
}

func restoreTrace(ctx context.Context, lines []trace.Line) {
	trace.PendingFrom(ctx).Restore(lines)
}

// ListTrace returns a transaction's whole trace in order, with one Query of its
// partition: the lines carried by its items and those stored on their own, merged by
// time (lines of one item keep their order).
func (st *Store) ListTrace(ctx context.Context, txid string) ([]trace.Line, error) {
	in := &dynamodb.QueryInput{
		TableName: &st.Table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ProjectionExpression:      aws.String("pk, sk, #trace, #at, txid, #src, message"),
		ExpressionAttributeNames:  map[string]string{"#trace": traceAttr, "#at": "at", "#src": "source"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(txPK(txid))},
	}
	var out []trace.Line
	for item, err := range st.query(ctx, in) {
		if err != nil {
			return nil, checkout.Wrap("store.listTrace", err)
		}
		var rec traceRecord
		if err := unmarshal(item, &rec); err != nil {
			return nil, checkout.Wrap("store.listTrace", err)
		}
		for _, e := range rec.Trace {
			out = append(out, trace.Line{At: e.At, TxID: txid, Source: e.Source, Message: e.Message})
		}
		if len(rec.Trace) == 0 && rec.Message != "" && len(rec.SK) > 6 && rec.SK[:6] == "TRACE#" {
			at, _ := time.Parse(time.RFC3339Nano, rec.At)
			out = append(out, trace.Line{At: at, TxID: rec.TxID, Source: rec.Source, Message: rec.Message})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}
