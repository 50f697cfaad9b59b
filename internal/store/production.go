package store

// Keys written by this file (single-table design):
//
//	product instance   pk=CUST#<email>            sk=PRODUCT#<reference>   gsi1pk=PRODUCT#<reference> gsi1sk=INSTANCE
//	product event      pk=PRODUCT#<reference>     sk=EVENT#<unix ms>#<type>
//	production marker  pk=TX#<txid>               sk=PRODUCED#<line>#<unit>#<phase>[#r<round>]
//	                   (the unit's pinned decisions first, its reference once committed;
//	                   the refund that closed its claim, CloseClaims)
//	account balances   pk=CUST#<email>            sk=ACCOUNT                (numeric attributes, ADD)
//
// The local LMS's records (LMS#…) are production/locallms's own.
//
// E-mails are lowercased in keys: people are keyed by e-mail, case-insensitively.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/production"
)

var _ production.InstanceStore = (*Store)(nil)

func custPK(email string) string   { return "CUST#" + strings.ToLower(strings.TrimSpace(email)) }
func productKey(ref string) string { return "PRODUCT#" + ref }
func markerSK(k production.Key) string {
	return "PRODUCED#" + k.LineID + "#" + strconv.Itoa(k.Unit) + "#" + k.Phase + k.RoundSuffix("#r")
}
func eventSK(e production.Event) string {
	return fmt.Sprintf("EVENT#%013d#%s", e.At.UTC().UnixMilli(), e.Type)
}

// instanceItem is the stored form of a product instance (events are items of their own).
type instanceItem struct {
	PK          string            `json:"pk"`
	SK          string            `json:"sk"`
	GSI1PK      string            `json:"gsi1pk"`
	GSI1SK      string            `json:"gsi1sk"`
	Type        string            `json:"type"`
	ID          string            `json:"id"`
	Reference   string            `json:"reference"`
	ItemCode    string            `json:"itemCode"`
	Handler     string            `json:"handler"`
	Customer    string            `json:"customer"`
	Beneficiary string            `json:"beneficiary,omitempty"`
	TxID        string            `json:"txid"`
	LineID      string            `json:"lineId"`
	Unit        int               `json:"unit"`
	Round       int               `json:"round,omitempty"`
	Context     string            `json:"context,omitempty"`
	Status      string            `json:"status"`
	Start       time.Time         `json:"start"`
	End         *time.Time        `json:"end,omitempty"`
	Data        map[string]string `json:"data,omitempty"`
}

type eventItem struct {
	PK        string            `json:"pk"`
	SK        string            `json:"sk"`
	Type      string            `json:"type"`
	EventType string            `json:"eventType"`
	At        time.Time         `json:"at"`
	Data      map[string]string `json:"data,omitempty"`
}

func toInstanceItem(in production.Instance) instanceItem {
	it := instanceItem{
		PK: custPK(in.Customer), SK: productKey(in.Reference), GSI1PK: productKey(in.Reference), GSI1SK: "INSTANCE",
		Type: "product", ID: in.ID, Reference: in.Reference, ItemCode: in.ItemCode, Handler: in.Handler,
		Customer: strings.ToLower(in.Customer), Beneficiary: in.Beneficiary, TxID: in.TxID, LineID: in.LineID, Unit: in.Unit, Round: in.Round,
		Context: in.Context, Status: in.Status, Start: in.Start.UTC(), Data: in.Data,
	}
	if !in.End.IsZero() {
		e := in.End.UTC()
		it.End = &e
	}
	return it
}

func (it instanceItem) instance() production.Instance {
	in := production.Instance{
		ID: it.ID, Reference: it.Reference, ItemCode: it.ItemCode, Handler: it.Handler, Customer: it.Customer,
		Beneficiary: it.Beneficiary, TxID: it.TxID, LineID: it.LineID, Unit: it.Unit, Round: it.Round, Context: it.Context,
		Status: it.Status, Start: it.Start.UTC(), Data: it.Data,
	}
	if it.End != nil {
		in.End = it.End.UTC()
	}
	return in
}

