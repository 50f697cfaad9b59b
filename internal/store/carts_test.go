package store_test

import (
	"context"
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

// newStore returns a store on a fresh table of DynamoDB Local, dropped after the test.
func newStore(t *testing.T) *store.Store {
	t.Helper()
	db, table := dynamotest.NewTable(t)
	return store.New(db, table)
}
