package pricing

import (
	"errors"
	"strings"
	"testing"
)

func TestFormulaEval(t *testing.T) {
	vars := FormulaVars{Untaxed: 1000, Ratio: 2000, Quantity: 3}
	tests := []struct {
		src  string
		want string // exact rational, as big.Rat.RatString prints it
	}{
		{"1 + 2 * 3", "7"},
		{"(1 + 2) * 3", "9"},
		{"10 - 4 - 3", "3"}, // left associative
		{"12 / 2 / 3", "2"}, // left associative
		{"2 * 3 + 4 * 5", "26"},
		{"-2 * 3", "-6"},
		{"- -2", "2"},
		{"+5", "5"},
		{"2 - -3", "5"},
		{"1 / 3", "1/3"}, // division is exact
		{"1.5 * 2", "3"},
		{"0.055 * 1000", "55"},
		{"untaxed", "1000"},
		{"ratio", "1/5"},
		{"quantity", "3"},
		{DefaultTaxFormula, "1200"},
		{"untaxed * (1 + ratio) + quantity * 50", "1350"},
		{"UNTAXED * Ratio", "200"}, // names are case-insensitive
		{"untaxed × ratio ÷ 2 − 1", "99"},
		{"min(untaxed * ratio, 150)", "150"},
		{"max(untaxed * ratio, 150, 180)", "200"},
		{"min(3)", "3"},
		{"round(10 / 4)", "3"},   // 2.5 → 3
		{"round(-10 / 4)", "-3"}, // -2.5 → -3
		{"round(7 / 3)", "2"},
		{"untaxed + round(untaxed * ratio / 3)", "1067"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			f, err := ParseFormula(tt.src)
			if err != nil {
				t.Fatalf("ParseFormula: %v", err)
			}
			got, err := f.Eval(vars)
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if got.RatString() != tt.want {
				t.Errorf("Eval = %s, want %s", got.RatString(), tt.want)
			}
		})
	}
}

func TestFormulaEvalMoneyRounding(t *testing.T) {
	tests := []struct {
		src     string
		untaxed Money
		want    Money
	}{
		{"untaxed / 3", 100, 33},                  // 33.33
		{"untaxed / 3", 200, 67},                  // 66.67
		{"untaxed / 4", 50, 13},                   // 12.5 away from zero
		{"-untaxed / 4", 50, -13},                 // -12.5 away from zero
		{"untaxed / 4", 49, 12},                   // 12.25
		{"untaxed * 1.055", 1999, 2109},           // 2108.945
		{"untaxed + untaxed * ratio", 1529, 1835}, // 1834.8 at 20 %
	}
	for _, tt := range tests {
		f := MustParseFormula(tt.src)
		got, err := f.EvalMoney(FormulaVars{Untaxed: tt.untaxed, Ratio: 2000, Quantity: 1})
		if err != nil {
			t.Errorf("%s with untaxed %d: %v", tt.src, tt.untaxed, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s with untaxed %d = %d, want %d", tt.src, tt.untaxed, got, tt.want)
		}
	}
}

func TestFormulaEvalErrors(t *testing.T) {
	tests := []struct {
		src     string
		wantErr error
	}{
		{"untaxed / (quantity - quantity)", ErrDivisionByZero},
		{"1 / 0", ErrDivisionByZero},
		{"untaxed * 10000000000000", ErrOverflow},
		{"-untaxed * 10000000000000", ErrOverflow},
	}
	for _, tt := range tests {
		_, err := MustParseFormula(tt.src).EvalMoney(FormulaVars{Untaxed: 1000, Ratio: 2000, Quantity: 2})
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: error = %v, want %v", tt.src, err, tt.wantErr)
		}
	}
}

