package trace_test

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/lmsshop/checkout/internal/trace"
)

// docs/spec.md#transaction-id-and-merchant-trace lists the sources a merchant reads in
// the trace: they are the code's, in the same order.
func TestSpecNamesEverySource(t *testing.T) {
	doc, err := os.ReadFile("../../docs/spec.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)\nSources: (.*?)\\.\n").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/spec.md has no sentence listing the trace's sources")
	}
	var said []string
	for _, s := range regexp.MustCompile("`([^`]+)`").FindAllSubmatch(m[1], -1) {
		said = append(said, string(s[1]))
	}
	if !slices.Equal(said, trace.Sources) {
		t.Errorf("docs/spec.md names the sources\n %q\nthe code writes\n %q", said, trace.Sources)
	}
}
