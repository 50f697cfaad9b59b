package httpapi

import (
	"regexp"
	"strings"
	"testing"
)

// validHost accepts exactly what the regular expression it replaced accepted.
func TestValidHostMatchesItsPattern(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)
	for _, h := range []string{"", "a", "127.0.0.1", "abc123.execute-api.eu-west-3.amazonaws.com", "-a", "a-", ".a", "a.", "a..b",
		"a_b", "a b", "é.com", "localhost:3000", strings.Repeat("a", 253), strings.Repeat("a", 254), "a" + strings.Repeat("-", 251) + "b"} {
		if got, want := validHost(h), re.MatchString(h); got != want {
			t.Errorf("validHost(%q) = %v, want %v", h, got, want)
		}
	}
}
