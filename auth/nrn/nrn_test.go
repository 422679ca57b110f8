package nrn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

// withCheck appends the check digits to nine digits, for the 1900s or for
// the 2000 rule. Test-only: it lets the tables build numbers whose date part
// is chosen freely (month 00, day 00, BIS months, one-century leap days).
func withCheck(t testing.TB, nine string, y2000 bool) string {
	t.Helper()
	if len(nine) != 9 {
		t.Fatalf("withCheck: %q is not 9 digits", nine)
	}
	n := atoi(nine)
	if y2000 {
		n += 2_000_000_000
	}
	return fmt.Sprintf("%s%02d", nine, 97-n%97)
}

// flipCheck returns d with check digits that match neither century.
func flipCheck(t testing.TB, d string) string {
	t.Helper()
	for c := 0; c < 100; c++ {
		cand := fmt.Sprintf("%s%02d", d[:9], c)
		if cand == d {
			continue
		}
		if _, err := fromDigits(cand); errors.Is(err, ErrChecksum) {
			return cand
		}
	}
	t.Fatalf("flipCheck: no bad check digits for %s", d[:9])
	return ""
}

func synthN(t testing.TB, y int, m time.Month, d int, male bool, seq int) Number {
	t.Helper()
	n, err := Synthetic(time.Date(y, m, d, 0, 0, 0, 0, time.UTC), male, seq)
	if err != nil {
		t.Fatalf("Synthetic: %v", err)
	}
	return n
}

func dotted(d string) string {
	return d[0:2] + "." + d[2:4] + "." + d[4:6] + "-" + d[6:9] + "." + d[9:11]
}
func spaced(d string) string { return d[0:6] + " " + d[6:9] + " " + d[9:11] }
func hyphen(d string) string { return d[0:6] + "-" + d[6:9] + "-" + d[9:11] }

type want struct {
	digits string
	kind   Kind
	date   string
	sex    Sex
}

type validCase struct {
	name string
	in   string
	want want
}

// validCases is the table of accepted inputs, shared with FuzzParse.
func validCases(t testing.TB) []validCase {
	male := synthN(t, 1985, time.July, 30, true, 3).Digits()     // 850730 9xx, 1900s
	female := synthN(t, 2017, time.March, 4, false, 10).Digits() // 170304 9xx, 2000 rule
	leap2000 := withCheck(t, "000229902", true)                  // 29 Feb 2000 exists
	leap1904 := withCheck(t, "040229903", false)                 // 29 Feb 1904 exists
	leap2004 := withCheck(t, "040229904", true)                  // and 29 Feb 2004
	bis20 := synthBIS(t, 1990, time.May, 17, true, false, 7)     // sex unknown
	bis40m := synthBIS(t, 1990, time.May, 17, true, true, 7)     // sex known, male
	bis40f := synthBIS(t, 2003, time.December, 31, false, true, 8)
	return []validCase{
		// The worked examples of REFERENCE.md §2 (checksum rule only).
		{"reference 1985", "85073003328", want{"85073003328", KindNRN, "1985-07-30", SexMale}},
		{"reference 1993", "93051822361", want{"93051822361", KindNRN, "1993-05-18", SexMale}},
		{"reference 2000 rule", "00012556777", want{"00012556777", KindNRN, "2000-01-25", SexMale}},
		{"reference 2017", "17073003384", want{"17073003384", KindNRN, "2017-07-30", SexMale}},
		{"same nine digits with the 1900 check", withCheck(t, "000125567", false), want{"", KindNRN, "1900-01-25", SexMale}},

		{"plain", male, want{male, KindNRN, "1985-07-30", SexMale}},
		{"dotted eID form", dotted(male), want{male, KindNRN, "1985-07-30", SexMale}},
		{"grouped by spaces", spaced(male), want{male, KindNRN, "1985-07-30", SexMale}},
		{"grouped by hyphens", hyphen(male), want{male, KindNRN, "1985-07-30", SexMale}},
		{"surrounding spaces", "  " + male + "  ", want{male, KindNRN, "1985-07-30", SexMale}},
		{"surrounding tabs and CRLF", "\t" + dotted(male) + "\r\n", want{male, KindNRN, "1985-07-30", SexMale}},
		{"spaced form with surrounding spaces", " " + spaced(male) + " ", want{male, KindNRN, "1985-07-30", SexMale}},
		{"female 2000 rule", female, want{female, KindNRN, "2017-03-04", SexFemale}},
		{"female dotted", dotted(female), want{female, KindNRN, "2017-03-04", SexFemale}},

		{"29 Feb 2000 (leap only in the 2000s)", leap2000, want{leap2000, KindNRN, "2000-02-29", SexFemale}},
		{"29 Feb 1904", leap1904, want{leap1904, KindNRN, "1904-02-29", SexMale}},
		{"29 Feb 2004", leap2004, want{leap2004, KindNRN, "2004-02-29", SexFemale}},

		{"month 00", withCheck(t, "850012901", false), want{"", KindNRN, "1985-00-12", SexMale}},
		{"day 00", withCheck(t, "850700902", false), want{"", KindNRN, "1985-07-00", SexFemale}},
		{"month and day 00", withCheck(t, "850000903", false), want{"", KindNRN, "1985-00-00", SexMale}},
		{"month 00 2000 rule", withCheck(t, "050031904", true), want{"", KindNRN, "2005-00-31", SexFemale}},
		{"day 00 in February", withCheck(t, "010200905", true), want{"", KindNRN, "2001-02-00", SexMale}},

		{"BIS +20 sex unknown", bis20, want{bis20, KindBIS, "1990-05-17", SexUnknown}},
		{"BIS +40 male", bis40m, want{bis40m, KindBIS, "1990-05-17", SexMale}},
		{"BIS +40 female 2000 rule", bis40f, want{bis40f, KindBIS, "2003-12-31", SexFemale}},
		{"BIS +20 even sequence still unknown", withCheck(t, "902517902", false), want{"", KindBIS, "1990-05-17", SexUnknown}},
		{"BIS month 20 (unknown month)", withCheck(t, "902000901", false), want{"", KindBIS, "1990-00-00", SexUnknown}},
		{"BIS month 40 (unknown month)", withCheck(t, "904015901", false), want{"", KindBIS, "1990-00-15", SexMale}},
		{"BIS +20 29 Feb 2000", withCheck(t, "002229901", true), want{"", KindBIS, "2000-02-29", SexUnknown}},
		{"BIS +40 month 52", withCheck(t, "855231902", false), want{"", KindBIS, "1985-12-31", SexFemale}},
		{"BIS hyphen form", hyphen(bis40m), want{bis40m, KindBIS, "1990-05-17", SexMale}},
	}
}

