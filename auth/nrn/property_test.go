package nrn

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// naive is a second, deliberately simple formulation of the rules, written
// from REFERENCE.md §2 without looking at Parse: a regular expression per
// written form, strconv for the arithmetic, a month-length table for dates.
type naive struct {
	ok     bool
	digits string
	kind   Kind
	y, m   int
	d      int
	sex    Sex
}

var naiveForm = regexp.MustCompile(`^(?:[0-9]{11}|[0-9]{2}\.[0-9]{2}\.[0-9]{2}-[0-9]{3}\.[0-9]{2}|[0-9]{6} [0-9]{3} [0-9]{2}|[0-9]{6}-[0-9]{3}-[0-9]{2})$`)

func naiveParse(s string) naive {
	if len(s) > 64 { // the documented input bound
		return naive{}
	}
	s = strings.TrimFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' })
	if !naiveForm.MatchString(s) {
		return naive{}
	}
	digits := strings.NewReplacer(".", "", "-", "", " ", "").Replace(s)
	nine, _ := strconv.ParseInt(digits[:9], 10, 64)
	nine2000, _ := strconv.ParseInt("2"+digits[:9], 10, 64)
	check, _ := strconv.ParseInt(digits[9:], 10, 64)
	yy, _ := strconv.Atoi(digits[0:2])
	mm, _ := strconv.Atoi(digits[2:4])
	dd, _ := strconv.Atoi(digits[4:6])
	seq, _ := strconv.Atoi(digits[6:9])
	var year int
	if 97-nine%97 == check {
		year = 1900 + yy
	} else if 97-nine2000%97 == check {
		year = 2000 + yy
	} else {
		return naive{}
	}
	r := naive{ok: true, digits: digits, kind: KindNRN, y: year, m: mm, d: dd, sex: SexFemale}
	if seq%2 == 1 {
		r.sex = SexMale
	}
	if mm >= 40 {
		r.kind, r.m = KindBIS, mm-40
	} else if mm >= 20 {
		r.kind, r.m, r.sex = KindBIS, mm-20, SexUnknown
	}
	if r.m > 12 || r.d > 31 {
		return naive{}
	}
	if r.m > 0 && r.d > 0 {
		days := []int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[r.m-1]
		if r.m == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			days = 29
		}
		if r.d > days {
			return naive{}
		}
	}
	return r
}

