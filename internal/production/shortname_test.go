package production

import (
	"regexp"
	"strings"
	"testing"
)

// validShortname accepts exactly what the regular expression it replaced accepted.
func TestValidShortnameMatchesItsPattern(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)
	for _, v := range []string{"", "a", "GO-101", "acme_2026.q1", "_a", ".a", "-a", "a-", "a b", "é", "a/b",
		strings.Repeat("a", 100), strings.Repeat("a", 101), "a" + strings.Repeat("_", 99)} {
		if got, want := validShortname(v), re.MatchString(v); got != want {
			t.Errorf("validShortname(%q) = %v, want %v", v, got, want)
		}
	}
}
