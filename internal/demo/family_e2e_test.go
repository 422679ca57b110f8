package demo

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/internal/browsertest"
)

// idpLogin picks persona and level on the dev IdP's picker.
func idpLogin(b *browsertest.Browser, persona, level string) {
	b.Do(
		chromedp.WaitVisible(`input[name="persona"][value="`+persona+`"]`),
		chromedp.Click(`input[name="persona"][value="`+persona+`"]`),
		chromedp.Click(`input[name="level"][value="`+level+`"]`),
		chromedp.Click(`button[value="login"]`),
	)
}

// addInBrowser types a national number in the e-loket's family form.
func addInBrowser(b *browsertest.Browser, d *Demo, number string) {
	b.Do(
		chromedp.Navigate(d.GatewayURL+"/family"),
		chromedp.WaitVisible("#lid"),
		chromedp.SendKeys("#lid", number),
		chromedp.Click("#toevoegen"),
	)
}

// inviteInBrowser adds a member the register does not verify and returns
// the invitation code the gateway shows.
func inviteInBrowser(t *testing.T, b *browsertest.Browser, d *Demo, number string) string {
	t.Helper()
	addInBrowser(b, d, number)
	b.Do(chromedp.WaitVisible("#family-code"))
	code := b.Text("#family-code")
	if len(code) != 14 {
		t.Fatalf("invitation code %q", code)
	}
	return code
}