// markerItem is a unit's production marker: the decisions pinned for it (Claim), and
// once it is committed (Commit), where its instance is. A unit is produced when its
// marker has a reference.
type markerItem struct {
	PK        string            `json:"pk"`
	SK        string            `json:"sk"`
	Type      string            `json:"type"`
	Decisions map[string]string `json:"decisions,omitempty"`
	Reference string            `json:"reference,omitempty"`
	Customer  string            `json:"customer,omitempty"`
	At        *time.Time        `json:"at,omitempty"`
	// WithdrawnBy and WithdrawnAt name the refund that closed the unit's claim before
	// its commit (CloseClaims): the commit is refused, unless it says it knows.
	WithdrawnBy string     `json:"withdrawnBy,omitempty"`
	WithdrawnAt *time.Time `json:"withdrawnAt,omitempty"`
}

// Produced implements production.InstanceStore.
func (st *Store) Produced(ctx context.Context, k production.Key) (production.Instance, bool, error) {
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &st.Table, Key: key(txPK(k.TxID), markerSK(k)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return production.Instance{}, false, opError("store.produced", err, "read production marker %s", k)
	}
	return st.producedBy(ctx, k, out.Item)
}

// producedBy is the instance a marker item points to; found is false for no marker or
// a marker that holds decisions only.
func (st *Store) producedBy(ctx context.Context, k production.Key, item map[string]types.AttributeValue) (production.Instance, bool, error) {
	if item == nil {
		return production.Instance{}, false, nil
	}
	var m markerItem
	if err := unmarshal(item, &m); err != nil {
		return production.Instance{}, false, opError("store.produced", err, "decode production marker %s", k)
	}
	if m.Reference == "" {
		return production.Instance{}, false, nil
	}
	in, err := st.instanceAt(ctx, m.Customer, m.Reference)
	if err != nil {
		return production.Instance{}, false, opError("store.produced", err, "production marker %s", k)
	}
	return in, true, nil
}

// instanceAt reads an instance and its events with strongly consistent reads.
func (st *Store) instanceAt(ctx context.Context, customer, ref string) (production.Instance, error) {
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &st.Table, Key: key(custPK(customer), productKey(ref)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return production.Instance{}, opError("store.instance", err, "read instance %s", ref)
	}
	if out.Item == nil {
		return production.Instance{}, instanceNotFound(ref)
	}
	return st.withEvents(ctx, out.Item, ref)
}

// withEvents decodes the stored instance ref and reads its events.
func (st *Store) withEvents(ctx context.Context, item map[string]types.AttributeValue, ref string) (production.Instance, error) {
	var it instanceItem
	if err := unmarshal(item, &it); err != nil {
		return production.Instance{}, opError("store.instance", err, "decode instance %s", ref)
	}
	in := it.instance()
	events, err := st.ProductEvents(ctx, ref)
	if err != nil {
		return production.Instance{}, err
	}
	in.Events = events
	return in, nil
}

// ProductEvents returns an instance's events in time order.
func (st *Store) ProductEvents(ctx context.Context, ref string) ([]production.Event, error) {
	var events []production.Event
	in := &dynamodb.QueryInput{
		TableName:              &st.Table,
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :ev)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s(productKey(ref)), ":ev": s("EVENT#"),
		},
		ConsistentRead: aws.Bool(true),
	}
	for item, err := range st.query(ctx, in) {
		if err != nil {
			return nil, opError("store.productEvents", err, "query events of %s", ref)
		}
		var e eventItem
		if err := unmarshal(item, &e); err != nil {
			return nil, opError("store.productEvents", err, "decode events of %s", ref)
		}
		events = append(events, production.Event{Type: e.EventType, At: e.At.UTC(), Data: e.Data})
	}
	return events, nil
}

