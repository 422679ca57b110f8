package browsertest

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAxeFindsViolations shows the accessibility check is not vacuous: a
// page without a language, with an image without text and with grey on
// white text breaks exactly the rules it should.
func TestAxeFindsViolations(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html><head><title>x</title></head><body><main><h1>Bad page</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<p style="color:#bbb;background:#fff">hard to read</p></main></body></html>`))
	}))
	defer srv.Close()
	b := New(t, 60*time.Second)
	b.Do(chromedp.Navigate(srv.URL))
	res := b.Axe()
	var ids []string
	for _, v := range res.Violations {
		ids = append(ids, v.ID)
	}
	for _, want := range []string{"html-has-lang", "image-alt", "color-contrast"} {
		if !slices.Contains(ids, want) {
			t.Errorf("axe-core did not report %s; got %v", want, ids)
		}
	}
}
