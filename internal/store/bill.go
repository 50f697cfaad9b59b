package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/trace"
)

// MaxTransactItems is DynamoDB's limit of items per TransactWriteItems.
const MaxTransactItems = 100

// Billing is what completing a paid order writes beside the order itself.
type Billing struct {
	// ShopID and Year name the invoice counter (used only when the order has no number).
	ShopID string
	Year   int
	// Billed are the references of the product instances the order delivered: each gets
	// its "billed" event, stamped with the invoice's time.
	Billed []string
	// Note is the line describing the completion, given its invoice number: written
	// with it or not at all. nil: none.
	Note func(number string) trace.Line
}

// BillItems is how many items Complete writes in its transaction for o with b; past
// MaxTransactItems the caller numbers the order and writes the events first
// (NextInvoiceNumber, AddProductEvent) and completes with no Billed.
func BillItems(o *checkout.Order, b Billing) int {
	n := 3 + len(b.Billed) // order, account, cart, events
	if o.InvoiceNumber == "" {
		n++ // counter
	}
	if strings.TrimSpace(o.Partner) != "" {
		codes := map[string]bool{}
		for _, l := range o.Lines {
			codes[l.Code] = true
		}
		n += 1 + len(codes)
	}
	return n
}

// Complete bills a paid order in one transaction, whose every part is visible at once
// and COMPLETE with them, never before: the invoice number (the shop's counter for the
// year incremented, when the order has none yet), the order moved to COMPLETE under the
// transition table with its trace lines, one more paid order on its customer's account
// and, through a partner, on the partner's figures, the "billed" event of each product
// delivered, and the cart erased. The order's status condition makes it happen once: a
// retried or racing Bill finds the order COMPLETE and gets its number back, having
// written nothing.
func (st *Store) Complete(ctx context.Context, o *checkout.Order, b Billing) (string, error) {
	const op = "store.complete"
	if o == nil || o.TxID == "" || strings.TrimSpace(o.Customer.Email) == "" {
		return "", checkout.Errorf(op, checkout.EINVALID, "an order with a transaction ID and a customer e-mail is required")
	}
	if BillItems(o, b) > MaxTransactItems {
		return "", checkout.Errorf(op, checkout.EINVALID, "order %s: too many items for one transaction; number it and write its events first", o.TxID)
	}
	txid := o.TxID
	for attempt := 0; attempt < 10; attempt++ {
		now := st.now()
		number, invoicedAt := o.InvoiceNumber, now
		if o.InvoicedAt != nil {
			invoicedAt = *o.InvoicedAt
		}
		var items []types.TransactWriteItem
		if number == "" {
			next, counterUpd, err := st.counterStep(ctx, invoiceCounter(b.ShopID, b.Year))
			if err != nil {
				return "", checkout.Wrap(op, err)
			}
			number = invoiceNumber(b.ShopID, b.Year, next)
			items = append(items, counterUpd)
		}
		var lines []trace.Line
		if b.Note != nil {
			lines = append(lines, b.Note(number))
		}
		orderUpdate, err := st.completeUpdate(ctx, o, number, invoicedAt, lines)
		if err != nil {
			return "", checkout.Wrap(op, err)
		}
		orderIndex := len(items)
		items = append(items, types.TransactWriteItem{Update: orderUpdate.update})
		stats, err := st.paidOrderUpdates(o)
		if err != nil {
			orderUpdate.restore(ctx)
			return "", err
		}
		items = append(items, stats...)
		for _, ref := range b.Billed {
			ev := production.Event{Type: production.EventBilled, At: invoicedAt, Data: map[string]string{"invoice": number}}
			put, err := st.productEventPut(ref, ev)
			if err != nil {
				orderUpdate.restore(ctx)
				return "", checkout.Wrap(op, err)
			}
			items = append(items, types.TransactWriteItem{Put: put})
		}
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &st.Table, Key: key(txPK(txid), cartSK)}})

		_, err = st.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return number, nil
		}
		orderUpdate.restore(ctx)
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return "", checkout.Wrap(op, err)
		}
		reasons := tce.CancellationReasons
		if len(reasons) > orderIndex && aws.ToString(reasons[orderIndex].Code) == "ConditionalCheckFailed" {
			// Completed by another run meanwhile (its number stands), or not payable.
			again, err := st.GetOrder(ctx, txid, "")
			if err != nil {
				return "", err
			}
			if again.Status == checkout.Complete && again.InvoiceNumber != "" {
				return again.InvoiceNumber, nil
			}
			return "", checkout.Errorf(op, checkout.ECONFLICT, "order %s is %s: it cannot be completed", txid, again.Status)
		}
		if orderIndex == 1 && len(reasons) > 0 && aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
			continue // the counter moved: another order took that number; try the next
		}
		return "", checkout.Wrap(op, err)
	}
	return "", checkout.Errorf(op, checkout.EUNAVAILABLE, "invoice counter too busy; retry")
}

