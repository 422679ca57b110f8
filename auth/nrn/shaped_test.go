package nrn

import (
	"strings"
	"testing"
	"time"
)

// toDigits rewrites the ASCII digits of s in another Unicode digit block.
func toDigits(s string, zero rune) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			r = zero + (r - '0')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func toSuper(s string) string {
	sup := []rune("⁰¹²³⁴⁵⁶⁷⁸⁹")
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(sup[r-'0'])
	}
	return b.String()
}

func toCircled(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '0' {
			b.WriteRune('⓪')
		} else {
			b.WriteRune('①' + (r - '1'))
		}
	}
	return b.String()
}

func shapedNRN(t testing.TB) Number {
	n, err := Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), true, 11)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestShaped(t *testing.T) {
	n := shapedNRN(t)
	d := n.Digits()
	shaped := map[string]string{
		"plain":              d,
		"dotted":             n.Format(),
		"spaced":             d[:6] + " " + d[6:9] + " " + d[9:],
		"hyphenated":         d[:6] + "-" + d[6:9] + "-" + d[9:],
		"mixed separators":   d[:6] + "-" + d[6:9] + "." + d[9:],
		"spaced pairs":       d[:2] + " " + d[2:4] + " " + d[4:6] + " " + d[6:9] + " " + d[9:],
		"surrounding spaces": "  " + d + "\t",
		"slashes":            d[:2] + "/" + d[2:4] + "/" + d[4:6] + "/" + d[6:],
		"underscores":        d[:6] + "_" + d[6:],
		"no-break spaces":    d[:6] + "\u00a0" + d[6:9] + "\u202f" + d[9:],
		"zero-width space":   d[:6] + "\u200b" + d[6:],
		"full-width digits":  toDigits(d, '０'),
		"arabic-indic":       toDigits(d, '٠'),
		"devanagari":         toDigits(n.Format(), '०'),
		"math bold digits":   toDigits(d, 0x1D7CE),
		"math monospace":     toDigits(d, 0x1D7F6),
		"full-width dots":    strings.ReplaceAll(toDigits(n.Format(), '０'), ".", "．"),
		"unicode minus":      d[:6] + "\u2212" + d[6:],
		"en dash":            d[:6] + "\u2013" + d[6:],
		"middle dots":        d[:2] + "·" + d[2:4] + "·" + d[4:],
		"ideographic space":  d[:6] + "\u3000" + d[6:],
		"bad check digits":   d[:9] + "00",
		"odd grouping":       d[:1] + " " + d[1:],
		"superscript digits": toSuper(d),
		"circled digits":     toCircled(d),
	}
	for name, u := range shaped {
		t.Run("shaped/"+name, func(t *testing.T) {
			got, ok := Shaped(u)
			if !ok {
				t.Fatalf("Shaped(%q) = false", u)
			}
			if name == "bad check digits" {
				if !got.IsZero() {
					t.Fatal("a number with wrong check digits validated")
				}
				return
			}
			if !got.Equal(n) {
				t.Fatalf("number not recovered: %v", got)
			}
		})
	}
	for name, u := range map[string]string{
		"name":          "jan.peeters",
		"10 digits":     d[:10],
		"12 digits":     d + "1",
		"letters in":    d[:5] + "x" + d[5:],
		"email":         d + "@example.invalid",
		"comma":         d[:6] + "," + d[6:],
		"empty":         "",
		"only spaces":   "   ",
		"invalid utf-8": d[:6] + "\xff" + d[6:],
		"too long":      d + strings.Repeat(" ", maxShaped),
	} {
		t.Run("not shaped/"+name, func(t *testing.T) {
			if _, ok := Shaped(u); ok {
				t.Fatalf("Shaped(%q) = true", u)
			}
		})
	}
}

// stdnumCompact is python-stdnum's be.nn compact() as read from its source
// (stdnum/util.py clean() then be/nn.py): characters mapped to '-', '.' or
// ' ' are removed, surrounding white space is stripped; validate() then
// wants exactly 11 ASCII digits. Written from that reading, not from Shaped.
func stdnumCompact(s string) string {
	dash := "\u002d\u058a\u05be\u2010\u2011\u2012\u2013\u2014\u2015\ufe63\uff0d\u180a\u203e\u2043\u00af\u02d7\uffe3\u1680\u207b\u208b\u2212\u23af\u23ba\u23bb\u23bc\u23bd\u23e4"
	dot := "\u002e\u00b7\u0387\u06d4\u3002\u0701\u0702\u0830\u0f0b\u0f0c\u16eb\u2022\u2024\u2027\u2e31\u2e33\u30fb\ufe52\uff0e\uff65\U00010101\U0001091f\U00010a50\u02d9\ufbb2\ufbb3\u2219\u22c5"
	space := "\u0020\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(dash+dot+space, r) {
			continue
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

func stdnumDigits(s string) (string, bool) {
	c := stdnumCompact(s)
	if len(c) != 11 {
		return "", false
	}
	for i := 0; i < len(c); i++ {
		if c[i] < '0' || c[i] > '9' {
			return "", false
		}
	}
	return c, true
}

// TestShapedAgreesWithStdnum: every written form python-stdnum's be.nn reads
// as eleven digits is Shaped, with the same digits (the docstring examples
// included).
func TestShapedAgreesWithStdnum(t *testing.T) {
	n := shapedNRN(t)
	d := n.Digits()
	seps := []string{"", " ", "-", ".", "\u2013", "\u2014", "\u00b7", "\u2022", "\u00a0", "\u3000", "\uff0e", "\u2212", " - ", ". "}
	inputs := []string{"85.07.30-033 28", "85 07 30 033 28", "17 07 30 033 84", "12345678901"}
	for i, a := range seps {
		b := seps[(i*5+3)%len(seps)]
		inputs = append(inputs,
			d[:2]+a+d[2:4]+a+d[4:6]+b+d[6:9]+a+d[9:],
			d[:6]+b+d[6:9]+a+d[9:],
			" "+d[:6]+a+a+d[6:]+"\t")
	}
	for _, in := range inputs {
		want, ok := stdnumDigits(in)
		if !ok {
			t.Fatalf("test input %q is not read by stdnum", in)
		}
		got, shaped := Shaped(in)
		if !shaped {
			t.Errorf("stdnum reads %q but Shaped does not", in)
			continue
		}
		if !got.IsZero() && got.Digits() != want {
			t.Errorf("Shaped(%q) = different digits than stdnum", in)
		}
		if v, err := fromDigits(want); err == nil && !v.Equal(got) {
			t.Errorf("stdnum digits of %q validate but Shaped returned no number", in)
		}
	}
}

func FuzzShaped(f *testing.F) {
	n, _ := Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), true, 11)
	for _, s := range []string{n.Digits(), n.Format(), toDigits(n.Digits(), '０'), "jan", "", "85 07 30 033 28"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		num, ok := Shaped(s)
		if !num.IsZero() && !ok {
			t.Fatal("number without shape")
		}
		if p, err := Parse(s); err == nil && (!ok || !p.Equal(num)) {
			t.Fatalf("Parse accepts %q but Shaped disagrees", s)
		}
		if want, read := stdnumDigits(s); read && len(s) <= maxShaped {
			if !ok {
				t.Fatalf("stdnum reads %q but Shaped does not", s)
			}
			if !num.IsZero() && num.Digits() != want {
				t.Fatalf("Shaped(%q) digits differ from stdnum's", s)
			}
		}
	})
}