// TestBrowserFamily runs the family scenarios in headless Chromium with
// the demo: a parent adds their minor child (after step-up) → allowed; a
// stranger → blocked with an invitation; a third person with the code →
// refused; the stranger approves with their own login → allowed; changing
// a linked member's password → blocked; the member revokes → the next
// family-data request is blocked; an adult child and a roommate → consent
// needed.
func TestBrowserFamily(t *testing.T) {
	d := startDemo(t, Options{})
	parentA, minor := persona(t, d, devidp.PersonaParentA), persona(t, d, devidp.PersonaMinor)
	stranger := persona(t, d, devidp.PersonaUnrelated)
	minorID, strangerID := accountID(t, d, devidp.PersonaMinor), accountID(t, d, devidp.PersonaUnrelated)

	parent := browsertest.New(t, 5*time.Minute) // a bound against hangs (the whole flow, axe at each page)
	// Logged in with a password (low): the family page is open to her.
	parent.Do(chromedp.Navigate(d.GatewayURL + "/family"))
	idpLogin(parent, devidp.PersonaParentA, "200")
	parent.Do(chromedp.WaitVisible("#lid"))

	t.Run("parent adds minor child after step-up", func(t *testing.T) {
		addInBrowser(parent, d, minor.NRN.Format())
		parent.Do(chromedp.WaitVisible(`form[action="/.overstap/stepup"] button`))
		if d.AppSaw("POST", "/family/add") != 0 {
			t.Fatal("the add reached the e-loket before the step-up")
		}
		parent.Screenshot("family-stepup")
		parent.AxeClean("step-up")
		parent.Do(chromedp.Click(`form[action="/.overstap/stepup"] button`))
		idpLogin(parent, devidp.PersonaParentA, "500")
		// Back at the form with what she typed, nothing sent yet.
		parent.Do(chromedp.WaitVisible("#family-resend"))
		typed, err := chromedp.Run(parent.Ctx, chromedp.Value(`#family-resume input[name="rijksregisternummer"]`))
		if err != nil || typed != minor.NRN.Format() || d.AppSaw("POST", "/family/add") != 0 {
			t.Fatalf("resumed form holds %q (app saw %d adds)", typed, d.AppSaw("POST", "/family/add"))
		}
		parent.Screenshot("family-resume")
		parent.AxeClean("step-up resume")
		parent.Do(chromedp.Click("#family-resend"), chromedp.WaitVisible(`#leden a[href="/family/`+minorID+`"]`))
		if d.AppSaw("POST", "/family/add") != 1 {
			t.Fatalf("the e-loket saw %d adds", d.AppSaw("POST", "/family/add"))
		}
		parent.Do(chromedp.Click(`#leden a[href="/family/`+minorID+`"]`), chromedp.WaitVisible("#lid-naam"))
		if got := parent.Text("#lid-naam"); got != "Gezinslid: "+minor.Name() {
			t.Fatalf("member page: %q", got)
		}
	})
	t.Run("changing a linked member's password is blocked", func(t *testing.T) {
		parent.Do(chromedp.SendKeys("#pw", "overname"), chromedp.Click("#wijzig"), chromedp.WaitVisible("main.error h1"))
		if h1 := parent.Text("main h1"); h1 != "Not allowed" {
			t.Fatalf("password change page: %q", h1)
		}
		parent.AxeClean("credential refused")
		if n := d.AppSaw("POST", "/family/"+minorID+"/password"); n != 0 {
			t.Fatalf("the e-loket saw %d password changes", n)
		}
	})
	var code string
	t.Run("stranger blocked, invitation offered", func(t *testing.T) {
		code = inviteInBrowser(t, parent, d, stranger.NRN.Digits())
		// Not named before the member answers (names.go): the number the
		// parent typed, masked.
		if got := parent.Text("#family-member"); got != stranger.NRN.Mask() {
			t.Fatalf("invitation for %q", got)
		}
		if got := parent.Text("#family-app"); got != "Online counter" {
			t.Fatalf("invitation app %q", got)
		}
		parent.Screenshot("family-invitation")
		parent.AxeClean("family invitation")
		if d.AppSaw("POST", "/family/add") != 1 {
			t.Fatal("the stranger's add reached the e-loket")
		}
	})
	t.Run("adult child needs consent", func(t *testing.T) {
		inviteInBrowser(t, parent, d, persona(t, d, devidp.PersonaAdult).NRN.Format())
	})
	t.Run("roommate needs consent", func(t *testing.T) {
		inviteInBrowser(t, parent, d, persona(t, d, devidp.PersonaRoommate).NRN.Format())
	})
	t.Run("third person with the code is refused", func(t *testing.T) {
		third := browsertest.New(t, 60*time.Second)
		third.Do(chromedp.Navigate(d.GatewayURL + "/.overstap/family/accept"))
		idpLogin(third, devidp.PersonaRoommate, "500")
		third.Do(chromedp.WaitVisible("#family-code"), chromedp.SendKeys("#family-code", code), chromedp.Click("#family-continue"), chromedp.WaitVisible("main.error h1"))
		if h1 := third.Text("main h1"); h1 != "This invitation is not for you" {
			t.Fatalf("third person: %q", h1)
		}
	})
	member := browsertest.New(t, 5*time.Minute)
	t.Run("stranger approves with own login", func(t *testing.T) {
		member.Do(chromedp.Navigate(d.GatewayURL + "/.overstap/family/accept"))
		idpLogin(member, devidp.PersonaUnrelated, "500")
		member.Do(chromedp.WaitVisible("#family-code"), chromedp.SendKeys("#family-code", code), chromedp.Click("#family-continue"), chromedp.WaitVisible("#family-approve"))
		if got := member.Text("#family-requester"); got != "An P." {
			t.Fatalf("requester shown as %q", got)
		}
		if got := member.Text("#family-app") + " / " + member.Text("#family-scope"); got != "Online counter / view your data" {
			t.Fatalf("consent for %q", got)
		}
		member.Screenshot("family-approve")
		member.AxeClean("family consent")
		member.Do(chromedp.Click("#family-approve"), chromedp.WaitVisible("#family-done"))
		addInBrowser(parent, d, stranger.NRN.Format())
		parent.Do(chromedp.WaitVisible(`#leden a[href="/family/` + strangerID + `"]`))
		parent.Do(chromedp.Click(`#leden a[href="/family/`+strangerID+`"]`), chromedp.WaitVisible("#lid-naam"))
		if got := parent.Text("#lid-naam"); got != "Gezinslid: "+stranger.Name() {
			t.Fatalf("member page: %q", got)
		}
	})
	t.Run("member revokes, next family-data request blocked", func(t *testing.T) {
		member.Do(chromedp.Navigate(d.GatewayURL+"/.overstap/family/"), chromedp.WaitVisible("#family-member-grants .revoke"))
		member.AxeClean("family grants")
		if got := member.Text("#family-member-grants .grant"); got != "An P." {
			t.Fatalf("grant listed as %q (one An P.: no masked number)", got)
		}
		if main := member.Text("main"); strings.Contains(main, parentA.NRN.Mask()[:8]) || strings.Contains(main, parentA.NRN.Digits()) {
			t.Fatalf("the grants page shows the parent's number: %q", main)
		}
		member.Screenshot("family-grants")
		member.Do(chromedp.Click("#family-member-grants .revoke"), chromedp.WaitVisible("#family-done"))
		member.AxeClean("family revoked")
		member.Do(chromedp.Navigate(d.GatewayURL+"/.overstap/family/"), chromedp.WaitVisible("#family-member-none"))
		member.AxeClean("family grants, empty")
		if got := member.Text("#family-requester-none a"); got != "To the family page of the application" {
			t.Fatalf("empty state link %q", got)
		}
		before := d.AppSaw("GET", "/family/"+strangerID)
		parent.Do(chromedp.Navigate(d.GatewayURL+"/family/"+strangerID), chromedp.WaitVisible("main.error h1"))
		if h1 := parent.Text("main h1"); h1 != "No access to this person" {
			t.Fatalf("after revocation: %q", h1)
		}
		if d.AppSaw("GET", "/family/"+strangerID) != before {
			t.Fatal("the request reached the e-loket after the revocation")
		}
	})
	// The refusals are 401/403 pages by design; anything else (a CSP
	// violation, a script error) fails the test.
	for _, b := range []*browsertest.Browser{parent, member} {
		for _, e := range b.ConsoleErrors() {
			if !strings.Contains(e, "the server responded with a status of 4") {
				t.Errorf("console error: %s", e)
			}
		}
	}
}
