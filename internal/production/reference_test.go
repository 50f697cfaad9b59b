package production

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
)

// sampleReferences returns n deterministic references from production keys.
func sampleReferences(n int) []string {
	refs := make([]string, n)
	for i := range refs {
		refs[i] = Key{TxID: "TU80WKRYTI9QUMJ4", LineID: "L" + itoa(i%7), Unit: i}.Reference()
	}
	return refs
}

func TestReferenceFormatAndValidity(t *testing.T) {
	seen := map[string]bool{}
	for _, ref := range sampleReferences(2000) {
		if !ValidReference(ref) {
			t.Fatalf("generated reference %s is not valid", ref)
		}
		if len(ref) != 19 || strings.Count(ref, "-") != 3 {
			t.Fatalf("reference %s does not have the WWWW-XXXX-YYYY-ZZCC shape", ref)
		}
		if seen[ref] {
			t.Fatalf("reference %s generated twice from different keys", ref)
		}
		seen[ref] = true
	}
}

func TestReferenceIsDeterministic(t *testing.T) {
	k := Key{TxID: "TU80WKRYTI9QUMJ4", LineID: "1", Unit: 3, Phase: PhasePostpay}
	again := k
	again.Phase = PhasePrepay // the phase does not name a different unit
	if k.Reference() != again.Reference() || k.InstanceID() != again.InstanceID() {
		t.Fatalf("same unit, different names: %s/%s vs %s/%s", k.Reference(), k.InstanceID(), again.Reference(), again.InstanceID())
	}
	other := Key{TxID: "TU80WKRYTI9QUMJ4", LineID: "1", Unit: 4}
	if k.Reference() == other.Reference() {
		t.Fatalf("units 3 and 4 share reference %s", k.Reference())
	}
	// A delivery after a refund is a unit of its own, and its round a key of its own.
	next := k
	next.Round = 1
	if k.Reference() == next.Reference() || k.InstanceID() == next.InstanceID() || k.String() == next.String() {
		t.Fatalf("rounds 0 and 1 share names: %s %s %s", next.Reference(), next.InstanceID(), next)
	}
}

// TestRoundZeroNamesAsBefore: an order's first delivery (round 0) names its units as
// they were named before rounds existed, so units delivered then are still found.
func TestRoundZeroNamesAsBefore(t *testing.T) {
	k := Key{TxID: "TU80WKRYTI9QUMJ4", LineID: "L01", Unit: 0, Phase: PhasePostpay}
	if got, want := k.String(), "TU80WKRYTI9QUMJ4/L01/0/postpay"; got != want {
		t.Errorf("key %s, want %s", got, want)
	}
	d := sha256.Sum256([]byte("lmsshop/instance\x00TU80WKRYTI9QUMJ4\x00L01\x000"))
	if got, want := k.InstanceID(), fmt.Sprintf("%x", d[:12]); got != want {
		t.Errorf("instance ID %s, want %s", got, want)
	}
}

// positions of the 16 significant characters inside the 19-char reference.
var refPositions = []int{0, 1, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13, 15, 16, 17, 18}

func TestReferenceDetectsEverySingleSubstitution(t *testing.T) {
	symbols := refAlphabet + "abz-_ "
	for _, ref := range sampleReferences(150) {
		for _, p := range refPositions {
			for i := 0; i < len(symbols); i++ {
				c := symbols[i]
				if c == ref[p] {
					continue
				}
				bad := ref[:p] + string(c) + ref[p+1:]
				if ValidReference(bad) {
					t.Fatalf("substitution %s → %s (position %d) not detected", ref, bad, p)
				}
			}
		}
	}
}

func TestReferenceDetectsEveryAdjacentTransposition(t *testing.T) {
	for _, ref := range sampleReferences(1500) {
		for i := 0; i+1 < len(refPositions); i++ {
			a, b := refPositions[i], refPositions[i+1]
			if ref[a] == ref[b] {
				continue
			}
			r := []byte(ref)
			r[a], r[b] = r[b], r[a]
			if ValidReference(string(r)) {
				t.Fatalf("transposition %s → %s (positions %d,%d) not detected", ref, r, a, b)
			}
		}
	}
}

func TestValidReferenceRejectsMalformed(t *testing.T) {
	good := sampleReferences(1)[0]
	cases := map[string]string{
		"empty":          "",
		"no dashes":      strings.ReplaceAll(good, "-", ""),
		"lower case":     strings.ToLower(good),
		"too long":       good + "0",
		"letter check":   good[:17] + "A" + good[18:],
		"dash misplaced": good[:3] + "-" + good[3:4] + good[5:],
	}
	for name, ref := range cases {
		t.Run(name, func(t *testing.T) {
			if ValidReference(ref) && ref != good {
				t.Fatalf("ValidReference(%q) = true", ref)
			}
		})
	}
}

func TestReferenceFromNumberCoversBothHalves(t *testing.T) {
	a := ReferenceFromNumber(1, 1)
	if ReferenceFromNumber(2, 1) == a || ReferenceFromNumber(1, 2) == a {
		t.Fatal("a change of either half must change the reference")
	}
}
