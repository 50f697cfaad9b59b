package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/localcloud/dynamotest"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
)

// A retried CreateCart (the first answer lost) succeeds; another cart cannot take the ID.
func TestCreateCartIsIdempotentForItsHolderOnly(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	c := &checkout.Cart{TxID: trace.NewTxID(), TokenHash: checkout.HashToken("tok"), ShopID: "demo", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := st.CreateCart(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateCart(ctx, c); err != nil {
		t.Errorf("the same cart created again = %v, want success", err)
	}
	other := *c
	other.TokenHash = checkout.HashToken("another")
	if err := st.CreateCart(ctx, &other); checkout.KindOf(err) != checkout.ECONFLICT {
		t.Errorf("another cart on the same ID = %v, want a conflict", err)
	}
	got, err := st.GetCart(ctx, c.TxID, c.TokenHash)
	if err != nil || got.TokenHash != c.TokenHash {
		t.Errorf("stored cart = %+v, %v; want the first holder's", got, err)
	}
}

// A record stored without a token hash opens to nobody, not even to a caller who
// brings no token: an empty hash never means "no check".
func TestEmptyStoredTokenHashOpensNothing(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	c := &checkout.Cart{TxID: trace.NewTxID(), ShopID: "demo", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := st.CreateCart(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		open func(tokenHash string) error
	}{
		{"GetCart", func(h string) error { _, err := st.GetCart(ctx, c.TxID, h); return err }},
		{"CartAndOrder", func(h string) error { _, _, err := st.CartAndOrder(ctx, c.TxID, h); return err }},
	} {
		for _, h := range []string{"", checkout.HashToken("")} {
			if err := tc.open(h); checkout.KindOf(err) != checkout.EFORBIDDEN {
				t.Errorf("%s(hash %q) on a cart with no stored hash = %v, want forbidden", tc.name, h, err)
			}
		}
	}
}

// Each cart command's own rule, checked by its UpdateItem's condition: a refusal has the
// kind the domain's rule gives it, and leaves the stored cart as it was.
func TestCartCommandsRefuseAndChangeNothing(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	full := &checkout.Cart{TxID: trace.NewTxID(), TokenHash: checkout.HashToken("tok"), ShopID: "demo", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
	for i := range checkout.MaxLines {
		full.Lines = append(full.Lines, checkout.Line{Code: fmt.Sprintf("C%02d", i), Quantity: 1})
	}
	if err := st.CreateCart(ctx, full); err != nil {
		t.Fatal(err)
	}
	roomy := &checkout.Cart{TxID: trace.NewTxID(), TokenHash: checkout.HashToken("tok"), ShopID: "demo", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour),
		Lines: []checkout.Line{{Code: "GO-101", Quantity: 1}}}
	if err := st.CreateCart(ctx, roomy); err != nil {
		t.Fatal(err)
	}
	w := func(c *checkout.Cart, token string) checkout.CartWrite {
		return checkout.CartWrite{TxID: c.TxID, TokenHash: checkout.HashToken(token), TTL: time.Hour}
	}
	locked := &checkout.Item{Code: "VIP-1", Password: "s3cret"}
	seat := []checkout.Assignment{{Code: "NOPE", Role: "student", Email: "a@example.com"}}
	tests := []struct {
		name    string
		cart    *checkout.Cart
		command func() error
		want    checkout.Kind
	}{
		{"a new line in a full cart", full, func() error {
			_, err := st.SetLine(ctx, w(full, "tok"), &checkout.Item{Code: "NEW"}, 1)
			return err
		}, checkout.EINVALID},
		{"a password-protected item never unlocked", roomy, func() error { _, err := st.SetLine(ctx, w(roomy, "tok"), locked, 1); return err }, checkout.EFORBIDDEN},
		{"another token", roomy, func() error {
			_, err := st.SetLine(ctx, w(roomy, "other"), &checkout.Item{Code: "GO-101"}, 2)
			return err
		}, checkout.EFORBIDDEN},
		{"no such cart", roomy, func() error {
			_, err := st.Reset(ctx, checkout.CartWrite{TxID: trace.NewTxID(), TokenHash: checkout.HashToken("tok"), TTL: time.Hour})
			return err
		}, checkout.ENOTFOUND},
		{"removing a line not in the cart", roomy, func() error { _, err := st.RemoveLine(ctx, w(roomy, "tok"), "NOPE"); return err }, checkout.ENOTFOUND},
		{"removing a code not in the cart", roomy, func() error { _, err := st.RemoveCode(ctx, w(roomy, "tok"), "NOPE"); return err }, checkout.ENOTFOUND},
		{"data for an item not in the cart", roomy, func() error {
			_, err := st.SetRequirements(ctx, w(roomy, "tok"), map[string][]map[string]string{"GO-101": {{"a": "b"}}, "NOPE": {{"a": "b"}}})
			return err
		}, checkout.EINVALID},
		{"seats on an item not in the cart", roomy, func() error { _, err := st.SetSeats(ctx, w(roomy, "tok"), nil, seat); return err }, checkout.EINVALID},
	}
	for _, tt := range tests {
		before, err := st.GetCart(ctx, tt.cart.TxID, tt.cart.TokenHash)
		if err != nil {
			t.Fatal(err)
		}
		if err := tt.command(); checkout.KindOf(err) != tt.want {
			t.Errorf("%s: %v, want kind %q", tt.name, err, tt.want)
		}
		after, err := st.GetCart(ctx, tt.cart.TxID, tt.cart.TokenHash)
		if err != nil {
			t.Fatal(err)
		}
		if after.Version != before.Version || !reflect.DeepEqual(after.Lines, before.Lines) || len(after.Required) != 0 || len(after.Seats) != 0 {
			t.Errorf("%s: the stored cart changed: %+v, was %+v", tt.name, after, before)
		}
	}
	// What the rules allow: a line of a full cart changes; an unlocked item goes in.
	if c, err := st.SetLine(ctx, w(full, "tok"), &checkout.Item{Code: "C07"}, 3); err != nil || len(c.Lines) != checkout.MaxLines {
		t.Errorf("changing a line of a full cart = %v, want it done with %d lines", err, checkout.MaxLines)
	}
	if _, err := st.Unlock(ctx, w(roomy, "tok"), locked.Code); err != nil {
		t.Fatal(err)
	}
	c, err := st.SetLine(ctx, w(roomy, "tok"), locked, 1)
	if err != nil {
		t.Fatalf("an unlocked item: %v", err)
	}
	if got := fmt.Sprint(c.Lines); got != "[{GO-101 1} {VIP-1 1}]" {
		t.Errorf("lines after adding an unlocked item = %s, want it after GO-101", got)
	}
}

// newStore returns a store on a fresh table of DynamoDB Local, dropped after the test.
func newStore(t *testing.T) *store.Store {
	t.Helper()
	db, table := dynamotest.NewTable(t)
	return store.New(db, table)
}
