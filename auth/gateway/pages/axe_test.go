package pages

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/overstap/overstap/internal/browsertest"
)

// TestAccessibility renders every page, every error kind and both
// variants of the pages that have them, in every language, in headless
// Chromium and runs axe-core on each (WCAG 2.1 A and AA): no violation is
// allowed. The same pages are checked in flow by the demo's browser tests.
func TestAccessibility(t *testing.T) {
	r, err := New("Gemeente Testdorp")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /.overstap/static/", http.StripPrefix("/.overstap/static/", http.FileServerFS(Static())))
	mux.HandleFunc("GET /p/{lang}/{page}/{kind}", func(w http.ResponseWriter, req *http.Request) {
		kind := req.PathValue("kind")
		if kind == "-" {
			kind = ""
		}
		d := Data{Lang: req.PathValue("lang"), Kind: kind, CSRF: "token", ReturnTo: "/x", Action: "/.overstap/login",
			StaticPrefix: "/.overstap/static", Ref: "K7QX-2MPA",
			Providers: []Provider{{Name: "itsme", Label: "itsme"}, {Name: "fas", Label: "eID"}}}
		if err := r.Render(w, 200, req.PathValue("page"), d); err != nil {
			t.Error(err)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var paths []string
	for _, lang := range Languages {
		for _, page := range Pages {
			kinds := []string{"-"}
			if page == Error {
				kinds = ErrorKinds
			}
			for _, kind := range kinds {
				paths = append(paths, "/p/"+lang+"/"+page+"/"+kind)
			}
		}
	}
	n, passes := browsertest.AxeAll(t, srv.URL, paths)
	t.Logf("axe-core %s: %d pages, %d rule passes, rule sets %v", browsertest.AxeVersion, n, passes, browsertest.AxeTags)
}