func TestParseValid(t *testing.T) {
	for _, tc := range validCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			wd := tc.want.digits
			if wd == "" {
				wd = strings.Trim(tc.in, " \t\r\n")
			}
			if n.Digits() != wd {
				t.Errorf("Digits = %q, want %q", n.Digits(), wd)
			}
			if n.Kind() != tc.want.kind {
				t.Errorf("Kind = %v, want %v", n.Kind(), tc.want.kind)
			}
			if n.BirthDate() != tc.want.date {
				t.Errorf("BirthDate = %q, want %q", n.BirthDate(), tc.want.date)
			}
			if n.Sex() != tc.want.sex {
				t.Errorf("Sex = %v, want %v", n.Sex(), tc.want.sex)
			}
			if got := fmt.Sprintf("%04d-%02d-%02d", n.Year(), n.Month(), n.Day()); got != tc.want.date {
				t.Errorf("Year/Month/Day = %s, want %s", got, tc.want.date)
			}
			if n.IsZero() {
				t.Error("IsZero on a parsed number")
			}
		})
	}
}

func synthBIS(t testing.TB, y int, m time.Month, d int, male, sexKnown bool, seq int) string {
	t.Helper()
	n, err := SyntheticBIS(time.Date(y, m, d, 0, 0, 0, 0, time.UTC), male, sexKnown, seq)
	if err != nil {
		t.Fatalf("SyntheticBIS: %v", err)
	}
	return n.Digits()
}

type rejectCase struct {
	name string
	in   string
	want error
}

