package store_test

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/store"
)

// paidOrder is an invoiced order of two lines, final 300 + 150.
func paidOrder(txid, email, partner string) *checkout.Order {
	return &checkout.Order{
		TxID: txid, ShopID: "demo", Status: checkout.Complete, Partner: partner,
		Customer: checkout.Customer{Email: email},
		Lines: []checkout.OrderLine{
			{ID: "L01", PricedLine: checkout.PricedLine{Code: "GO-101", Quantity: 1}, Taxed: 300},
			{ID: "L02", PricedLine: checkout.PricedLine{Code: "CERT-GO", Quantity: 1}, Taxed: 150},
		},
		Totals: checkout.Totals{Final: 450},
	}
}

func TestCountPaidOrderFeedsTheDiscountFigures(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)

	type want struct {
		counted  bool
		adaPaid  int
		acme     checkout.PartnerStats
		otherBuy int
	}
	steps := []struct {
		name  string
		order *checkout.Order
		want  want
	}{
		{"first order, through partner ACME (any case)", paidOrder("TX1", "Ada@Example.com", " ACME "), want{
			counted: true, adaPaid: 1,
			acme: checkout.PartnerStats{Stats: checkout.Stats{Orders: 1, Revenue: 450},
				ByProduct: map[string]checkout.Stats{"GO-101": {Orders: 1, Revenue: 300}, "CERT-GO": {Orders: 1, Revenue: 150}}},
		}},
		{"the same order again (retried task) adds nothing", paidOrder("TX1", "ada@example.com", "acme"), want{
			counted: false, adaPaid: 1,
			acme: checkout.PartnerStats{Stats: checkout.Stats{Orders: 1, Revenue: 450},
				ByProduct: map[string]checkout.Stats{"GO-101": {Orders: 1, Revenue: 300}, "CERT-GO": {Orders: 1, Revenue: 150}}},
		}},
		{"a second order without partner counts for the buyer only", paidOrder("TX2", "ada@example.com", ""), want{
			counted: true, adaPaid: 2,
			acme: checkout.PartnerStats{Stats: checkout.Stats{Orders: 1, Revenue: 450},
				ByProduct: map[string]checkout.Stats{"GO-101": {Orders: 1, Revenue: 300}, "CERT-GO": {Orders: 1, Revenue: 150}}},
		}},
		{"another buyer's order through acme, one line of a code twice", &checkout.Order{
			TxID: "TX3", Partner: "acme", Customer: checkout.Customer{Email: "bob@example.com"},
			Lines:  []checkout.OrderLine{{ID: "L01", PricedLine: checkout.PricedLine{Code: "GO-101"}, Taxed: 100}, {ID: "L02", PricedLine: checkout.PricedLine{Code: "GO-101"}, Taxed: 20}},
			Totals: checkout.Totals{Final: 120},
		}, want{
			counted: true, adaPaid: 2, otherBuy: 1,
			acme: checkout.PartnerStats{Stats: checkout.Stats{Orders: 2, Revenue: 570},
				ByProduct: map[string]checkout.Stats{"GO-101": {Orders: 2, Revenue: 420}, "CERT-GO": {Orders: 1, Revenue: 150}}},
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			counted, err := st.CountPaidOrder(ctx, s.order)
			if err != nil {
				t.Fatal(err)
			}
			if counted != s.want.counted {
				t.Errorf("counted = %v, want %v", counted, s.want.counted)
			}
			if n, err := st.PaidOrders(ctx, " ADA@example.com"); err != nil || n != s.want.adaPaid {
				t.Errorf("PaidOrders(ada) = %d, %v; want %d", n, err, s.want.adaPaid)
			}
			if n, err := st.PaidOrders(ctx, "bob@example.com"); err != nil || n != s.want.otherBuy {
				t.Errorf("PaidOrders(bob) = %d, %v; want %d", n, err, s.want.otherBuy)
			}
			ps, err := st.PartnerStats(ctx, "Acme")
			if err != nil || !reflect.DeepEqual(ps, s.want.acme) {
				t.Errorf("PartnerStats(Acme) = %+v, %v; want %+v", ps, err, s.want.acme)
			}
		})
	}

	if ps, err := st.PartnerStats(ctx, "nobody"); err != nil || !reflect.DeepEqual(ps, checkout.PartnerStats{}) {
		t.Errorf("PartnerStats of an unknown partner = %+v, %v; want zero figures", ps, err)
	}
	if n, err := st.PaidOrders(ctx, "new@example.com"); err != nil || n != 0 {
		t.Errorf("PaidOrders of a buyer without account = %d, %v; want 0", n, err)
	}
}

