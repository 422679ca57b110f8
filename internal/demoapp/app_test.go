package demoapp

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/nrn"
)

func newApp(t *testing.T, id IdentityFunc) (*App, *httptest.Server, []Citizen) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "eloket.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	app, err := New(context.Background(), Config{DB: db, Identity: id})
	if err != nil {
		t.Fatal(err)
	}
	victim, _ := nrn.Synthetic(time.Date(1961, 4, 2, 0, 0, 0, 0, time.UTC), false, 3)
	attacker, _ := nrn.Synthetic(time.Date(1990, 11, 20, 0, 0, 0, 0, time.UTC), true, 7)
	people := []Citizen{
		{NRN: attacker, Name: "Aanvaller Test", IBAN: "BE00 0000 0000 0001"},
		{NRN: victim, Name: "Slachtoffer Test", IBAN: "BE00 0000 0000 0002", MD5: true},
	}
	if err := app.Seed(context.Background(), people); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	return app, srv, people
}

func client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

func post(t *testing.T, c *http.Client, u string, v url.Values) string {
	t.Helper()
	resp, err := c.PostForm(u, v)
	return body(t, resp, err)
}

func body(t *testing.T, resp *http.Response, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestFlawsWithoutGateway shows that the app alone is exploitable exactly as
// the supervisor described: this is what the gateway must prevent.
func TestFlawsWithoutGateway(t *testing.T) {
	_, srv, people := newApp(t, nil)
	attacker, victim := people[0].NRN, people[1].NRN
	c := client(t)
	// 1. The victim's account opens with the victim's national number (MD5 row).
	page := post(t, c, srv.URL+"/login", url.Values{"gebruikersnaam": {victim.Digits()}, "wachtwoord": {victim.Digits()}})
	if !strings.Contains(page, "Slachtoffer Test") {
		t.Fatalf("NRN/NRN login on an MD5 row failed:\n%s", page)
	}
	// 2. The attacker logs in (plaintext row) and adds the victim as family.
	c = client(t)
	post(t, c, srv.URL+"/login", url.Values{"gebruikersnaam": {attacker.Digits()}, "wachtwoord": {attacker.Digits()}})
	page = post(t, c, srv.URL+"/family/add", url.Values{"rijksregisternummer": {victim.Format()}})
	if !strings.Contains(page, "Slachtoffer Test") {
		t.Fatalf("adding a stranger as family failed:\n%s", page)
	}
	// 3. ... and changes the victim's password.
	page = post(t, c, srv.URL+"/family/2/password", url.Values{"nieuw_wachtwoord": {"overgenomen"}})
	if !strings.Contains(page, "gewijzigd") {
		t.Fatalf("changing a member's password failed: %s", page)
	}
	c = client(t)
	page = post(t, c, srv.URL+"/login", url.Values{"gebruikersnaam": {victim.Digits()}, "wachtwoord": {"overgenomen"}})
	if !strings.Contains(page, "Slachtoffer Test") {
		t.Fatal("taken-over password does not work")
	}
	// Pages show national numbers masked only.
	if nrn.Contains(page) {
		t.Fatalf("page shows a clear national number:\n%s", page)
	}
}

func TestWrongPasswordRefused(t *testing.T) {
	_, srv, people := newApp(t, nil)
	c := client(t)
	page := post(t, c, srv.URL+"/login", url.Values{"gebruikersnaam": {people[1].NRN.Digits()}, "wachtwoord": {"x"}})
	if !strings.Contains(page, "onjuist") {
		t.Fatalf("wrong password accepted:\n%s", page)
	}
}

func TestTrustsAssertion(t *testing.T) {
	id := func(r *http.Request) (string, bool, error) {
		switch v := r.Header.Get("X-Test-Identity"); v {
		case "":
			return "", false, nil
		case "bad":
			return "", true, errors.New("bad signature")
		default:
			return v, true, nil
		}
	}
	_, srv, _ := newApp(t, id)
	for _, tc := range []struct {
		hdr, want string
		status    int
	}{
		{"2", "Slachtoffer Test", 200},
		{"bad", "Aanmelden", 200}, // redirected to the login page
		{"", "Aanmelden", 200},
	} {
		req, _ := http.NewRequest("GET", srv.URL+"/", nil)
		if tc.hdr != "" {
			req.Header.Set("X-Test-Identity", tc.hdr)
		}
		resp, err := http.DefaultClient.Do(req)
		page := body(t, resp, err)
		if resp.StatusCode != tc.status || !strings.Contains(page, tc.want) {
			t.Errorf("identity %q: status %d, page lacks %q", tc.hdr, resp.StatusCode, tc.want)
		}
	}
}

// TestNotFoundPage: a path the e-loket does not have gets its own 404 page
// in its layout, with a way back, not Go's bare "404 page not found".
func TestNotFoundPage(t *testing.T) {
	_, srv, _ := newApp(t, nil)
	for _, p := range []string{"/nope", "/family/1/nope", "/login/x"} {
		resp, err := http.Get(srv.URL + p)
		b := body(t, resp, err)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(b, `<h1 id="niet-gevonden">Pagina niet gevonden</h1>`) ||
			!strings.Contains(b, "E-loket Gemeente Voorbeeld") || !strings.Contains(b, `<a href="/">`) || strings.Contains(b, "404 page not found") {
			t.Fatalf("%s: %d\n%s", p, resp.StatusCode, b)
		}
	}
}
