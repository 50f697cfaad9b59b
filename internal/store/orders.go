package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/trace"
)

// An order is two items of its transaction's partition: the head (sk ORDER), which the
// workflow moves (status, token hash, task token, payments, invoice, flags' keys, the
// trace of its moves) and which carries the index keys, and the body (sk ORDER#BODY),
// written once at placement with the head and never again: the lines with the catalog
// items as sold, the bill lines, taxes, mentions, participants, seats, requirements,
// the accepted terms, and the trace lines of the cart and its placement. A move
// rewrites the head alone, a few hundred bytes instead of a few KB. The two sort next
// to each other, so the whole order is one Query (sk BETWEEN ORDER AND ORDER#BODY).
// An order written before the split (one item, no body) reads the same.
const (
	orderSK = "ORDER"
	bodySK  = "ORDER#BODY"
)

// bodyAttrs are the order's attributes stored in its body: set at placement, never
// updated. The body takes the placement's trace lines too, which no later write appends
// to (encodeOrder divides the order).
var bodyAttrs = []string{"lines", "billLines", "taxes", "mentions", "participants", "seats", "requirements", "acceptance"}

// joinOrder decodes an order from its head and body items (body nil: an order of the
// old layout, or a read that found none).
func joinOrder(head, body map[string]types.AttributeValue) (*orderRecord, error) {
	item := head
	if len(body) > 0 {
		item = make(map[string]types.AttributeValue, len(head)+len(bodyAttrs))
		for k, v := range head {
			item[k] = v
		}
		for _, a := range bodyAttrs {
			if v, ok := body[a]; ok {
				item[a] = v
			}
		}
	}
	var rec orderRecord
	if err := unmarshal(item, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

// Answer says which order a write of the order's head answers with (Move, Update,
// UpdateOnce, RecordPayment: give at most one; none is the whole order, read). The write
// is the same one UpdateItem of the head whatever the answer; what differs is where the
// answer's body (lines, bill lines, taxes, terms…: written at placement, never changed)
// comes from:
//   - none given: a GetItem of the body started beside the write, one more call in the
//     same round trip, for a caller that holds no copy of the order and shows it whole;
//   - HeadOnly: nowhere; the answer has the head's attributes (status, payment mode,
//     totals, customer, payments, invoice…) and no lines, at one call, for a caller
//     that ignores the answer or looks only at the head;
//   - BodyFrom(o): the body of o, an order of the same transaction the caller already
//     read or was given (the workflow's execution input), joined in memory.
type Answer struct {
	headOnly bool
	held     *checkout.Order
}

// HeadOnly answers with the order's head alone: one call, the body untouched.
var HeadOnly = Answer{headOnly: true}

// BodyFrom answers with the head joined to the body of held, an order of the same
// transaction in any status (the body does not change after placement). A nil held, or
// an order of another transaction, gives the body read beside the write instead.
func BodyFrom(held *checkout.Order) Answer { return Answer{held: held} }

// bodyRead is where a write's answer takes the order's body from: the read that runs
// beside the write of its head (the body never changes after placement, so the two give
// the order as the write left it, in the time of one round trip), or nothing to read.
type bodyRead struct {
	done chan struct{} // nil: nothing is read
	item map[string]types.AttributeValue
	err  error
	// held is the order whose body the answer takes (BodyFrom), nil for none.
	held *checkout.Order
}

// bodyFor starts what ans (at most one) needs to complete the head of txid's order
// into the order the write answers with.
func (st *Store) bodyFor(ctx context.Context, txid string, ans []Answer) *bodyRead {
	var a Answer
	if len(ans) > 0 {
		a = ans[0]
	}
	switch {
	case a.headOnly:
		return &bodyRead{}
	case a.held != nil && a.held.TxID == txid:
		return &bodyRead{held: a.held}
	}
	r := &bodyRead{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.Table, Key: key(txPK(txid), bodySK), ConsistentRead: aws.Bool(true)})
		if err != nil {
			r.err = err
			return
		}
		r.item = out.Item
	}()
	return r
}

