package nrn

// This file is the one notion of "written like a national number": a value
// (Shaped, LooksLike) and a national number inside text (Find, Scrub,
// Holds).

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// maxShaped bounds the input Shaped looks at: eleven digits of four bytes
// each with separators between them fit many times over.
const maxShaped = 1024

// Shaped is the one notion of "written like a national number" in overstap.
// It reports whether s is eleven digits in any written form, and returns the
// Number when those digits also validate (zero Number otherwise: a mistyped
// national number is still a national number, and refusing or revoking it
// costs nothing).
//
// A written form is any sequence of digits and separators:
//
//   - digits: ASCII digits, every Unicode decimal digit (full-width,
//     Arabic-Indic, mathematical bold, ...) and the compatibility digits NFKC
//     folds to ASCII (superscript, circled, ...), as some legacy frameworks
//     normalise before their own lookup;
//   - separators, anywhere and repeated: every Unicode space and zero-width
//     space, '/', '_', and every character python-stdnum's be.nn compact()
//     removes after its Unicode clean-up (the dashes, dots and spaces it maps
//     to '-', '.' and ' ').
//
// Every string python-stdnum's be.nn accepts is Shaped and gives the same
// eleven digits; Shaped accepts more (slashes, underscores, non-ASCII digits)
// on purpose, because the gateway refuses and the migration revokes on it.
// Anything else (a letter, another symbol, invalid UTF-8, more or fewer than
// eleven digits, input over 1 KiB) is not Shaped.
func Shaped(s string) (Number, bool) {
	if len(s) > maxShaped {
		return Number{}, false
	}
	var d [11]byte
	n := 0
	take := func(r rune) bool {
		if isSeparator(r) {
			return true
		}
		v, ok := digitValue(r)
		if !ok || n == len(d) {
			return false
		}
		d[n] = byte('0' + v)
		n++
		return true
	}
	for _, r := range s {
		if take(r) {
			continue
		}
		if n == len(d) || r < 0x80 {
			return Number{}, false // ASCII is its own NFKC form
		}
		// Compatibility digits (superscript ², circled ②, ...) become ASCII
		// digits under NFKC; nothing else does.
		k := norm.NFKC.String(string(r))
		if k == string(r) {
			return Number{}, false
		}
		for _, q := range k {
			if !take(q) {
				return Number{}, false
			}
		}
	}
	if n != len(d) {
		return Number{}, false
	}
	num, err := fromDigits(string(d[:]))
	if err != nil {
		return Number{}, true
	}
	return num, true
}

// LooksLike reports whether s is written like a national number (Shaped),
// whether or not the check digits are right.
func LooksLike(s string) bool {
	_, ok := Shaped(s)
	return ok
}

// separators are the characters python-stdnum's util.clean maps to '-' and
// '.' (be.nn compact() then deletes them with ' '); spaces are matched by
// unicode.IsSpace and the explicit zero-width ones below.
var separators = map[rune]bool{
	// mapped to '-'
	'\u002d': true, '\u058a': true, '\u05be': true, '\u2010': true, '\u2011': true,
	'\u2012': true, '\u2013': true, '\u2014': true, '\u2015': true, '\ufe63': true,
	'\uff0d': true, '\u180a': true, '\u203e': true, '\u2043': true, '\u00af': true,
	'\u02d7': true, '\uffe3': true, '\u1680': true, '\u207b': true, '\u208b': true,
	'\u2212': true, '\u23af': true, '\u23ba': true, '\u23bb': true, '\u23bc': true,
	'\u23bd': true, '\u23e4': true,
	// mapped to '.'
	'\u002e': true, '\u00b7': true, '\u0387': true, '\u06d4': true, '\u3002': true,
	'\u0701': true, '\u0702': true, '\u0830': true, '\u0f0b': true, '\u0f0c': true,
	'\u16eb': true, '\u2022': true, '\u2024': true, '\u2027': true, '\u2e31': true,
	'\u2e33': true, '\u30fb': true, '\ufe52': true, '\uff0e': true, '\uff65': true,
	'\U00010101': true, '\U0001091f': true, '\U00010a50': true, '\u02d9': true,
	'\ufbb2': true, '\ufbb3': true, '\u2219': true, '\u22c5': true,
	// ours, beyond stdnum: slash and underscore groupings, zero-width spaces
	'/': true, '_': true, '\u200b': true, '\ufeff': true, '\u2060': true,
}

