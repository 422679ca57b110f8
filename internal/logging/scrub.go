package logging

import (
	"strings"

	"github.com/overstap/overstap/auth/nrn"
)

// shapedMask replaces 11 digits written like a national number that are not
// a valid one.
const shapedMask = "***********"

// Scrub returns s with every national number, and everything written like
// one, replaced as the package documentation describes. Text with fewer
// than 11 digits is returned as it is, without allocating.
func Scrub(s string) string {
	if digitCount(s) < 11 {
		return s
	}
	s = nrn.Redact(s)
	// Valid numbers in loose groupings first, so that they get the
	// informative mask; what is left shaped like a number is blanked.
	s = replaceLoose(s)
	return replaceShaped(s)
}

func digitCount(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			n++
		}
	}
	return n
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// formLengths are the lengths of nrn's accepted written forms
// ("85.07.30-033.28", "850730 033 28" and "850730-033-28", "85073003328").
var formLengths = []int{15, 13, 11}

// replaceShaped masks 11 digits in an accepted written form, whatever their
// check digits, that stand alone (no digit directly before or after).
func replaceShaped(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !isDigit(s[i]) || (i > 0 && isDigit(s[i-1])) {
			i++
			continue
		}
		matched := 0
		for _, l := range formLengths {
			end := i + l
			if end > len(s) || !isDigit(s[end-1]) || (end < len(s) && isDigit(s[end])) {
				continue
			}
			if nrn.LooksLike(s[i:end]) {
				matched = l
				break
			}
		}
		if matched == 0 {
			i++
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(shapedMask)
		i += matched
		last = i
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isLooseSep(c byte) bool { return c == ' ' || c == '.' || c == '-' || c == '/' }

// replaceLoose masks a valid national number written as 11 digits grouped by
// single separators in some other way ("85 07 30 033 28"). The group must
// not continue with more digits on either side.
func replaceLoose(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		startsGroup := isDigit(s[i]) && (i == 0 || (!isDigit(s[i-1]) &&
			!(isLooseSep(s[i-1]) && i > 1 && isDigit(s[i-2]))))
		if !startsGroup {
			i++
			continue
		}
		var d [11]byte
		n, j := 0, i
		for j < len(s) && n < 11 {
			if isDigit(s[j]) {
				d[n] = s[j]
				n++
				j++
				continue
			}
			if isLooseSep(s[j]) && j+1 < len(s) && isDigit(s[j+1]) && isDigit(s[j-1]) {
				j++
				continue
			}
			break
		}
		// j is just past the 11th digit (or where the group broke).
		more := j < len(s) && (isDigit(s[j]) || (isLooseSep(s[j]) && j+1 < len(s) && isDigit(s[j+1])))
		if n == 11 && !more {
			if num, err := nrn.Parse(string(d[:])); err == nil {
				b.WriteString(s[last:i])
				b.WriteString(num.Mask())
				last = j
			}
		}
		i = j + 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}
