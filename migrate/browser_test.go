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
// and after a run) in headless Chromium: it renders its charts without a
// console error, and a screenshot is kept as a test artefact.
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
	var page bytes.Buffer
	if err := rep.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The page must need nothing else: forbid every other load.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page.Bytes())
	}))
	defer srv.Close()
	b := browsertest.New(t, 60*time.Second)
	b.Do(chromedp.Navigate(srv.URL), chromedp.WaitVisible("svg rect"))
	bars, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg rect").length`))
	if err != nil {
		t.Fatal(err)
	}
	if bars < 10 {
		t.Errorf("report shows %d bars", bars)
	}
	if h := b.Text("h1"); h == "" {
		t.Error("report has no heading")
	}
	if errs := b.ConsoleErrors(); len(errs) != 0 {
		t.Errorf("console errors: %v", errs)
	}
	t.Logf("screenshot: %s", b.Screenshot("report"))
}
