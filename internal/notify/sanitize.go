package notify

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxSubjectRunes caps a subject well under the 998-octet line limit of RFC
// 5322, even once encoded, because a buyer's name can be of any length.
const maxSubjectRunes = 200

// isBreak reports the runes that can end a header line or fake one: every
// control character (CR, LF, NUL, ESC, NEL …) and the Unicode line and
// paragraph separators.
func isBreak(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// oneLine makes s safe for a header or a single-line field: invalid UTF-8 is
// replaced, every control or separator character becomes a space, and runs of
// spaces collapse to one, so no value can start a new header line.
// Non-breaking spaces stay: they hold "1 234,50 €" together.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	for _, r := range s {
		if isBreak(r) || r == ' ' {
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
