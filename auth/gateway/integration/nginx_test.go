package integration

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/internal/testsvc"
)

// startNginx runs a private nginx with the shipped configs/nginx config
// (addresses replaced) on a free loopback port.
func startNginx(t *testing.T, port int, gwAddr, upAddr string) {
	t.Helper()
	shipped, err := os.ReadFile("../../../configs/nginx/overstap.conf")
	if err != nil {
		t.Fatal(err)
	}
	site := strings.NewReplacer("127.0.0.1:8080", gwAddr, "127.0.0.1:8081", upAddr,
		"listen 443 ssl;", fmt.Sprintf("listen 127.0.0.1:%d;", port)).Replace(string(shipped))
	testsvc.StartNginx(t, "", site, fmt.Sprintf("tcp://127.0.0.1:%d", port))
}

// TestForwardAuthNginx: the same policy behind a real nginx with
// auth_request, logging in through the dev IdP, Redis sessions.
func TestForwardAuthNginx(t *testing.T) {
	r := setupRedis(t)
	sh := newShared(t, r.Client, r.Prefix)
	port := testsvc.FreePort(t)
	public := fmt.Sprintf("http://127.0.0.1:%d", port)
	g := newGatewayAt(t, sh, redisStore(t, sh, r.Client), public, nil)
	startNginx(t, port, strings.TrimPrefix(g.direct, "http://"), strings.TrimPrefix(sh.upstream.URL, "http://"))
	c := browser(t)
	pa := persona(t, sh, devidp.PersonaParentA)

	// No session: nginx hands the 401 to overstap's login, which sends the
	// browser to the (only) IdP, remembering /dossier?x=1.
	resp, _ := get(t, c, public+"/dossier?x=1", nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), sh.idp.Issuer(devidp.ProfileFAS)) {
		t.Fatalf("nginx, no session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp = g.finish(t, sh, c, resp.Header.Get("Location"), devidp.Choice{Persona: pa.Key, Level: "450"})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dossier?x=1" {
		t.Fatalf("callback via nginx: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	code, saw := upstreamSaw(t, c, public+"/dossier?x=1", nil)
	if code != 200 || saw.Get("X-Legacy-User") != pa.NRN.Digits() || saw.Get("X-Legacy-Level") != "high" {
		t.Fatalf("through nginx: %d %v", code, saw)
	}

	t.Run("spoofing", func(t *testing.T) {
		names := []string{"X-Legacy-User", "x-legacy-user", "X-LEGACY-USER", "X_Legacy_User", "X-Legacy-Level",
			"X-Forwarded-User", "X-Remote-User", "X_Remote_User", "Remote-User", "X-Auth-Request-User",
			"X-Auth-Request-Email", "X-Overstap-Account"}
		for _, authed := range []bool{true, false} {
			cl, path := c, "/dossier"
			if !authed {
				cl, path = browser(t), "/static/x.css"
			}
			for _, n := range names {
				h := http.Header{}
				h[n] = []string{"attacker", "attacker-2"}
				code, saw := upstreamSaw(t, cl, public+path, h)
				if code != 200 {
					t.Fatalf("%s: %d", n, code)
				}
				for k, vs := range saw {
					for _, v := range vs {
						if strings.Contains(v, "attacker") {
							t.Fatalf("%s reached the app through nginx as %s (authed %v)", n, k, authed)
						}
					}
				}
			}
		}
	})

	t.Run("denied and api", func(t *testing.T) {
		hits := sh.upHits.Load()
		resp, body := get(t, c, public+"/admin/x", nil)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "<h1>") {
			t.Fatalf("blocked via nginx: %d", resp.StatusCode)
		}
		resp, _ = get(t, c, public+"/a/..%2fadmin", nil)
		if resp.StatusCode < 400 {
			t.Fatalf("ambiguous via nginx: %d", resp.StatusCode)
		}
		if sh.upHits.Load() != hits {
			t.Fatal("denied request reached the app")
		}
		// The forward-auth endpoint without the original URI: 400.
		resp, _ = get(t, browser(t), g.direct+"/.overstap/auth", nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("auth call without original URI: %d", resp.StatusCode)
		}
	})

	t.Run("step-up via nginx", func(t *testing.T) {
		// Logged in at 450 (high) but /transfer wants substantial within 3 s:
		// after the gateway's clock moves, nginx's 401 goes to login, which
		// sends an existing session to step-up.
		g.clock.Advance(time.Minute)
		defer g.clock.Advance(-time.Minute)
		resp, _ := get(t, c, public+"/transfer", nil)
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "/.overstap/stepup?return_to=%2Ftransfer") {
			t.Fatalf("stale via nginx: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}
