package store

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/trace"
)

func txPK(txid string) string { return "TX#" + txid }

const cartSK = "CART"

// cartRecord is the cart as stored. Lines, codes and unlocked items are maps keyed by
// item code, so that each command is one UpdateItem on its own path (lines.#code) and
// two concurrent commands never overwrite each other.
type cartRecord struct {
	PK           string                         `json:"pk"`
	SK           string                         `json:"sk"`
	TxID         string                         `json:"txid"`
	TokenHash    string                         `json:"tokenHash"`
	ShopID       string                         `json:"shopId"`
	Version      int64                          `json:"version"`
	Lines        map[string]int                 `json:"lines"`     // code → quantity
	LineOrder    map[string]int64               `json:"lineOrder"` // code → unix ms added
	Codes        map[string]int64               `json:"codes"`
	Unlocked     map[string]int64               `json:"unlocked"`
	Required     map[string][]map[string]string `json:"required"`
	Participants []checkout.Participant         `json:"participants,omitempty"`
	Seats        []checkout.Assignment          `json:"seats,omitempty"`
	Customer     *checkout.Customer             `json:"customer,omitempty"`
	Partner      string                         `json:"partner,omitempty"`
	PaidOrders   int                            `json:"paidOrders,omitempty"`   // snapshot, see checkout.Cart
	PartnerStats *checkout.PartnerStats         `json:"partnerStats,omitempty"` // snapshot, see checkout.Cart
	Placed       bool                           `json:"placed"`
	CreatedAt    time.Time                      `json:"createdAt"`
	UpdatedAt    time.Time                      `json:"updatedAt"`
	ExpiresAt    int64                          `json:"expiresAt"` // epoch seconds: the table's TTL
	Trace        []traceEntry                   `json:"trace,omitempty"`
}

func (r *cartRecord) cart() *checkout.Cart {
	c := &checkout.Cart{
		TxID: r.TxID, TokenHash: r.TokenHash, ShopID: r.ShopID, Version: r.Version, Required: r.Required,
		Participants: r.Participants, Seats: r.Seats, Customer: r.Customer, Partner: r.Partner, Placed: r.Placed,
		PaidOrders: r.PaidOrders, PartnerStats: r.PartnerStats,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, ExpiresAt: time.Unix(r.ExpiresAt, 0).UTC(),
	}
	for _, e := range r.Trace {
		c.Trace = append(c.Trace, trace.Line{At: e.At, TxID: r.TxID, Source: e.Source, Message: e.Message})
	}
	for _, code := range keysByValue(r.LineOrder) {
		if q, ok := r.Lines[code]; ok {
			c.Lines = append(c.Lines, checkout.Line{Code: code, Quantity: q})
		}
	}
	c.Codes = keysByValue(r.Codes)
	c.Unlocked = keysByValue(r.Unlocked)
	return c
}

// head is the cart with only what the rules every command shares read (token, expiry,
// placed): cheaper than cart when the trace a full cart carries need not be parsed.
func (r *cartRecord) head() *checkout.Cart {
	return &checkout.Cart{TxID: r.TxID, TokenHash: r.TokenHash, Placed: r.Placed, ExpiresAt: time.Unix(r.ExpiresAt, 0).UTC()}
}

// keysByValue returns m's keys ordered by their values (when each was added), then by
// key: lines, codes and unlocked items read back in the order the buyer added them.
func keysByValue(m map[string]int64) []string {
	return slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		return cmp.Or(cmp.Compare(m[a], m[b]), strings.Compare(a, b))
	})
}

// CreateCart stores a new, empty cart, with the trace lines notes in the same PutItem.
func (st *Store) CreateCart(ctx context.Context, c *checkout.Cart, notes ...trace.Line) error {
	rec := cartRecord{
		PK: txPK(c.TxID), SK: cartSK, TxID: c.TxID, TokenHash: c.TokenHash, ShopID: c.ShopID, Version: 1,
		Lines: map[string]int{}, LineOrder: map[string]int64{}, Codes: map[string]int64{}, Unlocked: map[string]int64{},
		Required: map[string][]map[string]string{}, Partner: c.Partner,
		PaidOrders: c.PaidOrders, PartnerStats: c.PartnerStats,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, ExpiresAt: c.ExpiresAt.Unix(),
		Trace: entriesOf(notes),
	}
	for i, l := range c.Lines {
		rec.Lines[l.Code] = l.Quantity
		rec.LineOrder[l.Code] = c.CreatedAt.UnixMilli() + int64(i)
	}
	item, err := marshal(rec)
	if err != nil {
		return checkout.Wrap("store.createCart", err)
	}
	_, err = st.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &st.Table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, failed := conditionFailed(err); failed {
		// The SDK retries a put whose answer was lost; the retry then finds the cart its
		// first attempt wrote. Same token: it is this cart, created.
		var was cartRecord
		if old != nil && unmarshal(old, &was) == nil && was.TokenHash == c.TokenHash {
			return nil
		}
		return checkout.Errorf("store.createCart", checkout.ECONFLICT, "transaction ID already in use")
	}
	return checkout.Wrap("store.createCart", err)
}

// GetCart reads a cart for its holder. Wrong token → EFORBIDDEN; expired → EGONE even
// if DynamoDB has not deleted it yet.
func (st *Store) GetCart(ctx context.Context, txid, tokenHash string) (*checkout.Cart, error) {
	var rec cartRecord
	ok, err := st.get(ctx, txPK(txid), cartSK, &rec)
	if err != nil {
		return nil, checkout.Wrap("store.getCart", err)
	}
	if !ok {
		return nil, checkout.NoCart(txid)
	}
	c := rec.cart()
	if err := c.Open(tokenHash, st.now()); err != nil {
		return nil, err
	}
	return c, nil
}

