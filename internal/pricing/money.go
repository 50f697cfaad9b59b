package pricing

import (
	"errors"
	"fmt"
	"math"
)

// Money is an amount in the currency's minor unit (cents for EUR, yen for
// JPY). Prices are never floats: every computation in this package is exact
// integer or rational arithmetic, rounded once per line (see the package
// documentation).
type Money int64

// BasisPoints is a ratio in hundredths of a percent: 2000 is 20 %, 550 is
// 5.5 %, 10000 is 100 %. Tax ratios and discount rates use it so that rates
// such as 5.5 % or 2.1 % are exact.
type BasisPoints int64

// FullRate is 100 % in basis points, the denominator of every ratio.
const FullRate BasisPoints = 10_000

// Limits of the inputs Quote accepts. They are chosen so that no sum or
// product in a quote can overflow int64: a line is at most
// MaxQuantity × MaxUnitPrice = 10^13 minor units, a taxed line at most
// MaxLineAmount = 10^15, and MaxLines of those stay below 10^18.
const (
	MaxQuantity   = 10_000
	MaxUnitPrice  = Money(1_000_000_000)
	MaxLines      = 1_000
	MaxLineAmount = Money(1_000_000_000_000_000)
)

// ErrOverflow reports an amount that is outside the ranges above. Quote
// returns it (wrapped) instead of ever letting an int64 wrap around.
var ErrOverflow = errors.New("pricing: amount out of range")

// divRoundHalfAway returns num/den rounded half away from zero
// (2.5 → 3, -2.5 → -3, 2.4 → 2). den must be positive.
func divRoundHalfAway(num, den int64) int64 {
	q, r := num/den, num%den
	if r < 0 {
		r = -r
	}
	// r >= den-r is 2r >= den without the doubling that could overflow.
	if r >= den-r {
		if num < 0 {
			q--
		} else {
			q++
		}
	}
	return q
}

// mulChecked returns a×b or false when the product does not fit in int64.
func mulChecked(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	p := a * b
	if p/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return p, true
}

// addChecked returns a+b or an ErrOverflow error.
func addChecked(a, b Money) (Money, error) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, fmt.Errorf("%w: %d + %d", ErrOverflow, a, b)
	}
	return s, nil
}

// PercentOf returns amount × rate / 100 %, rounded half away from zero: the
// one rounding step used for every discount line.
func PercentOf(amount Money, rate BasisPoints) (Money, error) {
	p, ok := mulChecked(int64(amount), int64(rate))
	if !ok {
		return 0, fmt.Errorf("%w: %d × %d bp", ErrOverflow, amount, rate)
	}
	return Money(divRoundHalfAway(p, int64(FullRate))), nil
}
