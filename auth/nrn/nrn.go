package nrn

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Kind tells a national register number from a BIS number.
type Kind uint8

const (
	// KindNRN is a number from the national register.
	KindNRN Kind = iota + 1
	// KindBIS is a BIS number (people not in the national register):
	// birth month + 20 (sex unknown at assignment) or + 40 (sex known).
	KindBIS
)

// String returns "nrn" or "bis".
func (k Kind) String() string {
	switch k {
	case KindNRN:
		return "nrn"
	case KindBIS:
		return "bis"
	}
	return "unknown"
}

// Sex is the sex encoded in the sequence number.
type Sex uint8

const (
	// SexUnknown is used for BIS numbers assigned with month + 20.
	SexUnknown Sex = iota
	// SexMale is an odd sequence number.
	SexMale
	// SexFemale is an even sequence number.
	SexFemale
)

// String returns "M", "F" or "unknown".
func (s Sex) String() string {
	switch s {
	case SexMale:
		return "M"
	case SexFemale:
		return "F"
	}
	return "unknown"
}

// Errors returned by Parse. They never contain the input.
var (
	ErrLength   = errors.New("nrn: must have 11 digits")
	ErrSyntax   = errors.New("nrn: not a written form of a national number")
	ErrChecksum = errors.New("nrn: check digits do not match")
	ErrDate     = errors.New("nrn: birth date does not exist")
)

// Number is a validated national register number or BIS number. The zero
// value is not a valid number; use Parse.
type Number struct {
	digits string // exactly 11 ASCII digits
	kind   Kind
	year   int // full year, decided by the check digits
	month  int // 0 when unknown
	day    int // 0 when unknown
	sex    Sex
}

// maxInput bounds the input Parse looks at: the longest written form
// ("85.07.30-033.28") plus generous surrounding space.
const maxInput = 64

// Parse accepts the written forms of a national number seen in the wild and
// nothing else:
//
//	85073003328        plain 11 digits
//	85.07.30-033.28    as printed on the eID card
//	850730 033 28      grouped by spaces
//	850730-033-28      grouped by hyphens
//
// Surrounding ASCII white space is ignored. Separators must stand at the
// group boundaries of one of these forms; letters, other characters and
// non-ASCII digits are rejected.
func Parse(s string) (Number, error) {
	if len(s) > maxInput {
		return Number{}, ErrSyntax
	}
	s = strings.Trim(s, " \t\r\n")
	digits, err := normalize(s)
	if err != nil {
		return Number{}, err
	}
	return fromDigits(digits)
}

// MustParse is Parse for known-good literals in tests and examples; it
// panics on an invalid number.
func MustParse(s string) Number {
	n, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return n
}

// forms lists the accepted layouts: 'd' is a digit, any other byte must be
// matched exactly.
var forms = []string{
	"ddddddddddd",
	"dd.dd.dd-ddd.dd",
	"dddddd ddd dd",
	"dddddd-ddd-dd",
}

func normalize(s string) (string, error) {
	for _, f := range forms {
		if len(s) != len(f) {
			continue
		}
		var b [11]byte
		n, ok := 0, true
		for i := 0; i < len(f); i++ {
			c := s[i]
			if f[i] == 'd' {
				if c < '0' || c > '9' {
					ok = false
					break
				}
				b[n] = c
				n++
			} else if c != f[i] {
				ok = false
				break
			}
		}
		if ok {
			return string(b[:]), nil
		}
	}
	// Tell a wrong count of digits from a wrong shape, for clearer messages.
	allDigits := s != ""
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			allDigits = false
			break
		}
	}
	if allDigits {
		return "", ErrLength
	}
	return "", ErrSyntax
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// fromDigits validates 11 ASCII digits.
func fromDigits(d string) (Number, error) {
	base := atoi(d[:9])
	check := atoi(d[9:])
	var year int
	yy := atoi(d[0:2])
	switch {
	case 97-(base%97) == check:
		year = 1900 + yy
	case 97-((2_000_000_000+base)%97) == check:
		year = 2000 + yy
	default:
		return Number{}, ErrChecksum
	}
	n := Number{digits: d, kind: KindNRN, year: year, day: atoi(d[4:6])}
	mm := atoi(d[2:4])
	seq := atoi(d[6:9])
	sexBySeq := SexFemale
	if seq%2 == 1 {
		sexBySeq = SexMale
	}
	switch {
	case mm <= 12:
		n.month, n.sex = mm, sexBySeq
	case mm >= 20 && mm <= 32:
		n.kind, n.month, n.sex = KindBIS, mm-20, SexUnknown
	case mm >= 40 && mm <= 52:
		n.kind, n.month, n.sex = KindBIS, mm-40, sexBySeq
	default:
		return Number{}, ErrDate
	}
	if n.day > 31 {
		return Number{}, ErrDate
	}
	if n.month != 0 && n.day != 0 {
		t := time.Date(n.year, time.Month(n.month), n.day, 0, 0, 0, 0, time.UTC)
		if t.Month() != time.Month(n.month) || t.Day() != n.day {
			return Number{}, ErrDate
		}
	}
	return n, nil
}

