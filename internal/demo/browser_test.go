package demo

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/link"
	"github.com/overstap/overstap/internal/browsertest"
)

// TestBrowserMigration: a citizen, in a real headless Chromium, uses the
// old login box of the municipality's website with their national number
// as username and password → lands on the gateway's explanation page →
// logs in at the dev IdP with their persona → sees their own e-loket page;
// their legacy password row is revoked in the app's database.
func TestBrowserMigration(t *testing.T) {
	d := startDemo(t, Options{})
	p := persona(t, d, devidp.PersonaParentB)
	// The municipality's website with the old login box, as citizens have
	// it bookmarked: it posts to the e-loket's login, now the gateway's.
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="nl"><title>Gemeente</title><h1>E-loket</h1>
<form method="post" action="%s/login">
<label>Gebruikersnaam <input id="u" name="gebruikersnaam"></label>
<label>Wachtwoord <input id="p" name="wachtwoord" type="password"></label>
<button id="go" type="submit">Aanmelden</button></form>`, d.GatewayURL)
	}))
	t.Cleanup(site.Close)

	b := browsertest.New(t, 60*time.Second)
	b.Do(
		chromedp.Navigate(site.URL),
		chromedp.WaitVisible("#go"),
		chromedp.SendKeys("#u", p.NRN.Format()),
		chromedp.SendKeys("#p", p.NRN.Digits()),
		chromedp.Click("#go"),
		chromedp.WaitVisible("main form button"),
	)
	// Headless Chromium asks for English; the citizen switches to Dutch.
	if h1 := b.Text("h1"); h1 != "Your old login no longer works" {
		t.Fatalf("explanation page: h1 %q", h1)
	}
	// Wait for the Dutch page itself: the English one is still there
	// while the click's navigation runs.
	b.Do(chromedp.Click(`a[hreflang="nl"]`), chromedp.WaitVisible(`html[lang="nl"] main form button`))
	if h1 := b.Text("h1"); h1 != "Uw oude aanmelding werkt niet meer" {
		t.Fatalf("explanation page in Dutch: h1 %q", h1)
	}
	if d.AppSaw("POST", "/login") != 0 {
		t.Fatal("the old login reached the e-loket")
	}
	b.Screenshot("explanation")
	b.AxeClean("refusal (nl)")
	b.Do(
		chromedp.Click("main form button"),
		chromedp.WaitVisible(`input[name="persona"][value="`+p.Key+`"]`),
		chromedp.Click(`input[name="persona"][value="`+p.Key+`"]`),
		chromedp.Click(`button[value="login"]`),
		chromedp.WaitVisible("#welkom"),
	)
	if got := b.Text("#welkom"); got != "Welkom, "+p.Name() {
		t.Fatalf("e-loket page: %q", got)
	}
	if loc := b.Location(); !strings.HasPrefix(loc, d.GatewayURL+"/") {
		t.Fatalf("landed on %s, want the e-loket through the gateway", loc)
	}
	pw, fed := legacyRow(t, d.AppDB, p.NRN.Digits())
	if pw != link.RevokedMarker || !fed {
		t.Fatalf("legacy row: password %.6q federated %v; want revoked and federated", pw, fed)
	}
	for _, e := range b.ConsoleErrors() {
		// The refused old login answers 403 by design, and the e-loket has
		// no favicon; nothing else may fail.
		if strings.HasSuffix(e, "/favicon.ico") {
			continue
		}
		if !strings.Contains(e, "status of 403") || !strings.HasSuffix(e, d.GatewayURL+"/login") {
			t.Errorf("console error: %s", e)
		}
	}
}
