package archtest

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docs/architecture.md's package graph says "every arrow is an import, as go list shows
// it today": each package of the module has its node, and the arrows are exactly the
// imports between them (tests' own imports left out), the thirteen functions/* drawn as
// one node.
func TestPackageGraphIsTheImports(t *testing.T) {
	doc, err := os.ReadFile("../../docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	_, chart, found := strings.Cut(string(doc), "```mermaid\nflowchart BT\n")
	chart, _, closed := strings.Cut(chart, "```")
	if !found || !closed {
		t.Fatal("docs/architecture.md has no package graph (a mermaid flowchart BT)")
	}
	// A node is `id` or `id[label]`; its package is the label (or the id) under internal/,
	// or the label itself for cmd/* and functions/*.
	nodes := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(\w+)(?:\[([^\]]+)\])?$`).FindAllStringSubmatch(chart, -1) {
		if m[1] == "end" {
			continue
		}
		p := strings.Trim(m[2], `"`)
		if p == "" {
			p = m[1]
		}
		switch {
		case strings.HasPrefix(p, "functions/"):
			p = "functions/*"
		case !strings.HasPrefix(p, "cmd/"):
			p = "internal/" + p
		}
		nodes[m[1]] = p
	}
	var drawn []string
	for _, m := range regexp.MustCompile(`(?m)^\s+(\w+) --> (.+)$`).FindAllStringSubmatch(chart, -1) {
		for _, to := range strings.Split(m[2], "&") {
			from, okFrom := nodes[m[1]]
			dst, okTo := nodes[strings.TrimSpace(to)]
			if !okFrom || !okTo {
				t.Errorf("the arrow %s --> %s names a node the graph does not declare", m[1], strings.TrimSpace(to))
				continue
			}
			drawn = append(drawn, from+" -> "+dst)
		}
	}
	known := map[string]bool{}
	for _, p := range nodes {
		known[p] = true
	}
	var imported []string
	for _, p := range graph(t) {
		from, ok := strings.CutPrefix(p.ImportPath, module+"/")
		if !ok || from == "e2e" || from == "internal/archtest" { // test-only packages
			continue
		}
		if strings.HasPrefix(from, "functions/") {
			from = "functions/*"
		}
		if !known[from] {
			t.Errorf("the package graph has no node for %s", from)
		}
		for _, imp := range p.Imports {
			if to, ok := strings.CutPrefix(imp, module+"/"); ok {
				imported = append(imported, from+" -> "+to)
			}
		}
	}
	slices.Sort(drawn)
	slices.Sort(imported)
	imported = slices.Compact(imported)
	for _, e := range drawn {
		if _, found := slices.BinarySearch(imported, e); !found {
			t.Errorf("the package graph draws %s, which no package imports", e)
		}
	}
	for _, e := range imported {
		if _, found := slices.BinarySearch(drawn, e); !found {
			t.Errorf("the package graph lacks the import %s", e)
		}
	}
}
