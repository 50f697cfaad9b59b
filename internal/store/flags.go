package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/checkout"
)

// What the payment accounting keeps beside the order:
//
//	TX#<txid>  ORDER               + paymentKeys: the string set of PaymentKey of every payment stored
//	TX#<txid>  FLAG#<payment key>  a payment an operator must settle; while open, also in
//	                               gsi1 under FLAGS (sparse: settling removes the index keys)

// flagsKey is the gsi1 partition of the open flags.
const flagsKey = "FLAGS"

// Flag is a payment stored on its order that could not move the order forward: an
// operator settles it by delivering the order or refunding the payment.
type Flag struct {
	TxID      string          `json:"txid"`
	Key       string          `json:"key"` // checkout.PaymentKey of the payment
	Reason    string          `json:"reason"`
	Mode      string          `json:"mode"`
	Reference string          `json:"reference"`
	Amount    int64           `json:"amount"`
	Currency  string          `json:"currency"`
	Status    checkout.Status `json:"orderStatus"` // the order's status when flagged
	At        time.Time       `json:"at"`
	// Settled is "deliver" or "refund" once an operator settled the flag, "resolved"
	// once reconciliation closed a stuck order's flag because the order moved on.
	Settled   string     `json:"settled,omitempty"`
	SettledBy string     `json:"settledBy,omitempty"`
	SettledAt *time.Time `json:"settledAt,omitempty"`
	Note      string     `json:"note,omitempty"`
}

type flagRecord struct {
	PK     string `json:"pk"`
	SK     string `json:"sk"`
	Gsi1PK string `json:"gsi1pk,omitempty"`
	Gsi1SK string `json:"gsi1sk,omitempty"`
	Flag
}

func flagSK(key string) string { return "FLAG#" + key }

// RecordPayment stores p on the order once per checkout.PaymentKey, whatever the
// order's status: a conditional append that also adds the key to the order's
// paymentKeys set. It returns the order as it now is, and false (with the order as it
// was) when that payment was stored before; ans says where the order's body comes from
// (Answer).
func (st *Store) RecordPayment(ctx context.Context, txid string, p checkout.Payment, ans ...Answer) (*checkout.Order, bool, error) {
	const op = "store.recordPayment"
	pay, err := marshalValue([]checkout.Payment{p})
	if err != nil {
		return nil, false, checkout.Wrap(op, err)
	}
	k := checkout.PaymentKey(p)
	body := st.bodyFor(ctx, txid, ans)
	out, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &st.Table, Key: key(txPK(txid), orderSK),
		UpdateExpression:    aws.String("SET payments = list_append(if_not_exists(payments, :nil), :pay), updatedAt = :now ADD paymentKeys :ks"),
		ConditionExpression: aws.String("attribute_exists(pk) AND NOT contains(paymentKeys, :k)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pay": pay, ":nil": &types.AttributeValueMemberL{}, ":now": s(st.now().Format(time.RFC3339Nano)),
			":ks": &types.AttributeValueMemberSS{Value: []string{k}}, ":k": s(k),
		},
		ReturnValues: types.ReturnValueAllNew, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, failed := conditionFailed(err); failed {
		if old == nil {
			body.wait()
			return nil, false, checkout.Errorf(op, checkout.ENOTFOUND, "no order %s", txid)
		}
		was, err := body.order(old)
		if err != nil {
			return nil, false, checkout.Wrap(op, err)
		}
		o := was.Order
		return &o, false, nil
	}
	if err != nil {
		body.wait()
		return nil, false, checkout.Wrap(op, err)
	}
	now, err := body.order(out.Attributes)
	if err != nil {
		return nil, false, checkout.Wrap(op, err)
	}
	o := now.Order
	return &o, true, nil
}

// PutFlag stores a flag once per payment: false when that payment was flagged before.
func (st *Store) PutFlag(ctx context.Context, f Flag) (bool, error) {
	const op = "store.putFlag"
	at := f.At.UTC().Format(time.RFC3339Nano)
	item, err := marshal(flagRecord{PK: txPK(f.TxID), SK: flagSK(f.Key), Gsi1PK: flagsKey, Gsi1SK: at + "#" + f.TxID, Flag: f})
	if err != nil {
		return false, checkout.Wrap(op, err)
	}
	_, err = st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.Table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if _, failed := conditionFailed(err); failed {
		return false, nil
	}
	if err != nil {
		return false, checkout.Wrap(op, err)
	}
	return true, nil
}

// OpenFlags lists the flags no operator has settled yet, newest first, with one Query.
func (st *Store) OpenFlags(ctx context.Context, limit int32) ([]Flag, error) {
	out, err := st.DB.Query(ctx, &dynamodb.QueryInput{
		TableName: &st.Table, IndexName: aws.String("gsi1"), ScanIndexForward: aws.Bool(false), Limit: aws.Int32(limit),
		KeyConditionExpression:    aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(flagsKey)},
	})
	if err != nil {
		return nil, checkout.Wrap("store.openFlags", err)
	}
	return flagsOf(out.Items)
}

// OrderFlags lists an order's flags, settled or not, with one Query.
func (st *Store) OrderFlags(ctx context.Context, txid string) ([]Flag, error) {
	out, err := st.DB.Query(ctx, &dynamodb.QueryInput{
		TableName: &st.Table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :f)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(txPK(txid)), ":f": s("FLAG#")},
	})
	if err != nil {
		return nil, checkout.Wrap("store.orderFlags", err)
	}
	return flagsOf(out.Items)
}

