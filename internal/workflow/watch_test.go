package workflow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/localcloud/dynamotest"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
	"github.com/lmsshop/checkout/internal/workflow"
)

// emfLine is the Embedded Metric Format line the watch writes.
type emfLine struct {
	AWS struct {
		Timestamp         int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string              `json:"Namespace"`
			Dimensions [][]string          `json:"Dimensions"`
			Metrics    []map[string]string `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
	ShopID   string         `json:"ShopId"`
	Waiting  *int           `json:"OrdersWaitingForOperator"`
	ByStatus map[string]int `json:"waitingByStatus"`
	Oldest   []string       `json:"oldestWaiting"`
}

// Orders in every status, each unchanged for some time, are counted as waiting for an
// operator exactly when they have stayed past what the workflow allows their status
// plus the threshold; the count goes out as one EMF line CloudWatch turns into the
// metric.
func TestWatchCountsOrdersWaitingForAnOperator(t *testing.T) {
	ctx := context.Background()
	db, table := dynamotest.NewTable(t)
	st := store.New(db, table)
	shop := testShop()
	shop.OnlinePaymentWait = checkout.Duration{Duration: time.Hour}
	shop.RetryWait = checkout.Duration{Duration: 48 * time.Hour}
	shop.OfflinePaymentWait = checkout.Duration{Duration: 14 * 24 * time.Hour}
	if err := st.SaveShop(ctx, shop, []*checkout.Catalog{testCatalog()}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 12, 12, 0, 0, 0, time.UTC)
	const threshold = time.Hour
	cases := []struct {
		name    string
		status  checkout.Status
		paymode string
		placed  time.Duration // ago
		updated time.Duration // ago
		waiting bool
	}{
		{"placed, workflow stopped", checkout.Placed, "stripe", 2 * time.Hour, 2 * time.Hour, true},
		{"placed, just now", checkout.Placed, "check", 30 * time.Minute, 30 * time.Minute, false},
		{"cheque in the post", checkout.Pending, "check", 2 * time.Hour, 2 * time.Hour, false},
		{"cheque, past its wait plus the threshold", checkout.Pending, "check", 15 * 24 * time.Hour, 15 * 24 * time.Hour, true},
		{"transfer, within its wait", checkout.Pending, "transfer", 13 * 24 * time.Hour, 13 * 24 * time.Hour, false},
		{"transfer chosen on a retry, long after placement", checkout.Pending, "transfer", 5 * time.Hour, 10 * time.Minute, false},
		{"online, within its wait plus the threshold", checkout.Pending, "stripe", 90 * time.Minute, 90 * time.Minute, false},
		{"online, past its wait plus the threshold", checkout.Pending, "stripe", 3 * time.Hour, 3 * time.Hour, true},
		{"test mode, past its wait plus the threshold", checkout.Pending, "test", 3 * time.Hour, 3 * time.Hour, true},
		{"paid, not delivered", checkout.SoldOut, "stripe", 2 * time.Hour, 2 * time.Hour, true},
		{"paid, being delivered", checkout.SoldOut, "stripe", 2 * time.Hour, 10 * time.Minute, false},
		{"produced before payment", checkout.PreProd, "transfer", 2 * time.Hour, 2 * time.Hour, true},
		{"partly delivered", checkout.Partial, "stripe", 2 * time.Hour, 2 * time.Hour, true},
		{"refund due", checkout.Payback, "stripe", 2 * time.Hour, 2 * time.Hour, true},
		{"failed, buyer may retry", checkout.Failed, "stripe", 2 * time.Hour, 2 * time.Hour, false},
		{"failed, past the retry wait", checkout.Failed, "stripe", 50 * time.Hour, 50 * time.Hour, true},
		{"refused, past the retry wait", checkout.Refused, "paypal", 50 * time.Hour, 50 * time.Hour, true},
		{"an operator's draft", checkout.Working, "check", 5 * time.Hour, 5 * time.Hour, false},
		{"complete", checkout.Complete, "stripe", 5 * time.Hour, 5 * time.Hour, false},
		{"cancelled", checkout.Cancelled, "check", 5 * time.Hour, 5 * time.Hour, false},
	}
	wantBy := map[string]int{}
	var wantTx []string
	for _, c := range cases {
		txid := seedOrder(t, st, c.status, c.paymode, now.Add(-c.placed), now.Add(-c.updated))
		if c.waiting {
			wantBy[string(c.status)]++
			wantTx = append(wantTx, txid)
		}
		t.Logf("%s: %s %s", txid, c.status, c.name)
	}

	var out bytes.Buffer
	w := &workflow.Watch{Store: st, ShopID: shop.ID, Threshold: threshold, Now: func() time.Time { return now }, Out: &out}
	rep, err := w.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Waiting != len(wantTx) {
		t.Errorf("waiting = %d, want %d", rep.Waiting, len(wantTx))
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("the watch wrote %d lines, want one EMF line:\n%s", len(lines), out.String())
	}
	var line emfLine
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, lines[0])
	}
	if len(line.AWS.CloudWatchMetrics) != 1 {
		t.Fatalf("CloudWatchMetrics = %+v, want one directive", line.AWS.CloudWatchMetrics)
	}
	d := line.AWS.CloudWatchMetrics[0]
	if d.Namespace != "LmsCheckout" || !reflect.DeepEqual(d.Dimensions, [][]string{{"ShopId"}}) ||
		!reflect.DeepEqual(d.Metrics, []map[string]string{{"Name": "OrdersWaitingForOperator", "Unit": "Count"}}) {
		t.Errorf("metric directive = %+v, want LmsCheckout / OrdersWaitingForOperator (Count) by ShopId", d)
	}
	if line.AWS.Timestamp != now.UnixMilli() || line.ShopID != shop.ID {
		t.Errorf("timestamp, ShopId = %d %q, want %d %q", line.AWS.Timestamp, line.ShopID, now.UnixMilli(), shop.ID)
	}
	if line.Waiting == nil {
		t.Errorf("no OrdersWaitingForOperator member in %s", lines[0])
	} else if *line.Waiting != len(wantTx) {
		t.Errorf("OrdersWaitingForOperator = %d, want %d", *line.Waiting, len(wantTx))
	}
	if !reflect.DeepEqual(line.ByStatus, wantBy) {
		t.Errorf("waitingByStatus = %v, want %v", line.ByStatus, wantBy)
	}
	got := append([]string(nil), line.Oldest...)
	sort.Strings(got)
	sort.Strings(wantTx)
	if !reflect.DeepEqual(got, wantTx) {
		t.Errorf("oldestWaiting = %v, want %v", got, wantTx)
	}
}

// With nothing waiting the metric is still published, as 0, so the alarm sees data and
// returns to OK.
func TestWatchPublishesZero(t *testing.T) {
	ctx := context.Background()
	db, table := dynamotest.NewTable(t)
	st := store.New(db, table)
	if err := st.SaveShop(ctx, testShop(), []*checkout.Catalog{testCatalog()}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := &workflow.Watch{Store: st, ShopID: testShop().ID, Threshold: time.Hour, Out: &out}
	if _, err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	var line emfLine
	if err := json.Unmarshal(out.Bytes(), &line); err != nil || line.Waiting == nil || *line.Waiting != 0 {
		t.Errorf("line = %s (%v), want OrdersWaitingForOperator 0", out.String(), err)
	}
}

// A run that cannot count (no shop, no threshold) fails the invocation and publishes
// nothing: a wrong 0 would hide waiting orders.
func TestWatchFailsRatherThanPublishAWrongCount(t *testing.T) {
	ctx := context.Background()
	db, table := dynamotest.NewTable(t)
	st := store.New(db, table)
	for _, tc := range []struct {
		name      string
		shopID    string
		threshold time.Duration
	}{
		{"no such shop", "nowhere", time.Hour},
		{"no threshold", "demo", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := &workflow.Watch{Store: st, ShopID: tc.shopID, Threshold: tc.threshold, Out: &out}
			if _, err := w.Handler().Invoke(ctx, []byte(`{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}`)); err == nil {
				t.Error("the run succeeded")
			}
			if out.Len() != 0 {
				t.Errorf("published %s", out.String())
			}
		})
	}
}

// seedOrder writes an order in a status, as placement writes orders, with the given
// placement and last-change times.
func seedOrder(t *testing.T, st *store.Store, status checkout.Status, paymode string, placed, updated time.Time) string {
	t.Helper()
	ctx := context.Background()
	txid := trace.NewTxID()
	cart := &checkout.Cart{TxID: txid, TokenHash: checkout.HashToken(txid), ShopID: "demo", CreatedAt: placed, UpdatedAt: placed, ExpiresAt: time.Now().Add(time.Hour)}
	if err := st.CreateCart(ctx, cart); err != nil {
		t.Fatal(err)
	}
	o := &checkout.Order{
		TxID: txid, ShopID: "demo", Status: status, Paymode: paymode, Currency: "EUR",
		Customer:  checkout.Customer{Email: strings.ToLower(txid) + "@example.com", LastName: "L", FirstName: "F", Country: "FR"},
		TokenHash: cart.TokenHash, PlacedAt: placed, UpdatedAt: updated, APIURL: "https://api.example",
	}
	if err := st.Place(ctx, o, 1, checkout.AnyAccount, trace.Line{At: placed, TxID: txid, Source: "Order", Message: "placed"}); err != nil {
		t.Fatal(err)
	}
	return txid
}