// Claim implements production.InstanceStore in one write: the first writer's
// decisions stay, and a later writer reads them back — the decisions to reuse, or,
// once the unit was committed, its instance (its marker, read only then).
//
// A prepay unit's decisions are pinned by a conditional put of its marker. A postpay
// unit's are pinned on the order's head instead (claimOnOrder), by an update
// conditioned on the order being paid: an operator's refund or cancellation may race
// production, which no longer reads the order before delivering (the execution's input
// carries it), so the check rides on the write that comes before any effect in the
// LMS, and costs nothing more than that write. A key without an order (production
// used on its own) is not held to it: its marker is put as a prepay unit's.
func (st *Store) Claim(ctx context.Context, k production.Key, decisions map[string]string) (production.Claimed, error) {
	if k.Phase == production.PhasePostpay {
		claimed, err := st.claimOnOrder(ctx, k, decisions)
		if !errors.Is(err, errNoOrder) {
			return claimed, err
		}
	}
	item, err := marshal(markerItem{PK: txPK(k.TxID), SK: markerSK(k), Type: "produced", Decisions: decisions})
	if err != nil {
		return production.Claimed{}, opError("store.claim", err, "encode production marker %s", k)
	}
	_, err = st.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &st.Table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return production.Claimed{Decisions: decisions}, nil
	}
	old, failed := conditionFailed(err)
	if !failed {
		return production.Claimed{}, opError("store.claim", err, "pin %s", k)
	}
	if old == nil { // a server that does not return the old item
		out, gerr := st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.Table, Key: key(txPK(k.TxID), markerSK(k)), ConsistentRead: aws.Bool(true)})
		if gerr != nil {
			return production.Claimed{}, opError("store.claim", gerr, "read production marker %s", k)
		}
		old = out.Item
	}
	in, found, err := st.producedBy(ctx, k, old)
	if err != nil {
		return production.Claimed{}, err
	}
	if found {
		return production.Claimed{Produced: true, Instance: in}, nil
	}
	var m markerItem
	if err := unmarshal(old, &m); err != nil {
		return production.Claimed{}, opError("store.claim", err, "decode production marker %s", k)
	}
	return production.Claimed{Decisions: m.Decisions}, nil
}

// errNoOrder: the key's transaction has no order to hold a claim.
var errNoOrder = errors.New("no order")

// pinAttr is the attribute of the order's head that holds a postpay unit's pinned
// decisions; pinStamp is the key, inside them, of the stamp of the write that pinned
// them (no handler's decision has a name starting with "#"). A delivery after the
// order's first (Key.Round) pins under a name of its own: pin#<line>#<unit>#r<round>.
func pinAttr(k production.Key) string {
	return "pin#" + k.LineID + "#" + strconv.Itoa(k.Unit) + k.RoundSuffix("#r")
}

const pinStamp = "#by"

// claimOnOrder pins a postpay unit's decisions on the order's head, in one UpdateItem
// conditioned on the order being paid (the statuses from which it may complete, or
// COMPLETE): "SET pin = if_not_exists(pin, :decisions)", the answer giving the value
// stored. The write's own stamp read back says that this run pinned them first, and
// then the unit cannot have been committed (its commit comes after its claim); a
// value of another write means an earlier run, whose commit the unit's marker shows.
// It is one write of the head (no index projects the pin) instead of a transaction of
// a check of the head and a put of the marker, both counted twice. A refused claim
// reads the head as it was: a unit pinned before the order changed is answered with
// Claimed.NotPaid (an earlier run may have made its effect), any other refused.
func (st *Store) claimOnOrder(ctx context.Context, k production.Key, decisions map[string]string) (production.Claimed, error) {
	stamp := st.claimStamp()
	pin := map[string]types.AttributeValue{pinStamp: s(stamp)}
	for name, v := range decisions {
		pin[name] = s(v)
	}
	values := map[string]types.AttributeValue{":pin": &types.AttributeValueMemberM{Value: pin}}
	req := &dynamodb.UpdateItemInput{
		TableName: &st.Table, Key: key(txPK(k.TxID), orderSK),
		UpdateExpression:                    aws.String("SET #pin = if_not_exists(#pin, :pin)"),
		ConditionExpression:                 aws.String("attribute_exists(pk) AND " + statusIn(values, paidStatuses())),
		ExpressionAttributeNames:            map[string]string{"#pin": pinAttr(k), "#st": "status"},
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueUpdatedNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	// A transaction on the order (an operator's refund) refuses the write while it
	// runs; the SDK does not retry that.
	var out *dynamodb.UpdateItemOutput
	err := withConflictRetries(ctx, func() (err error) {
		out, err = st.DB.UpdateItem(ctx, req)
		return err
	})
	if old, failed := conditionFailed(err); failed {
		if old == nil { // no order, or a server that does not return the item as it was
			out, gerr := st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.Table, Key: key(txPK(k.TxID), orderSK), ConsistentRead: aws.Bool(true)})
			if gerr != nil {
				return production.Claimed{}, opError("store.claim", gerr, "read the order of %s", k)
			}
			if out.Item == nil {
				return production.Claimed{}, errNoOrder
			}
			old = out.Item
		}
		if stored, _ := old[pinAttr(k)].(*types.AttributeValueMemberM); stored != nil {
			// Claimed before the order changed: an earlier run may have made the
			// unit's effect in the LMS.
			claimed, err := st.claimedBefore(ctx, k, stored)
			claimed.NotPaid = true
			return claimed, err
		}
		// ECONFLICT like any refusal by the order's state, and still production.ErrNotPaid,
		// which the workflow tells from a failure worth retrying.
		return production.Claimed{}, &checkout.Error{Op: "store.claim", Kind: checkout.ECONFLICT, Message: fmt.Sprintf("pin %s", k), Err: production.ErrNotPaid}
	}
	if err != nil {
		return production.Claimed{}, opError("store.claim", err, "pin %s", k)
	}
	stored, _ := out.Attributes[pinAttr(k)].(*types.AttributeValueMemberM)
	if stored == nil {
		return production.Claimed{}, checkout.Errorf("store.claim", checkout.EINTERNAL, "pin %s: the order's answer has no pinned decisions", k)
	}
	if by, _ := stored.Value[pinStamp].(*types.AttributeValueMemberS); by != nil && by.Value == stamp {
		return production.Claimed{Decisions: pinnedDecisions(stored)}, nil
	}
	return st.claimedBefore(ctx, k, stored)
}

