package nrn

import (
	"strings"
	"testing"
	"time"
)

func TestFind(t *testing.T) {
	a := synthN(t, 1985, time.July, 30, true, 3)
	b := synthN(t, 2012, time.February, 29, false, 7)
	c := synthBIS(t, 1990, time.May, 17, true, false, 1)
	bad := flipCheck(t, a.Digits())
	type span struct {
		start, end int
		digits     string
	}
	tests := []struct {
		name string
		text string
		want []span
	}{
		{"none", "nothing to see here 12345", nil},
		{"empty", "", nil},
		{"plain in a sentence", "user " + a.Digits() + " logged in", []span{{5, 16, a.Digits()}}},
		{"dotted", "nrn=" + a.Format(), []span{{4, 19, a.Digits()}}},
		{"spaced at end", "x " + spaced(b.Digits()), []span{{2, 15, b.Digits()}}},
		{"hyphen at start", hyphen(c) + ": ok", []span{{0, 13, c}}},
		{"whole text", a.Digits(), []span{{0, 11, a.Digits()}}},
		{"several forms", a.Digits() + "," + b.Format() + ";" + hyphen(c), []span{
			{0, 11, a.Digits()}, {12, 27, b.Digits()}, {28, 41, c}}},
		{"next to letters", "id" + a.Digits() + "x", []span{{2, 13, a.Digits()}}},
		{"in a query string", "/p?u=" + a.Digits() + "&q=1", []span{{5, 16, a.Digits()}}},
		{"wrong check digits not reported", "user " + bad, nil},
		{"12-digit run is not a number", "acct " + a.Digits() + "7", nil},
		{"digit before is not a number", "acct 9" + a.Digits(), nil},
		{"long run containing one", "1234" + a.Digits() + "5678", nil},
		{"followed by separator and digits", a.Digits() + "-12", []span{{0, 11, a.Digits()}}},
		{"misplaced separators", a.Digits()[:5] + "-" + a.Digits()[5:], nil},
		{"multibyte text around", "é " + a.Format() + " ü", []span{{3, 18, a.Digits()}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Find(tc.text)
			if len(got) != len(tc.want) {
				t.Fatalf("Find found %d spans, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Start != w.start || g.End != w.end || g.Number.Digits() != w.digits {
					t.Errorf("span %d = [%d,%d) %s, want [%d,%d) %s", i, g.Start, g.End, g.Number.Digits(), w.start, w.end, w.digits)
				}
			}
			if Contains(tc.text) != (len(tc.want) > 0) {
				t.Errorf("Contains = %v", Contains(tc.text))
			}
		})
	}
}

func TestRedact(t *testing.T) {
	a := synthN(t, 1985, time.July, 30, true, 3)
	b := synthN(t, 2012, time.February, 29, false, 7)
	tests := []struct{ name, in, want string }{
		{"none", "hello 123", "hello 123"},
		{"one", "user " + a.Digits() + " in", "user 85.07.30-***.** in"},
		{"two forms", a.Format() + " and " + spaced(b.Digits()), "85.07.30-***.** and 12.02.29-***.**"},
		{"adjacent", a.Digits() + "," + b.Digits(), "85.07.30-***.**,12.02.29-***.**"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := redact(tc.in)
			if got != tc.want {
				t.Errorf("Redact = %q, want %q", got, tc.want)
			}
			if Contains(got) {
				t.Errorf("Redact output %q still contains a number", got)
			}
		})
	}
}

