package demo

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/legacylogin"
)

var homeLink = regexp.MustCompile(`<p><a href="([^"]+)">[^<]+</a></p>\s*</main>`)

// TestNoDeadEnds: a citizen whom the login cannot help (a BIS number, no
// account in the e-loket) gets a page whose "back to the start page" leads
// to a page that needs no login (home_url: here the demo's start page), not
// to "/", which would send them to the IdP and back to the same error; the
// gateway's own unknown paths answer with a styled 404 page, and the
// e-loket's with its own.
func TestNoDeadEnds(t *testing.T) {
	d := startDemo(t, Options{})
	c := newCitizen(t)
	resp, body := c.login(d, devidp.PersonaBIS, "/")
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
		t.Fatalf("BIS citizen without an account: status %d", resp.StatusCode)
	}
	m := homeLink.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no 'back to the start page' link on the error page:\n%s", body)
	}
	if m[1] != d.GuideURL+"/" {
		t.Fatalf("back to start goes to %q, want the demo's start page %q", m[1], d.GuideURL+"/")
	}
	if resp, _ := newCitizen(t).get(m[1]); resp.StatusCode != http.StatusOK {
		t.Fatalf("the start page needs something: %d", resp.StatusCode)
	}
	resp, body = c.get(d.GatewayURL + "/.overstap/no-such-page")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `<main id="main" class="error">`) || !strings.Contains(body, "overstap.css") {
		t.Fatalf("gateway's own 404: %d, styled page expected:\n%.300s", resp.StatusCode, body)
	}
	// The e-loket's own 404 passes through the gateway: its page, in its
	// layout, with a way back.
	p := newCitizen(t)
	p.login(d, devidp.PersonaParentA, "/")
	resp, body = p.get(d.GatewayURL + "/no-such-page")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "Pagina niet gevonden") || !strings.Contains(body, `<a href="/">`) {
		t.Fatalf("the e-loket's 404: %d\n%.300s", resp.StatusCode, body)
	}
}

// TestOldFormVisible: the demo shows the app's old login form (show_form),
// so the refusal can be tried; the explanation is one parameter away (the
// language switch comes back to it), and what the form posts never reaches
// the app.
func TestOldFormVisible(t *testing.T) {
	for _, policy := range []legacylogin.Policy{legacylogin.PolicyBlockAll, legacylogin.PolicyGatewayPassword} {
		t.Run(string(policy), func(t *testing.T) {
			d := startDemo(t, Options{Policy: policy})
			c := newCitizen(t)
			resp, body := c.get(d.GatewayURL + "/login")
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="gebruikersnaam"`) || d.AppSaw("GET", "/login") != 1 {
				t.Fatalf("GET /login: %d, app saw %d, want the app's form:\n%.300s", resp.StatusCode, d.AppSaw("GET", "/login"), body)
			}
			// The old credentials in the query of a GET never reach the app
			// (an app may also log in on GET), whatever the field's case.
			for _, q := range []string{"?gebruikersnaam=x", "?WACHTWOORD=x", "?a=1&Gebruikersnaam=x"} {
				if resp, _ := c.get(d.GatewayURL + "/login" + q); resp.StatusCode != http.StatusForbidden || d.AppSaw("GET", "/login") != 1 {
					t.Fatalf("GET /login%s: %d, app saw %d GETs", q, resp.StatusCode, d.AppSaw("GET", "/login"))
				}
			}
			resp, body = c.get(d.GatewayURL + "/login?uitleg")
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "/.overstap/login") || d.AppSaw("GET", "/login") != 1 {
				t.Fatalf("GET /login?uitleg: %d, want the explanation", resp.StatusCode)
			}
			p := persona(t, d, devidp.PersonaParentA)
			resp, body = c.postForm(d.GatewayURL+"/login", url.Values{"gebruikersnaam": {p.NRN.Format()}, "wachtwoord": {p.NRN.Digits()}})
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "uitleg") || d.AppSaw("POST", "/login") != 0 {
				t.Fatalf("POST of the old form: %d, app saw %d posts", resp.StatusCode, d.AppSaw("POST", "/login"))
			}
		})
	}
}
