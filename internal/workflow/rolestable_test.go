package workflow_test

import (
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lmsshop/checkout/internal/workflow"
)

// docs/api.md's table of roles is what an operator and a shop administrator trust: it
// has one row per back-office action and one column per group, and says exactly who
// may run what, as the code's permissions do. An action added, dropped or given other
// groups in one and not the other fails here.
func TestAPIRolesTableIsThePermissions(t *testing.T) {
	doc, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n| action | ")
	if !ok {
		t.Fatal("docs/api.md has no table of roles (a header starting | action |)")
	}
	lines := strings.Split("| action | "+section, "\n")
	roles := cells(lines[0])[1:]
	for i, r := range roles {
		roles[i] = strings.Trim(r, "`")
	}
	if want := []string{workflow.RoleShopAdmin, workflow.RoleSales, workflow.RoleAccounting}; !slices.Equal(roles, want) {
		t.Fatalf("docs/api.md's table of roles has the columns %v, want %v", roles, want)
	}
	action := regexp.MustCompile("^`(GET|POST|PUT|DELETE) /admin/([^`]+)`")
	placeholder := regexp.MustCompile(`\{[a-z]+\}`)
	documented := map[string][]string{}
	for _, line := range lines[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		row := cells(line)
		m := action.FindStringSubmatch(row[0])
		if m == nil || len(row) != len(roles)+1 {
			t.Errorf("docs/api.md's table of roles has a row %q that is not a `METHOD /admin/path` with a cell per group", line)
			continue
		}
		// The code's names for actions: path patterns under /admin/, * for a path
		// parameter, and the export as orders.csv (backoffice.go's serve).
		path := strings.Replace(placeholder.ReplaceAllString(m[2], "*"), "orders?format=csv", "orders.csv", 1)
		key := m[1] + " " + path
		if _, dup := documented[key]; dup {
			t.Errorf("docs/api.md's table of roles has two rows for %s", key)
		}
		documented[key] = []string{}
		for i, c := range row[1:] {
			switch c {
			case "yes":
				documented[key] = append(documented[key], roles[i])
			case "":
			default:
				t.Errorf("docs/api.md's table of roles says %q for %s and %s; want yes or nothing", c, key, roles[i])
			}
		}
	}
	coded := map[string][]string{}
	for a, groups := range workflow.BackofficePermissions() {
		coded[a] = slices.Sorted(slices.Values(groups))
	}
	for a := range documented {
		slices.Sort(documented[a])
	}
	if !maps.EqualFunc(documented, coded, slices.Equal) {
		for _, a := range slices.Sorted(maps.Keys(coded)) {
			switch d, ok := documented[a]; {
			case !ok:
				t.Errorf("docs/api.md's table of roles has no row for %s; the code gives it to %v", a, coded[a])
			case !slices.Equal(d, coded[a]):
				t.Errorf("docs/api.md gives %s to %v; the code, to %v", a, d, coded[a])
			}
		}
		for _, a := range slices.Sorted(maps.Keys(documented)) {
			if _, ok := coded[a]; !ok {
				t.Errorf("docs/api.md gives %s to %v; the code knows no such action", a, documented[a])
			}
		}
	}
}

// cells splits a Markdown table row into its trimmed cells.
func cells(line string) []string {
	out := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
	for i, c := range out {
		out[i] = strings.TrimSpace(c)
	}
	return out
}