func TestParseFormulaErrors(t *testing.T) {
	tests := []struct {
		src    string
		column int
		msg    string
	}{
		{"", 1, "formula is empty"},
		{"   ", 1, "formula is empty"},
		{"1 +", 4, "expected a number"},
		{"(1 + 2", 7, `expected ")" to close the "(" at column 1`},
		{"1 + 2)", 6, "after the end"},
		{"untaxed untaxed", 9, "after the end"},
		{"price * 2", 1, `unknown name "price"`},
		{"min", 4, `min must be followed by "("`},
		{"min()", 5, "expected a number"},
		{"round(1, 2)", 1, "round takes exactly 1 argument"},
		{"max(1 2)", 7, `expected "," or ")"`},
		{"1..2", 3, "decimal point must be followed by digits"},
		{"1.", 3, "decimal point must be followed by digits"},
		{"untaxed $ 2", 9, `unexpected character '$'`},
		{"untaxed; os.Exit(1)", 8, `unexpected character ';'`},
		{"1234567890123456789", 1, "at most 18 allowed"},
		{"é + 1", 1, `unexpected character 'é'`},
		{strings.Repeat("(", 40) + "1" + strings.Repeat(")", 40), 33, "nested more than 32 levels"},
		{strings.Repeat("-", 40) + "1", 33, "nested more than 32 levels"},
		{strings.Repeat("1+", 200), 1, "at most 256 allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := ParseFormula(tt.src)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseFormula(%q) error = %v, want a *ParseError", tt.src, err)
			}
			if pe.Column != tt.column || !strings.Contains(pe.Message, tt.msg) {
				t.Errorf("ParseFormula(%q) = column %d %q, want column %d containing %q", tt.src, pe.Column, pe.Message, tt.column, tt.msg)
			}
		})
	}
}

func TestFormulaStringRoundTrip(t *testing.T) {
	tests := []struct{ src, want string }{
		{"1 + 2 * 3", "(1 + (2 * 3))"},
		{"(1 + 2) * 3", "((1 + 2) * 3)"},
		{"-untaxed", "(-untaxed)"},
		{"Round(untaxed×1.20)", "round((untaxed * 1.20))"},
		{"min(1, 2, 3 - 1)", "min(1, 2, (3 - 1))"},
	}
	for _, tt := range tests {
		f := MustParseFormula(tt.src)
		if got := f.String(); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.src, got, tt.want)
		}
		again, err := ParseFormula(f.String())
		if err != nil || again.String() != tt.want {
			t.Errorf("reparse of %q = %v, %v", tt.want, again, err)
		}
	}
}

// FuzzFormula checks that any input either parses into a tree whose
// canonical form parses back to itself and evaluates without panicking, or
// is refused with a positioned *ParseError.
func FuzzFormula(f *testing.F) {
	for _, s := range []string{DefaultTaxFormula, "min(untaxed, 5) / 3", "round(-1.5)", "((", "1.2.3", "×÷−"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		fm, err := ParseFormula(src)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseFormula(%q) error %v is not a *ParseError", src, err)
			}
			if pe.Column < 1 || pe.Column > len([]rune(src))+1 {
				t.Fatalf("ParseFormula(%q) column %d is outside the input", src, pe.Column)
			}
			return
		}
		canon := fm.String()
		again, err := ParseFormula(canon)
		if err != nil {
			// The canonical form only adds parentheses and spaces; it may
			// exceed the length limit or the nesting limit, nothing else.
			var pe *ParseError
			if !errors.As(err, &pe) || !(strings.Contains(pe.Message, "bytes long") || strings.Contains(pe.Message, "nested")) {
				t.Fatalf("canonical form %q of %q does not parse: %v", canon, src, err)
			}
		} else if again.String() != canon {
			t.Fatalf("canonical form is not stable: %q → %q", canon, again.String())
		}
		for _, v := range []FormulaVars{{}, {Untaxed: 1999, Ratio: 2000, Quantity: 3}, {Untaxed: MaxLineAmount, Ratio: FullRate, Quantity: MaxQuantity}} {
			r, err := fm.Eval(v)
			if err != nil && !errors.Is(err, ErrDivisionByZero) {
				t.Fatalf("Eval(%q, %+v): unexpected error %v", src, v, err)
			}
			if err == nil && r == nil {
				t.Fatalf("Eval(%q) returned nil without error", src)
			}
			if _, err := fm.EvalMoney(v); err != nil && !errors.Is(err, ErrDivisionByZero) && !errors.Is(err, ErrOverflow) {
				t.Fatalf("EvalMoney(%q, %+v): unexpected error %v", src, v, err)
			}
		}
	})
}
