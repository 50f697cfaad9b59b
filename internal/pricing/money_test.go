package pricing

import (
	"errors"
	"math"
	"testing"
)

func TestDivRoundHalfAway(t *testing.T) {
	tests := []struct {
		num, den, want int64
	}{
		{25, 10, 3}, {24, 10, 2}, {26, 10, 3}, {-25, 10, -3}, {-24, 10, -2},
		{15, 10, 2}, {5, 10, 1}, {4, 10, 0}, {-5, 10, -1}, {0, 7, 0},
		{199_9000, 10_000, 200}, {10, 3, 3}, {20, 3, 7}, {-20, 3, -7},
		{math.MaxInt64, 10_000, 922_337_203_685_478},
	}
	for _, tt := range tests {
		if got := divRoundHalfAway(tt.num, tt.den); got != tt.want {
			t.Errorf("divRoundHalfAway(%d, %d) = %d, want %d", tt.num, tt.den, got, tt.want)
		}
	}
}

func TestPercentOf(t *testing.T) {
	tests := []struct {
		amount  Money
		rate    BasisPoints
		want    Money
		wantErr error
	}{
		{amount: 1999, rate: 1000, want: 200},   // 199.9
		{amount: 1799, rate: 1500, want: 270},   // 269.85
		{amount: 1005, rate: 1000, want: 101},   // 100.5 rounds away from zero
		{amount: -1005, rate: 1000, want: -101}, // and symmetrically
		{amount: 1, rate: 4999, want: 0},
		{amount: 1, rate: 5000, want: 1},
		{amount: 12345, rate: FullRate, want: 12345},
		{amount: math.MaxInt64 / 2, rate: 3, wantErr: ErrOverflow},
	}
	for _, tt := range tests {
		got, err := PercentOf(tt.amount, tt.rate)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("PercentOf(%d, %d) error = %v, want %v", tt.amount, tt.rate, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("PercentOf(%d, %d) = %d, want %d", tt.amount, tt.rate, got, tt.want)
		}
	}
}

func TestAddChecked(t *testing.T) {
	if _, err := addChecked(math.MaxInt64, 1); !errors.Is(err, ErrOverflow) {
		t.Errorf("MaxInt64+1: error = %v, want ErrOverflow", err)
	}
	if _, err := addChecked(math.MinInt64, -1); !errors.Is(err, ErrOverflow) {
		t.Errorf("MinInt64-1: error = %v, want ErrOverflow", err)
	}
	if s, err := addChecked(40, 2); err != nil || s != 42 {
		t.Errorf("40+2 = %d, %v", s, err)
	}
}
