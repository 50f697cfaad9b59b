package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/production/prodtest"
	"github.com/lmsshop/checkout/internal/store"
)

var t0 = prodtest.Now

func sampleInstance(k production.Key) production.Instance {
	return production.Instance{
		ID: k.InstanceID(), Reference: k.Reference(), ItemCode: "GO-101-30D", Handler: "enrol",
		Customer: "Ada@Example.org", TxID: k.TxID, LineID: k.LineID, Unit: k.Unit, Context: "GO-101",
		Status: production.StatusActive, Start: t0, End: t0.AddDate(0, 0, 30),
		Data: map[string]string{"role": "student"}, Events: []production.Event{{Type: production.EventDelivered, At: t0}},
	}
}

func rawItem(t *testing.T, st *store.Store, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := st.DB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: &st.Table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func TestCommitWritesDocumentedKeys(t *testing.T) {
	st := prodtest.NewStore(t)
	ctx := context.Background()
	k := production.Key{TxID: "TU80WKRYTI9QUMJ4", LineID: "1", Unit: 0, Phase: production.PhasePostpay}
	in := sampleInstance(k)
	if err := st.Commit(ctx, production.Commit{Key: k, Instance: in, Balances: map[string]int64{"credits": 5}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, pk, sk string }{
		{"marker", "TX#TU80WKRYTI9QUMJ4", "PRODUCED#1#0#postpay"},
		{"instance by customer, lowercased", "CUST#ada@example.org", "PRODUCT#" + in.Reference},
		{"event", "PRODUCT#" + in.Reference, fmt.Sprintf("EVENT#%013d#delivered", t0.UnixMilli())},
		{"account", "CUST#ada@example.org", "ACCOUNT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if rawItem(t, st, tc.pk, tc.sk) == nil {
				t.Fatalf("no item at %s / %s", tc.pk, tc.sk)
			}
		})
	}
	item := rawItem(t, st, "CUST#ada@example.org", "PRODUCT#"+in.Reference)
	if g, ok := item["gsi1pk"].(*types.AttributeValueMemberS); !ok || g.Value != "PRODUCT#"+in.Reference {
		t.Errorf("instance gsi1pk = %v, want PRODUCT#%s", item["gsi1pk"], in.Reference)
	}
	got, found, err := st.Produced(ctx, k)
	if err != nil || !found {
		t.Fatalf("Produced = %v, %v", found, err)
	}
	if got.Reference != in.Reference || !got.End.Equal(in.End) || got.Data["role"] != "student" || len(got.Events) != 1 || got.Customer != "ada@example.org" {
		t.Errorf("Produced = %+v, want %+v", got, in)
	}
}

func TestCommitOnceUnderConcurrency(t *testing.T) {
	st := prodtest.NewStore(t)
	ctx := context.Background()
	k := production.Key{TxID: "TX2", LineID: "7", Unit: 1, Phase: production.PhasePostpay}
	var wg sync.WaitGroup
	results := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- st.Commit(ctx, production.Commit{Key: k, Instance: sampleInstance(k), Balances: map[string]int64{"credits": 10}})
		}()
	}
	wg.Wait()
	close(results)
	won := 0
	for err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, production.ErrAlreadyProduced) || checkout.KindOf(err) != checkout.ECONFLICT:
			t.Errorf("unexpected error: %v (kind %s), want ECONFLICT wrapping production.ErrAlreadyProduced", err, checkout.KindOf(err))
		}
	}
	if won != 1 {
		t.Fatalf("%d commits won, want exactly 1", won)
	}
	if got, err := st.Balance(ctx, "ada@example.org", "credits"); err != nil || got != 10 {
		t.Fatalf("credits = %d, %v; want 10", got, err)
	}
}