// claimedBefore is the claim of a unit whose decisions an earlier run pinned (stored):
// its instance when that run committed it (the unit's marker), with the refund that
// closed its claim if one did, else the decisions.
func (st *Store) claimedBefore(ctx context.Context, k production.Key, stored *types.AttributeValueMemberM) (production.Claimed, error) {
	var m markerItem
	if _, err := st.get(ctx, txPK(k.TxID), markerSK(k), &m); err != nil {
		return production.Claimed{}, opError("store.claim", err, "read production marker %s", k)
	}
	if m.Reference == "" {
		return production.Claimed{Decisions: pinnedDecisions(stored)}, nil
	}
	in, err := st.instanceAt(ctx, m.Customer, m.Reference)
	if err != nil {
		return production.Claimed{}, opError("store.claim", err, "production marker %s", k)
	}
	return production.Claimed{Produced: true, Instance: in, Refunded: m.closedBy()}, nil
}

// pinnedDecisions reads the decisions of a pin (without its stamp).
func pinnedDecisions(stored *types.AttributeValueMemberM) map[string]string {
	pinned := map[string]string{}
	for name, v := range stored.Value {
		if sv, ok := v.(*types.AttributeValueMemberS); ok && name != pinStamp {
			pinned[name] = sv.Value
		}
	}
	return pinned
}

// maxConflictRetries bounds the retries of a transaction cancelled by a
// concurrent transaction on the same items (TransactionConflict).
const maxConflictRetries = 8

