package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/checkout"
)

// Refund is the refund of one payment of an order, recorded with what it does to the
// order (see RefundOrder).
type Refund struct {
	TxID string
	// Payment is the refund: outcome "refunded", Refunds naming the paid payment's key.
	Payment checkout.Payment
	// ShopID and Year choose the credit-note sequence (the year of the refund).
	ShopID string
	Year   int
}

// CreditNotePrefix starts every credit-note number: CN-<year>-<6 digits>.
const CreditNotePrefix = "CN"

// creditNoteCounter is the per-shop, per-year counter of credit notes, beside the
// invoices' own.
func creditNoteCounter(shopID string, year int) map[string]types.AttributeValue {
	return key(fmt.Sprintf("COUNTER#CREDITNOTE#%s#%d", shopID, year), "COUNTER")
}

// RefundOrder records a refund in one write, or one transaction when the order was
// invoiced: the refund is appended to the order's payments and its key
// (checkout.RefundKey) added to paymentKeys, the order moves to CANCELLED from one of
// checkout.Refundable, and an invoiced order takes the next number of the shop's
// credit-note counter for the year, incremented in the same transaction (gap-free,
// never reused, like invoice numbers). It returns the order as it now is, and false
// when that payment's refund was recorded before (nothing is written again: a retry
// after a crash gets the same number). An order in another status is refused with
// checkout.ECONFLICT and left unchanged.
func (st *Store) RefundOrder(ctx context.Context, r Refund) (*checkout.Order, bool, error) {
	const op = "store.refund"
	if r.Payment.Refunds == "" || r.Payment.Outcome != "refunded" {
		return nil, false, checkout.Errorf(op, checkout.EINTERNAL, "a refund names the payment it gives back")
	}
	rk := checkout.RefundKey(r.Payment.Refunds)
	pay, err := marshalValue([]checkout.Payment{r.Payment})
	if err != nil {
		return nil, false, checkout.Wrap(op, err)
	}
	for attempt := 0; attempt < 10; attempt++ {
		rec, err := st.orderRecord(ctx, r.TxID)
		if err != nil {
			return nil, false, err
		}
		if refunded(&rec.Order, r.Payment.Refunds) {
			o := rec.Order
			return &o, false, nil
		}
		if !slices.Contains(checkout.Refundable, rec.Status) {
			return nil, false, checkout.Errorf(op, checkout.ECONFLICT, "order %s is %s: only a paid order (or one marked PAYBACK) is refunded", r.TxID, rec.Status)
		}
		now := st.now()
		names := map[string]string{"#st": "status", "#g": "gsi1pk", "#upd": "updatedAt"}
		values := map[string]types.AttributeValue{
			":pay": pay, ":nil": &types.AttributeValueMemberL{}, ":now": s(now.Format(time.RFC3339Nano)),
			":to": s(string(checkout.Cancelled)), ":g": s(statusKey(checkout.Cancelled)),
			":ks": &types.AttributeValueMemberSS{Value: []string{rk}}, ":k": s(rk),
		}
		set := "SET payments = list_append(if_not_exists(payments, :nil), :pay), #st = :to, #g = :g, #upd = :now"
		cond := "attribute_exists(pk) AND " + statusIn(values, checkout.Refundable) + " AND NOT contains(paymentKeys, :k)"
		orderUpd := types.Update{
			TableName: &st.Table, Key: key(txPK(r.TxID), orderSK), ConditionExpression: &cond,
			ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		}
		if rec.InvoiceNumber == "" {
			// Refunded before billing: no credit note, and (NextInvoiceNumber's condition)
			// never an invoice number.
			orderUpd.UpdateExpression = aws.String(set + " ADD paymentKeys :ks")
			_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: orderUpd.TableName, Key: orderUpd.Key, UpdateExpression: orderUpd.UpdateExpression,
				ConditionExpression: orderUpd.ConditionExpression, ExpressionAttributeNames: names, ExpressionAttributeValues: values,
			})
			if _, failed := conditionFailed(err); failed {
				continue // refunded or moved meanwhile: read again and decide
			}
			if err != nil {
				return nil, false, checkout.Wrap(op, err)
			}
		} else {
			counterKey := creditNoteCounter(r.ShopID, r.Year)
			next, counterUpd, err := st.counterStep(ctx, counterKey)
			if err != nil {
				return nil, false, checkout.Wrap(op, err)
			}
			values[":cn"] = s(fmt.Sprintf("%s-%d-%06d", CreditNotePrefix, r.Year, next))
			orderUpd.UpdateExpression = aws.String(set + ", creditNoteNumber = :cn, creditedAt = :now ADD paymentKeys :ks")
			cond += " AND attribute_not_exists(creditNoteNumber)"
			_, err = st.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				counterUpd,
				{Update: &orderUpd},
			}})
			var tce *types.TransactionCanceledException
			if errors.As(err, &tce) {
				// The counter moved (another credit note took that number), or the order was
				// refunded or moved meanwhile: read again and decide.
				continue
			}
			if err != nil {
				return nil, false, checkout.Wrap(op, err)
			}
		}
		after, err := st.orderRecord(ctx, r.TxID)
		if err != nil {
			return nil, false, err
		}
		o := after.Order
		return &o, true, nil
	}
	return nil, false, checkout.Errorf(op, checkout.EUNAVAILABLE, "credit-note counter too busy; retry")
}

// refunded reports whether o holds the refund of the payment whose key is paid.
func refunded(o *checkout.Order, paid string) bool {
	for _, p := range o.Payments {
		if p.Outcome == "refunded" && p.Refunds == paid {
			return true
		}
	}
	return false
}
