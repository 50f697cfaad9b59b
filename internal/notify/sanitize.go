package notify

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lmsshop/checkout/internal/trace"
)

// maxSubjectRunes caps a subject well under the 998-octet line limit of RFC
// 5322, even once encoded, because a buyer's name can be of any length.
const maxSubjectRunes = 200

// oneLine is for a value put into an e-mail header or a single-line field of an
// e-mail (a subject, a name in a greeting): invalid UTF-8 is replaced, every rune
// that trace.BreaksLine becomes a space, and runs of spaces collapse to one, so no
// value can start a new header line. It differs from trace.Sanitize (no collapsing,
// a length cap) and checkout.Clean (removal) because its output is read once by a
// mail client, never stored: a tidy subject is worth more than the exact spacing.
// Non-breaking spaces stay: they hold "1 234,50 €" together.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	for _, r := range s {
		if trace.BreaksLine(r) || r == ' ' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// multiLine keeps the line structure of a free text (an address, access
// information) but drops every other control character and normalises
// line ends to LF.
func multiLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u2029", "\n").Replace(s)
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\t':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n")
}

// SanitizeHeader returns v as a single header-safe line of at most 200
// runes. Senders apply it to every subject they are given, so an Email built
// outside Render is safe too.
func SanitizeHeader(v string) string {
	v = oneLine(v)
	if utf8.RuneCountInString(v) <= maxSubjectRunes {
		return v
	}
	r := []rune(v)
	return strings.TrimSpace(string(r[:maxSubjectRunes-1])) + "…"
}
