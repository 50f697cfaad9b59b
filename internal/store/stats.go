package store

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/checkout"
)

// The figures the discount rules read (minEarlierOrders, partnerMinOrders,
// partnerMinRevenue), counted when an order is invoiced:
//
//	CUST#<email>      ACCOUNT        + paidOrders
//	PARTNER#<key>     STATS          orders, revenue (all items)
//	PARTNER#<key>     STATS#<code>   orders, revenue of one item code
//	TX#<txid>         STATS          marker: the order is counted
//
// Per-item figures are items of their own rather than a map in STATS: an ADD on a map
// path fails while the map does not exist, and a single update cannot both create the
// map and add to it. One Query on the partner reads them all.

const statsSK = "STATS"

func partnerPK(partner string) string {
	return "PARTNER#" + strings.ToLower(strings.TrimSpace(partner))
}

// MaxPartnerKey bounds a partner key: it becomes part of a table key.
const MaxPartnerKey = 64

// PaidOrders returns how many paid orders the customer account of email has (0 when it
// has no account yet), in one GetItem.
func (st *Store) PaidOrders(ctx context.Context, email string) (int, error) {
	const op = "store.paidOrders"
	if strings.TrimSpace(email) == "" {
		return 0, checkout.Errorf(op, checkout.EINVALID, "an e-mail address is required")
	}
	var acc struct {
		PaidOrders int `json:"paidOrders"`
	}
	if _, err := st.get(ctx, custPK(email), "ACCOUNT", &acc); err != nil {
		return 0, checkout.Wrap(op, err)
	}
	return acc.PaidOrders, nil
}

type statsRecord struct {
	SK      string `json:"sk"`
	Orders  int    `json:"orders"`
	Revenue int64  `json:"revenue"`
}

// PartnerStats returns a partner's figures, in total and per item code, in one Query
// (paged only for a partner with very many items). The key is matched
// case-insensitively; an unknown partner has zero figures.
func (st *Store) PartnerStats(ctx context.Context, partner string) (checkout.PartnerStats, error) {
	const op = "store.partnerStats"
	var ps checkout.PartnerStats
	if err := checkPartner(op, partner); err != nil {
		return ps, err
	}
	in := &dynamodb.QueryInput{
		TableName: &st.Table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :s)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s(partnerPK(partner)), ":s": s(statsSK),
		},
	}
	for item, err := range st.query(ctx, in) {
		if err != nil {
			return ps, checkout.Wrap(op, err)
		}
		var rec statsRecord
		if err := unmarshal(item, &rec); err != nil {
			return ps, checkout.Wrap(op, err)
		}
		figures := checkout.Stats{Orders: rec.Orders, Revenue: rec.Revenue}
		if code, ok := strings.CutPrefix(rec.SK, statsSK+"#"); ok {
			if ps.ByProduct == nil {
				ps.ByProduct = map[string]checkout.Stats{}
			}
			ps.ByProduct[code] = figures
		} else if rec.SK == statsSK {
			ps.Stats = figures
		}
	}
	return ps, nil
}

func checkPartner(op, partner string) error {
	p := strings.TrimSpace(partner)
	switch {
	case p == "":
		return checkout.Errorf(op, checkout.EINVALID, "a partner key is required")
	case len(p) > MaxPartnerKey:
		return checkout.Errorf(op, checkout.EINVALID, "a partner key has at most %d characters", MaxPartnerKey)
	}
	return nil
}

// CountPaidOrder adds a paid order to the figures the discount rules read: one more
// paid order on its customer's account and, when the order came through a partner, one
// more order and its final amount on the partner's total and on each item it sold
// (that line's amount after discount, taxes included).
//
// It counts an order once however often it is called: one transaction writes the
// figures together with a marker on the order that only its first run may create, so
// a retried Bill task, or two racing, add nothing more. It reports whether this call
// counted the order.
func (st *Store) CountPaidOrder(ctx context.Context, o *checkout.Order) (bool, error) {
	const op = "store.countPaidOrder"
	if o == nil || o.TxID == "" || strings.TrimSpace(o.Customer.Email) == "" {
		return false, checkout.Errorf(op, checkout.EINVALID, "an order with a transaction ID and a customer e-mail is required")
	}
	items := []types.TransactWriteItem{
		{Put: &types.Put{
			TableName: &st.Table, ConditionExpression: aws.String("attribute_not_exists(pk)"),
			Item: map[string]types.AttributeValue{"pk": s(txPK(o.TxID)), "sk": s(statsSK), "countedAt": s(st.now().Format(time.RFC3339Nano))},
		}},
	}
	stats, err := st.paidOrderUpdates(o)
	if err != nil {
		return false, err
	}
	items = append(items, stats...)
	// checkout.MaxLines (50) item codes + 3 stays within a transaction's 100 items.
	_, err = st.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 && aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		return false, nil // counted before
	}
	if err != nil {
		return false, checkout.Wrap(op, err)
	}
	return true, nil
}

// paidOrderUpdates are the writes that count a paid order: one more paid order on its
// customer's account and, through a partner, one more order and its amount on the
// partner's total and on each item code it sold (lines of one code summed: a
// transaction may touch an item once).
func (st *Store) paidOrderUpdates(o *checkout.Order) ([]types.TransactWriteItem, error) {
	const op = "store.countPaidOrder"
	now := s(st.now().Format(time.RFC3339Nano))
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName: &st.Table, Key: key(custPK(o.Customer.Email), "ACCOUNT"),
		UpdateExpression:          aws.String("ADD paidOrders :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": n(1)},
	}}}
	partner := strings.TrimSpace(o.Partner)
	if partner == "" {
		return items, nil
	}
	if err := checkPartner(op, partner); err != nil {
		return nil, err
	}
	add := func(sk string, revenue int64) types.TransactWriteItem {
		return types.TransactWriteItem{Update: &types.Update{
			TableName: &st.Table, Key: key(partnerPK(partner), sk),
			UpdateExpression:          aws.String("ADD orders :one, revenue :rev SET updatedAt = :now"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": n(1), ":rev": n(revenue), ":now": now},
		}}
	}
	items = append(items, add(statsSK, o.Totals.Final))
	byCode := map[string]int64{}
	for _, l := range o.Lines {
		byCode[l.Code] += l.Taxed
	}
	codes := make([]string, 0, len(byCode))
	for code := range byCode {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		items = append(items, add(statsSK+"#"+code, byCode[code]))
	}
	return items, nil
}