// order waits for the body, if read, and joins it to head (the item a write returned).
func (r *bodyRead) order(head map[string]types.AttributeValue) (*orderRecord, error) {
	r.wait()
	if r.err != nil {
		return nil, r.err
	}
	rec, err := joinOrder(head, r.item)
	if err != nil {
		return nil, err
	}
	if r.held != nil {
		setBody(&rec.Order, r.held)
	}
	return rec, nil
}

// wait lets the read finish when the write's answer is not used.
func (r *bodyRead) wait() {
	if r.done != nil {
		<-r.done
	}
}

// setBody gives o the body attributes (bodyAttrs) of held: the same values, shared.
func setBody(o, held *checkout.Order) {
	o.Lines, o.BillLines, o.Taxes, o.Mentions = held.Lines, held.BillLines, held.Taxes, held.Mentions
	o.Participants, o.Seats, o.Required, o.Acceptance = held.Participants, held.Seats, held.Required, held.Acceptance
}

type orderRecord struct {
	PK     string `json:"pk"`
	SK     string `json:"sk"`
	Gsi1PK string `json:"gsi1pk"` // ORDERS#<status>
	Gsi1SK string `json:"gsi1sk"` // placedAt, RFC 3339 UTC
	Gsi2PK string `json:"gsi2pk"` // CUST#<email>
	Gsi2SK string `json:"gsi2sk"` // ORDER#placedAt
	checkout.Order
	TokenHash string `json:"tokenHash"`
	// TaskToken is the Step Functions token the order's workflow waits on, if any.
	TaskToken string `json:"taskToken,omitempty"`
	TaskState string `json:"taskState,omitempty"` // which wait: payment, retry
	// Trace is the merchant trace carried by the order's own writes (store/trace.go).
	Trace []traceEntry `json:"trace,omitempty"`
	// Instructions are the payment instructions of the current attempt (SetInstructions).
	Instructions string `json:"paymentInstructions,omitempty"`
}

// statusKey partitions orders by status for the back office; a stack sells for one
// shop, so the status alone is the key.
func statusKey(s checkout.Status) string { return "ORDERS#" + string(s) }

func newOrderRecord(o *checkout.Order) orderRecord {
	return orderRecord{
		PK: txPK(o.TxID), SK: orderSK, Order: *o, TokenHash: o.TokenHash,
		Gsi1PK: statusKey(o.Status), Gsi1SK: o.PlacedAt.UTC().Format(time.RFC3339Nano),
		Gsi2PK: custPK(o.Customer.Email), Gsi2SK: "ORDER#" + o.PlacedAt.UTC().Format(time.RFC3339Nano),
	}
}

// CartAndOrder reads a transaction's cart and order in one Query over the sk range
// CART…ORDER#BODY (which also holds small ONCE# markers, skipped), all placement reads.
func (st *Store) CartAndOrder(ctx context.Context, txid, tokenHash string) (*checkout.Cart, *checkout.Order, error) {
	const op = "store.cartAndOrder"
	out, err := st.DB.Query(ctx, &dynamodb.QueryInput{
		TableName: &st.Table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :a AND :b"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s(txPK(txid)), ":a": s(cartSK), ":b": s(bodySK),
		},
	})
	if err != nil {
		return nil, nil, checkout.Wrap(op, err)
	}
	var cart *checkout.Cart
	var order *checkout.Order
	head, body := orderItems(out.Items)
	for _, item := range out.Items {
		switch item["sk"].(*types.AttributeValueMemberS).Value {
		case cartSK:
			var rec cartRecord
			if err := unmarshal(item, &rec); err != nil {
				return nil, nil, checkout.Wrap(op, err)
			}
			if !checkout.TokenOpens(rec.TokenHash, tokenHash) {
				return nil, nil, checkout.Errorf(op, checkout.EFORBIDDEN, "this cart token does not open cart %s", txid)
			}
			cart = rec.cart()
		case orderSK:
			rec, err := joinOrder(head, body)
			if err != nil {
				return nil, nil, checkout.Wrap(op, err)
			}
			if !checkout.TokenOpens(rec.TokenHash, tokenHash) {
				return nil, nil, checkout.Errorf(op, checkout.EFORBIDDEN, "this cart token does not open order %s", txid)
			}
			o := rec.Order
			order = &o
		}
	}
	if cart == nil && order == nil {
		return nil, nil, checkout.Errorf(op, checkout.ENOTFOUND, "no cart %s", txid)
	}
	return cart, order, nil
}

