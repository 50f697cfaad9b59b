package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/localcloud/dynamotest"
	"github.com/lmsshop/checkout/internal/localcloud/faultproxy"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
)

// lostAnswerStore is a store on a fresh table that DynamoDB Local reaches through a
// fault proxy, with the proxy and a way to lose the first answer to op: DynamoDB applies
// the request, the connection is reset before the answer, and the SDK sends it again
// (each call tried attempts times).
type lostAnswerStore struct {
	*store.Store
	proxy *faultproxy.Proxy
}

func newLostAnswerStore(t *testing.T, attempts int) lostAnswerStore {
	t.Helper()
	db, p := dynamotest.ThroughFaults(t, attempts)
	return lostAnswerStore{store.New(db, dynamotest.CreateTable(t, db)), p}
}

// loseFirstAnswer runs call with the first answer to op lost, and returns how many op
// requests reached DynamoDB and call's error.
func (ls lostAnswerStore) loseFirstAnswer(t *testing.T, op string, call func() error) (int, error) {
	t.Helper()
	if err := ls.proxy.SetFaults(faultproxy.Faults{ResetAfter: 1, Max: 1, Operations: []string{op}}); err != nil {
		t.Fatal(err)
	}
	before := ls.proxy.Stats()
	err := call()
	forwarded := ls.proxy.Stats().Sub(before)[op].Forwarded
	if err := ls.proxy.SetFaults(faultproxy.Faults{}); err != nil {
		t.Fatal(err)
	}
	return forwarded, err
}

// count is how many of lines say msg.
func count(lines []trace.Line, msg string) int {
	n := 0
	for _, l := range lines {
		if l.Message == msg {
			n++
		}
	}
	return n
}

// A cart command whose answer is lost after DynamoDB applied it (the SDK then sends it
// again) is applied once: it succeeds, the version moves by one, and the trace holds
// its line once, on a cart with room in its trace as on the one it fills.
func TestCartCommandsApplyOnceWhenTheirAnswerIsLost(t *testing.T) {
	st := newLostAnswerStore(t, 3)
	ctx := context.Background()
	now := time.Now().UTC()
	people := []checkout.Participant{{Email: "ada@example.com", LastName: "Lovelace", FirstName: "Ada", City: "London"}}
	seats := []checkout.Assignment{{Code: "GO-101", Role: "student", Email: "ada@example.com"}}
	buyer := &checkout.Customer{Email: "ada@example.com", LastName: "Lovelace", FirstName: "Ada", City: "London", Country: "GB"}
	tests := []struct {
		name    string
		trace   int // lines the cart carries before the command
		command func(w checkout.CartWrite) (*checkout.Cart, error)
		applied func(c *checkout.Cart) bool
	}{
		{"set a new line", 1, func(w checkout.CartWrite) (*checkout.Cart, error) {
			return st.SetLine(ctx, w, &checkout.Item{Code: "GO-202"}, 2)
		}, func(c *checkout.Cart) bool { return fmt.Sprint(c.Lines) == "[{GO-101 1} {GO-202 2}]" }},
		{"change a line's quantity", 1, func(w checkout.CartWrite) (*checkout.Cart, error) {
			return st.SetLine(ctx, w, &checkout.Item{Code: "GO-101"}, 3)
		}, func(c *checkout.Cart) bool { return fmt.Sprint(c.Lines) == "[{GO-101 3}]" }},
		{"remove a line", 1, func(w checkout.CartWrite) (*checkout.Cart, error) { return st.RemoveLine(ctx, w, "GO-101") },
			func(c *checkout.Cart) bool { return len(c.Lines) == 0 }},
		{"reset", 1, func(w checkout.CartWrite) (*checkout.Cart, error) { return st.Reset(ctx, w) },
			func(c *checkout.Cart) bool { return len(c.Lines) == 0 && len(c.Codes) == 0 }},
		{"add a code", 1, func(w checkout.CartWrite) (*checkout.Cart, error) { return st.AddCode(ctx, w, "SUMMER") },
			func(c *checkout.Cart) bool { return slices.Equal(c.Codes, []string{"SPRING", "SUMMER"}) }},
		{"remove a code", 1, func(w checkout.CartWrite) (*checkout.Cart, error) { return st.RemoveCode(ctx, w, "SPRING") },
			func(c *checkout.Cart) bool { return len(c.Codes) == 0 }},
		{"unlock an item", 1, func(w checkout.CartWrite) (*checkout.Cart, error) { return st.Unlock(ctx, w, "VIP-1") },
			func(c *checkout.Cart) bool { return slices.Equal(c.Unlocked, []string{"VIP-1"}) }},
		{"set requirements", 1, func(w checkout.CartWrite) (*checkout.Cart, error) {
			return st.SetRequirements(ctx, w, map[string][]map[string]string{"GO-101": {{"licence": "A-1"}}})
		}, func(c *checkout.Cart) bool { return fmt.Sprint(c.Required) == "map[GO-101:[map[licence:A-1]]]" }},
		{"set seats", 1, func(w checkout.CartWrite) (*checkout.Cart, error) { return st.SetSeats(ctx, w, people, seats) },
			func(c *checkout.Cart) bool { return len(c.Participants) == 1 && slices.Equal(c.Seats, seats) }},
		{"set the customer", 1, func(w checkout.CartWrite) (*checkout.Cart, error) { return st.SetCustomer(ctx, w, buyer, 2) },
			func(c *checkout.Cart) bool {
				return c.Customer != nil && c.Customer.Email == buyer.Email && c.PaidOrders == 2
			}},
		{"the command that fills the trace", store.MaxItemTrace - 1, func(w checkout.CartWrite) (*checkout.Cart, error) {
			return st.AddCode(ctx, w, "SUMMER")
		}, func(c *checkout.Cart) bool { return slices.Equal(c.Codes, []string{"SPRING", "SUMMER"}) }},
		{"a command past the trace's cap", store.MaxItemTrace, func(w checkout.CartWrite) (*checkout.Cart, error) {
			return st.AddCode(ctx, w, "SUMMER")
		}, func(c *checkout.Cart) bool { return slices.Equal(c.Codes, []string{"SPRING", "SUMMER"}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txid := trace.NewTxID()
			tok := checkout.HashToken("tok")
			var notes []trace.Line
			for i := range tt.trace {
				notes = append(notes, trace.Line{At: now.Add(time.Duration(i) * time.Millisecond), TxID: txid, Source: "Shop", Message: fmt.Sprintf("earlier %d", i)})
			}
			c := &checkout.Cart{TxID: txid, TokenHash: tok, ShopID: "demo", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour),
				Lines: []checkout.Line{{Code: "GO-101", Quantity: 1}}}
			if err := st.CreateCart(ctx, c, notes...); err != nil {
				t.Fatal(err)
			}
			if _, err := st.AddCode(ctx, checkout.CartWrite{TxID: txid, TokenHash: tok, TTL: time.Hour}, "SPRING"); err != nil {
				t.Fatal(err)
			}
			before, err := st.GetCart(ctx, txid, tok)
			if err != nil {
				t.Fatal(err)
			}
			note := trace.Line{At: now.Add(time.Second), TxID: txid, Source: "Shop", Message: tt.name}
			var got *checkout.Cart
			sent, err := st.loseFirstAnswer(t, "UpdateItem", func() error {
				var err error
				got, err = tt.command(checkout.CartWrite{TxID: txid, TokenHash: tok, TTL: time.Hour, Note: note})
				return err
			})
			if err != nil {
				t.Fatalf("the command = %v, want success", err)
			}
			if sent < 2 {
				t.Fatalf("%d UpdateItem reached DynamoDB, want the lost one and its retry", sent)
			}
			after, err := st.GetCart(ctx, txid, tok)
			if err != nil {
				t.Fatal(err)
			}
			if after.Version != before.Version+1 || got.Version != after.Version {
				t.Errorf("version %d → %d (answered %d), want moved by exactly one", before.Version, after.Version, got.Version)
			}
			if !tt.applied(after) || !tt.applied(got) {
				t.Errorf("stored cart %+v, answered %+v: the command is not applied", after, got)
			}
			lines, err := st.ListTrace(ctx, txid)
			if err != nil {
				t.Fatal(err)
			}
			if n := count(lines, tt.name); n != 1 {
				t.Errorf("the trace holds the command's line %d times, want once", n)
			}
		})
	}
}