func TestLooksLike(t *testing.T) {
	a := synthN(t, 1985, time.July, 30, true, 3).Digits()
	bad := flipCheck(t, a)
	tests := []struct {
		in   string
		want bool
	}{
		{a, true},
		{dotted(a), true},
		{spaced(a), true},
		{hyphen(a), true},
		{"  " + a + "\t", true},
		{bad, true}, // mistyped check digits: still a national number to the gateway
		{dotted(bad), true},
		{"99999999999", true}, // impossible date: still shaped like one
		{"", false},
		{a[:10], false},
		{a + "0", false},
		{"user" + a, false},
		{a[:5] + "-" + a[5:], true}, // any grouping
		{toFullwidth(a), true},
		{a[:5] + "x" + a[5:], false},
		{a + "@example.invalid", false},
		// Parse refuses inputs over 64 bytes before trimming; LooksLike trims
		// first, so that a padded username is still refused by the gateway.
		{strings.Repeat(" ", 80) + a, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := LooksLike(tc.in); got != tc.want {
				t.Errorf("LooksLike(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestSynthetic(t *testing.T) {
	dates := []time.Time{
		time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2004, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC),
	}
	for _, d := range dates {
		for _, male := range []bool{true, false} {
			for _, seq := range []int{0, 1, 49, 50, -1, 1234} {
				n, err := Synthetic(d, male, seq)
				if err != nil {
					t.Fatalf("Synthetic(%v, %v, %d): %v", d, male, seq, err)
				}
				if !IsSynthetic(n) || n.Digits()[6] != '9' {
					t.Errorf("%s: sequence is not 9xx", n.Mask())
				}
				wantSex := SexFemale
				if male {
					wantSex = SexMale
				}
				if n.Sex() != wantSex || n.Kind() != KindNRN || n.BirthDate() != d.Format(time.DateOnly) {
					t.Errorf("Synthetic(%v, %v) = %s %v %v", d, male, n.BirthDate(), n.Sex(), n.Kind())
				}
				if p, err := Parse(n.Format()); err != nil || !p.Equal(n) {
					t.Errorf("synthetic %s does not parse back: %v", n.Mask(), err)
				}
				for _, known := range []bool{true, false} {
					b, err := SyntheticBIS(d, male, known, seq)
					if err != nil {
						t.Fatalf("SyntheticBIS: %v", err)
					}
					ws := wantSex
					if !known {
						ws = SexUnknown
					}
					if b.Kind() != KindBIS || b.Sex() != ws || b.BirthDate() != d.Format(time.DateOnly) || !IsSynthetic(b) {
						t.Errorf("SyntheticBIS(%v, %v, %v) = %s %v %v", d, male, known, b.BirthDate(), b.Sex(), b.Kind())
					}
				}
			}
		}
	}
	for _, y := range []int{1899, 2100, 1} {
		if _, err := Synthetic(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), true, 0); err == nil {
			t.Errorf("Synthetic accepted year %d", y)
		}
	}
	if IsSynthetic(MustParse("85073003328")) || IsSynthetic(Number{}) {
		t.Error("IsSynthetic true for a non-9xx number")
	}
}

func TestGenerator(t *testing.T) {
	g1, g2 := NewGenerator(42), NewGenerator(42)
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		a, b := g1.Next(), g2.Next()
		if !a.Equal(b) {
			t.Fatalf("generators with the same seed differ at %d", i)
		}
		if !IsSynthetic(a) || a.Year() < 1930 || a.Year() > 2024 {
			t.Fatalf("Next = %s (year %d), want synthetic 1930..2024", a.Mask(), a.Year())
		}
		if _, err := Parse(a.Digits()); err != nil {
			t.Fatalf("Next produced an invalid number: %v", err)
		}
		seen[a.Digits()] = true
	}
	if len(seen) < 1900 {
		t.Errorf("only %d distinct numbers in 2000", len(seen))
	}
	if NewGenerator(1).Next().Equal(NewGenerator(2).Next()) && NewGenerator(1).Next().Equal(NewGenerator(3).Next()) {
		t.Error("different seeds give the same numbers")
	}
}

func TestScrub(t *testing.T) {
	a := synthN(t, 1985, time.July, 30, true, 3)
	d := a.Digits()
	spaced := d[0:6] + " " + d[6:9] + " " + d[9:]
	hyphen := d[0:6] + "-" + d[6:9] + "-" + d[9:]
	bad := flipCheck(t, d)
	loose := d[0:2] + " " + d[2:4] + " " + d[4:6] + " " + d[6:9] + " " + d[9:]
	tests := []struct{ name, in, want string }{
		{"no digits", "hello world", "hello world"},
		{"short numbers", "port 8080 took 12ms", "port 8080 took 12ms"},
		{"plain", "user " + d, "user 85.07.30-***.**"},
		{"dotted", "user " + a.Format() + ".", "user 85.07.30-***.**."},
		{"spaced", spaced, "85.07.30-***.**"},
		{"hyphen in quotes", `"` + hyphen + `"`, `"85.07.30-***.**"`},
		{"bad check digits", "login " + bad + " failed", "login *********** failed"},
		{"bad check digits dotted", bad[0:2] + "." + bad[2:4] + "." + bad[4:6] + "-" + bad[6:9] + "." + bad[9:], "***********"},
		{"impossible date", "u=99999999999", "u=***********"},
		{"loose grouping valid", "nr " + loose + " ok", "nr 85.07.30-***.** ok"},
		{"loose with slashes", d[0:2] + "/" + d[2:4] + "/" + d[4:6] + "." + d[6:9] + "." + d[9:], "85.07.30-***.**"},
		{"loose invalid left alone", "10 20 30 40 50 6", "10 20 30 40 50 6"},
		{"12-digit account left", "acct 123456789012", "acct 123456789012"},
		{"timestamp left", "t=1763900000000", "t=1763900000000"},
		{"IP and date left", "from 192.168.100.200 at 2026-11-22 10:30:15", "from 192.168.100.200 at 2026-11-22 10:30:15"},
		{"several", d + "," + bad + ";" + loose, "85.07.30-***.**,***********;85.07.30-***.**"},
		{"inside JSON", `{"username":"` + d + `"}`, `{"username":"85.07.30-***.**"}`},
		{"reference kept", a.Ref(MustRefKey([]byte(strings.Repeat("k", 32)))), a.Ref(MustRefKey([]byte(strings.Repeat("k", 32))))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Scrub(tc.in)
			if got != tc.want {
				t.Errorf("Scrub(%q) = %q, want %q", tc.in, got, tc.want)
			}
			assertClean(t, got)
		})
	}
}