// Place writes the order (head and body) and marks the cart placed in one transaction:
// the order only if absent, the cart only at the version that was priced, the customer account
// upserted, and the placement's trace line carried by the order with the cart's lines
// (cartTrace, as read with the cart). Two concurrent placements cannot both succeed,
// and the trace costs no request nor item of its own.
//
// rule is what the items require of the buyer's account; the account's own update
// carries it as its condition, so it costs no read.
func (st *Store) Place(ctx context.Context, o *checkout.Order, cartVersion int64, rule checkout.AccountRule, note trace.Line, cartTrace ...trace.Line) error {
	const op = "store.place"
	rec := newOrderRecord(o)
	// The cart's trace moves onto the order in this transaction (and is removed from the
	// cart), so that erasing the cart after billing erases none of it: the cart's
	// version condition makes what was read exactly what is moved.
	rec.Trace = entriesOf(append(append([]trace.Line(nil), cartTrace...), note))
	head, body, err := encodeOrder(&rec)
	if err != nil {
		return checkout.Wrap(op, err)
	}
	now := st.now()
	cu := o.Customer
	_, err = st.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &st.Table, Item: head, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Update: &types.Update{
			TableName: &st.Table, Key: key(txPK(o.TxID), cartSK),
			UpdateExpression:         aws.String("SET placed = :t, version = version + :one, updatedAt = :now REMOVE #trace"),
			ExpressionAttributeNames: map[string]string{"#trace": traceAttr},
			// DynamoDB deletes an expired item some time after its TTL, so the expiry is
			// part of the condition: a cart past expiresAt cannot be placed, deleted or not.
			ConditionExpression: aws.String("version = :v AND placed = :f AND expiresAt > :nowSec"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":t": b(true), ":f": b(false), ":one": n(1), ":v": n(cartVersion), ":now": s(now.Format(time.RFC3339Nano)),
				":nowSec": n(now.Unix()),
			},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		{Update: &types.Update{
			TableName: &st.Table, Key: key(custPK(cu.Email), "ACCOUNT"), ConditionExpression: accountCondition(rule),
			UpdateExpression: aws.String("SET email = :e, lastName = :ln, firstName = :fn, organisation = :org, country = :c, updatedAt = :now, createdAt = if_not_exists(createdAt, :now) ADD orders :one"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":e": s(cu.Email), ":ln": s(cu.LastName), ":fn": s(cu.FirstName), ":org": s(cu.Organisation),
				":c": s(cu.Country), ":now": s(now.Format(time.RFC3339Nano)), ":one": n(1),
			},
		}},
		// The body, last so the reasons above keep their places: the head's condition
		// makes the transaction, hence the body, happen once.
		{Put: &types.Put{TableName: &st.Table, Item: body}},
	}})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for i, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "ConditionalCheckFailed" {
				switch i {
				case 0:
					return checkout.Errorf(op, checkout.ECONFLICT, "order %s is already placed", o.TxID)
				case 1:
					return placeRefusedByCart(o.TxID, r.Item, now)
				case 2:
					if rule == checkout.ExistingAccount {
						return checkout.Errorf(op, checkout.EINCOMPLETE, "some items are sold to existing customers only, and %s has no customer account", cu.Email)
					}
					return checkout.Errorf(op, checkout.EINCOMPLETE, "some items are sold to new customers only, and %s already has a customer account", cu.Email)
				}
			}
		}
		return checkout.Wrap(op, err)
	}
	return checkout.Wrap(op, err)
}