// Commit implements production.InstanceStore: marker (attribute_not_exists),
// instance, events and balance ADDs in one TransactWriteItems.
func (st *Store) Commit(ctx context.Context, c production.Commit) error {
	in := c.Instance
	if in.Reference == "" || in.Customer == "" {
		return checkout.Errorf("store.commit", checkout.EINVALID, "commit %s: instance needs a reference and a customer", c.Key)
	}
	if !production.ValidReference(in.Reference) {
		return checkout.Errorf("store.commit", checkout.EINVALID, "commit %s: reference %q fails its check pair", c.Key, in.Reference)
	}
	now := st.now()
	// The marker may hold the unit's pinned decisions already (Claim): the commit
	// completes it, on condition that no run committed it before, and that no refund
	// closed the unit's claim (CloseClaims) — a condition on the marker the commit
	// writes anyway, so the normal path pays nothing for it.
	names := map[string]string{"#type": "type", "#ref": "reference", "#cust": "customer", "#at": "at"}
	cond := "attribute_not_exists(#ref)"
	if !c.Refunded {
		names["#wd"] = "withdrawnBy"
		cond += " AND attribute_not_exists(#wd)"
	}
	marker := &types.Update{
		TableName: &st.Table, Key: key(txPK(c.Key.TxID), markerSK(c.Key)),
		UpdateExpression:         aws.String("SET #type = :type, #ref = :ref, #cust = :cust, #at = :at"),
		ConditionExpression:      &cond,
		ExpressionAttributeNames: names,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":type": s("produced"), ":ref": s(in.Reference), ":cust": s(strings.ToLower(in.Customer)), ":at": s(now.Format(time.RFC3339Nano)),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	inst, err := marshal(toInstanceItem(in))
	if err != nil {
		return opError("store.commit", err, "encode instance %s", in.Reference)
	}
	items := []types.TransactWriteItem{
		{Update: marker},
		{Put: &types.Put{TableName: &st.Table, Item: inst}},
	}
	for _, e := range in.Events {
		ev, err := eventRecord(in.Reference, e)
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &st.Table, Item: ev}})
	}
	if len(c.Balances) > 0 {
		items = append(items, types.TransactWriteItem{Update: balanceUpdate(st.Table, in.Customer, c.Balances)})
	}
	err = withConflictRetries(ctx, func() error {
		_, err := st.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		var tce *types.TransactionCanceledException
		if errors.As(err, &tce) && len(tce.CancellationReasons) == len(items) && aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
			return st.commitRefused(ctx, c, tce.CancellationReasons[0].Item)
		}
		return err
	})
	if err != nil {
		return opError("store.commit", err, "commit %s", c.Key)
	}
	return nil
}

// commitRefused says why c's marker condition failed, from the marker as it was (read
// again when the server did not return it): committed before, or closed by a refund.
// A commit that did not know of the refund is told of it even when another run
// committed the unit since: its own effect in the LMS is to be taken back too. Both
// are ECONFLICT, and still production.ErrAlreadyProduced or *production.Refunded,
// which the handlers tell from a failure.
func (st *Store) commitRefused(ctx context.Context, c production.Commit, old map[string]types.AttributeValue) error {
	k := c.Key
	var m markerItem
	if old == nil {
		if _, err := st.get(ctx, txPK(k.TxID), markerSK(k), &m); err != nil {
			return opError("store.commit", err, "read production marker %s", k)
		}
	} else if err := unmarshal(old, &m); err != nil {
		return opError("store.commit", err, "decode production marker %s", k)
	}
	if r := m.closedBy(); r != nil && !c.Refunded {
		return &checkout.Error{Kind: checkout.ECONFLICT, Message: "refunded", Err: r}
	}
	return &checkout.Error{Kind: checkout.ECONFLICT, Message: "already produced", Err: production.ErrAlreadyProduced}
}

// closedBy is the refund that closed the marker's claim, nil if none did.
func (m markerItem) closedBy() *production.Refunded {
	if m.WithdrawnBy == "" || m.WithdrawnAt == nil {
		return nil
	}
	return &production.Refunded{Refund: m.WithdrawnBy, At: m.WithdrawnAt.UTC()}
}

// CloseClaims closes the claims of an order's postpay units that were claimed but not
// committed, for the refund named by ref and at: a refund withdraws the units
// delivered, and a unit whose delivery is in flight (claimed, its effect perhaps in
// the LMS already) is not among them yet. Its marker records the refund, on condition
// that the unit was not committed, and its commit is then refused
// (*production.Refunded): the run delivering it withdraws it itself. It must come
// after the order left the paid statuses (no claim can be added then), and it answers
// the keys it closed. One read of the order's head and one write per claimed unit, on
// the refund's path only; a retry closes the same claims again, to the same refund.
func (st *Store) CloseClaims(ctx context.Context, txid, ref string, at time.Time) ([]production.Key, error) {
	const op = "store.closeClaims"
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &st.Table, Key: key(txPK(txid), orderSK), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, opError(op, err, "read order %s", txid)
	}
	var keys []production.Key
	for name := range out.Item {
		if k, ok := pinKey(txid, name); ok {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	var closed []production.Key
	for _, k := range keys {
		_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &st.Table, Key: key(txPK(txid), markerSK(k)),
			UpdateExpression:         aws.String("SET #type = :type, #wd = :wd, #wat = :wat"),
			ConditionExpression:      aws.String("attribute_not_exists(#ref)"),
			ExpressionAttributeNames: map[string]string{"#type": "type", "#wd": "withdrawnBy", "#wat": "withdrawnAt", "#ref": "reference"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":type": s("produced"), ":wd": s(ref), ":wat": s(at.UTC().Format(time.RFC3339Nano)),
			},
		})
		if _, failed := conditionFailed(err); failed {
			continue // committed: withdrawn with the order's other products
		}
		if err != nil {
			return nil, opError(op, err, "close the claim of %s", k)
		}
		closed = append(closed, k)
	}
	return closed, nil
}

