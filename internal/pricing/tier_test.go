package pricing

import (
	"strings"
	"testing"
)

func TestTiersUnitPrice(t *testing.T) {
	five := Tiers{{1, 10000}, {5, 9000}, {20, 8000}, {100, 7000}, {0, 6000}}
	bounded := Tiers{{10, 500}, {50, 400}}
	tests := []struct {
		name    string
		tiers   Tiers
		qty     int
		want    Money
		wantErr string
	}{
		{"tier 1", five, 1, 10000, ""},
		{"tier 2 lower edge", five, 2, 9000, ""},
		{"tier 2 bound included", five, 5, 9000, ""},
		{"tier 3", five, 6, 8000, ""},
		{"tier 3 bound", five, 20, 8000, ""},
		{"tier 4", five, 21, 7000, ""},
		{"tier 4 bound", five, 100, 7000, ""},
		{"tier 5 (unbounded) is honoured", five, 101, 6000, ""},
		{"tier 5 at max quantity", five, MaxQuantity, 6000, ""},
		{"single free tier", Tiers{{0, 0}}, 3, 0, ""},
		{"bounded last tier", bounded, 50, 400, ""},
		{"above the last bound", bounded, 51, 0, "above the highest price tier bound 50"},
		{"zero quantity", five, 0, 0, "quantity 0 is outside"},
		{"too big quantity", five, MaxQuantity + 1, 0, "quantity 10001 is outside"},
		{"invalid tiers", Tiers{}, 1, 0, "at least one price tier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.tiers.UnitPrice(tt.qty)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("UnitPrice(%d) error = %v, want one containing %q", tt.qty, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("UnitPrice(%d): %v", tt.qty, err)
			}
			if got != tt.want {
				t.Errorf("UnitPrice(%d) = %d, want %d", tt.qty, got, tt.want)
			}
		})
	}
}

func TestTiersValidate(t *testing.T) {
	tests := []struct {
		name   string
		tiers  Tiers
		fields []string // the faulty fields, in order; nil = valid
	}{
		{"five tiers", Tiers{{1, 5}, {2, 4}, {3, 3}, {4, 2}, {0, 1}}, nil},
		{"bounded", Tiers{{10, 5}}, nil},
		{"empty", nil, []string{"Tiers"}},
		{"six tiers", Tiers{{1, 5}, {2, 4}, {3, 3}, {4, 2}, {5, 1}, {0, 1}}, []string{"Tiers"}},
		{"not ascending", Tiers{{10, 5}, {10, 4}}, []string{"Tiers[1].UpTo"}},
		{"descending", Tiers{{10, 5}, {3, 4}}, []string{"Tiers[1].UpTo"}},
		{"unbounded not last", Tiers{{0, 5}, {10, 4}}, []string{"Tiers[0].UpTo"}},
		{"negative bound", Tiers{{-1, 5}}, []string{"Tiers[0].UpTo"}},
		{"negative price", Tiers{{0, -1}}, []string{"Tiers[0].UnitPrice"}},
		{"price too big", Tiers{{0, MaxUnitPrice + 1}}, []string{"Tiers[0].UnitPrice"}},
		{"two problems", Tiers{{5, -1}, {4, 1}}, []string{"Tiers[0].UnitPrice", "Tiers[1].UpTo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.tiers.Validate()
			if got := fieldNames(err); !equalStrings(got, tt.fields) {
				t.Errorf("Validate() fields = %q, want %q (error: %v)", got, tt.fields, err)
			}
		})
	}
}

func fieldNames(err error) []string {
	var out []string
	for _, fe := range Fields(err) {
		out = append(out, fe.Field)
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