// placeRefusedByCart says why the cart's part of a placement failed, from the cart as
// it was (nil once DynamoDB has deleted it).
func placeRefusedByCart(txid string, old map[string]types.AttributeValue, now time.Time) error {
	const op = "store.place"
	var rec cartRecord
	if old == nil {
		return checkout.Errorf(op, checkout.EGONE, "cart %s has expired", txid)
	}
	if err := unmarshal(old, &rec); err != nil {
		return checkout.Wrap(op, err)
	}
	switch {
	case rec.ExpiresAt <= now.Unix():
		return checkout.Errorf(op, checkout.EGONE, "cart %s has expired", txid)
	case rec.Placed:
		return checkout.Errorf(op, checkout.ECONFLICT, "the order of cart %s is already placed", txid)
	}
	return checkout.Errorf(op, checkout.ECONFLICT, "the cart changed while the order was being placed; review it again")
}

func accountCondition(rule checkout.AccountRule) *string {
	switch rule {
	case checkout.ExistingAccount:
		return aws.String("attribute_exists(orders)")
	case checkout.NoAccount:
		return aws.String("attribute_not_exists(orders)")
	}
	return nil
}

// GetOrder reads an order; tokenHash "" skips the buyer check (tasks, back office).
func (st *Store) GetOrder(ctx context.Context, txid, tokenHash string) (*checkout.Order, error) {
	rec, err := st.orderRecord(ctx, txid)
	if err != nil {
		return nil, err
	}
	if tokenHash != "" && !checkout.TokenOpens(rec.TokenHash, tokenHash) {
		return nil, checkout.Errorf("store.getOrder", checkout.EFORBIDDEN, "this cart token does not open order %s", txid)
	}
	o := rec.Order
	return &o, nil
}

// orderRecord reads the whole order, head and body, with one Query.
func (st *Store) orderRecord(ctx context.Context, txid string) (*orderRecord, error) {
	out, err := st.DB.Query(ctx, &dynamodb.QueryInput{
		TableName: &st.Table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :a AND :b"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s(txPK(txid)), ":a": s(orderSK), ":b": s(bodySK),
		},
	})
	if err != nil {
		return nil, checkout.Wrap("store.getOrder", err)
	}
	head, body := orderItems(out.Items)
	if head == nil {
		return nil, checkout.Errorf("store.getOrder", checkout.ENOTFOUND, "no order %s", txid)
	}
	rec, err := joinOrder(head, body)
	if err != nil {
		return nil, checkout.Wrap("store.getOrder", err)
	}
	rec.Order.TokenHash = rec.TokenHash
	return rec, nil
}

// orderItems picks an order's head and body among a Query's items (nil when absent).
func orderItems(items []map[string]types.AttributeValue) (head, body map[string]types.AttributeValue) {
	for _, item := range items {
		switch item["sk"].(*types.AttributeValueMemberS).Value {
		case orderSK:
			head = item
		case bodySK:
			body = item
		}
	}
	return head, body
}

// headRecord reads the order's head alone (one GetItem): its status, token, payments
// and invoice, without the lines.
func (st *Store) headRecord(ctx context.Context, txid string) (*orderRecord, error) {
	var rec orderRecord
	ok, err := st.get(ctx, txPK(txid), orderSK, &rec)
	if err != nil {
		return nil, checkout.Wrap("store.getOrder", err)
	}
	if !ok {
		return nil, checkout.Errorf("store.getOrder", checkout.ENOTFOUND, "no order %s", txid)
	}
	rec.Order.TokenHash = rec.TokenHash
	return &rec, nil
}

// TaskToken returns the token the order's workflow waits on and which wait it is.
func (st *Store) TaskToken(ctx context.Context, txid string) (token, state string, err error) {
	rec, err := st.headRecord(ctx, txid)
	if err != nil {
		return "", "", err
	}
	return rec.TaskToken, rec.TaskState, nil
}

// Change describes an order update beside its status.
type Change struct {
	Paymode   string
	Payment   *checkout.Payment
	TaskToken *string // set ("" clears) the token the workflow waits on
	TaskState string
	Invoice   string
	// Instructions sets the payment instructions shown to the buyer (JSON text, see
	// SetInstructions) in the same write.
	Instructions string
	// Trace is the lines describing this very change: written with it, or not at all.
	// The request's pending lines (trace.WithPending) ride along before them.
	Trace []trace.Line
}