func TestCommitRejectsBadInstance(t *testing.T) {
	st := prodtest.NewStore(t)
	k := production.Key{TxID: "TX3", LineID: "1", Phase: production.PhasePostpay}
	tests := []struct {
		name    string
		mutate  func(*production.Instance)
		wantErr string
	}{
		// "00" is never a check pair: pairs run from 02 to 98.
		{"broken check pair", func(in *production.Instance) { in.Reference = in.Reference[:17] + "00" }, "check pair"},
		{"no customer", func(in *production.Instance) { in.Customer = "" }, "needs a reference and a customer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := sampleInstance(k)
			tc.mutate(&in)
			err := st.Commit(context.Background(), production.Commit{Key: k, Instance: in})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || checkout.KindOf(err) != checkout.EINVALID {
				t.Fatalf("err = %v (kind %s), want EINVALID mentioning %q", err, checkout.KindOf(err), tc.wantErr)
			}
		})
	}
}

// Claim pins the first writer's decisions and, once the unit is committed, answers
// its instance instead: a retried unit learns both in one write.
func TestClaimPinsThenFindsTheCommit(t *testing.T) {
	st := prodtest.NewStore(t)
	ctx := context.Background()
	k := production.Key{TxID: "TX4", LineID: "1", Phase: production.PhasePostpay}
	steps := []struct {
		name      string
		key       production.Key
		decisions map[string]string
		commit    bool // commit the unit before this claim
		want      string
		produced  bool
	}{
		{"first writer", k, map[string]string{"until": "2026-05-01T00:00:00Z"}, false, "2026-05-01T00:00:00Z", false},
		{"second writer gets the first decisions", k, map[string]string{"until": "2026-06-01T00:00:00Z"}, false, "2026-05-01T00:00:00Z", false},
		{"another unit", production.Key{TxID: "TX4", LineID: "1", Unit: 1, Phase: production.PhasePostpay}, map[string]string{"until": "x"}, false, "x", false},
		{"after the commit", k, map[string]string{"until": "2026-07-01T00:00:00Z"}, true, "", true},
	}
	for _, tc := range steps {
		if tc.commit {
			if err := st.Commit(ctx, production.Commit{Key: tc.key, Instance: sampleInstance(tc.key)}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.Claim(ctx, tc.key, tc.decisions)
		if err != nil {
			t.Fatalf("%s: Claim: %v", tc.name, err)
		}
		if got.Produced != tc.produced || got.Decisions["until"] != tc.want {
			t.Errorf("%s: Claim = %+v, want produced %v and until %q", tc.name, got, tc.produced, tc.want)
		}
		if tc.produced && got.Instance.Reference != tc.key.Reference() {
			t.Errorf("%s: instance %q, want %q", tc.name, got.Instance.Reference, tc.key.Reference())
		}
	}
	// A committed marker keeps what Produced reads; one with decisions only is not produced.
	if _, found, err := st.Produced(ctx, production.Key{TxID: "TX4", LineID: "1", Unit: 1, Phase: production.PhasePostpay}); err != nil || found {
		t.Errorf("Produced(pinned, not committed) = %v, %v; want not found", found, err)
	}
	if _, found, err := st.Produced(ctx, k); err != nil || !found {
		t.Errorf("Produced(committed) = %v, %v; want found", found, err)
	}
}

func TestProducedAbsentAndBalanceDefault(t *testing.T) {
	st := prodtest.NewStore(t)
	ctx := context.Background()
	if _, found, err := st.Produced(ctx, production.Key{TxID: "NONE", LineID: "1", Phase: production.PhasePostpay}); err != nil || found {
		t.Fatalf("Produced(absent) = %v, %v", found, err)
	}
	if got, err := st.Balance(ctx, "nobody@example.org", "credits"); err != nil || got != 0 {
		t.Fatalf("Balance(absent) = %d, %v", got, err)
	}
}

// A missing instance is an error of kind ENOTFOUND, like every store error, and still
// production.ErrNotFound for the handlers that ask through the port.
func TestMissingInstanceIsNotFound(t *testing.T) {
	st := prodtest.NewStore(t)
	_, err := st.Instance(context.Background(), "NONE-NONE-NONE-NONE")
	if checkout.KindOf(err) != checkout.ENOTFOUND || !errors.Is(err, production.ErrNotFound) {
		t.Errorf("Instance(absent) = %v (kind %s), want ENOTFOUND wrapping production.ErrNotFound", err, checkout.KindOf(err))
	}
}

// A postpay unit is claimed only while its order is paid: an operator's refund or
// cancellation that wins the race with production leaves no marker, so production
// stops before any effect in the LMS. Other phases (a withdrawal after a refund) are
// not held to it.
func TestPostpayClaimNeedsAPaidOrder(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	tests := []struct {
		status  checkout.Status
		phase   string
		wantErr error
	}{
		{checkout.SoldOut, production.PhasePostpay, nil},
		{checkout.Complete, production.PhasePostpay, nil},
		{checkout.Pending, production.PhasePostpay, production.ErrNotPaid},
		{checkout.Payback, production.PhasePostpay, production.ErrNotPaid},
		{checkout.Cancelled, production.PhasePostpay, production.ErrNotPaid},
		{checkout.Payback, production.PhaseWithdraw, nil},
	}
	for _, tc := range tests {
		t.Run(string(tc.status)+"/"+tc.phase, func(t *testing.T) {
			txid := placed(t, st, tc.status, false)
			k := production.Key{TxID: txid, LineID: "L01", Phase: tc.phase}
			headBefore := rawItem(t, st, "TX#"+txid, "ORDER")
			got, err := st.Claim(ctx, k, map[string]string{"now": "2026-05-01T00:00:00Z"})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Claim = %+v, %v; want error %v", got, err, tc.wantErr)
			}
			if tc.wantErr != nil && checkout.KindOf(err) != checkout.ECONFLICT {
				t.Errorf("Claim's refusal is of kind %s, want %s", checkout.KindOf(err), checkout.ECONFLICT)
			}
			// The claim is stored where its unit's phase keeps it: a postpay unit's
			// decisions on the order's head (the write that checks the order is
			// paid), another phase's on the unit's marker. A refused claim stores
			// none, and leaves the order as it was.
			head := rawItem(t, st, "TX#"+txid, "ORDER")
			marker := rawItem(t, st, "TX#"+txid, "PRODUCED#L01#0#"+tc.phase)
			pinned := marker != nil
			if tc.phase == production.PhasePostpay {
				pinned = head["pin#L01#0"] != nil
				if marker != nil {
					t.Errorf("a postpay claim wrote the unit's marker before its commit: %v", marker)
				}
			}
			if pinned != (tc.wantErr == nil) {
				t.Errorf("claim stored after Claim (error %v): %v; head %v, marker %v", err, pinned, head, marker)
			}
			if tc.wantErr != nil && !reflect.DeepEqual(head, headBefore) {
				t.Errorf("a refused claim changed the order:\n%v\nwant\n%v", head, headBefore)
			}
			if tc.wantErr != nil {
				return
			}
			// A second claim of a paid order's unit gets the first decisions back.
			again, err := st.Claim(ctx, k, map[string]string{"now": "2026-06-01T00:00:00Z"})
			if err != nil || again.Decisions["now"] != "2026-05-01T00:00:00Z" {
				t.Errorf("second Claim = %+v, %v; want the first decisions", again, err)
			}
		})
	}
}

// TestRefundClosesClaims: a refund closes the claims of the units being delivered (the
// unit claimed, not committed), and not those committed, which it withdraws itself;
// closing again changes nothing. A closed unit's commit is refused, naming the refund,
// and writes nothing (no instance, no balance, the marker as it was) until its run
// commits it knowingly (Commit.Refunded), once. Claims after the refund: a unit claimed
// before is told so (Claimed.NotPaid), with its decisions or its instance; a unit never
// claimed is refused.
func TestRefundClosesClaims(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	txid := placed(t, st, checkout.SoldOut, false)
	unit := func(line string, n int) production.Key {
		return production.Key{TxID: txid, LineID: line, Unit: n, Phase: production.PhasePostpay}
	}
	delivered, inFlight, bundlePart, never := unit("L01", 0), unit("L01", 1), unit("L02.CERT-GO", 0), unit("L03", 0)
	for _, k := range []production.Key{delivered, inFlight, bundlePart} {
		if _, err := st.Claim(ctx, k, map[string]string{"now": "2026-05-01T00:00:00Z"}); err != nil {
			t.Fatal(err)
		}
	}
	email := strings.ToLower(txid) + "@example.com"
	instanceOf := func(k production.Key) production.Instance {
		in := sampleInstance(k)
		in.Customer = email
		return in
	}
	if err := st.Commit(ctx, production.Commit{Key: delivered, Instance: instanceOf(delivered)}); err != nil {
		t.Fatal(err)
	}
	r := refundOf(txid)
	if _, _, err := st.RefundOrder(ctx, r); err != nil {
		t.Fatal(err)
	}

	for try := range 2 {
		closed, err := st.CloseClaims(ctx, txid, r.Payment.Reference, r.Payment.At)
		if err != nil || !reflect.DeepEqual(closed, []production.Key{inFlight, bundlePart}) {
			t.Fatalf("CloseClaims (try %d) = %v, %v; want the units claimed and not committed, %v and %v", try+1, closed, err, inFlight, bundlePart)
		}
	}

	markerBefore := rawItem(t, st, "TX#"+txid, "PRODUCED#L01#1#postpay")
	err := st.Commit(ctx, production.Commit{Key: inFlight, Instance: instanceOf(inFlight), Balances: map[string]int64{"credits": 5}})
	var refunded *production.Refunded
	if !errors.As(err, &refunded) || !errors.Is(err, production.ErrNotPaid) || checkout.KindOf(err) != checkout.ECONFLICT {
		t.Fatalf("commit of a closed unit = %v, want a conflict naming the refund", err)
	}
	if refunded.Refund != r.Payment.Reference || !refunded.At.Equal(r.Payment.At) {
		t.Errorf("the refusal names refund %q at %v, want %q at %v", refunded.Refund, refunded.At, r.Payment.Reference, r.Payment.At)
	}
	if got := rawItem(t, st, "TX#"+txid, "PRODUCED#L01#1#postpay"); !reflect.DeepEqual(got, markerBefore) {
		t.Errorf("a refused commit changed the marker:\n%v\nwant\n%v", got, markerBefore)
	}
	if _, found, err := st.Produced(ctx, inFlight); found || err != nil {
		t.Errorf("after a refused commit: Produced = %v, %v; want nothing", found, err)
	}
	if n, err := st.Balance(ctx, email, "credits"); n != 0 || err != nil {
		t.Errorf("after a refused commit: balance %d, %v; want 0", n, err)
	}

	claims := []struct {
		name         string
		k            production.Key
		wantProduced bool
		wantErr      error
	}{
		{"committed before the refund", delivered, true, nil},
		{"claimed before the refund", inFlight, false, nil},
		{"never claimed", never, false, production.ErrNotPaid},
	}
	for _, tc := range claims {
		got, err := st.Claim(ctx, tc.k, map[string]string{"now": "2026-06-01T00:00:00Z"})
		if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
			t.Errorf("%s: Claim = %+v, %v; want error %v", tc.name, got, err, tc.wantErr)
			continue
		}
		if tc.wantErr == nil && (!got.NotPaid || got.Produced != tc.wantProduced || (!got.Produced && got.Decisions["now"] != "2026-05-01T00:00:00Z")) {
			t.Errorf("%s: Claim = %+v; want NotPaid, produced %v, the first decisions", tc.name, got, tc.wantProduced)
		}
	}

	for try, wantErr := range []error{nil, production.ErrAlreadyProduced} {
		err := st.Commit(ctx, production.Commit{Key: inFlight, Instance: instanceOf(inFlight), Balances: map[string]int64{"credits": 5}, Refunded: true})
		if !errors.Is(err, wantErr) || (wantErr == nil) != (err == nil) {
			t.Fatalf("knowing commit (try %d) = %v, want %v", try+1, err, wantErr)
		}
	}
	if n, err := st.Balance(ctx, email, "credits"); n != 5 || err != nil {
		t.Errorf("after the knowing commit: balance %d, %v; want 5, once", n, err)
	}
	// Another run that made the unit's effect too, not knowing of the refund, is told of
	// it, and adds nothing.
	if err := st.Commit(ctx, production.Commit{Key: inFlight, Instance: instanceOf(inFlight), Balances: map[string]int64{"credits": 5}}); !errors.As(err, &refunded) {
		t.Errorf("commit of another run after the knowing commit = %v, want the refund named", err)
	}
	if n, err := st.Balance(ctx, email, "credits"); n != 5 || err != nil {
		t.Errorf("after another run's commit: balance %d, %v; want 5", n, err)
	}
	// A run that claims it now learns it is committed after the refund, to withdraw
	// again what the committing run may not have withdrawn.
	got, err := st.Claim(ctx, inFlight, map[string]string{"now": "2026-06-01T00:00:00Z"})
	if err != nil || !got.Produced || !got.NotPaid || got.Refunded == nil || got.Refunded.Refund != r.Payment.Reference || got.Instance.Reference != inFlight.Reference() {
		t.Errorf("Claim after the knowing commit = %+v, %v; want its instance, not paid, closed by %s", got, err, r.Payment.Reference)
	}
	if got, err := st.Claim(ctx, delivered, nil); err != nil || got.Refunded != nil {
		t.Errorf("Claim of a unit committed before the refund = %+v, %v; want no refund named", got, err)
	}
	if closed, err := st.CloseClaims(ctx, txid, r.Payment.Reference, r.Payment.At); err != nil || !reflect.DeepEqual(closed, []production.Key{bundlePart}) {
		t.Errorf("CloseClaims after the commit = %v, %v; want only %v", closed, err, bundlePart)
	}
}

