package archtest

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/pricing"
)

// The back-office page cannot import the Go code, so it keeps copies of the rules on
// statuses it offers actions by: the statuses, the transitions table and the statuses a
// refund is offered from. Each copy says what the code says, or the page offers an
// action the API refuses (or hides one it allows). The pages' one table of the
// currencies whose minor unit is not 2 digits (the storefront's money.js, which the back
// office imports) is pricing's, or a page shows an amount, or reads one typed by an
// operator, 100 times too large or too small.
func TestPageCopiesOfTheRulesAreTheCode(t *testing.T) {
	names := func(ss []checkout.Status) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = string(s)
		}
		return out
	}
	tests := []struct {
		file, decl string   // the page's file, and the declaration that opens the copy
		code       []string // the code's rule, one "FROM: TO TO" row per status for the table
		sorted     bool     // the copy's order does not matter
	}{
		{"web/admin/format.js", "export const STATUSES = [", names(checkout.Statuses), false},
		{"web/admin/format.js", "export const TRANSITIONS = {", transitionRows(), true},
		{"web/admin/admin.js", "const REFUNDABLE = [", names(checkout.Refundable), true},
		{"web/js/money.js", "const ZERO_DECIMALS = new Set([", currenciesWithDigits(0), true},
		{"web/js/money.js", "const THREE_DECIMALS = new Set([", currenciesWithDigits(3), true},
	}
	for _, tt := range tests {
		t.Run(tt.decl, func(t *testing.T) {
			page := jsDeclaration(t, "../../"+tt.file, tt.decl)
			code := slices.Clone(tt.code)
			if tt.sorted {
				slices.Sort(page)
				slices.Sort(code)
			}
			if !slices.Equal(page, code) {
				t.Errorf("%s's %s… says\n %q\nthe code says\n %q", tt.file, tt.decl, page, code)
			}
		})
	}
}

// currenciesWithDigits lists the ISO 4217 codes whose minor unit pricing gives digits
// decimals: every three-letter code asked, since the table itself is pricing's own.
func currenciesWithDigits(digits int) []string {
	var out []string
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			for c := 'A'; c <= 'Z'; c++ {
				code := string([]rune{a, b, c})
				if d, err := pricing.MinorDigits(code); err == nil && d == digits {
					out = append(out, code)
				}
			}
		}
	}
	return out
}

// transitionRows writes checkout.CanMove as the page's table: "FROM: TO TO", the
// targets in the order of checkout.Statuses.
func transitionRows() []string {
	var rows []string
	for _, from := range checkout.Statuses {
		row := string(from) + ":"
		for _, to := range checkout.Statuses {
			if checkout.CanMove(from, to) {
				row += " " + string(to)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// jsDeclaration reads the quoted upper-case names of the declaration opened by decl, up
// to its closing ";": one name each for an array, one "KEY: NAME NAME" row per line for
// an object of arrays (the names sorted in the order of checkout.Statuses).
func jsDeclaration(t *testing.T, path, decl string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, body, found := strings.Cut(string(b), decl)
	body, _, closed := strings.Cut(body, ";")
	if !found || !closed {
		t.Fatalf("%s has no %s…; declaration", path, decl)
	}
	quoted := regexp.MustCompile(`'([A-Z]+)'`)
	list := func(s string) []string {
		var out []string
		for _, m := range quoted.FindAllStringSubmatch(s, -1) {
			out = append(out, m[1])
		}
		return out
	}
	if !strings.HasSuffix(decl, "{") {
		return list(body)
	}
	row := regexp.MustCompile(`^\s*([A-Z]+): \[(.*)\],?$`)
	var rows []string
	for _, line := range strings.Split(body, "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		tos := list(m[2])
		slices.SortFunc(tos, func(a, b string) int {
			return slices.Index(checkout.Statuses, checkout.Status(a)) - slices.Index(checkout.Statuses, checkout.Status(b))
		})
		rows = append(rows, strings.TrimSpace(m[1]+": "+strings.Join(tos, " ")))
	}
	return rows
}