func isSeparator(r rune) bool { return unicode.IsSpace(r) || separators[r] }

// digitValue maps a Unicode decimal digit (category Nd) to 0..9. Unicode lays
// out decimal digits in runs of ten starting at a zero, and the Nd range
// table lists those runs (adjacent runs merged, so the offset is taken modulo
// 10).
func digitValue(r rune) (int, bool) {
	if r >= '0' && r <= '9' {
		return int(r - '0'), true
	}
	if r < 0x80 {
		return 0, false
	}
	for _, rg := range unicode.Nd.R16 {
		if lo, hi := rune(rg.Lo), rune(rg.Hi); r >= lo && r <= hi && rg.Stride == 1 {
			return int(r-lo) % 10, true
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if lo, hi := rune(rg.Lo), rune(rg.Hi); r >= lo && r <= hi && rg.Stride == 1 {
			return int(r-lo) % 10, true
		}
	}
	return 0, false
}

// Span is the byte range [Start, End) of a national number found in text.
type Span struct {
	Start, End int
	Number     Number
}

// Find returns the valid national numbers written in text in any accepted
// form, left to right, non-overlapping. A run of digits longer than 11 is not
// a national number and is skipped whole, so account numbers and the like are
// not reported by accident.
func Find(text string) []Span {
	var out []Span
	for i := 0; i < len(text); {
		if !isDigit(text[i]) || (i > 0 && isDigit(text[i-1])) {
			i++
			continue
		}
		found := false
		for _, f := range forms {
			end := i + len(f)
			if end > len(text) || (end < len(text) && isDigit(text[end])) {
				continue
			}
			d, err := normalize(text[i:end])
			if err != nil {
				continue
			}
			if n, err := fromDigits(d); err == nil {
				out = append(out, Span{Start: i, End: end, Number: n})
				i = end
				found = true
				break
			}
		}
		if !found {
			i++
		}
	}
	return out
}

// Contains reports whether text contains a valid national number in any
// accepted form.
func Contains(text string) bool { return len(Find(text)) > 0 }

// redact replaces every national number in text by its masked form.
func redact(text string) string {
	spans := Find(text)
	if len(spans) == 0 {
		return text
	}
	b := make([]byte, 0, len(text))
	last := 0
	for _, s := range spans {
		b = append(b, text[last:s.Start]...)
		b = append(b, s.Number.Mask()...)
		last = s.End
	}
	b = append(b, text[last:]...)
	return string(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// shapedMask replaces 11 digits written like a national number that are not
// a valid one.
const shapedMask = "***********"

// Holds reports whether text holds a national number or anything written
// like one: whether Scrub would change it. It is the test for a value that
// must never carry one (an audit field, a recorded name, an account id
// written to the audit log).
func Holds(text string) bool { return Scrub(text) != text }

// Scrub returns s with every national number, and everything written like
// one, replaced:
//
//   - a valid national number in any form Find finds becomes its mask,
//     "85.07.30-***.**";
//   - 11 digits in a canonical layout ("85.07.30-033.28", "850730 033 28",
//     "850730-033-28", "85073003328") that do not validate become
//     "***********": a mistyped national number still points at a person;
//   - a valid number grouped loosely by single spaces, dots, hyphens or
//     slashes ("85 07 30 033 28") becomes its mask.
//
// A run of more than 11 digits (an account number, a timestamp) is left
// alone. Text with fewer than 11 digits is returned as it is, without
// allocating. Scrub is what the log handler, the audit trail and every
// message built from a vendor's data use, so that no national number leaves
// overstap in clear.
func Scrub(s string) string {
	if digitCount(s) < 11 {
		return s
	}
	s = redact(s)
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
			if LooksLike(s[i:end]) {
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
			if num, err := Parse(string(d[:])); err == nil {
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
