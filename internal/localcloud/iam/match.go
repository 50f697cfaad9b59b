package iam

import (
	"strings"
	"unicode/utf8"
)

// wildcardMatch reports whether s matches pattern, where * matches any run of
// characters (none included) and ? exactly one. It backtracks only to the last *, so
// it runs in O(len(pattern)·len(s)) at worst.
func wildcardMatch(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		if p < len(pattern) {
			switch c := pattern[p]; {
			case c == '*':
				star, mark = p, i
				p++
				continue
			case c == '?':
				_, w := utf8.DecodeRuneInString(s[i:])
				p++
				i += w
				continue
			case c == s[i]:
				p++
				i++
				continue
			}
		}
		if star < 0 {
			return false
		}
		p = star + 1
		_, w := utf8.DecodeRuneInString(s[mark:])
		mark += w
		i = mark
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// actionMatch matches an action ("dynamodb:PutItem") against a policy's pattern: case
// insensitive, with wildcards, "*" matching every action.
func actionMatch(pattern, action string) bool {
	return wildcardMatch(pattern, action, true)
}

// resourceMatch matches a resource ARN against a policy's pattern, case sensitively,
// as IAM does: the first five colon-separated parts (arn, partition, service, region,
// account) match one by one, and the rest (the resource, which may itself hold colons
// and slashes) as a whole, so a * never reaches across a part boundary. "*" matches
// every resource; a resource given as "*" (an action without resource types) matches
// only a pattern that is "*".
func resourceMatch(pattern, resource string) bool {
	if pattern == "*" {
		return true
	}
	pp := strings.SplitN(pattern, ":", 6)
	rp := strings.SplitN(resource, ":", 6)
	if len(pp) != 6 || len(rp) != 6 {
		return false
	}
	for i := range pp {
		if !wildcardMatch(pp[i], rp[i], false) {
			return false
		}
	}
	return true
}

// arnMatch is the ArnEquals/ArnLike comparison of condition values: the same
// part-by-part wildcard match as resources.
func arnMatch(pattern, value string) bool {
	return resourceMatch(pattern, value)
}
