package pages

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestAllPagesAllLanguages renders every page (and every error kind) in
// every language: a missing translation key makes rendering fail.
func TestAllPagesAllLanguages(t *testing.T) {
	r, err := New("Gemeente Testdorp")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range Languages {
		for _, page := range Pages {
			kinds := []string{""}
			if page == Error {
				kinds = ErrorKinds
			}
			for _, kind := range kinds {
				t.Run(lang+"/"+page+"/"+kind, func(t *testing.T) {
					w := httptest.NewRecorder()
					d := Data{Lang: lang, Kind: kind, CSRF: "tok<en>", ReturnTo: `/x?a=1&b="2"`, Action: "/.overstap/login",
						StaticPrefix: "/.overstap/static", Ref: "abc123",
						Providers: []Provider{{Name: "itsme", Label: "itsme"}, {Name: "fas", Label: "eID"}}}
					if err := r.Render(w, 200, page, d); err != nil {
						t.Fatal(err)
					}
					body := w.Body.String()
					if !strings.Contains(body, `<html lang="`+lang+`">`) || w.Header().Get("Content-Language") != lang {
						t.Fatal("wrong language")
					}
					if strings.Contains(body, "<script") || strings.Contains(body, "style=") || strings.Contains(body, "<style") {
						t.Fatal("inline script or style")
					}
					if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
						t.Fatal("external asset or link")
					}
					if strings.Contains(body, "tok<en>") || strings.Contains(body, `"2"`) {
						t.Fatal("unescaped data")
					}
					if strings.Contains(body, "<form") && !strings.Contains(body, `name="csrf" value="tok&lt;en&gt;"`) {
						t.Fatal("form without CSRF token")
					}
					if !regexp.MustCompile(`<h1>[^<]+</h1>`).MatchString(body) || !strings.Contains(body, "<main") {
						t.Fatal("no main heading")
					}
				})
			}
		}
	}
	// Every language has exactly the same keys.
	for _, lang := range Languages[1:] {
		for k := range texts[Languages[0]] {
			if _, ok := texts[lang][k]; !ok {
				t.Errorf("%s misses %s", lang, k)
			}
		}
		if len(texts[lang]) != len(texts[Languages[0]]) {
			t.Errorf("%s has %d keys, nl %d", lang, len(texts[lang]), len(texts[Languages[0]]))
		}
	}
}

func TestRenderUnknown(t *testing.T) {
	r, _ := New("x")
	if err := r.Render(httptest.NewRecorder(), 500, Error, Data{Lang: "en", Kind: "nope"}); err == nil {
		t.Fatal("unknown error kind must fail")
	}
	if err := r.Render(httptest.NewRecorder(), 200, "nope", Data{}); err == nil {
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
			if got := Negotiate(c.cookie, c.al); got != c.want {
				t.Fatalf("got %s want %s", got, c.want)
			}
		})
	}
}
