package demo

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/internal/browsertest"
)

// TestBrowserAppLogout: on a shared computer, a citizen logs in, presses
// the e-loket's own "Afmelden" button (the app's logout, class logout in
// the gateway) and sees "you are logged out"; the next visitor of the same
// browser opening the e-loket is sent to log in, not welcomed as the
// previous citizen.
func TestBrowserAppLogout(t *testing.T) {
	d := startDemo(t, Options{})
	p := persona(t, d, devidp.PersonaParentB)
	b := browsertest.New(t, 90*time.Second)
	b.Do(
		chromedp.Navigate(d.GatewayURL+"/"),
		chromedp.WaitVisible(`input[name="persona"][value="`+p.Key+`"]`),
		chromedp.Click(`input[name="persona"][value="`+p.Key+`"]`),
		chromedp.Click(`button[value="login"]`),
		chromedp.WaitVisible("#welkom"),
	)
	if got := b.Text("#welkom"); got != "Welkom, "+p.Name() {
		t.Fatalf("e-loket page: %q", got)
	}
	b.Do(chromedp.Click(`form[action="/logout"] button`))
	// The click navigates through the gateway (and the IdP's logout where
	// it has one); wait until the browser has arrived.
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(b.Location(), "/.overstap/logged-out"); {
		if time.Now().After(deadline) {
			t.Fatalf("after the app's logout the browser is at %s", b.Location())
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Do(chromedp.WaitVisible("main h1"))
	if h1 := b.Text("main h1"); h1 != "You are logged out" {
		t.Fatalf("after the app's logout: h1 %q", h1)
	}
	if d.AppSaw("POST", "/logout") != 1 {
		t.Fatal("the e-loket did not get its own logout")
	}
	b.AxeClean("logged out")
	// The next visitor, same browser.
	b.Do(chromedp.Navigate(d.GatewayURL+"/"), chromedp.WaitVisible(`input[name="persona"]`))
	if loc := b.Location(); strings.HasPrefix(loc, d.GatewayURL+"/") {
		t.Fatalf("next visitor is on the e-loket, not at the login: %s", loc)
	}
}