type pendingUpdate struct {
	update  *types.Update
	pending []trace.Line
}

// restore gives back the request's pending lines the update took, when it was not written.
func (p pendingUpdate) restore(ctx context.Context) { restoreTrace(ctx, p.pending) }

// completeUpdate is the order's part of Complete: its number (if new), COMPLETE, and the
// trace, conditioned on the transition table.
func (st *Store) completeUpdate(ctx context.Context, o *checkout.Order, number string, invoicedAt time.Time, lines []trace.Line) (pendingUpdate, error) {
	names := map[string]string{"#st": "status", "#g": "gsi1pk"}
	values := map[string]types.AttributeValue{
		":to": s(string(checkout.Complete)), ":g": s(statusKey(checkout.Complete)), ":now": s(st.now().Format(time.RFC3339Nano)),
	}
	set := []string{"#st = :to", "#g = :g", "updatedAt = :now"}
	from := checkout.Sources(checkout.Complete)
	if o.InvoiceNumber == "" {
		// An order already COMPLETE without a number (an operator's transition) is billed
		// too, as a move to the status it has is a no-op; the number's own condition
		// keeps it to one run.
		from = append(from, checkout.Complete)
	}
	cond := statusIn(values, from)
	if o.InvoiceNumber == "" {
		set = append(set, "invoiceNumber = :num", "invoicedAt = :at")
		values[":num"], values[":at"] = s(number), s(invoicedAt.UTC().Format(time.RFC3339Nano))
		cond += " AND attribute_not_exists(invoiceNumber)"
	}
	pending := pendingTrace(ctx, o.TxID)
	set, err := appendTrace(set, names, values, append(pending[:len(pending):len(pending)], lines...))
	if err != nil {
		restoreTrace(ctx, pending)
		return pendingUpdate{}, err
	}
	return pendingUpdate{pending: pending, update: &types.Update{
		TableName: &st.Table, Key: key(txPK(o.TxID), orderSK),
		UpdateExpression: aws.String("SET " + strings.Join(set, ", ")), ConditionExpression: &cond,
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}}, nil
}

// productEventPut is the write of one product event (AddProductEvent's, for a transaction).
func (st *Store) productEventPut(ref string, e production.Event) (*types.Put, error) {
	if e.Type == "" || e.At.IsZero() {
		return nil, checkout.Errorf("store.productEvent", checkout.EINVALID, "product event on %s: type and time are required", ref)
	}
	item, err := eventRecord(ref, e)
	if err != nil {
		return nil, err
	}
	return &types.Put{TableName: &st.Table, Item: item}, nil
}

// invoiceCounter is the key of a shop's gap-free invoice counter for a year.
func invoiceCounter(shopID string, year int) map[string]types.AttributeValue {
	return key(fmt.Sprintf("COUNTER#INVOICE#%s#%d", shopID, year), "COUNTER")
}

// invoiceNumber is the text of a shop's n-th invoice of a year, e.g. DEMO-2026-000042:
// the one format, whichever path numbers the order.
func invoiceNumber(shopID string, year int, n int64) string {
	return fmt.Sprintf("%s-%d-%06d", strings.ToUpper(shopID), year, n)
}
