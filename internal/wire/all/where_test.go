package all

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/lmsshop/checkout/internal/samtemplate"
)

// docs/architecture.md's "Where each function's code lives" is how a newcomer goes from a
// functions/<name>/main.go to the code that does the work in two hops. It stays true: every
// function of template.yaml has a row, the row's root is the builder its main.go names,
// every method and file the row names exists, and the row's rules are a section of
// docs/spec.md, where the rule the code follows is read.
func TestWhereEachFunctionLives(t *testing.T) {
	const root = "../../.."
	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rows := whereRows(t, filepath.Join(root, "docs/architecture.md"))
	code := regexp.MustCompile("`([^`]+)`")
	for _, f := range tpl.Functions() {
		t.Run(f.LogicalID, func(t *testing.T) {
			row, ok := rows[f.LogicalID]
			if !ok {
				t.Fatalf("docs/architecture.md's table has no row for %s", f.LogicalID)
			}
			// The root: the builder functions/<dir>/main.go passes to wire.Main.
			main, err := os.ReadFile(filepath.Join(root, f.Dir, "main.go"))
			if err != nil {
				t.Fatal(err)
			}
			wantRoot := strings.Trim(row[1], "` ")
			if !strings.Contains(string(main), `"`+f.LogicalID+`", `+wantRoot+")") {
				t.Errorf("%s/main.go does not call wire.Main(%q, %s) as the table says:\n%s", f.Dir, f.LogicalID, wantRoot, main)
			}
			b, ok := builders()[f.LogicalID]
			if !ok {
				t.Fatalf("wire/all has no builder for %s", f.LogicalID)
			}
			got := runtime.FuncForPC(reflect.ValueOf(b).Pointer()).Name()
			if !strings.HasSuffix(got, "/"+wantRoot) {
				t.Errorf("the table's root is %s, wire/all builds %s with %s", wantRoot, f.LogicalID, got)
			}
			if !regexp.MustCompile(`^\[[^]]+\]\(spec\.md#[a-z0-9-]+\)$`).MatchString(row[5]) {
				t.Errorf("the table's rules for %s are %s, not a section of docs/spec.md", f.LogicalID, row[5])
			}
			// The files exist and, together, define every method the row names.
			var src strings.Builder
			for _, m := range code.FindAllStringSubmatch(row[4], -1) {
				b, err := os.ReadFile(filepath.Join(root, m[1]))
				if err != nil {
					t.Errorf("the table names %s: %v", m[1], err)
					continue
				}
				src.Write(b)
			}
			for _, m := range code.FindAllStringSubmatch(row[3], -1) {
				name := m[1]
				if strings.ContainsAny(name, " /…") || name == strings.ToUpper(name) { // a route or an HTTP method
					continue
				}
				if !strings.Contains(src.String(), ") "+name+"(") {
					t.Errorf("the table names method %s for %s; none of its files %s defines it", name, f.LogicalID, row[4])
				}
			}
		})
	}
}

// whereRows reads the table's rows, keyed by function, each row's cells in order.
func whereRows(t *testing.T, path string) map[string][]string {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "### Where each function's code lives\n")
	if !ok {
		t.Fatalf("%s has no section \"Where each function's code lives\"", path)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "#") {
			break
		}
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 6 {
			t.Fatalf("a row of the table has %d cells, want 6: %s", len(cells), line)
		}
		rows[strings.Trim(cells[0], "`")] = cells
	}
	return rows
}
