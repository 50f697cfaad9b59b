package notify

import (
	"strings"
	"testing"
	"time"
)

func TestFormatDate(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		at   time.Time
		loc  *time.Location
		lang string
		want string
	}{
		{time.Date(2026, 7, 27, 9, 32, 13, 0, time.UTC), paris, "en", "27 July 2026, 11:32 CEST"},
		{time.Date(2026, 7, 27, 9, 32, 13, 0, time.UTC), paris, "fr", "27 juillet 2026 à 11:32 CEST"},
		// Winter time, and a UTC instant that is already the next day in Paris.
		{time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), paris, "fr", "1 janvier 2027 à 00:30 CET"},
		{time.Date(2026, 2, 3, 4, 5, 0, 0, time.UTC), time.UTC, "en", "3 February 2026, 04:05 UTC"},
	}
	for _, tt := range tests {
		if got := formatDate(tt.at, tt.loc, tt.lang); got != tt.want {
			t.Errorf("formatDate(%v, %v, %s) = %q, want %q", tt.at, tt.loc, tt.lang, got, tt.want)
		}
	}
}

func TestOneLineAndMultiLine(t *testing.T) {
	oneLines := []struct{ in, want string }{
		{"Jane", "Jane"},
		{"  Jane \t Doe ", "Jane Doe"},
		{"Evil\r\nBcc: victim@example.com", "Evil Bcc: victim@example.com"},
		{"a\rb\nc\x00d\x1be\u0085f\u2028g\u2029h", "a b c d e f g h"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
	}
	for _, tt := range oneLines {
		if got := oneLine(tt.in); got != tt.want {
			t.Errorf("oneLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	multiLines := []struct{ in, want string }{
		{"12 rue des Lilas\r\n75011 Paris\r\n", "12 rue des Lilas\n75011 Paris"},
		{"a\rb\x00c\td\x1b", "a\nbc d"},
	}
	for _, tt := range multiLines {
		if got := multiLine(tt.in); got != tt.want {
			t.Errorf("multiLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSanitizeHeaderCapsLength(t *testing.T) {
	got := SanitizeHeader(strings.Repeat("é", 500))
	if n := len([]rune(got)); n != maxSubjectRunes {
		t.Errorf("SanitizeHeader of 500 runes kept %d runes, want %d", n, maxSubjectRunes)
	}
	if !strings.HasSuffix(got, "…") {
		t.Errorf("a cut subject should end with an ellipsis: %q", got)
	}
}
