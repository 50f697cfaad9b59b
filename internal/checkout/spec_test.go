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
	documented := specTransitions(t)
	// The code's table in the doc's shape: every status a row, even one with no way out.
	coded := map[checkout.Status]map[checkout.Status]bool{}
	for _, from := range checkout.Statuses {
		coded[from] = map[checkout.Status]bool{}
		for _, to := range checkout.Statuses {
			if checkout.CanMove(from, to) {
				coded[from][to] = true
			}
		}
	}
	if !reflect.DeepEqual(documented, coded) {
		t.Errorf("docs/spec.md's allowed transitions differ from checkout.CanMove:\n doc:  %v\n code: %v", documented, coded)
	}
}

// The rules on statuses that docs/spec.md states in sentences rather than in its table
// are those of the code: the paid statuses, and the two moves outside the table, each a
// write of its own (a refund cancels an order from the statuses its row of "Who moves an
// order" lists; the delivery of a late payment is the one way out of a status the table
// gives none).
func TestSpecSentencesOnStatusesAreTheCode(t *testing.T) {
	doc, err := os.ReadFile("../../docs/spec.md")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pattern string                       // the sentence, each list of statuses a named group
		code    map[string][]checkout.Status // by group
	}{
		{"the paid statuses", "(?P<paid>`[A-Z]+`(?:, `[A-Z]+`)* and `[A-Z]+`) count as paid for production and\\s+billing",
			map[string][]checkout.Status{"paid": checkout.Paid}},
		{"a refund", "(?m)^\\| → (?P<to>`[A-Z]+`) \\|.*a refund \\(from (?P<from>[^)]*?), in the refund's own write\\)",
			map[string][]checkout.Status{"from": checkout.Refundable, "to": {checkout.Cancelled}}},
		{"the delivery of a late payment", "(?s)\n(?P<from>`[A-Z]+`) has one way out, and only for an operator: settling a late payment with\\s+\\*\\*deliver\\*\\*.*?moves the\\s+order to (?P<to>`[A-Z]+`)",
			map[string][]checkout.Status{"from": checkout.LateDelivery, "to": {checkout.SoldOut}}},
	}
	statuses := regexp.MustCompile("`([A-Z]+)`")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re := regexp.MustCompile(tt.pattern)
			m := re.FindStringSubmatch(string(doc))
			if m == nil {
				t.Fatalf("docs/spec.md has no sentence on %s (%s)", tt.name, tt.pattern)
			}
			for group, code := range tt.code {
				var said []checkout.Status
				for _, s := range statuses.FindAllStringSubmatch(m[re.SubexpIndex(group)], -1) {
					said = append(said, checkout.Status(s[1]))
				}
				slices.Sort(said)
				if want := slices.Sorted(slices.Values(code)); !reflect.DeepEqual(said, want) {
					t.Errorf("on %s, docs/spec.md's %s is %v; the code's, %v", tt.name, group, said, want)
				}
			}
		})
	}
	// CANCELLED's one way out is the delivery of a late payment only: the table gives it none.
	for _, from := range checkout.LateDelivery {
		for _, to := range checkout.Statuses {
			if checkout.CanMove(from, to) {
				t.Errorf("the table moves %s to %s: the delivery of a late payment would not be its one way out", from, to)
			}
		}
	}
}

// specTransitions reads docs/spec.md's table of allowed transitions, the one source the
// tests hold the code against: from each status, the statuses it may move to.
func specTransitions(t *testing.T) map[checkout.Status]map[checkout.Status]bool {
	t.Helper()
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
	return documented
}
