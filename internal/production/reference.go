package production

import (
	"strings"
)

// References are WWWW-XXXX-YYYY-ZZCC: 14 payload characters from the alphabet
// 0-9A-Z followed by a check pair CC computed with ISO/IEC 7064 MOD 97-10
// (the IBAN check): the payload read as base-36 digits forms a number N, and
// CC = 98 − (N·100 mod 97), written as two decimal digits.
//
// Why MOD 97-10: 97 is prime and larger than the 36 symbols, and 36^k mod 97
// is never 0, so changing any single character changes N mod 97 (a single
// substitution is always detected); swapping adjacent characters a,b changes N
// by (a−b)(36−1)·36^k, and 35·36^k is never a multiple of 97 while |a−b| < 97,
// so adjacent transpositions are always detected too. The check pair itself is
// covered the same way because N·100 + CC ≡ 1 (mod 97) is what is verified.
// Its digits-only alphabet also keeps it apart from the payload's letters.

const refAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// payloadLen is the number of characters before the check pair.
const payloadLen = 14

// ReferenceFromNumber builds a reference whose 14 payload characters are taken
// from hi and lo (any values; they are reduced to base 36).
func ReferenceFromNumber(hi, lo uint64) string {
	payload := make([]byte, payloadLen)
	// 7 base-36 digits from each half: 36^7 < 2^37, so both halves contribute.
	for i := 6; i >= 0; i-- {
		payload[i] = refAlphabet[hi%36]
		hi /= 36
		payload[7+i] = refAlphabet[lo%36]
		lo /= 36
	}
	return format(string(payload) + checkPair(string(payload)))
}

// format inserts the dashes: 16 characters → WWWW-XXXX-YYYY-ZZCC.
func format(s string) string {
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}

// mod97 returns the payload's value mod 97, or -1 if a character is outside the alphabet.
func mod97(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		v := strings.IndexByte(refAlphabet, s[i])
		if v < 0 {
			return -1
		}
		n = (n*36 + v) % 97
	}
	return n
}

func checkPair(payload string) string {
	c := 98 - (mod97(payload)*100)%97
	return string([]byte{byte('0' + c/10), byte('0' + c%10)})
}

// ValidReference reports whether s is a well-formed reference with a correct
// check pair. It is case-sensitive: references are printed in upper case.
func ValidReference(s string) bool {
	if len(s) != 19 || s[4] != '-' || s[9] != '-' || s[14] != '-' {
		return false
	}
	raw := s[0:4] + s[5:9] + s[10:14] + s[15:19]
	payload, cc := raw[:payloadLen], raw[payloadLen:]
	if cc[0] < '0' || cc[0] > '9' || cc[1] < '0' || cc[1] > '9' {
		return false
	}
	m := mod97(payload)
	if m < 0 {
		return false
	}
	c := int(cc[0]-'0')*10 + int(cc[1]-'0')
	return (m*100+c)%97 == 1
}