// randomCandidate builds a string of digits and separators. Most are built
// from a written form with plausible dates and, half the time, correct check
// digits for a random century, so that the date rules get exercised; some are
// mutated or entirely random so that the syntax rules do too.
func randomCandidate(r *rand.Rand) string {
	const alphabet = "0123456789 .-\t"
	if r.IntN(8) == 0 {
		b := make([]byte, r.IntN(20))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	var d [11]byte
	for i := range d {
		d[i] = byte('0' + r.IntN(10))
	}
	if r.IntN(4) != 0 { // plausible month and day
		mm := r.IntN(13) + []int{0, 0, 20, 40, 7}[r.IntN(5)]
		dd := r.IntN(33)
		d[2], d[3] = byte('0'+mm/10), byte('0'+mm%10)
		d[4], d[5] = byte('0'+dd/10), byte('0'+dd%10)
	}
	if r.IntN(2) == 0 { // correct check digits for one century
		n := atoi(string(d[:9]))
		if r.IntN(2) == 0 {
			n += 2_000_000_000
		}
		c := 97 - n%97
		d[9], d[10] = byte('0'+c/10), byte('0'+c%10)
	}
	ds := string(d[:])
	s := []string{ds, dotted(ds), spaced(ds), hyphen(ds)}[r.IntN(4)]
	b := []byte(s)
	switch r.IntN(6) {
	case 0: // replace one byte
		b[r.IntN(len(b))] = alphabet[r.IntN(len(alphabet))]
	case 1: // insert one byte
		i := r.IntN(len(b) + 1)
		b = append(b[:i], append([]byte{alphabet[r.IntN(len(alphabet))]}, b[i:]...)...)
	case 2: // delete one byte
		i := r.IntN(len(b))
		b = append(b[:i], b[i+1:]...)
	}
	s = string(b)
	if r.IntN(5) == 0 {
		s = strings.Repeat(" ", r.IntN(3)) + s + strings.Repeat("\t", r.IntN(3))
	}
	return s
}

func TestParseMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(20261122, 1))
	const n = 120_000
	var valid, bis, y2000, unknownParts int
	for i := 0; i < n; i++ {
		s := randomCandidate(r)
		want := naiveParse(s)
		got, err := Parse(s)
		if (err == nil) != want.ok {
			t.Fatalf("Parse(%q): err=%v, naive ok=%v", s, err, want.ok)
		}
		if err != nil {
			continue
		}
		valid++
		if got.Digits() != want.digits || got.Kind() != want.kind || got.Year() != want.y ||
			got.Month() != want.m || got.Day() != want.d || got.Sex() != want.sex {
			t.Fatalf("Parse(%q) = %s %v %d-%d-%d %v; naive %s %v %d-%d-%d %v", s,
				got.Digits(), got.Kind(), got.Year(), got.Month(), got.Day(), got.Sex(),
				want.digits, want.kind, want.y, want.m, want.d, want.sex)
		}
		if got.Kind() == KindBIS {
			bis++
		}
		if got.Year() >= 2000 {
			y2000++
		}
		if got.Month() == 0 || got.Day() == 0 {
			unknownParts++
		}
	}
	t.Logf("%d inputs, %d valid (%d BIS, %d 2000s, %d with 00 parts)", n, valid, bis, y2000, unknownParts)
	// The generator must really reach the interesting cases.
	if valid < n/10 || bis < n/100 || y2000 < n/100 || unknownParts < n/200 {
		t.Errorf("too few interesting cases: valid=%d bis=%d y2000=%d unknown=%d", valid, bis, y2000, unknownParts)
	}
}

func TestNaiveAgreesOnTables(t *testing.T) {
	for _, tc := range validCases(t) {
		if !naiveParse(tc.in).ok {
			t.Errorf("naive rejects valid case %q (%s)", tc.in, tc.name)
		}
	}
	for _, tc := range rejectCases(t) {
		if naiveParse(tc.in).ok {
			t.Errorf("naive accepts rejected case %q (%s)", tc.in, tc.name)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range validCases(f) {
		f.Add(tc.in)
	}
	for _, tc := range rejectCases(f) {
		if len(tc.in) < 200 {
			f.Add(tc.in)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			if !n.IsZero() {
				t.Fatal("error with a non-zero number")
			}
			if err != ErrSyntax && err != ErrLength && !LooksLike(s) {
				t.Fatalf("Parse(%q) read 11 digits (%v) but LooksLike is false", s, err)
			}
			return
		}
		if sh, ok := Shaped(s); !ok || !sh.Equal(n) {
			t.Fatalf("Parse(%q) ok but Shaped disagrees", s)
		}
		if len(n.Digits()) != 11 || !utf8.ValidString(n.Format()) {
			t.Fatalf("bad digits %q", n.Digits())
		}
		for _, form := range []string{n.Format(), n.Digits(), spaced(n.Digits()), hyphen(n.Digits())} {
			m, err := Parse(form)
			if err != nil || !m.Equal(n) || m.BirthDate() != n.BirthDate() || m.Sex() != n.Sex() || m.Kind() != n.Kind() {
				t.Fatalf("round trip of %q through %q failed: %v", s, form, err)
			}
		}
		if strings.Contains(n.Mask(), n.Digits()[6:]) {
			t.Fatalf("Mask %q shows sequence and check digits", n.Mask())
		}
		if spans := Find(s); len(spans) != 1 || !spans[0].Number.Equal(n) {
			t.Fatalf("Find(%q) = %v, want the one number", s, spans)
		}
		if red := redact(s); Contains(red) {
			t.Fatalf("redact(%q) = %q still contains it", s, red)
		}
		if nv := naiveParse(s); !nv.ok || nv.digits != n.Digits() {
			t.Fatalf("naive disagrees on %q", s)
		}
	})
}
