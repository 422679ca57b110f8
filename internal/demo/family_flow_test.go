package demo

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/overstap/overstap/auth/devidp"
)

// loginAt logs c in as persona at the dev IdP's level (FAS "500": eID,
// high; "200": password, low) and returns the landing page.
func (c *citizen) loginAt(d *Demo, key, level, returnTo string) (*http.Response, string) {
	c.t.Helper()
	resp, _ := c.get(d.GatewayURL + "/.overstap/login?return_to=" + url.QueryEscape(returnTo))
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("login start: %d", resp.StatusCode)
	}
	cb, err := d.IdP.BrowserLogin(context.Background(), c.hc, resp.Header.Get("Location"), devidp.Choice{Persona: key, Level: level})
	if err != nil {
		c.t.Fatal(err)
	}
	resp, body := c.get(cb.String())
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		return resp, body
	}
	return c.get(d.GatewayURL + resp.Header.Get("Location"))
}

var (
	reCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	reCode = regexp.MustCompile(`id="family-code" class="ref">([A-Z0-9-]+)<`)
	reInv  = regexp.MustCompile(`name="invitation" value="([a-z]+)"`)
)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := reCSRF.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in\n%s", body)
	}
	return m[1]
}

// accountID is the e-loket's account id of a persona.
func accountID(t *testing.T, d *Demo, key string) string {
	t.Helper()
	var id string
	if err := d.AppDB.QueryRow(`SELECT id FROM burgers WHERE rijksregisternummer = ?`, persona(t, d, key).NRN.Digits()).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func (c *citizen) addMember(d *Demo, nrnText string) (*http.Response, string) {
	return c.postForm(d.GatewayURL+"/family/add", url.Values{"rijksregisternummer": {nrnText}})
}

// invite adds member as requester and returns the invitation code shown.
func (c *citizen) invite(d *Demo, member string) string {
	c.t.Helper()
	resp, body := c.addMember(d, persona(c.t, d, member).NRN.Format())
	m := reCode.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusForbidden || m == nil {
		c.t.Fatalf("add %s: %d, want 403 with an invitation code\n%s", member, resp.StatusCode, body)
	}
	return m[1]
}

// redeem enters code on the accept page and returns the answer.
func (c *citizen) redeem(d *Demo, code string) (*http.Response, string) {
	c.t.Helper()
	resp, body := c.get(d.GatewayURL + "/.overstap/family/accept")
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("accept page: %d\n%s", resp.StatusCode, body)
	}
	return c.postForm(d.GatewayURL+"/.overstap/family/accept", url.Values{"csrf": {csrfOf(c.t, body)}, "code": {code}})
}