// IsZero reports whether n is the zero value (no number).
func (n Number) IsZero() bool { return n.digits == "" }

// Digits returns the 11 digits. This is the clear national number: use it only
// where the clear value is needed (a store lookup, an upstream header the app
// asks for), never in logs, URLs, metric labels or cache keys.
func (n Number) Digits() string { return n.digits }

// Kind reports whether n is a national register number or a BIS number.
func (n Number) Kind() Kind { return n.kind }

// Sex returns the sex encoded in the sequence number (unknown for BIS + 20).
func (n Number) Sex() Sex { return n.sex }

// Year returns the full birth year, century decided by the check digits.
func (n Number) Year() int { return n.year }

// Month returns the birth month, 0 when unknown.
func (n Number) Month() int { return n.month }

// Day returns the birth day, 0 when unknown.
func (n Number) Day() int { return n.day }

// BirthDate returns the birth date as YYYY-MM-DD with 00 for unknown parts.
func (n Number) BirthDate() string {
	if n.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", n.year, n.month, n.day)
}

// Birth returns the birth date as a time and whether it is fully known.
func (n Number) Birth() (time.Time, bool) {
	if n.IsZero() || n.month == 0 || n.day == 0 {
		return time.Time{}, false
	}
	return time.Date(n.year, time.Month(n.month), n.day, 0, 0, 0, 0, time.UTC), true
}

// AgeAt returns the age in whole years at t, and false when the birth date
// is not fully known.
func (n Number) AgeAt(t time.Time) (int, bool) {
	b, ok := n.Birth()
	if !ok {
		return 0, false
	}
	t = t.UTC()
	age := t.Year() - b.Year()
	if t.Month() < b.Month() || (t.Month() == b.Month() && t.Day() < b.Day()) {
		age--
	}
	return age, true
}

// Format returns the eID-card form, e.g. "85.07.30-033.28".
func (n Number) Format() string {
	if n.IsZero() {
		return ""
	}
	d := n.digits
	return d[0:2] + "." + d[2:4] + "." + d[4:6] + "-" + d[6:9] + "." + d[9:11]
}

// Forms returns n in every accepted written form, in the order of the
// layouts Parse accepts: plain ("85073003328"), eID card
// ("85.07.30-033.28"), spaced ("850730 033 28"), hyphenated
// ("850730-033-28"). These are the forms a legacy store may hold as a
// username or in a national-number column; nil for the zero Number.
func (n Number) Forms() []string {
	if n.IsZero() {
		return nil
	}
	out := make([]string, 0, len(forms))
	for _, f := range forms {
		b := []byte(f)
		j := 0
		for i := range b {
			if b[i] == 'd' {
				b[i] = n.digits[j]
				j++
			}
		}
		out = append(out, string(b))
	}
	return out
}

// Mask returns the form for people, with the sequence and check digits
// hidden: "85.07.30-***.**".
func (n Number) Mask() string {
	if n.IsZero() {
		return ""
	}
	d := n.digits
	return d[0:2] + "." + d[2:4] + "." + d[4:6] + "-***.**"
}

