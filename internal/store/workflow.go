package store

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/trace"
)

// What the post-placement workflow keeps beside the order (internal/workflow):
//
//	TX#<txid>  ORDER          + paymentInstructions (JSON text), written by SetInstructions
//	TX#<txid>  ONCE#<name>    a side effect done once (an e-mail sent), see Once
//	TX#<txid>  FEEDBACK#<ph>  the production handlers' feedback of one phase

// OrderState is an order with the workflow's own attributes: the task token it waits
// on and the payment instructions shown to the buyer, read in one GetItem.
type OrderState struct {
	Order        *checkout.Order
	TaskToken    string
	TaskState    string
	Instructions string // JSON written by SetInstructions; "" when none
}

// OrderState reads an order with its task token and payment instructions; tokenHash ""
// skips the buyer check (tasks, back office).
func (st *Store) OrderState(ctx context.Context, txid, tokenHash string) (*OrderState, error) {
	const op = "store.orderState"
	rec, err := st.orderRecord(ctx, txid)
	if err != nil {
		return nil, err
	}
	if tokenHash != "" && !checkout.TokenOpens(rec.TokenHash, tokenHash) {
		return nil, checkout.Errorf(op, checkout.EFORBIDDEN, "this cart token does not open order %s", txid)
	}
	o := rec.Order
	return &OrderState{Order: &o, TaskToken: rec.TaskToken, TaskState: rec.TaskState, Instructions: rec.Instructions}, nil
}

// SetInstructions stores the payment instructions of the current attempt on the order
// (JSON text: the store does not interpret them), so GET /orders/{txid} shows them.
func (st *Store) SetInstructions(ctx context.Context, txid, instructionsJSON string) error {
	const op = "store.setInstructions"
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &st.Table, Key: key(txPK(txid), orderSK),
		UpdateExpression:    aws.String("SET paymentInstructions = :i, updatedAt = :now"),
		ConditionExpression: aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":i": s(instructionsJSON), ":now": s(st.now().Format(time.RFC3339Nano)),
		},
	})
	if _, failed := conditionFailed(err); failed {
		return checkout.Errorf(op, checkout.ENOTFOUND, "no order %s", txid)
	}
	return checkout.Wrap(op, err)
}

// Once claims the right to perform a named side effect of a transaction (an e-mail)
// exactly once: it returns true to the first caller only, however many race. A caller
// whose effect then fails calls Release so a retry may claim it again.
func (st *Store) Once(ctx context.Context, txid, name string) (bool, error) {
	item, err := marshal(map[string]any{"pk": txPK(txid), "sk": "ONCE#" + name, "at": st.now().Format(time.RFC3339Nano)})
	if err != nil {
		return false, checkout.Wrap("store.once", err)
	}
	return st.putOnce(ctx, "store.once", item)
}

// Release gives back a claim taken with Once.
func (st *Store) Release(ctx context.Context, txid, name string) error {
	_, err := st.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &st.Table, Key: key(txPK(txid), "ONCE#"+name)})
	return checkout.Wrap("store.release", err)
}

// OnceEach claims, in one write, the right to perform each of several named side
// effects of a transaction (the e-mails of one step) exactly once, as Once does for
// one: it returns the names this caller claimed, each claimed by the first caller
// only, however many race. A caller whose effect then fails gives that one back with
// ReleaseEach, so a retry may claim it again.
func (st *Store) OnceEach(ctx context.Context, txid, group string, names ...string) (map[string]bool, error) {
	const op = "store.onceEach"
	stamp := st.claimStamp()
	exprNames, values := map[string]string{}, map[string]types.AttributeValue{}
	var set []string
	for i, n := range names {
		set = append(set, claimClause(exprNames, values, "#n"+strconv.Itoa(i), n, stamp))
	}
	if len(set) == 0 {
		return nil, checkout.Errorf(op, checkout.EINTERNAL, "nothing to claim")
	}
	out, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &st.Table, Key: key(txPK(txid), "ONCE#"+group),
		UpdateExpression:         aws.String("SET " + strings.Join(set, ", ")),
		ExpressionAttributeNames: exprNames, ExpressionAttributeValues: values, ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return nil, checkout.Wrap(op, err)
	}
	claimed := map[string]bool{}
	for _, n := range names {
		claimed[n] = claimedBy(out.Attributes, n, stamp)
	}
	return claimed, nil
}