// TestFamilyFlowHTTP runs every acceptance scenario of the family links
// over HTTP against the running demo (the browser test repeats the main
// ones in Chromium).
func TestFamilyFlowHTTP(t *testing.T) {
	d := startDemo(t, Options{})
	minor, stranger := accountID(t, d, devidp.PersonaMinor), accountID(t, d, devidp.PersonaUnrelated)

	// A weak login must step up before adding anyone.
	weak := newCitizen(t)
	weak.loginAt(d, devidp.PersonaParentB, "200", "/")
	resp, body := weak.addMember(d, persona(t, d, devidp.PersonaMinor).NRN.Digits())
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `action="/.overstap/stepup"`) || d.AppSaw("POST", "/family/add") != 0 {
		t.Fatalf("weak add: %d, want the step-up page\n%s", resp.StatusCode, body)
	}
	// The step-up returns under /.overstap/family/ and goes on to the
	// e-loket's family page.
	if !strings.Contains(body, `name="return_to" value="/.overstap/family/continue?app=eloket"`) {
		t.Fatalf("step-up return: %s", body)
	}
	if resp, _ := weak.get(d.GatewayURL + "/.overstap/family/continue?app=eloket"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/family" {
		t.Fatalf("continue: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := weak.get(d.GatewayURL + "/.overstap/family/continue?app=https://evil.example"); resp.Header.Get("Location") != "/" {
		t.Fatalf("continue to an unknown app: %s", resp.Header.Get("Location"))
	}

	parent := newCitizen(t)
	parent.loginAt(d, devidp.PersonaParentA, "500", "/family")
	t.Run("minor child allowed", func(t *testing.T) {
		resp, body := parent.addMember(d, persona(t, d, devidp.PersonaMinor).NRN.Format())
		if resp.StatusCode != http.StatusSeeOther || d.AppSaw("POST", "/family/add") != 1 {
			t.Fatalf("add minor: %d (app saw %d)\n%s", resp.StatusCode, d.AppSaw("POST", "/family/add"), body)
		}
		resp, body = parent.get(d.GatewayURL + "/family/" + minor)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Gezinslid: Lotte Peeters") {
			t.Fatalf("minor's page: %d\n%s", resp.StatusCode, body)
		}
	})
	t.Run("member password change blocked", func(t *testing.T) {
		resp, body := parent.postForm(d.GatewayURL+"/family/"+minor+"/password", url.Values{"nieuw_wachtwoord": {"x"}})
		if resp.StatusCode != http.StatusForbidden || d.AppSaw("POST", "/family/"+minor+"/password") != 0 {
			t.Fatalf("member password: %d\n%s", resp.StatusCode, body)
		}
	})
	var code string
	t.Run("stranger blocked, invitation offered", func(t *testing.T) {
		code = parent.invite(d, devidp.PersonaUnrelated)
		if d.AppSaw("POST", "/family/add") != 1 {
			t.Fatal("the stranger's add reached the app")
		}
		if resp, _ := parent.get(d.GatewayURL + "/family/" + stranger); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("stranger's page before consent: %d", resp.StatusCode)
		}
	})
	t.Run("third person with the code refused", func(t *testing.T) {
		third := newCitizen(t)
		third.loginAt(d, devidp.PersonaRoommate, "500", "/")
		resp, body := third.redeem(d, code)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "niet voor u") && !strings.Contains(body, "not for you") {
			t.Fatalf("third person: %d\n%s", resp.StatusCode, body)
		}
	})
	t.Run("weak login must step up before approving", func(t *testing.T) {
		weakMember := newCitizen(t)
		weakMember.loginAt(d, devidp.PersonaUnrelated, "200", "/")
		resp, _ := weakMember.get(d.GatewayURL + "/.overstap/family/accept")
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/.overstap/stepup?return_to=%2F.overstap%2Ffamily%2Faccept" {
			t.Fatalf("weak member: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	member := newCitizen(t)
	member.loginAt(d, devidp.PersonaUnrelated, "500", "/")
	t.Run("stranger approves with own login", func(t *testing.T) {
		resp, body := member.redeem(d, code)
		m := reInv.FindStringSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil || !strings.Contains(body, `<dd id="family-requester">An P.</dd>`) {
			t.Fatalf("approve page: %d\n%s", resp.StatusCode, body)
		}
		if strings.Contains(body, persona(t, d, devidp.PersonaParentA).NRN.Digits()) || strings.Contains(body, persona(t, d, devidp.PersonaParentA).NRN.Mask()) {
			t.Fatal("approve page shows the requester's number (named, no twin)")
		}
		resp, body = member.postForm(d.GatewayURL+"/.overstap/family/decide", url.Values{"csrf": {csrfOf(t, body)}, "invitation": {m[1]}, "decision": {"approve"}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="family-done"`) {
			t.Fatalf("approve: %d\n%s", resp.StatusCode, body)
		}
		// The code is spent.
		if resp, _ := member.redeem(d, code); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("replayed code: %d", resp.StatusCode)
		}
		resp, _ = parent.addMember(d, persona(t, d, devidp.PersonaUnrelated).NRN.Digits())
		if resp.StatusCode != http.StatusSeeOther || d.AppSaw("POST", "/family/add") != 2 {
			t.Fatalf("add after consent: %d", resp.StatusCode)
		}
		if resp, body := parent.get(d.GatewayURL + "/family/" + stranger); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Emma Dubois") {
			t.Fatalf("stranger's page after consent: %d", resp.StatusCode)
		}
	})
	t.Run("member revokes, next data request blocked", func(t *testing.T) {
		resp, body := member.get(d.GatewayURL + "/.overstap/family/")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<strong class="who">An P.</strong></p>`) {
			t.Fatalf("grants page: %d\n%s", resp.StatusCode, body)
		}
		m := regexp.MustCompile(`name="grant" value="([a-z]+)"`).FindStringSubmatch(body)
		resp, body = member.postForm(d.GatewayURL+"/.overstap/family/revoke", url.Values{"csrf": {csrfOf(t, body)}, "grant": {m[1]}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %d\n%s", resp.StatusCode, body)
		}
		before := d.AppSaw("GET", "/family/"+stranger)
		if resp, _ := parent.get(d.GatewayURL + "/family/" + stranger); resp.StatusCode != http.StatusForbidden || d.AppSaw("GET", "/family/"+stranger) != before {
			t.Fatalf("after revocation: %d", resp.StatusCode)
		}
	})
	t.Run("adult child needs consent", func(t *testing.T) {
		parent.invite(d, devidp.PersonaAdult)
	})
	t.Run("roommate needs consent; the requester cancels the invitation", func(t *testing.T) {
		code := parent.invite(d, devidp.PersonaRoommate)
		resp, body := parent.get(d.GatewayURL + "/.overstap/family/")
		m := regexp.MustCompile(`name="invitation" value="([a-z]+)"`).FindAllStringSubmatch(body, -1)
		if resp.StatusCode != http.StatusOK || len(m) != 2 || !strings.Contains(body, persona(t, d, devidp.PersonaRoommate).NRN.Mask()) {
			t.Fatalf("pending invitations: %d %d\n%s", resp.StatusCode, len(m), body)
		}
		for _, inv := range m {
			resp, _ = parent.postForm(d.GatewayURL+"/.overstap/family/cancel", url.Values{"csrf": {csrfOf(t, body)}, "invitation": {inv[1]}})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("cancel: %d", resp.StatusCode)
			}
		}
		roommate := newCitizen(t)
		roommate.loginAt(d, devidp.PersonaRoommate, "500", "/")
		if resp, _ := roommate.redeem(d, code); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cancelled code: %d", resp.StatusCode)
		}
	})
	t.Run("own password after step-up", func(t *testing.T) {
		resp, body := parent.postForm(d.GatewayURL+"/password", url.Values{"nieuw_wachtwoord": {"correct horse battery"}})
		if resp.StatusCode != http.StatusOK || d.AppSaw("POST", "/password") != 1 {
			t.Fatalf("own password: %d\n%s", resp.StatusCode, body)
		}
	})
}
