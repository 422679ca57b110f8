package upstream

import (
	"bufio"
	"encoding/hex"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/overstap/overstap/internal/testsvc"
)

// nameVectors are display names a municipality's citizens have: Dutch,
// French and German diacritics, Arabic (right to left), CJK, an
// apostrophe, a plus sign (form decoders read "+" as a space), a hyphen,
// and characters outside the Basic Multilingual Plane.
var nameVectors = []struct{ name, header string }{
	{"Renée Peeters", "Ren%C3%A9e%20Peeters"},
	{"Zoë Françoise-Noël", "Zo%C3%AB%20Fran%C3%A7oise-No%C3%ABl"},
	{"Jürgen Weiß", "J%C3%BCrgen%20Wei%C3%9F"},
	{"محمد العلوي", "%D9%85%D8%AD%D9%85%D8%AF%20%D8%A7%D9%84%D8%B9%D9%84%D9%88%D9%8A"},
	{"王小明", "%E7%8E%8B%E5%B0%8F%E6%98%8E"},
	{"D'Hondt", "D%27Hondt"},
	{"A+B van_der~Berg.", "A%2BB%20van_der~Berg."},
	{"𠜎 😀", "%F0%A0%9C%8E%20%F0%9F%98%80"},
}

// TestEncodeName: the header value is plain ASCII and every decoder gives
// the exact name back.
func TestEncodeName(t *testing.T) {
	for _, v := range nameVectors {
		got := EncodeName(v.name)
		if got != v.header {
			t.Errorf("EncodeName(%q) = %q, want %q", v.name, got, v.header)
		}
		for i := 0; i < len(got); i++ {
			if got[i] < 0x21 || got[i] > 0x7e {
				t.Errorf("%q: byte %#x is not visible ASCII", got, got[i])
			}
		}
		if d, err := url.PathUnescape(got); err != nil || d != v.name {
			t.Errorf("PathUnescape(%q) = %q, %v", got, d, err)
		}
		if d, err := url.QueryUnescape(got); err != nil || d != v.name {
			t.Errorf("QueryUnescape(%q) = %q, %v (form decoding)", got, d, err)
		}
	}
}

// TestEncodeNamePHP decodes the header values with PHP, the language of
// many legacy municipal apps: rawurldecode and the form decoder urldecode
// both give the exact UTF-8 name back.
func TestEncodeNamePHP(t *testing.T) {
	php := testsvc.LookPath(t, []string{"/usr/bin/php"}, "php-cli")
	var in strings.Builder
	for _, v := range nameVectors {
		in.WriteString(EncodeName(v.name) + "\n")
	}
	cmd := exec.Command(php, "-r", `while (($l = fgets(STDIN)) !== false) { $l = rtrim($l, "\n"); echo bin2hex(rawurldecode($l)), " ", bin2hex(urldecode($l)), "\n"; }`)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("php: %v", err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for _, v := range nameVectors {
		if !sc.Scan() {
			t.Fatal("php answered fewer lines")
		}
		want := hex.EncodeToString([]byte(v.name))
		if f := strings.Fields(sc.Text()); len(f) != 2 || f[0] != want || f[1] != want {
			t.Errorf("%q: php rawurldecode/urldecode gave %v, want %s", v.name, f, want)
		}
	}
}

func FuzzEncodeName(f *testing.F) {
	for _, v := range nameVectors {
		f.Add(v.name)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := EncodeName(s)
		if d, err := url.QueryUnescape(e); err != nil || d != s {
			t.Fatalf("QueryUnescape(EncodeName(%q)) = %q, %v", s, d, err)
		}
		if d, err := url.PathUnescape(e); err != nil || d != s {
			t.Fatalf("PathUnescape(EncodeName(%q)) = %q, %v", s, d, err)
		}
	})
}
