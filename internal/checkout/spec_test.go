package checkout_test

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lmsshop/checkout/internal/checkout"
)

// docs/spec.md#statuses-and-transitions is what a reader trusts: its table of allowed
// transitions says exactly what CanMove allows, status by status.
func TestSpecTransitionTableIsTheCode(t *testing.T) {
	doc, err := os.ReadFile("../../docs/spec.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "The allowed transitions;")
	if !ok {
		t.Fatal("docs/spec.md has no table of allowed transitions")
	}
	documented := map[checkout.Status]map[checkout.Status]bool{}
	for _, line := range strings.Split(section, "\n")[1:] {
		if !strings.HasPrefix(line, "|") {
			if len(documented) > 0 {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 2 || !strings.HasPrefix(cells[0], "`") {
			continue // the header and its rule
		}
		tos := map[checkout.Status]bool{}
		for _, to := range strings.Split(cells[1], ",") {
			if to = strings.Trim(strings.TrimSpace(to), "`"); to != "none" {
				tos[checkout.Status(to)] = true
			}
		}
		for _, from := range strings.Split(cells[0], ",") {
			documented[checkout.Status(strings.Trim(strings.TrimSpace(from), "`"))] = tos
		}
	}
	all := []checkout.Status{checkout.Working, checkout.Placed, checkout.Pending, checkout.PreProd, checkout.SoldOut, checkout.Partial,
		checkout.Complete, checkout.Payback, checkout.Failed, checkout.Refused, checkout.Cancelled}
	// The code's table in the doc's shape: every status a row, even one with no way out.
	coded := map[checkout.Status]map[checkout.Status]bool{}
	for _, from := range all {
		coded[from] = map[checkout.Status]bool{}
		for _, to := range all {
			if checkout.CanMove(from, to) {
				coded[from][to] = true
			}
		}
	}
	if !reflect.DeepEqual(documented, coded) {
		t.Errorf("docs/spec.md's allowed transitions differ from checkout.CanMove:\n doc:  %v\n code: %v", documented, coded)
	}
}

// The two moves outside the table, each a write of its own, are those docs/spec.md
// describes in its sentences: a refund cancels an order from the statuses its row of
// "Who moves an order" lists, and the delivery of a late payment is the one way out of
// a status the table gives none.
func TestSpecMovesOutsideTheTableAreTheCode(t *testing.T) {
	doc, err := os.ReadFile("../../docs/spec.md")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pattern string // the sentence, its sources in the group from and its target in the group to
		from    []checkout.Status
		to      checkout.Status
	}{
		{"a refund", "(?m)^\\| → (?P<to>`[A-Z]+`) \\|.*a refund \\(from (?P<from>[^)]*?), in the refund's own write\\)",
			checkout.Refundable, checkout.Cancelled},
		{"the delivery of a late payment", "(?s)\n(?P<from>`[A-Z]+`) has one way out, and only for an operator: settling a late payment with\\s+\\*\\*deliver\\*\\*.*?moves the\\s+order to (?P<to>`[A-Z]+`)",
			checkout.LateDelivery, checkout.SoldOut},
	}
	statuses := regexp.MustCompile("`([A-Z]+)`")
	list := func(text string) []checkout.Status {
		var out []checkout.Status
		for _, m := range statuses.FindAllStringSubmatch(text, -1) {
			out = append(out, checkout.Status(m[1]))
		}
		slices.Sort(out)
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re := regexp.MustCompile(tt.pattern)
			m := re.FindStringSubmatch(string(doc))
			if m == nil {
				t.Fatalf("docs/spec.md has no sentence on %s (%s)", tt.name, tt.pattern)
			}
			from, to := list(m[re.SubexpIndex("from")]), list(m[re.SubexpIndex("to")])
			code := slices.Sorted(slices.Values(tt.from))
			if !reflect.DeepEqual(from, code) || !reflect.DeepEqual(to, []checkout.Status{tt.to}) {
				t.Errorf("docs/spec.md says %s moves %v to %v; the code, %v to %s", tt.name, from, to, code, tt.to)
			}
		})
	}
	// CANCELLED's one way out is this move only: the table gives it none.
	for _, from := range checkout.LateDelivery {
		for _, to := range []checkout.Status{checkout.Working, checkout.Placed, checkout.Pending, checkout.PreProd, checkout.SoldOut,
			checkout.Partial, checkout.Complete, checkout.Payback, checkout.Failed, checkout.Refused} {
			if checkout.CanMove(from, to) {
				t.Errorf("the table moves %s to %s: the delivery of a late payment would not be its one way out", from, to)
			}
		}
	}
}
