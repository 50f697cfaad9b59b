package archtest

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// Code comments and docs name a rule by a link to its heading in docs/ (for example
// docs/spec.md#statuses-and-transitions). Every such link leads somewhere: renaming a
// heading without its links fails here.
func TestDocAnchorsResolve(t *testing.T) {
	const root = "../.."
	anchors := map[string]map[string]bool{} // doc file name → its heading anchors
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range docs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		anchors[filepath.Base(p)] = headingAnchors(string(b))
	}
	if len(anchors["spec.md"]) == 0 {
		t.Fatal("docs/spec.md has no headings")
	}
	// A link names a doc of docs/ and an anchor; a bare (#anchor) in a doc names its own.
	link := regexp.MustCompile(`([a-z]+\.md)#([a-z0-9_-]+)`)
	local := regexp.MustCompile(`\]\(#([a-z0-9_-]+)\)`)
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", ".venv", ".cache", ".git", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".js", ".html", ".yaml":
		default:
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			doc, ok := anchors[m[1]]
			if !ok {
				continue // a file of another folder (README.md), not a doc of docs/
			}
			checked++
			if !doc[m[2]] {
				t.Errorf("%s links to %s#%s: docs/%s has no such heading", rel, m[1], m[2], m[1])
			}
		}
		if own, ok := anchors[filepath.Base(path)]; ok && filepath.Dir(rel) == "docs" {
			for _, m := range local.FindAllStringSubmatch(string(b), -1) {
				checked++
				if !own[m[1]] {
					t.Errorf("%s links to #%s: it has no such heading", rel, m[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no link to a heading found: the test reads nothing")
	}
}

// headingAnchors returns the anchors a Markdown renderer gives a document's headings:
// lower case, punctuation dropped, spaces as hyphens, a repeated one suffixed -1, -2….
func headingAnchors(doc string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	fenced := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if fenced || !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			out[a+"-"+strconv.Itoa(n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}