// pinKey is the unit a pin of the order's head names (pinAttr's name:
// pin#<line>#<unit>[#r<round>]); false for any other attribute.
func pinKey(txid, name string) (production.Key, bool) {
	rest, pin := strings.CutPrefix(name, "pin#")
	if !pin {
		return production.Key{}, false
	}
	k := production.Key{TxID: txid, Phase: production.PhasePostpay}
	if i := strings.LastIndex(rest, "#r"); i >= 0 {
		round, err := strconv.Atoi(rest[i+2:])
		if err != nil {
			return production.Key{}, false
		}
		k.Round, rest = round, rest[:i]
	}
	i := strings.LastIndex(rest, "#")
	if i < 0 {
		return production.Key{}, false
	}
	n, err := strconv.Atoi(rest[i+1:])
	if err != nil {
		return production.Key{}, false
	}
	k.LineID, k.Unit = rest[:i], n
	return k, true
}

// withConflictRetries runs write again, after a pause, while a concurrent transaction
// on the same items refuses it (TransactionConflict: another run of the same step, or
// an operator's refund), at most maxConflictRetries times; the conditions then decide
// which run wins. The SDK retries neither kind of refusal.
func withConflictRetries(ctx context.Context, write func() error) error {
	for attempt := 0; ; attempt++ {
		err := write()
		if !isConflict(err) || attempt >= maxConflictRetries {
			return err
		}
		if perr := conflictPause(ctx, attempt); perr != nil {
			return perr
		}
	}
}

// isConflict says whether err is a refusal by a concurrent transaction: a single
// write's TransactionConflictException, or a transaction cancelled for one of its items.
func isConflict(err error) bool {
	var single *types.TransactionConflictException
	if errors.As(err, &single) {
		return true
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "TransactionConflict" {
				return true
			}
		}
	}
	return false
}

// conflictPause waits before the next attempt of a write that a concurrent transaction
// on the same item refused (TransactionConflict), longer at each attempt.
func conflictPause(ctx context.Context, attempt int) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(10+rand.IntN(20<<attempt)) * time.Millisecond):
		return nil
	}
}

// balanceUpdate builds "ADD #b0 :v0, #b1 :v1" on the customer's account item.
func balanceUpdate(table, email string, balances map[string]int64) *types.Update {
	names := make([]string, 0, len(balances))
	for n := range balances {
		names = append(names, n)
	}
	sort.Strings(names) // a stable expression: easier to read in logs and tests
	exprNames := map[string]string{}
	exprValues := map[string]types.AttributeValue{}
	parts := make([]string, len(names))
	for i, n := range names {
		exprNames["#b"+strconv.Itoa(i)] = n
		exprValues[":v"+strconv.Itoa(i)] = &types.AttributeValueMemberN{Value: strconv.FormatInt(balances[n], 10)}
		parts[i] = fmt.Sprintf("#b%d :v%d", i, i)
	}
	return &types.Update{
		TableName: &table, Key: key(custPK(email), "ACCOUNT"),
		UpdateExpression:          aws.String("ADD " + strings.Join(parts, ", ")),
		ExpressionAttributeNames:  exprNames,
		ExpressionAttributeValues: exprValues,
	}
}

// Instance implements production.InstanceStore: lookup by reference through gsi1,
// which names the customer, then the instance itself: gsi1 does not project every
// attribute (an instance's round), and adding one to an index's projection replaces the
// index. One more read, for the back office's product page only.
func (st *Store) Instance(ctx context.Context, ref string) (production.Instance, error) {
	out, err := st.DB.Query(ctx, &dynamodb.QueryInput{
		TableName: &st.Table, IndexName: aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(productKey(ref))},
		Limit:                     aws.Int32(1),
	})
	if err != nil {
		return production.Instance{}, opError("store.instance", err, "find instance %s", ref)
	}
	if len(out.Items) == 0 {
		return production.Instance{}, instanceNotFound(ref)
	}
	var it instanceItem
	if err := unmarshal(out.Items[0], &it); err != nil {
		return production.Instance{}, opError("store.instance", err, "decode instance %s", ref)
	}
	return st.instanceAt(ctx, it.Customer, ref)
}