// assertClean fails when out holds a national number or anything written
// like one.
func assertClean(t *testing.T, out string) {
	t.Helper()
	if spans := Find(out); len(spans) > 0 {
		t.Errorf("output holds a national number at %d: %q", spans[0].Start, out[max(0, spans[0].Start-20):min(len(out), spans[0].End+20)])
	}
	if replaceShaped(out) != out {
		t.Errorf("output holds 11 digits written like a national number: %q", out)
	}
}

func FuzzScrub(f *testing.F) {
	n, _ := Synthetic(time.Date(2004, 2, 29, 0, 0, 0, 0, time.UTC), false, 8)
	d := n.Digits()
	for _, s := range []string{"", "x", d, n.Format(), "a " + d + " b", d[:6] + " " + d[6:9] + " " + d[9:],
		d[0:2] + " " + d[2:4] + " " + d[4:6] + " " + d[6:9] + " " + d[9:], "1" + d, d + d, "99999999999", "12.34.56-789.01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Scrub(s)
		if len(Find(out)) > 0 || replaceShaped(out) != out {
			t.Fatalf("Scrub(%q) = %q still holds a national number", s, out)
		}
		if digitCount(s) < 11 && out != s {
			t.Fatalf("Scrub changed %q without 11 digits", s)
		}
	})
}

// TestHolds: a valid number in any form, 11 digits in a number's layout
// with wrong check digits, and a loosely grouped valid number are held;
// short numbers, longer runs and references are not.
func TestHolds(t *testing.T) {
	a := synthN(t, 1985, time.July, 30, true, 3)
	d := a.Digits()
	bad := flipCheck(t, d)
	for _, in := range []string{d, "id " + a.Format(), spaced(d), bad, "acct-" + bad, d[0:2] + " " + d[2:4] + " " + d[4:6] + " " + d[6:9] + " " + d[9:]} {
		if !Holds(in) {
			t.Errorf("Holds(%q) = false", redact(in))
		}
	}
	for _, in := range []string{"", "acc-42", "port 8080", "123456789012", "t=1763900000000", a.Ref(MustRefKey([]byte(strings.Repeat("k", 32))))} {
		if Holds(in) {
			t.Errorf("Holds(%q) = true", in)
		}
	}
}
