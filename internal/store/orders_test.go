package store_test

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/localcloud/dynamotest"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
)

// placeWithLines places an order of two lines with their terms, as placement does, and
// returns it as placed.
func placeWithLines(t *testing.T, st *store.Store) *checkout.Order {
	t.Helper()
	cart, now := newCart(t, st)
	txid := cart.TxID
	terms := strings.Repeat("Access for 180 days from the first login. ", 10)
	o := &checkout.Order{
		TxID: txid, ShopID: "demo", Status: checkout.Placed, Paymode: "check", Currency: "EUR", Totals: checkout.Totals{Final: 45000},
		Customer:  checkout.Customer{Email: strings.ToLower(txid) + "@example.com", LastName: "L", FirstName: "F", Country: "FR"},
		TokenHash: cart.TokenHash, PlacedAt: now, UpdatedAt: now,
		Lines: []checkout.OrderLine{
			{ID: "L01", PricedLine: checkout.PricedLine{Code: "GO-101", Name: "Go for beginners", Quantity: 1, UnitPrice: 30000, Untaxed: 30000}},
			{ID: "L02", PricedLine: checkout.PricedLine{Code: "CERT-GO", Name: "Go certification", Quantity: 1, UnitPrice: 15000, Untaxed: 15000}},
		},
		Acceptance: checkout.Acceptance{ShopTerms: true, ShopText: terms, ItemTerms: map[string]string{"GO-101": terms}, AcceptedAt: now},
	}
	if err := st.Place(context.Background(), o, 1, checkout.AnyAccount, trace.Line{At: now, TxID: txid, Source: "Order", Message: "placed"}); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestOrderMovesRewriteItsHeadOnly: an order is a small head that its moves, updates
// and payments rewrite, and a body (its lines, terms, placement trace) written once;
// every read and every write that answers with the order gives it whole.
func TestOrderMovesRewriteItsHeadOnly(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	o := placeWithLines(t, st)
	pk := "TX#" + o.TxID
	body := rawItem(t, st, pk, "ORDER#BODY")
	if body == nil || body["lines"] == nil || body["acceptance"] == nil {
		t.Fatalf("no body with the lines and terms after placement: %v", body)
	}
	token := "tok"
	steps := []struct {
		name  string
		write func() (*checkout.Order, error)
	}{
		{"update", func() (*checkout.Order, error) {
			return st.Update(ctx, o.TxID, store.Change{TaskToken: &token, TaskState: "payment"})
		}},
		{"move", func() (*checkout.Order, error) { return st.Move(ctx, o.TxID, checkout.Pending, store.Change{}) }},
		{"move again (no-op)", func() (*checkout.Order, error) { return st.Move(ctx, o.TxID, checkout.Pending, store.Change{}) }},
		{"payment", func() (*checkout.Order, error) {
			got, _, err := st.RecordPayment(ctx, o.TxID, chequeOf(o.TxID))
			return got, err
		}},
		{"payment again", func() (*checkout.Order, error) {
			got, _, err := st.RecordPayment(ctx, o.TxID, chequeOf(o.TxID))
			return got, err
		}},
		{"read", func() (*checkout.Order, error) { return st.GetOrder(ctx, o.TxID, "") }},
	}
	for _, step := range steps {
		got, err := step.write()
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if !reflect.DeepEqual(got.Lines, o.Lines) || got.Acceptance.ShopText != o.Acceptance.ShopText {
			t.Errorf("%s answers the order without its lines or terms: %+v", step.name, got)
		}
		head := rawItem(t, st, pk, "ORDER")
		if head["lines"] != nil || head["acceptance"] != nil {
			t.Errorf("%s: the head carries the body's attributes", step.name)
		}
		if size := itemBytes(head); size > 1024 {
			t.Errorf("%s: the head is %d bytes, more than one write unit", step.name, size)
		}
		if now := rawItem(t, st, pk, "ORDER#BODY"); !reflect.DeepEqual(now, body) {
			t.Errorf("%s rewrote the body", step.name)
		}
	}
	// The placement's trace line is read with the order's others.
	lines, err := st.ListTrace(ctx, o.TxID)
	if err != nil || len(lines) == 0 || lines[0].Message != "placed" {
		t.Errorf("trace = %v, %v; want the placement's line first", lines, err)
	}
}

// TestOrderOfTheOldLayoutReads: an order stored as one item (before the split) reads
// and moves as before; it is not migrated.
func TestOrderOfTheOldLayoutReads(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	txid := trace.NewTxID()
	now := time.Now().UTC().Format(time.RFC3339Nano)
	item, err := attributevalue.MarshalMap(map[string]any{
		"pk": "TX#" + txid, "sk": "ORDER", "gsi1pk": "ORDERS#PENDING", "gsi1sk": now,
		"transactionId": txid, "status": "PENDING", "currency": "EUR", "placedAt": now, "updatedAt": now,
		"lines": []map[string]any{{"id": "L01", "code": "GO-101", "quantity": 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.Table, Item: item}); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetOrder(ctx, txid, "")
	if err != nil || len(got.Lines) != 1 || got.Lines[0].Code != "GO-101" {
		t.Fatalf("GetOrder = %+v, %v; want its one line", got, err)
	}
	moved, err := st.Move(ctx, txid, checkout.SoldOut, store.Change{})
	if err != nil || moved.Status != checkout.SoldOut || len(moved.Lines) != 1 {
		t.Fatalf("Move = %+v, %v; want SOLDOUT with its line", moved, err)
	}
}

// itemBytes is an item's size as DynamoDB counts it, closely enough for a bound:
// attribute names and the bytes of their values.
func itemBytes(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueBytes(v)
	}
	return n
}

func valueBytes(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return len(v.Value)
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueBytes(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueBytes(e)
		}
		return n
	}
	return 1
}

// keyLog records each DynamoDB request a client makes as "<operation> <sk>" (the sk of
// the item it names; none for requests that name no one item).
type keyLog struct {
	mu   sync.Mutex
	seen []string
}

func (l *keyLog) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("keyLog", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			var k map[string]types.AttributeValue
			switch p := in.Parameters.(type) {
			case *dynamodb.GetItemInput:
				k = p.Key
			case *dynamodb.UpdateItemInput:
				k = p.Key
			}
			entry := awsmiddleware.GetOperationName(ctx)
			if sk, ok := k["sk"].(*types.AttributeValueMemberS); ok {
				entry += " " + sk.Value
			}
			l.mu.Lock()
			l.seen = append(l.seen, entry)
			l.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
	})
}