// ReleaseEach gives back one claim taken with OnceEach.
func (st *Store) ReleaseEach(ctx context.Context, txid, group, name string) error {
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &st.Table, Key: key(txPK(txid), "ONCE#"+group),
		UpdateExpression: aws.String("REMOVE #n"), ExpressionAttributeNames: map[string]string{"#n": name},
	})
	return checkout.Wrap("store.releaseEach", err)
}

// claimStamp is a write's own mark for the claims it takes, or for a cart command's
// write (lastCmd): unique to the write (64 random bits). It holds no time: it rides on
// items rewritten later (the order's head, the cart), whose every write pays for its
// bytes, and no reader asks when it was made.
func (st *Store) claimStamp() string {
	return strconv.FormatUint(rand.Uint64(), 36)
}

// claimClause is the SET clause that claims attribute attr (named by ref) for stamp,
// unless an earlier write claimed it: the write's own stamp read back (claimedBy) says
// that the claim is the write's.
func claimClause(names map[string]string, values map[string]types.AttributeValue, ref, attr, stamp string) string {
	names[ref], values[":stamp"] = attr, s(stamp)
	return ref + " = if_not_exists(" + ref + ", :stamp)"
}

// claimedBy says whether the item written holds stamp's claim on attr.
func claimedBy(item map[string]types.AttributeValue, attr, stamp string) bool {
	got, ok := item[attr].(*types.AttributeValueMemberS)
	return ok && got.Value == stamp
}

// ForgetNotification removes a recorded provider notification. The webhook records a
// notification before acting on it (so concurrent deliveries act once); when acting
// then fails for a transient reason, forgetting it lets the provider's retry act.
func (st *Store) ForgetNotification(ctx context.Context, txid, provider, eventID string) error {
	_, err := st.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &st.Table, Key: key(txPK(txid), "PAY#"+provider+"#"+eventID)})
	return checkout.Wrap("store.forgetNotification", err)
}

// SettleNotification marks a recorded notification as acted upon (the order moved,
// the workflow told), so a later delivery of it is a plain duplicate.
func (st *Store) SettleNotification(ctx context.Context, txid, provider, eventID string) error {
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &st.Table, Key: key(txPK(txid), "PAY#"+provider+"#"+eventID),
		UpdateExpression:          aws.String("SET settled = :t, settledAt = :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": b(true), ":now": s(st.now().Format(time.RFC3339Nano))},
	})
	return checkout.Wrap("store.settleNotification", err)
}

// ClaimUnsettledNotification lets a later delivery take over a notification that was
// recorded at least lease ago and never settled: its first processing died between
// recording it and acting on it. One caller wins the claim (a conditional write that
// renews the record's time); a notification still within its lease, or settled, is
// not claimed.
func (st *Store) ClaimUnsettledNotification(ctx context.Context, txid, provider, eventID string, lease time.Duration) (bool, error) {
	now := st.now()
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &st.Table, Key: key(txPK(txid), "PAY#"+provider+"#"+eventID),
		UpdateExpression:          aws.String("SET #at = :now"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(settled) AND #at < :cutoff"),
		ExpressionAttributeNames:  map[string]string{"#at": "at"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": s(now.Format(time.RFC3339Nano)), ":cutoff": s(now.Add(-lease).Format(time.RFC3339Nano))},
	})
	if _, failed := conditionFailed(err); failed {
		return false, nil
	}
	if err != nil {
		return false, checkout.Wrap("store.claimNotification", err)
	}
	return true, nil
}

// Feedback is one production handler's report on one order line (public, private, sales admin).
type Feedback struct {
	Line       string `json:"line"`
	Item       string `json:"item"`
	Public     string `json:"public,omitempty"`
	Private    string `json:"private,omitempty"`
	SalesAdmin string `json:"salesAdmin,omitempty"`
}

type feedbackRecord struct {
	PK    string     `json:"pk"`
	SK    string     `json:"sk"`
	Phase string     `json:"phase"`
	Lines []Feedback `json:"lines"`
}