func TestCountPaidOrderCountsOnceUnderRaces(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	o := paidOrder("TXRACE", "race@example.com", "acme")
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counted, err := st.CountPaidOrder(ctx, o)
			// Racing transactions may be cancelled for a conflict: the task is then
			// retried, which the marker makes harmless.
			if err != nil && !strings.Contains(err.Error(), "TransactionConflict") {
				t.Errorf("CountPaidOrder: %v", err)
			}
			if counted {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins > 1 {
		t.Errorf("%d racing calls counted the order, want at most 1", wins)
	}
	if counted, err := st.CountPaidOrder(ctx, o); err != nil || (counted && wins > 0) {
		t.Fatalf("count after the race = %v, %v (wins %d)", counted, err, wins)
	}
	if n, _ := st.PaidOrders(ctx, o.Customer.Email); n != 1 {
		t.Errorf("paid orders after racing counts = %d, want 1", n)
	}
	if ps, _ := st.PartnerStats(ctx, "acme"); ps.Orders != 1 || ps.Revenue != 450 {
		t.Errorf("partner figures after racing counts = %+v, want 1 order, 450", ps.Stats)
	}
}

func TestStatsRefuseBadInput(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	long := strings.Repeat("p", store.MaxPartnerKey+1)
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"paid orders without e-mail", func() error { _, err := st.PaidOrders(ctx, "  "); return err }, "e-mail address is required"},
		{"partner figures without key", func() error { _, err := st.PartnerStats(ctx, ""); return err }, "partner key is required"},
		{"partner figures with a too long key", func() error { _, err := st.PartnerStats(ctx, long); return err }, "at most"},
		{"no order", func() error { _, err := st.CountPaidOrder(ctx, nil); return err }, "is required"},
		{"order without customer", func() error { _, err := st.CountPaidOrder(ctx, paidOrder("TXBAD", "", "")); return err }, "is required"},
		{"order with a too long partner", func() error { _, err := st.CountPaidOrder(ctx, paidOrder("TXBAD", "a@example.com", long)); return err }, "at most"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if checkout.KindOf(err) != checkout.EINVALID || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want EINVALID mentioning %q", err, c.want)
			}
		})
	}
	// The refused order counted nothing, not even the part before the bad partner.
	if n, _ := st.PaidOrders(ctx, "a@example.com"); n != 0 {
		t.Errorf("paid orders after a refused count = %d, want 0", n)
	}
}

// The cart keeps the snapshots the discount rules read: the partner's figures from its
// creation, the buyer's paid orders from the CUSTOMER step; a reset forgets both.
func TestCartKeepsTheDiscountSnapshots(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	ps := &checkout.PartnerStats{Stats: checkout.Stats{Orders: 3, Revenue: 9000}, ByProduct: map[string]checkout.Stats{"GO-101": {Orders: 2, Revenue: 6000}}}
	c := &checkout.Cart{TxID: "TXSNAP", TokenHash: "h", ShopID: "demo", Partner: "acme", PartnerStats: ps,
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := st.CreateCart(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetCart(ctx, "TXSNAP", "h")
	if err != nil || !reflect.DeepEqual(got.PartnerStats, ps) || got.PaidOrders != 0 {
		t.Fatalf("created cart snapshots = %+v, %d, %v; want %+v, 0", got.PartnerStats, got.PaidOrders, err, ps)
	}
	cu := &checkout.Customer{Email: "ada@example.com", LastName: "L", FirstName: "A", City: "Paris", Country: "FR"}
	got, err = st.SetCustomer(ctx, checkout.CartWrite{TxID: "TXSNAP", TokenHash: "h", TTL: time.Hour}, cu, 4)
	if err != nil || got.PaidOrders != 4 || got.Customer == nil || got.Customer.Email != cu.Email || !reflect.DeepEqual(got.PartnerStats, ps) {
		t.Fatalf("after SetCustomer: paid %d, customer %+v, partner %+v, %v; want 4, %s, unchanged", got.PaidOrders, got.Customer, got.PartnerStats, err, cu.Email)
	}
	got, err = st.Reset(ctx, checkout.CartWrite{TxID: "TXSNAP", TokenHash: "h", TTL: time.Hour})
	if err != nil || got.PaidOrders != 0 || got.PartnerStats != nil || got.Partner != "" {
		t.Errorf("after Reset: paid %d, partner %q %+v, %v; want none", got.PaidOrders, got.Partner, got.PartnerStats, err)
	}
}
