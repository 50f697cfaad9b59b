package store_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/localcloud/dynamotest"
	"github.com/lmsshop/checkout/internal/localcloud/faultproxy"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
)

// TestCartTraceRidesOnItsCommands: a cart command's trace line is stored with the
// command and only with it (a refused command or another token stores none); past
// store.MaxItemTrace lines the cart stops growing and the lines go to items of their
// own; placement moves the cart's lines onto the order, and the whole trace reads back
// in order, each line once, also when DynamoDB's answers are lost after it did the work
// and the SDK sends the requests again.
func TestCartTraceRidesOnItsCommands(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store func(t *testing.T) *store.Store
	}{
		{"every answer arrives", newStore},
		{"a fifth of the answers lost", func(t *testing.T) *store.Store {
			// Ten attempts: three lost answers in a row are likely over the test's
			// couple of hundred calls, and what is checked is the trace, not the SDK giving up.
			st := newLostAnswerStore(t, 10)
			if err := st.proxy.SetFaults(faultproxy.Faults{ResetAfter: 0.2}); err != nil {
				t.Fatal(err)
			}
			return st.Store
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { cartTraceRidesOnItsCommands(t, tc.store(t)) })
	}
}

func cartTraceRidesOnItsCommands(t *testing.T, st *store.Store) {
	ctx := context.Background()
	now := time.Now().UTC()
	txid := trace.NewTxID()
	line := func(i int, msg string) trace.Line {
		return trace.Line{At: now.Add(time.Duration(i) * time.Millisecond), TxID: txid, Source: "Shop", Message: msg}
	}
	c := &checkout.Cart{TxID: txid, TokenHash: checkout.HashToken("tok"), ShopID: "demo", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := st.CreateCart(ctx, c, line(0, "created")); err != nil {
		t.Fatal(err)
	}
	write := func(token string, note trace.Line) checkout.CartWrite {
		return checkout.CartWrite{TxID: txid, TokenHash: checkout.HashToken(token), TTL: time.Hour, Note: note}
	}
	addCode := func(i int) func(w checkout.CartWrite) error {
		return func(w checkout.CartWrite) error { _, err := st.AddCode(ctx, w, fmt.Sprintf("C%03d", i)); return err }
	}
	tests := []struct {
		name     string
		token    string
		note     trace.Line
		command  func(w checkout.CartWrite) error
		wantErr  bool
		wantLine bool
	}{
		{"the holder's command stores its line", "tok", line(1, "code 001"), addCode(1), false, true},
		{"another token's command stores nothing", "other", line(2, "code 002"), addCode(2), true, false},
		{"a refused command stores no line", "tok", line(3, "removed NOPE"), func(w checkout.CartWrite) error {
			_, err := st.RemoveCode(ctx, w, "NOPE")
			return err
		}, true, false},
	}
	for _, tt := range tests {
		err := tt.command(write(tt.token, tt.note))
		if (err != nil) != tt.wantErr {
			t.Fatalf("%s: err = %v, want error %v", tt.name, err, tt.wantErr)
		}
		lines, err := st.ListTrace(ctx, txid)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, l := range lines {
			found = found || l.Message == tt.note.Message
		}
		if found != tt.wantLine {
			t.Errorf("%s: line %q stored = %v, want %v", tt.name, tt.note.Message, found, tt.wantLine)
		}
	}
	// Up to the cap and beyond: every command still succeeds and is traced.
	for i := 4; i < store.MaxItemTrace+10; i++ {
		if _, err := st.AddCode(ctx, write("tok", line(i, fmt.Sprintf("command %03d", i))), fmt.Sprintf("K%03d", i%40)); err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
	}
	got, err := st.GetCart(ctx, txid, checkout.HashToken("tok"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Trace) > store.MaxItemTrace {
		t.Errorf("the cart carries %d lines, want at most %d", len(got.Trace), store.MaxItemTrace)
	}
	o := &checkout.Order{TxID: txid, ShopID: "demo", Status: checkout.Placed, Currency: "EUR", TokenHash: checkout.HashToken("tok"),
		Customer: checkout.Customer{Email: "a@example.com"}, PlacedAt: now, UpdatedAt: now}
	if err := st.Place(ctx, o, got.Version, checkout.AnyAccount, line(1000, "placed"), got.Trace...); err != nil {
		t.Fatal(err)
	}
	lines, err := st.ListTrace(ctx, txid)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, l := range lines {
		msgs = append(msgs, l.Message)
	}
	want := []string{"created", "code 001"}
	for i := 4; i < store.MaxItemTrace+10; i++ {
		want = append(want, fmt.Sprintf("command %03d", i))
	}
	want = append(want, "placed")
	if strings.Join(msgs, "|") != strings.Join(want, "|") {
		// Said line by line: a line stored twice shifts the lists, and read side by side
		// they show the next line as missing.
		times := map[string]int{}
		for _, m := range msgs {
			times[m]++
		}
		var wrong []string
		for _, m := range want {
			if times[m] != 1 {
				wrong = append(wrong, fmt.Sprintf("%q %d times", m, times[m]))
			}
		}
		t.Errorf("trace after placement =\n%v\nwant\n%v\nlines not stored once: %v", msgs, want, wrong)
	}
	after, _, err := st.CartAndOrder(ctx, txid, checkout.HashToken("tok"))
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Trace) != 0 {
		t.Errorf("the placed cart still carries %d lines: they must have moved to the order", len(after.Trace))
	}
}

// TestTraceLineForms: a line is stored as a list [nanoseconds, source, message], the
// compact form that the items carrying lines are rewritten with, and reads back to the
// nanosecond; a line in the older map form {at, src, msg} still reads, merged by time.
func TestTraceLineForms(t *testing.T) {
	db, table := dynamotest.NewTable(t)
	st := store.New(db, table)
	ctx := context.Background()
	txid := trace.NewTxID()
	at := time.Date(2026, 12, 3, 13, 20, 30, 123456789, time.UTC)
	if err := st.AppendTraces(ctx, []trace.Line{{At: at, TxID: txid, Source: "Payment", Message: "paid"}}); err != nil {
		t.Fatal(err)
	}
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	old := map[string]types.AttributeValue{
		"pk": s("TX#" + txid), "sk": s("FEEDBACK#prepay"),
		"trace": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"at": s(at.Add(-time.Second).Format(time.RFC3339Nano)), "src": s("Production Controller"), "msg": s("an older line"),
		}}}},
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: old}); err != nil {
		t.Fatal(err)
	}
	out, err := db.Query(ctx, &dynamodb.QueryInput{
		TableName: &table, KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :t)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("TX#" + txid), ":t": s("TRACE#")},
	})
	if err != nil || len(out.Items) != 1 {
		t.Fatalf("trace items = %d, %v; want 1", len(out.Items), err)
	}
	want := &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberL{Value: []types.AttributeValue{
		&types.AttributeValueMemberN{Value: "1796304030123456789"}, s("Payment"), s("paid"),
	}}}}
	if got := out.Items[0]["trace"]; !reflect.DeepEqual(got, want) {
		t.Errorf("stored trace = %#v, want the list form %#v", got, want)
	}
	lines, err := st.ListTrace(ctx, txid)
	if err != nil {
		t.Fatal(err)
	}
	wantLines := []trace.Line{
		{At: at.Add(-time.Second), TxID: txid, Source: "Production Controller", Message: "an older line"},
		{At: at, TxID: txid, Source: "Payment", Message: "paid"},
	}
	if !reflect.DeepEqual(lines, wantLines) {
		t.Errorf("ListTrace = %+v, want %+v", lines, wantLines)
	}
}