// A cart created with its answer lost is created once, with its line once.
func TestCartCreatedOnceWhenItsAnswerIsLost(t *testing.T) {
	st := newLostAnswerStore(t, 3)
	ctx := context.Background()
	now := time.Now().UTC()
	c := &checkout.Cart{TxID: trace.NewTxID(), TokenHash: checkout.HashToken("tok"), ShopID: "demo", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
	sent, err := st.loseFirstAnswer(t, "PutItem", func() error {
		return st.CreateCart(context.Background(), c, trace.Line{At: now, TxID: c.TxID, Source: "Shop", Message: "created"})
	})
	if err != nil || sent < 2 {
		t.Fatalf("CreateCart = %v after %d PutItem, want success after a retry", err, sent)
	}
	got, err := st.GetCart(ctx, c.TxID, c.TokenHash)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 || count(got.Trace, "created") != 1 {
		t.Errorf("cart version %d with trace %v, want version 1 and its line once", got.Version, got.Trace)
	}
}

// A placement whose answer is lost after DynamoDB applied its transaction is placed
// once: the SDK's retry carries the same ClientRequestToken.
func TestPlacementOnceWhenItsAnswerIsLost(t *testing.T) {
	st := newLostAnswerStore(t, 3)
	ctx := context.Background()
	now := time.Now().UTC()
	tok := checkout.HashToken("tok")
	c := &checkout.Cart{TxID: trace.NewTxID(), TokenHash: tok, ShopID: "demo", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour),
		Lines: []checkout.Line{{Code: "GO-101", Quantity: 1}}}
	if err := st.CreateCart(ctx, c, trace.Line{At: now, TxID: c.TxID, Source: "Shop", Message: "created"}); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetCart(ctx, c.TxID, tok)
	if err != nil {
		t.Fatal(err)
	}
	o := &checkout.Order{TxID: c.TxID, ShopID: "demo", Status: checkout.Placed, Currency: "EUR", TokenHash: tok,
		Customer: checkout.Customer{Email: "a@example.com"}, PlacedAt: now, UpdatedAt: now}
	sent, err := st.loseFirstAnswer(t, "TransactWriteItems", func() error {
		return st.Place(ctx, o, got.Version, checkout.AnyAccount, trace.Line{At: now.Add(time.Second), TxID: c.TxID, Source: "Order", Message: "placed"}, got.Trace...)
	})
	if err != nil || sent < 2 {
		t.Fatalf("Place = %v after %d TransactWriteItems, want success after a retry", err, sent)
	}
	lines, err := st.ListTrace(ctx, c.TxID)
	if err != nil {
		t.Fatal(err)
	}
	if count(lines, "created") != 1 || count(lines, "placed") != 1 {
		t.Errorf("trace after placement = %v, want each line once", lines)
	}
}
