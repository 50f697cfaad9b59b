package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
)

// placed writes an order in status, as placement does, paid by one cheque when the
// status is a paid one, and numbered when invoiced.
func placed(t *testing.T, st *store.Store, status checkout.Status, invoiced bool) string {
	t.Helper()
	ctx := context.Background()
	cart, now := newCart(t, st)
	txid := cart.TxID
	o := &checkout.Order{
		TxID: txid, ShopID: "demo", Status: status, Paymode: "check", Currency: "EUR", Totals: checkout.Totals{Final: 1200},
		Customer:  checkout.Customer{Email: strings.ToLower(txid) + "@example.com", LastName: "L", FirstName: "F", Country: "FR"},
		TokenHash: cart.TokenHash, PlacedAt: now, UpdatedAt: now,
	}
	if err := st.Place(ctx, o, 1, checkout.AnyAccount, trace.Line{At: now, TxID: txid, Source: "Order", Message: "placed"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.RecordPayment(ctx, txid, chequeOf(txid)); err != nil {
		t.Fatal(err)
	}
	if invoiced {
		if _, err := st.NextInvoiceNumber(ctx, "demo", txid, 2026); err != nil {
			t.Fatal(err)
		}
	}
	return txid
}

// newCart stores a new cart at version 1, to be placed.
func newCart(t *testing.T, st *store.Store) (*checkout.Cart, time.Time) {
	t.Helper()
	txid := trace.NewTxID()
	now := time.Now().UTC()
	cart := &checkout.Cart{TxID: txid, TokenHash: checkout.HashToken(txid), ShopID: "demo", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := st.CreateCart(context.Background(), cart); err != nil {
		t.Fatal(err)
	}
	return cart, now
}

func chequeOf(txid string) checkout.Payment {
	return checkout.Payment{Mode: "check", Outcome: "paid", Amount: 1200, Reference: "CHQ-" + txid, At: time.Now().UTC()}
}

func refundOf(txid string) store.Refund {
	return store.Refund{TxID: txid, ShopID: "demo", Year: 2026, Payment: checkout.Payment{
		Mode: "check", Outcome: "refunded", Amount: 1200, Reference: "BACK-" + txid, Refunds: checkout.PaymentKey(chequeOf(txid)), At: time.Now().UTC(),
	}}
}

// TestRefundOrder: a refund is recorded once, moves a paid order to CANCELLED, and
// gives a credit note only to an invoiced order; an order that is not paid is refused
// and left as it was; an order refunded before billing can no longer be numbered.
func TestRefundOrder(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)

	tests := []struct {
		name       string
		status     checkout.Status
		invoiced   bool
		wantErr    checkout.Kind
		wantCredit bool
	}{
		{"invoiced order: credit note", checkout.Complete, true, "", true},
		{"paid, not invoiced: no credit note", checkout.SoldOut, false, "", false},
		{"marked PAYBACK: refunded", checkout.Payback, false, "", false},
		{"pending order: refused, unchanged", checkout.Pending, false, checkout.ECONFLICT, false},
		{"cancelled order: refused, unchanged", checkout.Cancelled, false, checkout.ECONFLICT, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txid := placed(t, st, tt.status, tt.invoiced)
			before, err := st.GetOrder(ctx, txid, "")
			if err != nil {
				t.Fatal(err)
			}
			o, first, err := st.RefundOrder(ctx, refundOf(txid))
			if tt.wantErr != "" {
				if checkout.KindOf(err) != tt.wantErr {
					t.Fatalf("RefundOrder = %v, want %s", err, tt.wantErr)
				}
				after, _ := st.GetOrder(ctx, txid, "")
				if after.Status != before.Status || len(after.Payments) != len(before.Payments) || after.CreditNoteNumber != "" {
					t.Fatalf("refused refund changed the order: %+v", after)
				}
				return
			}
			if err != nil || !first {
				t.Fatalf("RefundOrder = %v, %v", first, err)
			}
			if o.Status != checkout.Cancelled || o.Payments[len(o.Payments)-1].Outcome != "refunded" {
				t.Fatalf("after the refund: %s %+v, want CANCELLED with the refund", o.Status, o.Payments)
			}
			if (o.CreditNoteNumber != "") != tt.wantCredit || (tt.wantCredit && !strings.HasPrefix(o.CreditNoteNumber, "CN-2026-")) {
				t.Fatalf("credit note %q, want one: %v", o.CreditNoteNumber, tt.wantCredit)
			}
			again, first, err := st.RefundOrder(ctx, refundOf(txid))
			if err != nil || first || again.CreditNoteNumber != o.CreditNoteNumber || len(again.Payments) != len(o.Payments) {
				t.Fatalf("refund again = %v %v %q %d payments; want nothing new", first, err, again.CreditNoteNumber, len(again.Payments))
			}
			if !tt.invoiced {
				if num, err := st.NextInvoiceNumber(ctx, "demo", txid, 2026); checkout.KindOf(err) != checkout.ECONFLICT || num != "" {
					t.Fatalf("numbering a refunded order = %q %v, want a conflict and no number", num, err)
				}
			}
		})
	}
}

// TestCreditNoteNumbersAreGapFree: refunds racing each other take consecutive numbers
// of the year's sequence, each once, none skipped; a retry takes none.
func TestCreditNoteNumbersAreGapFree(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	const n = 6
	var txids []string
	for range n {
		txids = append(txids, placed(t, st, checkout.Complete, true))
	}
	numbers := make([]string, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i, txid := range txids {
		for range 2 { // each refund twice at once: a double submit
			wg.Add(1)
			go func() {
				defer wg.Done()
				o, _, err := st.RefundOrder(ctx, refundOf(txid))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if numbers[i] != "" && numbers[i] != o.CreditNoteNumber {
					errs <- fmt.Errorf("%s answered %q and %q", txid, numbers[i], o.CreditNoteNumber)
				}
				numbers[i] = o.CreditNoteNumber
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := slices.Clone(numbers)
	slices.Sort(got)
	var want []string
	for i := 1; i <= n; i++ {
		want = append(want, fmt.Sprintf("CN-2026-%06d", i))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("credit notes %v, want %v", got, want)
	}
	for i, txid := range txids {
		o, err := st.GetOrder(ctx, txid, "")
		if err != nil {
			t.Fatal(err)
		}
		if o.CreditNoteNumber != numbers[i] {
			t.Errorf("%s holds %q, was answered %q", txid, o.CreditNoteNumber, numbers[i])
		}
	}
}