// rejectCases is the table of refused inputs, shared with FuzzParse.
func rejectCases(t testing.TB) []rejectCase {
	good := synthN(t, 1985, time.July, 30, true, 3).Digits()
	return []rejectCase{
		{"empty", "", ErrSyntax},
		{"only spaces", "   ", ErrSyntax},
		{"10 digits", good[:10], ErrLength},
		{"12 digits", good + "1", ErrLength},
		{"1 digit", "8", ErrLength},
		{"letter inside", good[:5] + "a" + good[6:], ErrSyntax},
		{"letter suffix", good + "x", ErrSyntax},
		{"prefix letters", "BE" + good, ErrSyntax},
		{"wrong check digits", flipCheck(t, good), ErrChecksum},
		{"wrong check digits dotted", dotted(flipCheck(t, good)), ErrChecksum},
		{"check digits 00", good[:9] + "00", ErrChecksum},
		{"reference example off by one", "85073003329", ErrChecksum},

		{"29 Feb 1900 (not a leap year)", withCheck(t, "000229902", false), ErrDate},
		{"29 Feb 2001", withCheck(t, "010229902", true), ErrDate},
		{"29 Feb 1985", withCheck(t, "850229902", false), ErrDate},
		{"30 Feb", withCheck(t, "840230902", false), ErrDate},
		{"31 April", withCheck(t, "850431902", false), ErrDate},
		{"31 June 2000s", withCheck(t, "100631902", true), ErrDate},
		{"day 32", withCheck(t, "850132902", false), ErrDate},
		{"day 99", withCheck(t, "850199902", false), ErrDate},
		{"day 32 month 00", withCheck(t, "850032902", false), ErrDate},
		{"month 13", withCheck(t, "851301902", false), ErrDate},
		{"month 19", withCheck(t, "851901902", false), ErrDate},
		{"month 33 (BIS +20 beyond December)", withCheck(t, "853301902", false), ErrDate},
		{"month 39", withCheck(t, "853901902", false), ErrDate},
		{"month 53 (BIS +40 beyond December)", withCheck(t, "855301902", false), ErrDate},
		{"month 60", withCheck(t, "856001902", false), ErrDate},
		{"month 99", withCheck(t, "859901902", false), ErrDate},
		{"BIS 31 April", withCheck(t, "852431902", false), ErrDate},
		{"BIS 29 Feb 1900", withCheck(t, "004229902", false), ErrDate},

		{"separator in wrong place", good[:5] + "-" + good[5:8] + "-" + good[8:], ErrSyntax},
		{"dots everywhere", good[0:2] + "." + good[2:4] + "." + good[4:6] + "." + good[6:9] + "." + good[9:], ErrSyntax},
		{"dotted without hyphen", good[0:2] + "." + good[2:4] + "." + good[4:6] + good[6:9] + "." + good[9:], ErrSyntax},
		{"hyphen then space", good[0:6] + "-" + good[6:9] + " " + good[9:], ErrSyntax},
		{"double space", good[0:6] + "  " + good[6:9] + " " + good[9:], ErrSyntax},
		{"tab as separator", good[0:6] + "\t" + good[6:9] + "\t" + good[9:], ErrSyntax},
		{"slashes", good[0:2] + "/" + good[2:4] + "/" + good[4:6] + "-" + good[6:9] + "." + good[9:], ErrSyntax},
		{"only one group separator", good[0:6] + " " + good[6:], ErrSyntax},
		{"dotted one digit short", dotted(good)[:14], ErrSyntax},
		{"leading separator", "-" + good, ErrSyntax},
		{"internal space in plain", good[:3] + " " + good[3:], ErrSyntax},
		{"sign", "+" + good, ErrSyntax},

		{"fullwidth digits", toFullwidth(good), ErrSyntax},
		{"arabic-indic digits", toArabicIndic(good), ErrSyntax},
		{"one fullwidth digit", good[:10] + "８", ErrSyntax},
		{"non-breaking space around", "\u00a0" + good + "\u00a0", ErrSyntax},
		{"zero width space inside", good[:6] + "\u200b" + good[6:], ErrSyntax},
		{"NUL inside", good[:6] + "\x00" + good[6:], ErrSyntax},
		{"invalid UTF-8", good[:6] + "\xff" + good[6:], ErrSyntax},
		{"very long spaces", strings.Repeat(" ", 100) + good, ErrSyntax},
		{"huge input", strings.Repeat("1", 1<<16), ErrSyntax},
	}
}

func TestParseReject(t *testing.T) {
	good := synthN(t, 1985, time.July, 30, true, 3).Digits()
	for _, tc := range rejectCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error %v", tc.in, n, tc.want)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("Parse(%q) error = %v, want %v", tc.in, err, tc.want)
			}
			if !n.IsZero() {
				t.Errorf("Parse returned a non-zero Number with an error")
			}
			if strings.Contains(err.Error(), good[:6]) {
				t.Errorf("error %q contains the input", err)
			}
		})
	}
}