// withTrace adds the change's clauses and then its trace lines, after the request's
// pending ones, to an order update; it returns the pending lines it took, for the caller
// to give back (restoreTrace) if the update writes nothing.
func (ch Change) withTrace(ctx context.Context, txid string, set []string, names map[string]string, values map[string]types.AttributeValue) ([]string, []trace.Line, error) {
	set, err := ch.clauses(set, values)
	if err != nil {
		return nil, nil, err
	}
	lines := pendingTrace(ctx, txid)
	if set, err = appendTrace(set, names, values, append(lines[:len(lines):len(lines)], ch.Trace...)); err != nil {
		return nil, nil, err
	}
	return set, lines, nil
}

// clauses adds the change's SET clauses and values to an order update (":now" must be
// among the values): the one place that says how each part of a Change is stored.
func (ch Change) clauses(set []string, values map[string]types.AttributeValue) ([]string, error) {
	if ch.Paymode != "" {
		set = append(set, "paymode = :pm")
		values[":pm"] = s(ch.Paymode)
	}
	if ch.Payment != nil {
		av, err := marshalValue([]checkout.Payment{*ch.Payment})
		if err != nil {
			return nil, err
		}
		set = append(set, "payments = list_append(if_not_exists(payments, :nil), :pay)")
		values[":pay"], values[":nil"] = av, &types.AttributeValueMemberL{}
	}
	if ch.TaskToken != nil {
		set = append(set, "taskToken = :tt", "taskState = :ts")
		values[":tt"], values[":ts"] = s(*ch.TaskToken), s(ch.TaskState)
	}
	if ch.Invoice != "" {
		set = append(set, "invoiceNumber = :inv", "invoicedAt = :now")
		values[":inv"] = s(ch.Invoice)
	}
	if ch.Instructions != "" {
		set = append(set, "paymentInstructions = :ins")
		values[":ins"] = s(ch.Instructions)
	}
	return set, nil
}

// statusIn is the condition that the order's status (#st, which the caller names) is
// one of statuses, their values added to values as :s0, :s1, …
func statusIn(values map[string]types.AttributeValue, statuses []checkout.Status) string {
	keys := make([]string, len(statuses))
	for i, status := range statuses {
		keys[i] = ":s" + strconv.Itoa(i)
		values[keys[i]] = s(string(status))
	}
	return "#st IN (" + strings.Join(keys, ", ") + ")"
}

// paidStatuses is checkout.Paid, the statuses in which an order may be delivered to or
// numbered, under the name production's claim (production.go) calls it by.
func paidStatuses() []checkout.Status { return checkout.Paid }

// Move changes an order's status under the transition table (checkout.Sources),
// enforced by the write's own condition (status IN the allowed sources), and applies
// the change in the same write.
// Moving to the status it already has is a no-op success, so retried tasks are harmless.
// It answers with the order as moved, whose body ans says where to take from (Answer).
func (st *Store) Move(ctx context.Context, txid string, to checkout.Status, ch Change, ans ...Answer) (*checkout.Order, error) {
	const op = "store.move"
	now := st.now()
	names := map[string]string{"#st": "status", "#g": "gsi1pk", "#upd": "updatedAt"}
	values := map[string]types.AttributeValue{":to": s(string(to)), ":now": s(now.Format(time.RFC3339Nano))}
	set := []string{"#st = :to", "#upd = :now", "#g = :g"}
	srcs := checkout.Sources(to)
	if len(srcs) == 0 {
		return nil, checkout.Errorf(op, checkout.ECONFLICT, "no status may move to %s", to)
	}
	values[":g"] = s(statusKey(to))
	// The request's pending trace lines ride on the move (given back if it writes nothing).
	set, lines, err := ch.withTrace(ctx, txid, set, names, values)
	if err != nil {
		return nil, checkout.Wrap(op, err)
	}
	cond := statusIn(values, srcs)
	body := st.bodyFor(ctx, txid, ans)
	out, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &st.Table, Key: key(txPK(txid), orderSK),
		UpdateExpression: aws.String("SET " + strings.Join(set, ", ")), ConditionExpression: &cond,
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		ReturnValues: types.ReturnValueAllNew, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		restoreTrace(ctx, lines)
	}
	if old, failed := conditionFailed(err); failed {
		was := &orderRecord{}
		if old != nil {
			if was, err = body.order(old); err != nil {
				return nil, checkout.Wrap(op, err)
			}
		}
		body.wait()
		if was.Status == to {
			o := was.Order
			return &o, nil
		}
		return nil, &checkout.Error{Op: op, Kind: checkout.ECONFLICT, Message: fmt.Sprintf("order %s cannot move from %s to %s", txid, was.Status, to),
			Err: &StatusConflict{Status: was.Status}}
	}
	if err != nil {
		body.wait()
		return nil, checkout.Wrap(op, err)
	}
	now2, err := body.order(out.Attributes)
	if err != nil {
		return nil, checkout.Wrap(op, err)
	}
	o := now2.Order
	return &o, nil
}

