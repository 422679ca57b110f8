package pages_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/auth/gateway/pages/pagestest"
)

// TestAllPagesAllLanguages renders every page (and every error kind) in
// every language: a missing translation key makes rendering fail.
func TestAllPagesAllLanguages(t *testing.T) {
	r, err := pages.New("Gemeente Testdorp")
	if err != nil {
		t.Fatal(err)
	}
	pagestest.RenderAll(t, r, nil, nil)
}

// TestSetsAreChecked: a set that redefines a page, a kind or a text, or
// lacks a language's texts, is refused.
func TestSetsAreChecked(t *testing.T) {
	for name, s := range map[string]pages.Set{
		"page twice":       {Pages: []string{pages.Login}},
		"kind twice":       {Kinds: []pages.Kind{"not_found"}},
		"text twice":       {Texts: map[string]map[string]string{"nl": {"home": "x"}, "fr": {"home": "x"}, "de": {"home": "x"}, "en": {"home": "x"}}},
		"language missing": {Texts: map[string]map[string]string{"nl": {"x.y": "x"}}},
	} {
		if _, err := pages.New("x", s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRenderUnknown(t *testing.T) {
	r, _ := pages.New("x")
	if err := r.Render(httptest.NewRecorder(), 500, pages.Error, pages.Data{Lang: "en", Kind: "nope"}); err == nil {
		t.Fatal("unknown error kind must fail")
	}
	if err := r.Render(httptest.NewRecorder(), 200, "nope", pages.Data{}); err == nil {
		t.Fatal("unknown page must fail")
	}
}

func TestNegotiate(t *testing.T) {
	cases := []struct{ cookie, al, want string }{
		{"", "", "nl"},
		{"fr", "de", "fr"},
		{"xx", "de-BE,de;q=0.9", "de"},
		{"", "en-GB;q=0.5, fr-BE;q=0.8", "fr"},
		{"", "es, it", "nl"},
		{"", "en;q=abc, de;q=0.1", "de"},
		{"", "EN", "en"},
		{"", "nl;q=2, en;q=0.3", "en"},
		{"", "nl-BE;q=0, fr;q=0.1", "fr"},
		{"", "lb", "de"},
		{"", "fy", "nl"},
		{"", "zh, en;q=0.1", "en"},
		{"", "*", "nl"},
		{"", strings.Repeat("xx,", 40) + "fr", "nl"},
	}
	for _, c := range cases {
		t.Run(c.cookie+"|"+c.al, func(t *testing.T) {
			if got := pages.Negotiate(c.cookie, c.al); got != c.want {
				t.Fatalf("got %s want %s", got, c.want)
			}
		})
	}
}