func flagsOf(items []map[string]types.AttributeValue) ([]Flag, error) {
	out := []Flag{}
	for _, item := range items {
		var rec flagRecord
		if err := unmarshal(item, &rec); err != nil {
			return nil, checkout.Wrap("store.flags", err)
		}
		out = append(out, rec.Flag)
	}
	return out, nil
}

// Settlement is an operator's settling of one flag, written with what it does to the
// order in one transaction.
type Settlement struct {
	TxID, Key string
	Action    string // deliver | refund
	By, Note  string
	// MoveFrom, for a delivery, are the statuses the order may be in to go to SOLDOUT
	// (checkout.LateDelivery for a late payment: the one way out of CANCELLED there is,
	// and only with an open flag); empty leaves the status alone.
	MoveFrom []checkout.Status
	// Refund, for a refund, is the refund recorded on the order's payments.
	Refund *checkout.Payment
	// Earlier, for a delivery out of CANCELLED, is the order's invoice and its credit
	// note when it was refunded after billing: they go to its earlier documents, so the
	// delivery is invoiced anew (and a refund of it credited anew).
	Earlier *checkout.Documents
}

// Settle applies a settlement: the flag is marked settled (and leaves the open list)
// only if still open, and in the same transaction the order moves to SOLDOUT from one
// of MoveFrom, or gets the refund appended. A flag settled already, or an order no
// longer in MoveFrom, refuses the whole with checkout.ECONFLICT and changes nothing.
func (st *Store) Settle(ctx context.Context, se Settlement) error {
	const op = "store.settle"
	now := st.now().Format(time.RFC3339Nano)
	flagUpd := types.Update{
		TableName: &st.Table, Key: key(txPK(se.TxID), flagSK(se.Key)),
		UpdateExpression:    aws.String("SET settled = :a, settledBy = :by, settledAt = :now, note = :note REMOVE gsi1pk, gsi1sk"),
		ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(settled)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":a": s(se.Action), ":by": s(se.By), ":now": s(now), ":note": s(se.Note),
		},
	}
	names := map[string]string{"#upd": "updatedAt"}
	values := map[string]types.AttributeValue{":now": s(now)}
	set := []string{"#upd = :now"}
	cond := "attribute_exists(pk)"
	var add, remove string
	if len(se.MoveFrom) > 0 {
		names["#st"], names["#g"] = "status", "gsi1pk"
		values[":to"], values[":g"] = s(string(checkout.SoldOut)), s(statusKey(checkout.SoldOut))
		set = append(set, "#st = :to", "#g = :g")
		cond += " AND " + statusIn(values, se.MoveFrom)
		if slices.Contains(se.MoveFrom, checkout.Cancelled) {
			// A delivery out of CANCELLED is a round of its own (production.Key.Round).
			names["#rd"] = "redelivered"
			values[":one"] = &types.AttributeValueMemberN{Value: "1"}
			add = " ADD #rd :one"
		}
	}
	if e := se.Earlier; e != nil {
		docs, err := marshalValue([]checkout.Documents{*e})
		if err != nil {
			return checkout.Wrap(op, err)
		}
		names["#docs"], names["#inv"], names["#cn"] = "earlierDocuments", "invoiceNumber", "creditNoteNumber"
		values[":docs"], values[":none"], values[":inv"], values[":cn"] = docs, &types.AttributeValueMemberL{}, s(e.InvoiceNumber), s(e.CreditNoteNumber)
		set = append(set, "#docs = list_append(if_not_exists(#docs, :none), :docs)")
		remove = " REMOVE #inv, invoicedAt, #cn, creditedAt"
		// As the operator's read saw them: an order changed since is refused, unchanged.
		cond += " AND #inv = :inv AND #cn = :cn"
	}
	set, err := Change{Payment: se.Refund}.clauses(set, values)
	if err != nil {
		return checkout.Wrap(op, err)
	}
	_, err = st.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &flagUpd},
		{Update: &types.Update{
			TableName: &st.Table, Key: key(txPK(se.TxID), orderSK),
			UpdateExpression: aws.String("SET " + strings.Join(set, ", ") + remove + add), ConditionExpression: &cond,
			ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		}},
	}})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for i, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "ConditionalCheckFailed" {
				if i == 0 {
					return checkout.Errorf(op, checkout.ECONFLICT, "payment %s of order %s is not flagged, or its flag is settled already", se.Key, se.TxID)
				}
				return checkout.Errorf(op, checkout.ECONFLICT, "order %s is no longer in a status this settlement applies to", se.TxID)
			}
		}
	}
	return checkout.Wrap(op, err)
}

// CloseFlag marks an open flag settled with action, by whom and why, and takes it off
// the open list, without touching the order (reconciliation closes a stuck order's
// flag once the order has moved on). It returns false when the flag was not open.
func (st *Store) CloseFlag(ctx context.Context, txid, flagKey, action, by, note string) (bool, error) {
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &st.Table, Key: key(txPK(txid), flagSK(flagKey)),
		UpdateExpression:    aws.String("SET settled = :a, settledBy = :by, settledAt = :now, note = :note REMOVE gsi1pk, gsi1sk"),
		ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(settled)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":a": s(action), ":by": s(by), ":now": s(st.now().Format(time.RFC3339Nano)), ":note": s(note),
		},
	})
	if _, failed := conditionFailed(err); failed {
		return false, nil
	}
	if err != nil {
		return false, checkout.Wrap("store.closeFlag", err)
	}
	return true, nil
}