// StatusConflict is the cause of a Move refused by the transition table: the status
// the order had, read from the refused write itself (no read of its own).
type StatusConflict struct{ Status checkout.Status }

func (c *StatusConflict) Error() string { return "the order is " + string(c.Status) }

// ConflictStatus is the status of the order whose Move err refused, when err says.
func ConflictStatus(err error) (checkout.Status, bool) {
	var c *StatusConflict
	if errors.As(err, &c) && c.Status != "" {
		return c.Status, true
	}
	return "", false
}

// Update applies a change without moving the status (e.g. storing the task token of a
// new wait, recording a payment attempt), with the request's pending trace lines, and
// returns the order as it now is (ReturnValues, and its body as ans says: no read after
// the write).
func (st *Store) Update(ctx context.Context, txid string, ch Change, ans ...Answer) (*checkout.Order, error) {
	o, _, err := st.updateOrder(ctx, txid, ch, "", ans)
	return o, err
}

// UpdateOnce is Update that also claims, in the same write, the right to perform the
// named side effect (an e-mail) once, as Once does on an item of its own: claimed is
// true for the first caller only, however many race or retry. A caller whose effect
// then fails calls ReleaseOnOrder so that a retry may claim it again.
func (st *Store) UpdateOnce(ctx context.Context, txid string, ch Change, name string, ans ...Answer) (o *checkout.Order, claimed bool, err error) {
	if name == "" {
		return nil, false, checkout.Errorf("store.update", checkout.EINTERNAL, "a claim needs a name")
	}
	return st.updateOrder(ctx, txid, ch, name, ans)
}

// ReleaseOnOrder gives back a claim taken with UpdateOnce.
func (st *Store) ReleaseOnOrder(ctx context.Context, txid, name string) error {
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &st.Table, Key: key(txPK(txid), orderSK),
		UpdateExpression: aws.String("REMOVE #once"), ExpressionAttributeNames: map[string]string{"#once": onceAttr(name)},
	})
	return checkout.Wrap("store.releaseOnOrder", err)
}

// onceAttr is the order's attribute that holds the claim of a once-only effect.
func onceAttr(name string) string { return "once#" + name }

func (st *Store) updateOrder(ctx context.Context, txid string, ch Change, once string, ans []Answer) (*checkout.Order, bool, error) {
	const op = "store.update"
	set := []string{"updatedAt = :now"}
	values := map[string]types.AttributeValue{":now": s(st.now().Format(time.RFC3339Nano))}
	names := map[string]string{}
	var stamp string
	if once != "" {
		stamp = st.claimStamp()
		set = append(set, claimClause(names, values, "#once", onceAttr(once), stamp))
	}
	set, lines, err := ch.withTrace(ctx, txid, set, names, values)
	if err != nil {
		return nil, false, checkout.Wrap(op, err)
	}
	in := &dynamodb.UpdateItemInput{
		TableName: &st.Table, Key: key(txPK(txid), orderSK),
		UpdateExpression: aws.String("SET " + strings.Join(set, ", ")), ConditionExpression: aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: values, ReturnValues: types.ReturnValueAllNew,
	}
	if len(names) > 0 {
		in.ExpressionAttributeNames = names
	}
	body := st.bodyFor(ctx, txid, ans)
	out, err := st.DB.UpdateItem(ctx, in)
	if err != nil {
		restoreTrace(ctx, lines)
		body.wait()
	}
	if _, failed := conditionFailed(err); failed {
		return nil, false, checkout.Errorf(op, checkout.ENOTFOUND, "no order %s", txid)
	}
	if err != nil {
		return nil, false, checkout.Wrap(op, err)
	}
	rec, err := body.order(out.Attributes)
	if err != nil {
		return nil, false, checkout.Wrap(op, err)
	}
	o := rec.Order
	o.TokenHash = rec.TokenHash
	return &o, once != "" && claimedBy(out.Attributes, onceAttr(once), stamp), nil
}