func toFullwidth(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			c = '０' + (c - '0')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func toArabicIndic(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			c = '٠' + (c - '0')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// TestCenturyExclusive checks the premise of the 2000 rule: no 9 digits
// validate with the same check digits in both centuries.
func TestCenturyExclusive(t *testing.T) {
	if 2_000_000_000%97 == 0 {
		t.Fatal("2e9 is a multiple of 97: the check digits could not tell the century")
	}
	for _, nine := range []string{"850730033", "000125567", "000229902", "999999999", "000000000"} {
		a, b := withCheck(t, nine, false), withCheck(t, nine, true)
		if a == b {
			t.Errorf("%s: same check digits in both centuries", nine)
		}
	}
}

func TestFormatMaskString(t *testing.T) {
	n := synthN(t, 1985, time.July, 30, true, 3)
	d := n.Digits()
	if got, want := n.Format(), dotted(d); got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
	if got, want := n.Mask(), "85.07.30-***.**"; got != want {
		t.Errorf("Mask = %q, want %q", got, want)
	}
	for _, f := range []string{"%v", "%s", "%+v", "%#v", "%q"} {
		got := fmt.Sprintf(f, n)
		if strings.Contains(got, d) || strings.Contains(got, d[6:9]) {
			t.Errorf("Sprintf(%s) = %q shows the clear number", f, got)
		}
		if !strings.Contains(got, "85.07.30-***.**") {
			t.Errorf("Sprintf(%s) = %q, want the mask", f, got)
		}
	}
	if got := fmt.Sprintf("%v", struct{ N Number }{n}); strings.Contains(got, d[6:9]) {
		t.Errorf("number inside a struct printed as %q", got)
	}
	if got := n.LogValue().String(); got != n.Mask() {
		t.Errorf("LogValue = %q", got)
	}
	var _ slog.LogValuer = n
	var js, txt bytes.Buffer
	slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "nrn", n)
	slog.New(slog.NewTextHandler(&txt, nil)).Info("m", "nrn", n)
	if !strings.Contains(js.String(), `"nrn":"85.07.30-***.**"`) || !strings.Contains(txt.String(), "nrn=85.07.30-***.**") {
		t.Errorf("slog output:\n%s%s", js.String(), txt.String())
	}
	if _, err := json.Marshal(n); err == nil {
		t.Error("json.Marshal of a Number succeeded; it must refuse")
	}
	if _, err := n.MarshalText(); err == nil {
		t.Error("MarshalText succeeded; it must refuse")
	}
	var z Number
	if z.Format() != "" || z.Mask() != "" || z.BirthDate() != "" || z.Ref(MustRefKey(make([]byte, 32))) != "" || !z.IsZero() {
		t.Error("zero Number must format as empty strings")
	}
	// Round trip through every form.
	for _, s := range []string{d, n.Format(), spaced(d), hyphen(d)} {
		m, err := Parse(s)
		if err != nil || !m.Equal(n) {
			t.Errorf("Parse(%q) = %v, %v; want equal to original", s, m, err)
		}
	}
	other := synthN(t, 1985, time.July, 30, true, 4)
	if n.Equal(other) {
		t.Error("different numbers compare equal")
	}
}

func TestRef(t *testing.T) {
	key := MustRefKey([]byte("0123456789abcdef0123456789abcdef"))
	a := synthN(t, 1970, time.January, 1, false, 1)
	b := synthN(t, 1970, time.January, 1, false, 2)
	ra := a.Ref(key)
	if !strings.HasPrefix(ra, "nrnref1:") {
		t.Fatalf("Ref = %q, want prefix nrnref1:", ra)
	}
	if !IsRef(ra) {
		t.Errorf("IsRef(%q) = false", ra)
	}
	if ra != a.Ref(key) {
		t.Error("Ref is not deterministic")
	}
	if ra == b.Ref(key) {
		t.Error("different numbers give the same reference")
	}
	if ra == a.Ref(MustRefKey([]byte("another key, also 32 bytes long!"))) {
		t.Error("different keys give the same reference")
	}
	if strings.Contains(ra, a.Digits()) || Contains(ra) {
		t.Errorf("Ref %q shows the number", ra)
	}
	for _, bad := range []string{"", "nrnref1:", "nrnref1:abc", "nrnref2:" + ra[8:], ra + "A", a.Digits(), "nrnref1:" + strings.Repeat("=", 43)} {
		if IsRef(bad) {
			t.Errorf("IsRef(%q) = true", bad)
		}
	}
}

func TestBirthAndAge(t *testing.T) {
	n := synthN(t, 2008, time.May, 20, false, 5)
	b, ok := n.Birth()
	if !ok || !b.Equal(time.Date(2008, 5, 20, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("Birth = %v, %v", b, ok)
	}
	tests := []struct {
		at   time.Time
		want int
	}{
		{time.Date(2026, 5, 19, 23, 0, 0, 0, time.UTC), 17},
		{time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC), 18},
		{time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC), 17},
		{time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), 18},
		{time.Date(2008, 5, 20, 0, 0, 0, 0, time.UTC), 0},
	}
	for _, tc := range tests {
		t.Run(tc.at.Format(time.DateOnly), func(t *testing.T) {
			got, ok := n.AgeAt(tc.at)
			if !ok || got != tc.want {
				t.Errorf("AgeAt = %d, %v; want %d", got, ok, tc.want)
			}
		})
	}
	unknown, err := Parse(withCheck(t, "080500902", true))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := unknown.Birth(); ok {
		t.Error("Birth of a number with day 00 reports known")
	}
	if _, ok := unknown.AgeAt(time.Now()); ok {
		t.Error("AgeAt of a number with day 00 reports known")
	}
}