// SaveFeedback stores the feedback of one production phase, replacing an earlier run's
// (a retried phase reports the same deliveries), with the request's pending trace
// lines and notes (lines written with it or not at all) appended to those the item
// carries: an update, not a put, so a retried phase keeps the first run's lines.
func (st *Store) SaveFeedback(ctx context.Context, txid, phase string, lines []Feedback, notes ...trace.Line) error {
	const op = "store.saveFeedback"
	if lines == nil {
		lines = []Feedback{}
	}
	fb, err := marshalValue(lines)
	if err != nil {
		return checkout.Wrap(op, err)
	}
	names := map[string]string{"#ph": "phase", "#l": "lines"}
	values := map[string]types.AttributeValue{":ph": s(phase), ":l": fb}
	tl := pendingTrace(ctx, txid)
	set, err := appendTrace([]string{"#ph = :ph", "#l = :l"}, names, values, append(tl[:len(tl):len(tl)], notes...))
	if err != nil {
		return checkout.Wrap(op, err)
	}
	_, err = st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &st.Table, Key: key(txPK(txid), "FEEDBACK#"+phase),
		UpdateExpression:         aws.String("SET " + strings.Join(set, ", ")),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	})
	if err != nil {
		restoreTrace(ctx, tl)
	}
	return checkout.Wrap(op, err)
}

// OrderAndFeedback reads an order and the stored feedback of every phase in one Query
// of the sk range FEEDBACK#…ORDER#BODY (which also holds small ONCE# markers, skipped): what
// the delivery e-mails need, at one call.
func (st *Store) OrderAndFeedback(ctx context.Context, txid string) (*checkout.Order, map[string][]Feedback, error) {
	const op = "store.orderAndFeedback"
	in := &dynamodb.QueryInput{
		TableName: &st.Table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :a AND :b"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s(txPK(txid)), ":a": s("FEEDBACK#"), ":b": s(bodySK),
		},
	}
	var head, body map[string]types.AttributeValue
	fb := map[string][]Feedback{}
	for item, err := range st.query(ctx, in) {
		if err != nil {
			return nil, nil, checkout.Wrap(op, err)
		}
		sk := item["sk"].(*types.AttributeValueMemberS).Value
		switch {
		case sk == orderSK:
			head = item
		case sk == bodySK:
			body = item
		case strings.HasPrefix(sk, "FEEDBACK#"):
			var rec feedbackRecord
			if err := unmarshal(item, &rec); err != nil {
				return nil, nil, checkout.Wrap(op, err)
			}
			fb[rec.Phase] = rec.Lines
		}
	}
	if head == nil {
		return nil, nil, checkout.Errorf(op, checkout.ENOTFOUND, "no order %s", txid)
	}
	rec, err := joinOrder(head, body)
	if err != nil {
		return nil, nil, checkout.Wrap(op, err)
	}
	o := rec.Order
	o.TokenHash = rec.TokenHash
	return &o, fb, nil
}

// Feedback returns the stored feedback of every phase, keyed by phase, in one Query.
func (st *Store) Feedback(ctx context.Context, txid string) (map[string][]Feedback, error) {
	out, err := st.DB.Query(ctx, &dynamodb.QueryInput{
		TableName: &st.Table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :f)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(txPK(txid)), ":f": s("FEEDBACK#")},
	})
	if err != nil {
		return nil, checkout.Wrap("store.feedback", err)
	}
	res := map[string][]Feedback{}
	for _, item := range out.Items {
		var rec feedbackRecord
		if err := unmarshal(item, &rec); err != nil {
			return nil, checkout.Wrap("store.feedback", err)
		}
		res[rec.Phase] = rec.Lines
	}
	return res, nil
}

// PutShop writes a shop's configuration alone, leaving its catalogs as they are
// (back office).
func (st *Store) PutShop(ctx context.Context, shop *checkout.Shop) error {
	if err := shop.Validate(); err != nil {
		return err
	}
	item, err := marshal(shopRecord{PK: shopPK(shop.ID), SK: "CONFIG", Shop: *shop})
	if err != nil {
		return checkout.Wrap("store.putShop", err)
	}
	_, err = st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.Table, Item: item})
	return checkout.Wrap("store.putShop", err)
}

// PutCatalogItem writes one item of one catalog (back office). In a slave catalog it
// overrides the master's item of the same code (see docs/spec.md#the-catalog).
func (st *Store) PutCatalogItem(ctx context.Context, shopID, catalogID string, it *checkout.Item) error {
	if err := it.Validate(); err != nil {
		return err
	}
	rec := catalogRecord{PK: shopPK(shopID), SK: "CATALOG#" + catalogID + "#ITEM#" + it.Code, ID: catalogID, Item: it, Password: it.Password}
	item, err := marshal(rec)
	if err != nil {
		return checkout.Wrap("store.putCatalogItem", err)
	}
	_, err = st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.Table, Item: item})
	return checkout.Wrap("store.putCatalogItem", err)
}