// ClaimTask applies ch only while the order's workflow waits on token in state from,
// and in the same write moves the wait to state to: of two callers racing to complete
// the same wait (a double submit), one claims it and the other gets checkout.ECONFLICT, with
// nothing written. ch.TaskToken must be nil.
func (st *Store) ClaimTask(ctx context.Context, txid, token, from, to string, ch Change) error {
	const op = "store.claimTask"
	if ch.TaskToken != nil {
		return checkout.Errorf(op, checkout.EINTERNAL, "a claim keeps the token it claims")
	}
	set := []string{"updatedAt = :now", "taskState = :to"}
	values := map[string]types.AttributeValue{
		":now": s(st.now().Format(time.RFC3339Nano)), ":to": s(to), ":tt": s(token), ":from": s(from),
	}
	names := map[string]string{}
	set, lines, err := ch.withTrace(ctx, txid, set, names, values)
	if err != nil {
		return checkout.Wrap(op, err)
	}
	in := &dynamodb.UpdateItemInput{
		TableName: &st.Table, Key: key(txPK(txid), orderSK),
		UpdateExpression:          aws.String("SET " + strings.Join(set, ", ")),
		ConditionExpression:       aws.String("taskToken = :tt AND taskState = :from"),
		ExpressionAttributeValues: values,
	}
	if len(names) > 0 {
		in.ExpressionAttributeNames = names
	}
	_, err = st.DB.UpdateItem(ctx, in)
	if err != nil {
		restoreTrace(ctx, lines)
	}
	if _, failed := conditionFailed(err); failed {
		return checkout.Errorf(op, checkout.ECONFLICT, "order %s is no longer waiting on that task", txid)
	}
	return checkout.Wrap(op, err)
}

// ListOrders lists the orders in one status, newest first, placed in [from, to), as
// the status index holds them: what the back office's list and CSV export show (ID,
// status, payment mode, currency, totals, customer, placement and update times, invoice
// number; template.yaml gsi1), not their lines nor trace, which the order's own page
// reads with GetOrder.
func (st *Store) ListOrders(ctx context.Context, status checkout.Status, from, to time.Time, limit int32) ([]checkout.Order, error) {
	if to.IsZero() {
		to = st.now().Add(time.Hour)
	}
	out, err := st.DB.Query(ctx, &dynamodb.QueryInput{
		TableName: &st.Table, IndexName: aws.String("gsi1"), ScanIndexForward: aws.Bool(false), Limit: aws.Int32(limit),
		KeyConditionExpression: aws.String("gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s(statusKey(status)), ":from": s(from.UTC().Format(time.RFC3339Nano)), ":to": s(to.UTC().Format(time.RFC3339Nano)),
		},
	})
	if err != nil {
		return nil, checkout.Wrap("store.listOrders", err)
	}
	var orders []checkout.Order
	for _, item := range out.Items {
		var rec orderRecord
		if err := unmarshal(item, &rec); err != nil {
			return nil, checkout.Wrap("store.listOrders", err)
		}
		orders = append(orders, rec.Order)
	}
	return orders, nil
}

// RecordNotification stores a provider notification under its event ID only if it was
// never stored: it returns false for a duplicate, however many deliveries race.
func (st *Store) RecordNotification(ctx context.Context, txid, provider, eventID string, raw map[string]string) (bool, error) {
	item, err := marshal(map[string]any{
		"pk": txPK(txid), "sk": "PAY#" + provider + "#" + eventID, "raw": raw, "at": st.now().Format(time.RFC3339Nano),
	})
	if err != nil {
		return false, checkout.Wrap("store.recordNotification", err)
	}
	return st.putOnce(ctx, "store.recordNotification", item)
}