func TestKindSexStrings(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{KindNRN.String(), "nrn"}, {KindBIS.String(), "bis"}, {Kind(0).String(), "unknown"},
		{SexMale.String(), "M"}, {SexFemale.String(), "F"}, {SexUnknown.String(), "unknown"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestMustParse(t *testing.T) {
	n := synthN(t, 1999, time.December, 31, true, 0)
	if !MustParse(n.Format()).Equal(n) {
		t.Error("MustParse did not return the number")
	}
	defer func() {
		if recover() == nil {
			t.Error("MustParse of an invalid number did not panic")
		}
	}()
	MustParse("not a number")
}

func TestNewRefKey(t *testing.T) {
	raw := make([]byte, MinRefKeyLen)
	k, err := NewRefKey(raw)
	if err != nil || k.IsZero() {
		t.Fatalf("key of %d bytes refused: %v", MinRefKeyLen, err)
	}
	n := synthN(t, 1970, time.January, 1, false, 1)
	before := n.Ref(k)
	raw[0] = 1 // the caller's bytes change: the key does not
	if n.Ref(k) != before {
		t.Fatal("RefKey shares the caller's bytes")
	}
	if fmt.Sprint(k) != "nrn.RefKey(redacted)" || fmt.Sprintf("%#v %v %+v", k, k, k) != "nrn.RefKey(redacted) nrn.RefKey(redacted) nrn.RefKey(redacted)" {
		t.Fatalf("the key shows in print: %v", k)
	}
	for _, n := range []int{0, 5, MinRefKeyLen - 1} {
		k, err := NewRefKey(make([]byte, n))
		if !errors.Is(err, ErrShortRefKey) || !strings.Contains(err.Error(), fmt.Sprintf("(it is %d)", n)) || !k.IsZero() {
			t.Errorf("key of %d bytes: %v", n, err)
		}
	}
	// The zero key never makes a reference: Ref panics (every constructor
	// taking a RefKey refuses the zero one first).
	defer func() {
		if recover() == nil {
			t.Fatal("Ref with the zero key did not panic")
		}
	}()
	n.Ref(RefKey{})
}

// TestForms: every written form parses back to the same number, in the
// order of the accepted layouts; the zero Number has none.
func TestForms(t *testing.T) {
	n := synthN(t, 1985, time.July, 30, true, 3)
	d := n.Digits()
	want := []string{d, dotted(d), spaced(d), hyphen(d)}
	got := n.Forms()
	if !slices.Equal(got, want) {
		t.Fatalf("Forms = %v, want %v", got, want)
	}
	for _, f := range got {
		m, err := Parse(f)
		if err != nil || !m.Equal(n) {
			t.Fatalf("form %q does not parse back: %v", redact(f), err)
		}
	}
	if (Number{}).Forms() != nil {
		t.Fatal("zero number must give no forms")
	}
}
