package browsertest

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestBrowserFillsAForm(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.Method == http.MethodPost {
			w.Write([]byte(`<!doctype html><p id="out">hallo ` + r.PostFormValue("naam") + `</p>`))
			return
		}
		w.Write([]byte(`<!doctype html><form method="post"><label for="n">Naam</label><input id="n" name="naam"><button id="b">OK</button></form>`))
	}))
	defer srv.Close()
	b := New(t, 60*time.Second)
	b.Do(
		chromedp.Navigate(srv.URL),
		chromedp.SendKeys("#n", "Jan"),
		chromedp.Click("#b"),
		chromedp.WaitVisible("#out"),
	)
	out := b.Text("#out")
	if out != "hallo Jan" {
		t.Fatalf("page says %q", out)
	}
	if errs := b.ConsoleErrors(); len(errs) != 0 {
		t.Fatalf("console errors on a clean page: %v", errs)
	}
	if p := b.Screenshot("done"); p == "" {
		t.Fatal("no screenshot written")
	}
}

func TestConsoleErrorsAreCaught(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><p id="x">x</p><script>console.error("boom"); undefinedFunction();</script>`))
	}))
	defer srv.Close()
	b := New(t, 60*time.Second)
	b.Do(chromedp.Navigate(srv.URL), chromedp.WaitVisible("#x"))
	deadline := time.Now().Add(5 * time.Second)
	for len(b.ConsoleErrors()) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if errs := b.ConsoleErrors(); len(errs) < 2 {
		t.Fatalf("console error and exception not both caught: %v", errs)
	}
}