// putOnce writes item only if no item has its key: it returns false, and no error, when
// one has, so of racing writers exactly one sees true.
func (st *Store) putOnce(ctx context.Context, op string, item map[string]types.AttributeValue) (bool, error) {
	_, err := st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.Table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if _, failed := conditionFailed(err); failed {
		return false, nil
	}
	if err != nil {
		return false, checkout.Wrap(op, err)
	}
	return true, nil
}

// counterStep reads the counter at counterKey and returns its next value with the
// transaction item that moves it there, conditioned on the counter still holding the
// value read: two racing allocations never hand out the same number, the loser retries.
func (st *Store) counterStep(ctx context.Context, counterKey map[string]types.AttributeValue) (int64, types.TransactWriteItem, error) {
	var c struct {
		Value int64 `json:"value"`
	}
	if _, err := st.get(ctx, counterKey["pk"].(*types.AttributeValueMemberS).Value, "COUNTER", &c); err != nil {
		return 0, types.TransactWriteItem{}, err
	}
	next := c.Value + 1
	counterCond := "attribute_not_exists(#v)"
	vals := map[string]types.AttributeValue{":next": n(next)}
	if c.Value > 0 {
		counterCond = "#v = :cur"
		vals[":cur"] = n(c.Value)
	}
	return next, types.TransactWriteItem{Update: &types.Update{
		TableName: &st.Table, Key: counterKey, UpdateExpression: aws.String("SET #v = :next"),
		ConditionExpression: &counterCond, ExpressionAttributeNames: map[string]string{"#v": "value"}, ExpressionAttributeValues: vals,
	}}, nil
}

// NextInvoiceNumber allocates the order's invoice number once: the counter of the shop
// and year is incremented in the same transaction that writes the number on the order,
// conditioned on the order having none, so numbers are gap-free and never reused.
// A retry finds the number already there and returns it.
func (st *Store) NextInvoiceNumber(ctx context.Context, shopID, txid string, year int) (string, error) {
	const op = "store.invoice"
	rec, err := st.headRecord(ctx, txid)
	if err != nil {
		return "", err
	}
	if rec.InvoiceNumber != "" {
		return rec.InvoiceNumber, nil
	}
	counterKey := invoiceCounter(shopID, year)
	for attempt := 0; attempt < 10; attempt++ {
		next, counterUpd, err := st.counterStep(ctx, counterKey)
		if err != nil {
			return "", checkout.Wrap(op, err)
		}
		number := invoiceNumber(shopID, year, next)
		values := map[string]types.AttributeValue{":num": s(number), ":now": s(st.now().Format(time.RFC3339Nano))}
		_, err = st.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			counterUpd,
			{Update: &types.Update{
				TableName: &st.Table, Key: key(txPK(txid), orderSK),
				UpdateExpression: aws.String("SET invoiceNumber = :num, invoicedAt = :now"),
				// Only a paid order is numbered, checked in the write itself: an order
				// refunded (CANCELLED) while its bill step ran gets no number.
				ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(invoiceNumber) AND " + statusIn(values, checkout.Paid)),
				ExpressionAttributeNames:  map[string]string{"#st": "status"},
				ExpressionAttributeValues: values,
			}},
		}})
		var tce *types.TransactionCanceledException
		if errors.As(err, &tce) {
			if len(tce.CancellationReasons) == 2 && aws.ToString(tce.CancellationReasons[1].Code) == "ConditionalCheckFailed" {
				// Another run numbered this order meanwhile: its number stands.
				again, err := st.headRecord(ctx, txid)
				if err != nil {
					return "", err
				}
				if again.InvoiceNumber == "" {
					return "", checkout.Errorf(op, checkout.ECONFLICT, "order %s is %s: only a paid order is numbered", txid, again.Status)
				}
				return again.InvoiceNumber, nil
			}
			continue // the counter moved: another order took that number; try the next
		}
		if err != nil {
			return "", checkout.Wrap(op, err)
		}
		return number, nil
	}
	return "", checkout.Errorf(op, checkout.EUNAVAILABLE, "invoice counter too busy; retry")
}
