package migrate

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/overstap/overstap/internal/browsertest"
	"github.com/overstap/overstap/migrate/seed"
)

// TestHTMLReportInChromium opens the HTML report of a seeded store (before
// and after a run) in every language in headless Chromium: it renders its
// charts without a console error, with labels of at least 12 px, revoked
// credentials as a category of their own, and no axe-core violation (WCAG
// 2.1 A/AA); a screenshot per language is kept as a test artefact.
func TestHTMLReportInChromium(t *testing.T) {
	ctx := context.Background()
	st := seededSQLite(t, 300, seed.MixHashed)
	db := newStateDB(t)
	e, err := New(Options{DB: db, Store: st, Hasher: realHasher(t, 4), Config: Config{SkipDerivedCheck: false}})
	if err != nil {
		t.Fatal(err)
	}
	before, err := e.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Apply(ctx, ApplyOptions{Policy: PolicyRevokeNRN, PublicKey: testKey(t).Public()})
	if err != nil {
		t.Fatal(err)
	}
	after, err := e.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := db.BuildReport(ctx, before.Run, res.Run, after.Run, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string][]byte{}
	for _, lang := range ReportLanguages {
		var page bytes.Buffer
		if err := rep.WriteHTML(&page, lang); err != nil {
			t.Fatal(err)
		}
		pages["/"+lang] = page.Bytes()
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The page must need nothing else: forbid every other load.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(pages[r.URL.Path])
	}))
	defer srv.Close()
	b := browsertest.New(t, 5*time.Minute) // a bound against hangs, not a speed check: four languages, axe on each, on a loaded machine
	for _, lang := range ReportLanguages {
		b.Do(chromedp.Navigate(srv.URL+"/"+lang), chromedp.WaitVisible("svg rect"))
		bars, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg rect").length`))
		if err != nil {
			t.Fatal(err)
		}
		if bars < 10 {
			t.Errorf("%s: report shows %d bars", lang, bars)
		}
		// After a revoke run the revoked credentials are their own, fixed
		// category (not the red "none").
		fixed, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg rect.s-revoked").length`))
		if err != nil {
			t.Fatal(err)
		}
		if fixed == 0 {
			t.Errorf("%s: no bar for revoked (fixed) credentials", lang)
		}
		// Chart labels are legible: at least 12 px as drawn.
		small, err := chromedp.Run(b.Ctx, chromedp.Evaluate[float64](`Math.min(...[...document.querySelectorAll("svg text")].map(e => e.getBoundingClientRect().height > 0 ? parseFloat(getComputedStyle(e).fontSize) * e.getScreenCTM().a : 99))`))
		if err != nil {
			t.Fatal(err)
		}
		if small < 12 {
			t.Errorf("%s: smallest chart label is %.1f px", lang, small)
		}
		if h := b.Text("h1"); h == "" {
			t.Errorf("%s: report has no heading", lang)
		}
		for _, v := range b.Axe().Violations {
			t.Errorf("%s: axe-core: %s", lang, v)
		}
		b.Screenshot("report-" + lang)
	}
	if errs := b.ConsoleErrors(); len(errs) != 0 {
		t.Errorf("console errors: %v", errs)
	}
}
