package demo

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/overstap/overstap/auth/legacylogin"
	"github.com/overstap/overstap/internal/browsertest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestGuide: the demo's start page is served by the demo itself (no login),
// lists every persona with its synthetic number and role, names the
// resident account and step-up, links into the gateway, in Dutch and
// English; a missing --dir is created.
func TestGuide(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "demo-dir")
	d := startDemo(t, Options{Dir: dir, Policy: legacylogin.PolicyGatewayPassword})
	if fi, err := os.Stat(filepath.Join(dir, "state.db")); err != nil || fi.IsDir() {
		t.Errorf("--dir not created and used: %v", err)
	}
	for lang, words := range map[string][]string{
		"nl": {`<html lang="nl">`, "Testpersonen", "step-up", "minderjarig kind van", ResidentUser, ResidentPassword},
		"en": {`<html lang="en">`, "Test personas", "step-up", "minor child of", ResidentUser, ResidentPassword},
	} {
		code, body := get(t, d.GuideURL+"/?lang="+lang)
		if code != 200 {
			t.Fatalf("%s: status %d", lang, code)
		}
		for _, w := range words {
			if !strings.Contains(body, w) {
				t.Errorf("%s: guide lacks %q", lang, w)
			}
		}
		for _, p := range d.Personas {
			if !strings.Contains(body, p.Name()) || (p.HasNRN() && !strings.Contains(body, p.NRN.Format())) {
				t.Errorf("%s: guide lacks persona %s", lang, p.Key)
			}
		}
		if !strings.Contains(body, `href="`+d.GatewayURL+`/login"`) {
			t.Errorf("%s: guide does not link to the old login form", lang)
		}
	}
	if code, _ := get(t, d.GuideURL+"/nope"); code != 404 {
		t.Errorf("unknown path: %d", code)
	}
}

// TestGuideAccessible runs axe-core on the start page in both languages.
func TestGuideAccessible(t *testing.T) {
	d := startDemo(t, Options{})
	n, _ := browsertest.AxeAll(t, d.GuideURL, []string{"/?lang=nl", "/?lang=en"})
	if n != 2 {
		t.Fatalf("checked %d pages", n)
	}
	b := browsertest.New(t, 30*time.Second)
	b.Do(chromedp.Navigate(d.GuideURL + "/?lang=en"))
	b.Screenshot("guide")
}
