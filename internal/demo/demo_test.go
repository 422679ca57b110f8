package demo

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/link"
)

// startDemo runs a demo on free loopback ports for one test.
func startDemo(t *testing.T, o Options) *Demo {
	t.Helper()
	old := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler)) // the zitadel OP logs through the default logger
	t.Cleanup(func() { slog.SetDefault(old) })
	if o.GatewayAddr == "" {
		o.GatewayAddr = "127.0.0.1:0"
	}
	if o.IdPAddr == "" {
		o.IdPAddr = "127.0.0.1:0"
	}
	if o.GuideAddr == "" {
		o.GuideAddr = "127.0.0.1:0"
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	d, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

func persona(t *testing.T, d *Demo, key string) devidp.Persona {
	t.Helper()
	for _, p := range d.Personas {
		if p.Key == key {
			return p
		}
	}
	t.Fatalf("no persona %s", key)
	return devidp.Persona{}
}

// citizen is a browser without JavaScript: a cookie jar, redirects not
// followed automatically.
type citizen struct {
	t  *testing.T
	hc *http.Client
}

func newCitizen(t *testing.T) *citizen {
	jar, _ := cookiejar.New(nil)
	return &citizen{t: t, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *citizen) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "text/html")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func (c *citizen) get(u string) (*http.Response, string) {
	req, _ := http.NewRequest("GET", u, nil)
	return c.do(req)
}

func (c *citizen) postForm(u string, v url.Values) (*http.Response, string) {
	req, _ := http.NewRequest("POST", u, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// login logs the citizen in as persona through the gateway and the dev
// IdP, and returns the page the gateway lands on.
func (c *citizen) login(d *Demo, key, returnTo string) (*http.Response, string) {
	c.t.Helper()
	resp, _ := c.get(d.GatewayURL + "/.overstap/login?return_to=" + url.QueryEscape(returnTo))
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("login start: %d", resp.StatusCode)
	}
	cb, err := d.IdP.BrowserLogin(context.Background(), c.hc, resp.Header.Get("Location"), devidp.Choice{Persona: key})
	if err != nil {
		c.t.Fatal(err)
	}
	resp, body := c.get(cb.String())
	if resp.StatusCode != http.StatusSeeOther {
		return resp, body
	}
	return c.get(d.GatewayURL + resp.Header.Get("Location"))
}

func legacyRow(t *testing.T, db *sql.DB, digits string) (password string, federated bool) {
	t.Helper()
	var pw sql.NullString
	if err := db.QueryRow(`SELECT wachtwoord, federatief FROM burgers WHERE rijksregisternummer = ?`, digits).Scan(&pw, &federated); err != nil {
		t.Fatal(err)
	}
	return pw.String, federated
}

// TestMigrationFlow is the mission in one flow, over HTTP: the old NRN
// login is refused with the explanation page and never reaches the app;
// the federated login links the account and revokes the old password,
// which then works nowhere.
func TestMigrationFlow(t *testing.T) {
	d := startDemo(t, Options{})
	p := persona(t, d, devidp.PersonaParentA)
	c := newCitizen(t)

	resp, body := c.postForm(d.GatewayURL+"/login", url.Values{"gebruikersnaam": {p.NRN.Digits()}, "wachtwoord": {p.NRN.Digits()}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Uw oude aanmelding werkt niet meer") {
		t.Fatalf("old login: %d\n%s", resp.StatusCode, body)
	}
	if n := d.AppSaw("POST", "/login"); n != 0 {
		t.Fatalf("the app's login received %d requests", n)
	}
	if pw, _ := legacyRow(t, d.AppDB, p.NRN.Digits()); pw == "" || strings.HasPrefix(pw, "!") {
		t.Fatal("the password changed before any federated login")
	}

	resp, body = c.login(d, devidp.PersonaParentA, "/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Welkom, "+p.Name()) {
		t.Fatalf("after federated login: %d\n%s", resp.StatusCode, body)
	}
	pw, fed := legacyRow(t, d.AppDB, p.NRN.Digits())
	if pw != link.RevokedMarker || !fed {
		t.Fatalf("legacy row after linking: password %.6q federated %v", pw, fed)
	}
	// The old password works nowhere: not through the gateway, not at the
	// app itself.
	app := newCitizen(t)
	resp, _ = app.postForm(d.AppURL+"/login", url.Values{"gebruikersnaam": {p.NRN.Digits()}, "wachtwoord": {p.NRN.Digits()}})
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "fout") {
		t.Fatalf("the app's own login still accepts the revoked password: %d %s", resp.StatusCode, loc)
	}
	// A second login of the same person links nothing new.
	c2 := newCitizen(t)
	if resp, body = c2.login(d, devidp.PersonaParentA, "/"); !strings.Contains(body, "Welkom, "+p.Name()) {
		t.Fatalf("second login: %d", resp.StatusCode)
	}
}

// TestLoginStartsLimited: one client cannot start logins without bound
// (each start holds a pending flow); the limit answers 429 with a page.
func TestLoginStartsLimited(t *testing.T) {
	d := startDemo(t, Options{})
	c := newCitizen(t)
	for i := 0; i < 60; i++ {
		if resp, _ := c.get(d.GatewayURL + "/.overstap/login?return_to=/"); resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("start %d: %d", i, resp.StatusCode)
		}
	}
	resp, body := c.get(d.GatewayURL + "/.overstap/login?return_to=/")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "te veel aanmeldingen") {
		t.Fatalf("start 61: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
