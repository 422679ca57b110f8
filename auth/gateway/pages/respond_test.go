package pages

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWantsPage(t *testing.T) {
	cases := []struct {
		method   string
		h        map[string]string
		page     bool // WantsPage
		navigate bool // IsNavigation
	}{
		{"GET", map[string]string{"Accept": "text/html,application/xhtml+xml", "Sec-Fetch-Mode": "navigate"}, true, true},
		{"GET", map[string]string{}, true, true},
		{"HEAD", map[string]string{"Accept": "*/*"}, true, true},
		{"GET", map[string]string{"Accept": "application/json"}, false, false},
		{"GET", map[string]string{"Accept": "Application/JSON"}, false, false},
		{"GET", map[string]string{"Accept": "text/html", "X-Requested-With": "XMLHttpRequest"}, false, false},
		{"GET", map[string]string{"Accept": "*/*", "Sec-Fetch-Mode": "cors"}, false, false},
		{"GET", map[string]string{"Accept": "image/png"}, false, false},
		// A form submission gets a page, but is never redirected.
		{"POST", map[string]string{"Accept": "text/html", "Sec-Fetch-Mode": "navigate"}, true, false},
		{"POST", map[string]string{"Accept": "application/json"}, false, false},
		{"POST", map[string]string{"Accept": "text/html", "Sec-Fetch-Mode": "cors"}, false, false},
		// No HTML form sends these methods.
		{"PUT", map[string]string{"Accept": "text/html"}, false, false},
		{"DELETE", map[string]string{}, false, false},
	}
	for i, c := range cases {
		r := httptest.NewRequest(c.method, "/", nil)
		for k, v := range c.h {
			r.Header.Set(k, v)
		}
		if got := WantsPage(r); got != c.page {
			t.Errorf("case %d %s %v: WantsPage %v", i, c.method, c.h, got)
		}
		if got := IsNavigation(r); got != c.navigate {
			t.Errorf("case %d %s %v: IsNavigation %v", i, c.method, c.h, got)
		}
	}
}

func TestJSONError(t *testing.T) {
	w := httptest.NewRecorder()
	JSONError(w, http.StatusForbidden, "blocked")
	if w.Code != 403 || w.Body.String() != `{"error":"blocked"}`+"\n" || w.Header().Get("Content-Type") != "application/json" ||
		w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("%d %q %v", w.Code, w.Body.String(), w.Header())
	}
}
