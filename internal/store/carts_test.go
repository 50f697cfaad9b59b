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
	db, table := dynamotest.NewTable(t)
	st := store.New(db, table)
	ctx := context.Background()
	now := time.Now().UTC()
	c := &checkout.Cart{TxID: trace.NewTxID(), TokenHash: store.HashToken("tok"), ShopID: "demo", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := st.CreateCart(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateCart(ctx, c); err != nil {
		t.Errorf("the same cart created again = %v, want success", err)
	}
	other := *c
	other.TokenHash = store.HashToken("another")
	if err := st.CreateCart(ctx, &other); checkout.KindOf(err) != checkout.ECONFLICT {
		t.Errorf("another cart on the same ID = %v, want a conflict", err)
	}
	got, err := st.GetCart(ctx, c.TxID, c.TokenHash)
	if err != nil || got.TokenHash != c.TokenHash {
		t.Errorf("stored cart = %+v, %v; want the first holder's", got, err)
	}
}
