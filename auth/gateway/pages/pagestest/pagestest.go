// Package pagestest checks every page of a pages.Renderer (the gateway's
// own and those of the sets given to it) in every language: the page
// tests of auth/gateway/pages and of the parts that bring their own pages
// (auth/family) call it, so every page gets the same checks.
package pagestest

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/internal/browsertest"
)

// Case is one page rendering: page, language and error kind ("" for a
// page that is not the error page).
type Case struct {
	Page, Lang string
	Kind       pages.Kind
}

// Cases lists every page of r in every language, the error page once per
// error kind, restricted to the pages keep accepts (nil: all).
func Cases(r *pages.Renderer, keep func(page string) bool) []Case {
	var out []Case
	for _, lang := range pages.Languages {
		for _, page := range r.Pages() {
			if keep != nil && !keep(page) {
				continue
			}
			kinds := []pages.Kind{""}
			if page == pages.Error {
				kinds = r.Kinds()
			}
			for _, k := range kinds {
				out = append(out, Case{Page: page, Lang: lang, Kind: k})
			}
		}
	}
	return out
}

// Data is the page data of c: every field set, with values that would
// show up unescaped; extra gives a page's typed data (pages.Data.Extra).
func Data(c Case, extra func(page string) any) pages.Data {
	d := pages.Data{Lang: c.Lang, Kind: string(c.Kind), CSRF: "tok<en>", ReturnTo: `/x?a=1&b="2"`, Action: "/.overstap/login",
		StaticPrefix: "/.overstap/static", Ref: "K7QX-2MPA",
		Providers: []pages.Provider{{Name: "itsme", Label: "itsme"}, {Name: "fas", Label: "eID"}}}
	if extra != nil {
		d.Extra = extra(c.Page)
	}
	return d
}

// RenderAll renders every case and fails on a missing text, an inline
// script or style, an external link, unescaped data, a form without CSRF
// token or a page without main heading. Every language must have the
// same text keys.
func RenderAll(t *testing.T, r *pages.Renderer, keep func(string) bool, extra func(string) any) {
	t.Helper()
	for _, c := range Cases(r, keep) {
		t.Run(c.Lang+"/"+c.Page+"/"+string(c.Kind), func(t *testing.T) {
			w := httptest.NewRecorder()
			if err := r.Render(w, 200, c.Page, Data(c, extra)); err != nil {
				t.Fatal(err)
			}
			body := w.Body.String()
			if !strings.Contains(body, `<html lang="`+c.Lang+`">`) || w.Header().Get("Content-Language") != c.Lang {
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
	first := r.Texts(pages.Languages[0])
	for _, lang := range pages.Languages[1:] {
		other := r.Texts(lang)
		for k := range first {
			if _, ok := other[k]; !ok {
				t.Errorf("%s misses %s", lang, k)
			}
		}
		if len(other) != len(first) {
			t.Errorf("%s has %d keys, %s %d", lang, len(other), pages.Languages[0], len(first))
		}
	}
}

// AxeAll renders every case in headless Chromium and runs axe-core on
// each (WCAG 2.1 A and AA): no violation is allowed.
func AxeAll(t *testing.T, r *pages.Renderer, keep func(string) bool, extra func(string) any) {
	t.Helper()
	cases := Cases(r, keep)
	mux := http.NewServeMux()
	mux.Handle("GET /.overstap/static/", http.StripPrefix("/.overstap/static/", http.FileServerFS(pages.Static())))
	paths := make([]string, len(cases))
	for i, c := range cases {
		paths[i] = "/p/" + strconv.Itoa(i)
		mux.HandleFunc("GET "+paths[i], func(w http.ResponseWriter, _ *http.Request) {
			d := Data(c, extra)
			d.CSRF, d.ReturnTo = "token", "/x"
			if err := r.Render(w, 200, c.Page, d); err != nil {
				t.Error(err)
			}
		})
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	n, passes := browsertest.AxeAll(t, srv.URL, paths)
	t.Logf("axe-core %s: %d pages, %d rule passes, rule sets %v", browsertest.AxeVersion, n, passes, browsertest.AxeTags)
}