// String returns the masked form, so that a Number printed by accident (%v,
// a log attribute) never shows the clear value.
func (n Number) String() string { return n.Mask() }

// GoString returns the masked form too.
func (n Number) GoString() string { return "nrn.Number(" + n.Mask() + ")" }

// LogValue makes slog record the masked form only (it implements
// slog.LogValuer, so JSON handlers do not fall back to MarshalText).
func (n Number) LogValue() slog.Value { return slog.StringValue(n.Mask()) }

// MarshalText refuses: a national number must never be serialised by
// accident. Call Digits where the clear value is really needed.
func (n Number) MarshalText() ([]byte, error) {
	return nil, errors.New("nrn: refusing to serialise a national number; use Digits, Ref or Mask explicitly")
}

// Equal reports whether a and b are the same number.
func (n Number) Equal(o Number) bool { return n.digits == o.digits }

// MinRefKeyLen is the least length of the key of references (Number.Ref):
// a 256-bit HMAC-SHA256 key. [NewRefKey] checks it; this is the one place
// the bound is written.
const MinRefKeyLen = 32

// ErrShortRefKey is returned by [NewRefKey] for a key shorter than
// [MinRefKeyLen].
var ErrShortRefKey = fmt.Errorf("nrn: the reference key must be at least %d bytes", MinRefKeyLen)

// RefKey is the key of national-number references, checked once when it
// is made ([NewRefKey]): every part takes a RefKey, not bytes, so none
// checks a length again and none can be handed a short key. The zero
// RefKey is no key; Ref refuses it.
type RefKey struct {
	k string // a copy: the caller's bytes may be cleared or reused
}

// NewRefKey returns the key b, or an error wrapping [ErrShortRefKey] with
// its length (never its value) when it is too short.
func NewRefKey(b []byte) (RefKey, error) {
	if len(b) < MinRefKeyLen {
		return RefKey{}, fmt.Errorf("%w (it is %d); generate one with head -c 32 /dev/urandom | base64", ErrShortRefKey, len(b))
	}
	return RefKey{k: string(b)}, nil
}

// MustRefKey is NewRefKey for keys written in code (tests, benchmarks):
// it panics on a short key.
func MustRefKey(b []byte) RefKey {
	k, err := NewRefKey(b)
	if err != nil {
		panic(err)
	}
	return k
}

// RandomRefKey returns a fresh random key, for references that mean
// nothing outside one run (finding duplicates in a scan).
func RandomRefKey() RefKey {
	b := make([]byte, MinRefKeyLen)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return RefKey{k: string(b)}
}

// IsZero reports whether k is no key.
func (k RefKey) IsZero() bool { return k.k == "" }

// Bytes returns a copy of the key, for the other keyed references made
// with the same secret (usernames, rate-limit buckets), each with its own
// label.
func (k RefKey) Bytes() []byte { return []byte(k.k) }

// String never shows the key.
func (k RefKey) String() string { return "nrn.RefKey(redacted)" }

// GoString never shows the key (%#v).
func (k RefKey) GoString() string { return k.String() }

// refPrefix tags references so they are recognisable and versioned.
const refPrefix = "nrnref1:"

// Ref returns a keyed pseudonymous reference to n: "nrnref1:" followed by
// base64url(HMAC-SHA256(key, digits)). The same key always gives the same
// reference, so it can be used as a lookup key; without the key it cannot be
// reversed by enumerating the (small) space of national numbers.
//
// It panics on the zero RefKey: every constructor that takes a RefKey
// refuses the zero one, so this is a programming error, never input.
func (n Number) Ref(key RefKey) string {
	if key.IsZero() {
		panic("nrn: Ref with the zero RefKey")
	}
	if n.IsZero() {
		return ""
	}
	m := hmac.New(sha256.New, []byte(key.k))
	m.Write([]byte("overstap/nrn-ref/v1\x00"))
	m.Write([]byte(n.digits))
	return refPrefix + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// IsRef reports whether s has the shape of a reference made by Ref.
func IsRef(s string) bool {
	if !strings.HasPrefix(s, refPrefix) {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(s[len(refPrefix):])
	return err == nil && len(b) == sha256.Size
}