// TestWithdrawnMarksTheInstance: a refund's withdrawal records the withdrawn event and
// the instance's status together, the same items when written again; an instance that
// does not exist is refused and no event is written for it.
func TestWithdrawnMarksTheInstance(t *testing.T) {
	ctx := context.Background()
	st := prodtest.NewStore(t)
	k := production.Key{TxID: "TU80WKRYTI9QUMJ5", LineID: "L01", Phase: production.PhasePostpay}
	in := sampleInstance(k)
	if err := st.Commit(ctx, production.Commit{Key: k, Instance: in}); err != nil {
		t.Fatal(err)
	}
	ev := production.Event{Type: production.EventWithdrawn, At: t0.Add(time.Hour), Data: map[string]string{"refund": "R-1"}}
	for try := range 2 {
		if err := st.Withdrawn(ctx, in, ev); err != nil {
			t.Fatalf("Withdrawn (try %d): %v", try+1, err)
		}
	}
	got, err := st.Instance(ctx, in.Reference)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range got.Events {
		kinds = append(kinds, e.Type)
	}
	if got.Status != production.StatusWithdrawn || strings.Join(kinds, ",") != "delivered,withdrawn" {
		t.Errorf("after Withdrawn: status %q, events %v; want withdrawn, delivered then one withdrawn", got.Status, kinds)
	}

	missing := sampleInstance(production.Key{TxID: "TU80WKRYTI9QUMJ6", LineID: "L01", Phase: production.PhasePostpay})
	if err := st.Withdrawn(ctx, missing, ev); err == nil {
		t.Fatalf("Withdrawn of an instance never delivered succeeded")
	}
	if events, err := st.ProductEvents(ctx, missing.Reference); err != nil || len(events) != 0 {
		t.Errorf("a refused Withdrawn wrote events %v (%v)", events, err)
	}
}
