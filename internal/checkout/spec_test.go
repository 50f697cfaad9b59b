package checkout_test

import (
	"os"
	"reflect"
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
