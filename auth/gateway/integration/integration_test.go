package integration

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/devidp"
)

// TestReverseProxyDevIdP logs in through the dev IdP over real HTTP with
// Redis sessions and checks the identity reaches the app, spoofed identity
// headers never do, and the route classes hold.
func TestReverseProxyDevIdP(t *testing.T) {
	_, sh, g := redisGateway(t)
	c := browser(t)
	pa := persona(t, sh, devidp.PersonaParentA)

	resp := g.login(t, sh, c, "/dossier?x=1", devidp.Choice{Persona: pa.Key, Level: "400"})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dossier?x=1" {
		t.Fatalf("callback: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "overstap_session" && (!ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode) {
			t.Fatal("session cookie flags")
		}
	}
	code, saw := upstreamSaw(t, c, g.url+"/dossier?x=1", nil)
	if code != 200 || saw.Get("X-Legacy-User") != pa.NRN.Digits() || saw.Get("X-Legacy-Level") != "substantial" {
		t.Fatalf("upstream saw %d %v", code, saw)
	}

	t.Run("spoofing", func(t *testing.T) {
		names := []string{"X-Legacy-User", "x-legacy-user", "X-LEGACY-USER", "X_Legacy_User", "X-Legacy-Level",
			"X-Forwarded-User", "x-forwarded-user", "X-Remote-User", "X_Remote_User", "Remote-User", "REMOTE-USER",
			"X-Auth-Request-User", "x-auth-request-email", "X-Overstap-Account", "X-Overstap-Assertion", "x-overstap-whatever"}
		for _, authed := range []bool{true, false} {
			cl := c
			path := "/dossier"
			if !authed {
				cl, path = browser(t), "/static/app.css"
			}
			for _, n := range names {
				h := http.Header{}
				h[n] = []string{"attacker", "attacker-2"}
				h.Add(n, "attacker-3")
				code, saw := upstreamSaw(t, cl, g.url+path, h)
				if code != 200 {
					t.Fatalf("%s: %d", n, code)
				}
				for k, vs := range saw {
					for _, v := range vs {
						if strings.Contains(v, "attacker") {
							t.Fatalf("%s reached the upstream as %s: %q (authed %v)", n, k, v, authed)
						}
					}
				}
				if authed && len(saw.Values("X-Legacy-User")) != 1 {
					t.Fatalf("identity header count %v", saw.Values("X-Legacy-User"))
				}
				if !authed && saw.Get("X-Legacy-User") != "" {
					t.Fatal("identity on a public route without session")
				}
			}
		}
	})

	t.Run("classes", func(t *testing.T) {
		before := sh.upHits.Load()
		for _, p := range []string{"/admin/users", "/ADMIN/x", "/%61dmin/", "/family/add"} {
			resp, body := get(t, c, g.url+p, nil)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "<h1>") {
				t.Fatalf("%s: %d", p, resp.StatusCode)
			}
		}
		// Ambiguous forms are refused (path_policy refuse, the default).
		for _, p := range []string{"/admin%2fusers", "/a/%2e%2e%2fadmin", "/%252e%252e/admin", "/x/../admin/y", "/admin;x=1/"} {
			resp, _ := get(t, c, g.url+p, nil)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("%s: %d", p, resp.StatusCode)
			}
		}
		req, _ := http.NewRequest("POST", g.url+"/login", strings.NewReader("username=85073003361&password=85073003361"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("legacy login: %d", resp.StatusCode)
		}
		if sh.upHits.Load() != before {
			t.Fatal("a denied request reached the upstream")
		}
		// API calls without session get 401, not a redirect.
		resp, _ = get(t, browser(t), g.url+"/dossier", map[string]string{"Accept": "application/json"})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("api: %d", resp.StatusCode)
		}
	})

	t.Run("security headers", func(t *testing.T) {
		resp, body := get(t, browser(t), g.url+"/.overstap/logout", map[string]string{"Accept-Language": "fr-BE,fr;q=0.9"})
		h := resp.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") || h.Get("Referrer-Policy") != "no-referrer" ||
			h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Fatalf("headers %v", h)
		}
		if !strings.Contains(body, `lang="fr"`) || !strings.Contains(body, `name="csrf"`) {
			t.Fatal("page not French or without CSRF")
		}
		resp, _ = get(t, browser(t), g.url+"/.overstap/static/overstap.css", nil)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
			t.Fatalf("css: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})

	t.Run("logout", func(t *testing.T) {
		// POST without CSRF is refused.
		resp, err := c.PostForm(g.url+"/.overstap/logout", url.Values{"csrf": {"x"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("logout without csrf: %d", resp.StatusCode)
		}
		_, body := get(t, c, g.url+"/.overstap/logout", nil)
		m := csrfRE.FindStringSubmatch(body)
		resp, err = c.PostForm(g.url+"/.overstap/logout", url.Values{"csrf": {m[1]}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, sh.idp.Issuer(devidp.ProfileFAS)) ||
			!strings.Contains(loc, "id_token_hint=") || !strings.Contains(loc, "post_logout_redirect_uri=") {
			t.Fatalf("RP-initiated logout: %d %s", resp.StatusCode, loc)
		}
		if code, _ := upstreamSaw(t, c, g.url+"/dossier", nil); code != http.StatusFound {
			t.Fatalf("after logout: %d", code)
		}
	})
}

// TestStepUpDevIdP: insufficient level or stale auth_time triggers
// re-authentication (acr_values, max_age, prompt=login) and passes after;
// an IdP that returns a lower level than asked is refused.
func TestStepUpDevIdP(t *testing.T) {
	_, sh, g := redisGateway(t)
	c := browser(t)
	pa := persona(t, sh, devidp.PersonaParentB)
	g.login(t, sh, c, "/dossier", devidp.Choice{Persona: pa.Key, Level: "400"}) // substantial

	stepUp := func(level string) *http.Response { return stepUpPath(t, g, sh, c, "/bank", "60", pa.Key, level) }

	// The IdP answers a lower level than asked: refused, no access.
	resp := stepUp("400")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("lower level accepted: %d", resp.StatusCode)
	}
	if code, _ := upstreamSaw(t, c, g.url+"/bank", nil); code != http.StatusFound {
		t.Fatalf("bank after refused step-up: %d", code)
	}
	// Enough level: passes and returns to /bank.
	resp = stepUp("500")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/bank" {
		t.Fatalf("step-up: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, saw := upstreamSaw(t, c, g.url+"/bank", nil); code != 200 || saw.Get("X-Legacy-Level") != "high" {
		t.Fatalf("bank after step-up: %d %v", code, saw)
	}
	// Stale authentication (older than max_auth_age) on /transfer
	// (substantial, 3 s): step-up again, and it passes after. The gateway's
	// own clock is checked without waiting.
	if code, _ := upstreamSaw(t, c, g.url+"/transfer", nil); code != 200 {
		t.Fatalf("transfer right after login: %d", code)
	}
	g.clock.Advance(time.Minute)
	resp, _ = get(t, c, g.url+"/transfer", nil)
	g.clock.Advance(-time.Minute)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/.overstap/stepup?return_to=%2Ftransfer" {
		t.Fatalf("stale auth_time not stepped up: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Now really stale, also for the IdP's auth_time: the clock shared by
	// the IdP, the relying party and the gateway moves on, nobody waits.
	g.clock.Advance(3100 * time.Millisecond)
	stepUpPath(t, g, sh, c, "/transfer", "3", pa.Key, "400")
	if code, _ := upstreamSaw(t, c, g.url+"/transfer", nil); code != 200 {
		t.Fatalf("transfer after fresh step-up: %d", code)
	}
}

// TestRevocation: back-channel logout from the dev IdP ends the session at
// once; admin revoke-by-person ends that person's sessions on two gateway
// instances sharing Redis.
func TestRevocation(t *testing.T) {
	r, sh, g1 := redisGateway(t)
	pa, pb := persona(t, sh, devidp.PersonaParentA), persona(t, sh, devidp.PersonaParentB)

	t.Run("back-channel", func(t *testing.T) {
		c := browser(t)
		g1.login(t, sh, c, "/dossier", devidp.Choice{Persona: pa.Key, Level: "450"})
		if code, _ := upstreamSaw(t, c, g1.url+"/dossier", nil); code != 200 {
			t.Fatalf("before: %d", code)
		}
		if err := sh.idp.LogoutPersona(context.Background(), devidp.ProfileFAS, pa.Key); err != nil {
			t.Fatal(err)
		}
		if code, _ := upstreamSaw(t, c, g1.url+"/dossier", nil); code != http.StatusFound {
			t.Fatalf("after back-channel logout: %d", code)
		}
		// Invalid tokens: 400.
		for _, body := range []string{"", "logout_token=abc", "logout_token=" + strings.Repeat("a", 100)} {
			resp, err := http.Post(g1.url+"/.overstap/backchannel-logout/fas", "application/x-www-form-urlencoded", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("%q: %d", body, resp.StatusCode)
			}
		}
	})

	t.Run("admin revoke person on two gateway processes", func(t *testing.T) {
		// Two gateways in their own processes, sharing only Redis.
		g1, g2 := startChild(t, sh, r.URL), startChild(t, sh, r.URL)
		ca1, ca2, cb := browser(t), browser(t), browser(t)
		g1.login(t, sh, ca1, "/dossier", devidp.Choice{Persona: pa.Key, Level: "450"})
		g2.login(t, sh, ca2, "/dossier", devidp.Choice{Persona: pa.Key, Level: "450"})
		g2.login(t, sh, cb, "/dossier", devidp.Choice{Persona: pb.Key, Level: "450"})
		admin := func(tok, body string) int {
			req, _ := http.NewRequest("POST", g1.admin+"/admin/revoke/person", bytes.NewBufferString(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := admin("wrong-token-wrong-token-wrong-token-x", `{"nrn":"`+pa.NRN.Format()+`"}`); code != http.StatusUnauthorized {
			t.Fatalf("bad token: %d", code)
		}
		if code := admin(sh.adminTok.Value(), `{"nrn":"12345"}`); code != http.StatusBadRequest {
			t.Fatalf("bad nrn: %d", code)
		}
		if code := admin(sh.adminTok.Value(), `{"nrn":"`+pa.NRN.Format()+`"}`); code != 200 {
			t.Fatalf("revoke: %d", code)
		}
		for i, x := range []struct {
			c    *http.Client
			g    *gw
			want int
		}{{ca1, g1, http.StatusFound}, {ca2, g2, http.StatusFound}, {cb, g2, 200}} {
			if code, _ := upstreamSaw(t, x.c, x.g.url+"/dossier", nil); code != x.want {
				t.Fatalf("session %d after revoke: %d, want %d", i, code, x.want)
			}
		}
	})
}

// stepUpPath: path answers a redirect to the step-up page; its form
// (CSRF) starts a re-authentication with prompt=login, max_age and
// acr_values; the IdP login with level follows.
func stepUpPath(t *testing.T, g *gw, sh *shared, c *http.Client, path, maxAge, who, level string) *http.Response {
	t.Helper()
	resp, _ := get(t, c, g.url+path, nil)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/.overstap/stepup?return_to="+url.QueryEscape(path) {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body := get(t, c, g.url+resp.Header.Get("Location"), nil)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no csrf on step-up page")
	}
	resp, err := c.PostForm(g.url+"/.overstap/stepup", url.Values{"csrf": {m[1]}, "return_to": {path}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	auth, _ := url.Parse(resp.Header.Get("Location"))
	q := auth.Query()
	if resp.StatusCode != http.StatusSeeOther || q.Get("prompt") != "login" || q.Get("max_age") != maxAge || q.Get("acr_values") == "" {
		t.Fatalf("step-up request: %d %v", resp.StatusCode, q)
	}
	return g.finish(t, sh, c, auth.String(), devidp.Choice{Persona: who, Level: level})
}
