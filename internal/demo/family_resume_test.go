package demo

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/overstap/overstap/auth/devidp"
)

// TestFamilyStepUpResume: a family-add sent with a weak login gets the
// step-up page; after the re-authentication (the dev IdP, eID) the
// citizen is back at the form with what they typed (never the password),
// nothing sent yet; sending it adds the member. The kept form is shown
// once, only to the same person, and not stored in clear.
func TestFamilyStepUpResume(t *testing.T) {
	dir := t.TempDir()
	d := startDemo(t, Options{Dir: dir})
	minor := persona(t, d, devidp.PersonaMinor).NRN
	c := newCitizen(t)
	c.loginAt(d, devidp.PersonaParentA, "200", "/family")
	typed := url.Values{"rijksregisternummer": {minor.Format()}, "opmerking": {`mijn dochter "Lotte"`}, "wachtwoord": {"geheim-123"}}
	resp, body := c.postForm(d.GatewayURL+"/family/add", typed)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `action="/.overstap/stepup"`) || !strings.Contains(body, `id="stepup-kept"`) || d.AppSaw("POST", "/family/add") != 0 {
		t.Fatalf("weak add: %d\n%s", resp.StatusCode, body)
	}
	// What waits is sealed: neither the number nor the other values in clear.
	st, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "state.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var sealed string
	if err := st.QueryRow(`SELECT sealed FROM family_drafts`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, minor.Digits()) || strings.Contains(sealed, "dochter") || strings.Contains(sealed, "geheim") {
		t.Fatal("the kept form is stored in clear")
	}
	// Someone else, logged in strongly, finds nothing to resume.
	other := newCitizen(t)
	other.loginAt(d, devidp.PersonaParentB, "500", "/family")
	if resp, _ := other.get(d.GatewayURL + "/.overstap/family/continue?app=eloket"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/family" {
		t.Fatalf("another person's continue: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The step-up, as the page's button does it.
	rt := regexp.MustCompile(`name="return_to" value="([^"]+)"`).FindStringSubmatch(body)
	resp, _ = c.postForm(d.GatewayURL+"/.overstap/stepup", url.Values{"csrf": {csrfOf(t, body)}, "return_to": {strings.ReplaceAll(rt[1], "&amp;", "&")}})
	cb, err := d.IdP.BrowserLogin(context.Background(), c.hc, resp.Header.Get("Location"), devidp.Choice{Persona: devidp.PersonaParentA, Level: "500"})
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = c.get(cb.String())
	if loc := resp.Header.Get("Location"); loc != "/.overstap/family/continue?app=eloket" {
		t.Fatalf("after the step-up: %d %s", resp.StatusCode, loc)
	}
	resp, body = c.get(d.GatewayURL + resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("resume: %d %q\n%s", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}
	for _, want := range []string{`<form method="post" action="/family/add" id="family-resume">`,
		`name="rijksregisternummer" value="` + minor.Format() + `"`, `name="opmerking" value="mijn dochter &#34;Lotte&#34;"`,
		`<input type="password" id="family-field-2" name="wachtwoord" autocomplete="off">`} {
		if !strings.Contains(body, want) {
			t.Errorf("resume page lacks %s", want)
		}
	}
	if strings.Contains(body, "geheim") || d.AppSaw("POST", "/family/add") != 0 {
		t.Fatal("the password was kept, or the post replayed")
	}
	// Shown once.
	if resp, _ := c.get(d.GatewayURL + "/.overstap/family/continue?app=eloket"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/family" {
		t.Fatalf("second continue: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The citizen sends it: the family check passes now, the app adds.
	fields := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="(?:text|hidden)" id="[^"]*" name="([^"]+)" value="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		fields.Set(m[1], strings.ReplaceAll(m[2], "&#34;", `"`))
	}
	if fields.Get("rijksregisternummer") != minor.Format() {
		t.Fatalf("fields read back: %v", fields)
	}
	fields.Set("wachtwoord", "geheim-123")
	if resp, body := c.postForm(d.GatewayURL+"/family/add", fields); resp.StatusCode != http.StatusSeeOther || d.AppSaw("POST", "/family/add") != 1 {
		t.Fatalf("send again: %d\n%s", resp.StatusCode, body)
	}
}