// since returns the requests recorded since the last call, sorted.
func (l *keyLog) since() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.seen
	l.seen = nil
	sort.Strings(out)
	return out
}

// TestHeadOnlyWrites: each write of the order's head (Move, Update, UpdateOnce,
// RecordPayment) is one UpdateItem of the head when the caller asks for the head alone
// (HeadOnly) or gives the order it holds (BodyFrom); only the default answer also reads
// the body. None writes the body, and the answers are the order as written: with its
// lines from the read or from the held order, without them for HeadOnly.
func TestHeadOnlyWrites(t *testing.T) {
	ctx := context.Background()
	log := &keyLog{}
	db, table := dynamotest.NewTable(t, log.option)
	st := store.New(db, table)
	other := placeWithLines(t, st)
	other.Lines = []checkout.OrderLine{{ID: "L09", PricedLine: checkout.PricedLine{Code: "OTHER"}}}

	token := "tok"
	writes := []struct {
		name string
		want checkout.Status // the status the write leaves
		do   func(txid string, ans ...store.Answer) (*checkout.Order, error)
	}{
		{"Update", checkout.Placed, func(txid string, ans ...store.Answer) (*checkout.Order, error) {
			return st.Update(ctx, txid, store.Change{TaskToken: &token, TaskState: "payment"}, ans...)
		}},
		{"UpdateOnce", checkout.Placed, func(txid string, ans ...store.Answer) (*checkout.Order, error) {
			o, claimed, err := st.UpdateOnce(ctx, txid, store.Change{TaskToken: &token, TaskState: "payment"}, "mail#Test", ans...)
			if err == nil && !claimed {
				t.Errorf("UpdateOnce of a new order did not claim its e-mail")
			}
			return o, err
		}},
		{"Move", checkout.Pending, func(txid string, ans ...store.Answer) (*checkout.Order, error) {
			return st.Move(ctx, txid, checkout.Pending, store.Change{Instructions: `{"mode":"check"}`}, ans...)
		}},
		{"Move refused", checkout.Placed, func(txid string, ans ...store.Answer) (*checkout.Order, error) {
			o, err := st.Move(ctx, txid, checkout.Complete, store.Change{}, ans...)
			if s, ok := store.ConflictStatus(err); !ok || s != checkout.Placed {
				t.Errorf("Move PLACED → COMPLETE: %v, want refused, the order PLACED", err)
			}
			return o, nil
		}},
		{"RecordPayment", checkout.Placed, func(txid string, ans ...store.Answer) (*checkout.Order, error) {
			o, first, err := st.RecordPayment(ctx, txid, chequeOf(txid), ans...)
			if err == nil && !first {
				t.Errorf("RecordPayment of a new payment answered it was stored before")
			}
			return o, err
		}},
	}
	answers := []struct {
		name      string
		ans       func(held *checkout.Order) []store.Answer
		wantCalls []string
		wantLines bool
	}{
		{"whole (no answer given)", func(*checkout.Order) []store.Answer { return nil },
			[]string{"GetItem ORDER#BODY", "UpdateItem ORDER"}, true},
		{"HeadOnly", func(*checkout.Order) []store.Answer { return []store.Answer{store.HeadOnly} },
			[]string{"UpdateItem ORDER"}, false},
		{"BodyFrom the held order", func(held *checkout.Order) []store.Answer { return []store.Answer{store.BodyFrom(held)} },
			[]string{"UpdateItem ORDER"}, true},
		{"BodyFrom nil: read", func(*checkout.Order) []store.Answer { return []store.Answer{store.BodyFrom(nil)} },
			[]string{"GetItem ORDER#BODY", "UpdateItem ORDER"}, true},
		{"BodyFrom another transaction's order: read", func(*checkout.Order) []store.Answer { return []store.Answer{store.BodyFrom(other)} },
			[]string{"GetItem ORDER#BODY", "UpdateItem ORDER"}, true},
	}
	for _, w := range writes {
		for _, a := range answers {
			t.Run(w.name+"/"+a.name, func(t *testing.T) {
				held := placeWithLines(t, st)
				pk := "TX#" + held.TxID
				body := rawItem(t, st, pk, "ORDER#BODY")
				log.since()
				got, err := w.do(held.TxID, a.ans(held)...)
				calls := log.since()
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(calls, a.wantCalls) {
					t.Errorf("calls = %q, want %q", calls, a.wantCalls)
				}
				if now := rawItem(t, st, pk, "ORDER#BODY"); !reflect.DeepEqual(now, body) {
					t.Errorf("the write changed the body")
				}
				if w.name == "Move refused" {
					return // the refusal answers no order
				}
				if got.TxID != held.TxID || got.Status != w.want || got.Totals != held.Totals || got.Customer.Email != held.Customer.Email {
					t.Errorf("answer's head = %s %s %+v %s, want %s %s %+v %s", got.TxID, got.Status, got.Totals, got.Customer.Email,
						held.TxID, w.want, held.Totals, held.Customer.Email)
				}
				if a.wantLines {
					if !reflect.DeepEqual(got.Lines, held.Lines) || got.Acceptance.ShopText != held.Acceptance.ShopText {
						t.Errorf("answer's lines = %+v, want the order's %+v", got.Lines, held.Lines)
					}
				} else if got.Lines != nil || got.Acceptance.ShopText != "" {
					t.Errorf("HeadOnly answered the body: %+v", got.Lines)
				}
			})
		}
	}
}