// CustomerInstances returns a customer's product instances (without events), by reference.
func (st *Store) CustomerInstances(ctx context.Context, email string) ([]production.Instance, error) {
	var list []production.Instance
	in := &dynamodb.QueryInput{
		TableName:              &st.Table,
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s(custPK(email)), ":p": s("PRODUCT#"),
		},
	}
	for item, err := range st.query(ctx, in) {
		if err != nil {
			return nil, opError("store.customerInstances", err, "query instances of %s", email)
		}
		var it instanceItem
		if err := unmarshal(item, &it); err != nil {
			return nil, opError("store.customerInstances", err, "decode instances of %s", email)
		}
		list = append(list, it.instance())
	}
	return list, nil
}

// eventRecord is the stored item of one event of instance ref.
func eventRecord(ref string, e production.Event) (map[string]types.AttributeValue, error) {
	item, err := marshal(eventItem{PK: productKey(ref), SK: eventSK(e), Type: "productEvent", EventType: e.Type, At: e.At.UTC(), Data: e.Data})
	if err != nil {
		return nil, opError("store.productEvent", err, "encode event of %s", ref)
	}
	return item, nil
}

// AddProductEvent appends an event to an instance (back office: expired, billed…).
func (st *Store) AddProductEvent(ctx context.Context, ref string, e production.Event) error {
	put, err := st.productEventPut(ref, e)
	if err != nil {
		return err
	}
	if _, err := st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: put.Item}); err != nil {
		return opError("store.addProductEvent", err, "put event of %s", ref)
	}
	return nil
}

// Withdrawn records that a refund took instance in back: its withdrawn event e, and
// its status, which the back office lists with the order's products, in one
// transaction; the instance must exist. Writing it again writes the same items.
func (st *Store) Withdrawn(ctx context.Context, in production.Instance, e production.Event) error {
	put, err := st.productEventPut(in.Reference, e)
	if err != nil {
		return err
	}
	_, err = st.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: put},
		{Update: &types.Update{
			TableName: &st.Table, Key: key(custPK(in.Customer), productKey(in.Reference)),
			UpdateExpression:          aws.String("SET #st = :w"),
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			ExpressionAttributeNames:  map[string]string{"#st": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":w": s(production.StatusWithdrawn)},
		}},
	}})
	if err != nil {
		return opError("store.withdrawn", err, "record %s withdrawn", in.Reference)
	}
	return nil
}

// Balance implements production.InstanceStore.
func (st *Store) Balance(ctx context.Context, email, name string) (int64, error) {
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &st.Table, Key: key(custPK(email), "ACCOUNT"), ConsistentRead: aws.Bool(true),
		ProjectionExpression:     aws.String("#b"),
		ExpressionAttributeNames: map[string]string{"#b": name},
	})
	if err != nil {
		return 0, opError("store.balance", err, "read balance %s of %s", name, email)
	}
	n, ok := out.Item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, nil
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return 0, opError("store.balance", err, "balance %s of %s", name, email)
	}
	return v, nil
}

// instanceNotFound is the error of a missing instance: of kind ENOTFOUND, like every
// other store error, and wrapping production.ErrNotFound, which the production
// handlers test for through the port.
func instanceNotFound(ref string) error {
	return &checkout.Error{Op: "store.instance", Kind: checkout.ENOTFOUND, Message: fmt.Sprintf("no instance %s", ref), Err: production.ErrNotFound}
}

// opError is a failure of op while doing what format says: the cause is kept for
// errors.Is (the production sentinels) and for the logs, and so is its kind
// (EINTERNAL for a foreign error, as checkout.Wrap gives it).
func opError(op string, err error, format string, args ...any) error {
	return &checkout.Error{Op: op, Kind: checkout.KindOf(err), Message: fmt.Sprintf(format, args...), Err: err}
}
