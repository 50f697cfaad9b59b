package store_test

import (
	"context"
	"testing"

	"github.com/lmsshop/checkout/internal/trace"
)

// OnceEach claims several effects in one write, each for its first caller only; a
// claim given back is claimed again by the next caller, and only that one.
func TestOnceEachClaimsEachEffectOnce(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	txid := trace.NewTxID()
	steps := []struct {
		name    string
		release string // given back before this step's claim
		want    map[string]bool
	}{
		{"first caller", "", map[string]bool{"A": true, "B": true}},
		{"retry", "", map[string]bool{"A": false, "B": false}},
		{"after B failed", "B", map[string]bool{"A": false, "B": true}},
		{"after that retry", "", map[string]bool{"A": false, "B": false}},
	}
	for _, step := range steps {
		if step.release != "" {
			if err := st.ReleaseEach(ctx, txid, "mail#delivered", step.release); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.OnceEach(ctx, txid, "mail#delivered", "A", "B")
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if got["A"] != step.want["A"] || got["B"] != step.want["B"] {
			t.Errorf("%s: claimed %v, want %v", step.name, got, step.want)
		}
	}
	if _, err := st.OnceEach(ctx, txid, "mail#delivered"); err == nil {
		t.Error("a claim of nothing was accepted")
	}
}