// change applies m to the cart in one conditional UpdateItem, renews its TTL, bumps its
// version, appends w.Note to its trace and returns the cart as it now is. The shared
// condition is checkout.Cart.CanChange (the cart exists, the token hash matches, it has
// not expired, its order is not placed); on failure DynamoDB returns the item as it was
// (ReturnValuesOnConditionCheckFailure), from which checkout.Refusal says which rule
// refused, at no extra round trip. The write is applied once however often the SDK
// sends it (update, lastCmd).
func (st *Store) change(ctx context.Context, w checkout.CartWrite, m mutation) (*checkout.Cart, error) {
	c, err := st.update(ctx, w, m)
	if errors.Is(err, errTraceFull) {
		// The cart carries MaxItemTrace lines already: the command is applied alone and
		// its line stored as an item of its own.
		note := w.Note
		w.Note = trace.Line{}
		if c, err = st.update(ctx, w, m); err == nil {
			if terr := st.AppendTrace(ctx, note); terr != nil {
				// A lost trace line is logged, never fatal to the command it describes.
				trace.Lost(nil, []trace.Line{note}, terr)
			}
		}
	}
	return c, err
}

// errTraceFull says that a command was refused only because the cart's trace is full.
var errTraceFull = errors.New("the cart's trace is full")

// lastCmd is the cart's attribute holding the stamp of the last command written.
const lastCmd = "lastCmd"

// update is one command's UpdateItem. The SDK sends the same request again when an
// answer is lost (a timeout, a connection reset after DynamoDB applied it), and the
// version bump and the trace's list_append are not idempotent: so the write stamps the
// cart with a stamp of its own, made once here before the SDK's first attempt, and its
// condition refuses a cart that already carries it. A refusal whose old item carries
// the stamp is this command applied by an attempt whose answer was lost: the old item
// is the cart as the command left it, answered as the command's success.
func (st *Store) update(ctx context.Context, w checkout.CartWrite, m mutation) (*checkout.Cart, error) {
	now := st.now()
	cmd := st.claimStamp()
	names := map[string]string{"#v": "version", "#exp": "expiresAt", "#upd": "updatedAt", "#placed": "placed", "#th": "tokenHash", "#lc": lastCmd}
	for k, v := range m.names {
		names[k] = v
	}
	values := map[string]types.AttributeValue{
		":one": n(1), ":exp": n(now.Add(w.TTL).Unix()), ":now": n(now.Unix()), ":upd": s(now.Format(time.RFC3339Nano)),
		":false": b(false), ":th": s(w.TokenHash), ":cmd": s(cmd),
	}
	for k, v := range m.values {
		av, err := marshalValue(v)
		if err != nil {
			return nil, checkout.Wrap("store.changeCart", err)
		}
		values[k] = av
	}
	set := append([]string{"#v = #v + :one", "#exp = :exp", "#upd = :upd", "#lc = :cmd"}, m.set...)
	cond := "attribute_exists(pk) AND #th = :th AND #exp > :now AND #placed = :false AND (attribute_not_exists(#lc) OR #lc <> :cmd)"
	traced := w.Note.Message != ""
	if traced {
		var err error
		if set, err = appendTrace(set, names, values, []trace.Line{w.Note}); err != nil {
			return nil, checkout.Wrap("store.changeCart", err)
		}
		cond += " AND (attribute_not_exists(#trace) OR size(#trace) < :tmax)"
		values[":tmax"] = n(MaxItemTrace)
	}
	update := "SET " + strings.Join(set, ", ")
	if len(m.remove) > 0 {
		update += " REMOVE " + strings.Join(m.remove, ", ")
	}
	if m.cond != "" {
		cond += " AND (" + m.cond + ")"
	}
	out, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &st.Table, Key: key(txPK(w.TxID), cartSK),
		UpdateExpression: &update, ConditionExpression: &cond,
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, failed := conditionFailed(err); failed {
		if claimedBy(old, lastCmd, cmd) {
			var rec cartRecord
			if err := unmarshal(old, &rec); err != nil {
				return nil, checkout.Wrap("store.changeCart", err)
			}
			return rec.cart(), nil
		}
		if traced && old != nil {
			var rec cartRecord
			if unmarshal(old, &rec) == nil && len(rec.Trace) >= MaxItemTrace && rec.head().CanChange(w.TokenHash, now) == nil {
				return nil, errTraceFull
			}
		}
		return nil, st.refused(w, old, m.own)
	}
	if err != nil {
		return nil, checkout.Wrap("store.changeCart", err)
	}
	var rec cartRecord
	if err := unmarshal(out.Attributes, &rec); err != nil {
		return nil, checkout.Wrap("store.changeCart", err)
	}
	return rec.cart(), nil
}

// refused explains a failed condition from old, the item as it was (nil: none).
func (st *Store) refused(w checkout.CartWrite, old map[string]types.AttributeValue, own func(*checkout.Cart) error) error {
	var was *checkout.Cart
	if old != nil {
		var rec cartRecord
		if err := unmarshal(old, &rec); err != nil {
			return checkout.Wrap("store.changeCart", err)
		}
		was = rec.cart()
	}
	return checkout.Refusal(w.TxID, was, w.TokenHash, st.now(), own)
}

// DeleteCart erases a cart (once its order is complete).
func (st *Store) DeleteCart(ctx context.Context, txid string) error {
	_, err := st.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &st.Table, Key: key(txPK(txid), cartSK)})
	return checkout.Wrap("store.deleteCart", err)
}
