package gateway_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/auth/gateway/hook"
	"github.com/overstap/overstap/auth/gateway/route"
)

// bodyHook forwards a request only when its body is "ok", replacing the
// body with the verified one; anything else it answers itself.
type bodyHook struct{ seen []*gateway.HookRequest }

func (h *bodyHook) Intercept(w http.ResponseWriter, r *http.Request, c *gateway.HookRequest) gateway.HookResult {
	h.seen = append(h.seen, c)
	b, err := io.ReadAll(r.Body)
	if err != nil {
		c.Gateway.Error(w, r, http.StatusRequestEntityTooLarge, "too_large", err)
		return gateway.HookResult{Handled: true}
	}
	if string(b) != "ok" {
		c.Gateway.Error(w, r, http.StatusForbidden, "family_link", nil)
		return gateway.HookResult{Handled: true}
	}
	fwd := r.Clone(r.Context())
	fwd.Body = io.NopCloser(strings.NewReader("verified"))
	fwd.ContentLength = int64(len("verified"))
	return gateway.HookResult{Forward: fwd}
}

func hookedRules(c *gateway.Config) {
	c.Apps[0].Rules = append(c.Apps[0].Rules,
		route.Rule{Path: "/family/add", Class: route.FamilyLink},
		route.Rule{Path: "/family/*", Class: route.FamilyData},
		route.Rule{Path: "/family/*/password", Class: route.Credential},
		route.Rule{Path: "/login", Methods: []string{"POST"}, Class: route.LegacyLogin},
	)
	c.Limits.MaxBodyBytes = 1 << 10
}

func echoBody() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "user=%s body=%s", r.Header.Get("X-Overstap-Account"), b)
	})
}

func TestHookedClassWithoutHookDenied(t *testing.T) {
	f := newFixture(t, echoBody(), hookedRules)
	for _, path := range []string{"/family/add", "/family/7", "/family/7/password", "/login"} {
		resp, body := f.do(t, "POST", path, map[string]string{"Cookie": f.cookie, "Accept": "text/html"}, strings.NewReader("ok"))
		if resp.StatusCode != http.StatusForbidden || strings.Contains(body, "body=") {
			t.Errorf("%s: %d %q, want 403 and nothing forwarded", path, resp.StatusCode, body)
		}
	}
}

func TestHookDecides(t *testing.T) {
	h := &bodyHook{}
	f := newFixtureDeps(t, echoBody(), hookedRules, func(d *gateway.Deps) {
		d.Hooks = map[route.Class]gateway.Hook{route.FamilyLink: h}
	})
	// Forwarded: the app gets the body the hook verified and the session's identity.
	resp, body := f.do(t, "POST", "/family/add", map[string]string{"Cookie": f.cookie}, strings.NewReader("ok"))
	if resp.StatusCode != 200 || body != "user=acc-42 body=verified" {
		t.Fatalf("forwarded: %d %q", resp.StatusCode, body)
	}
	if c := h.seen[0]; c.App != "eloket" || c.Class != route.FamilyLink || c.Path != "/family/add" || c.Session == nil || c.Session.AccountID != "acc-42" {
		t.Fatalf("hook request: %+v", c)
	}
	// Answered by the hook: nothing reaches the app.
	resp, body = f.do(t, "POST", "/family/add", map[string]string{"Cookie": f.cookie, "Accept": "text/html"}, strings.NewReader("not ok"))
	if resp.StatusCode != 403 || strings.Contains(body, "body=") {
		t.Fatalf("answered: %d %q", resp.StatusCode, body)
	}
	// No session: the hook still decides, with a nil session.
	_, _ = f.do(t, "POST", "/family/add", nil, strings.NewReader("x"))
	if h.seen[2].Session != nil || h.seen[2].SessionErr != nil {
		t.Fatalf("no session: %+v", h.seen[2])
	}
	// The body limit holds before the hook reads.
	resp, _ = f.do(t, "POST", "/family/add", map[string]string{"Cookie": f.cookie}, bytes.NewReader(make([]byte, 4<<10)))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized: %d", resp.StatusCode)
	}
	// Other hooked classes stay denied.
	resp, body = f.do(t, "POST", "/family/7/password", map[string]string{"Cookie": f.cookie}, strings.NewReader("ok"))
	if resp.StatusCode != 403 || strings.Contains(body, "body=") {
		t.Fatalf("credential: %d %q", resp.StatusCode, body)
	}
}

func TestHookDeniedInForwardAuth(t *testing.T) {
	h := &bodyHook{}
	f := newFixtureDeps(t, echoBody(), hookedRules, func(d *gateway.Deps) {
		d.Hooks = map[route.Class]gateway.Hook{route.FamilyLink: h, route.LegacyLogin: h}
	})
	for _, uri := range []string{"/family/add", "/login"} {
		resp, _ := f.do(t, "GET", "/.overstap/auth", map[string]string{"Cookie": f.cookie, "X-Original-Method": "POST", "X-Original-URI": uri}, nil)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: forward-auth %d, want 403 (the body is never seen)", uri, resp.StatusCode)
		}
	}
	if len(h.seen) != 0 {
		t.Fatal("hook called in forward-auth")
	}
}

func TestEndpoints(t *testing.T) {
	f := newFixtureDeps(t, nil, nil, func(d *gateway.Deps) {
		d.Endpoints = map[string]gateway.Endpoint{"family": func(g hook.Gateway, w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "family endpoint %s", r.URL.Path)
		}}
	})
	resp, body := f.do(t, "GET", "/.overstap/family/grants", nil, nil)
	if resp.StatusCode != 200 || body != "family endpoint /.overstap/family/grants" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	// The gateway's own paths answer with its own pages, never a listing
	// or the mux's plain text.
	for _, path := range []string{"/.overstap/static/", "/.overstap/static", "/.overstap/metrics", "/.overstap/admin/revoke/all", "/.overstap/nope", "/.overstap/callback/a/b"} {
		resp, body := f.do(t, "GET", path, map[string]string{"Accept": "text/html"}, nil)
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "<pre>") || strings.HasPrefix(body, "404 page not found") {
			t.Errorf("%s: %d %.80q", path, resp.StatusCode, body)
		}
	}
	// Every name the gateway serves itself (ownRoutes) is refused to a hook.
	for _, name := range []string{"login", "callback", "static", "jwks", "stepup", "lang", "backchannel-logout", "metrics", "admin", "Bad Name", ""} {
		_, err := gateway.New(gateway.Config{}, gateway.Deps{Endpoints: map[string]gateway.Endpoint{name: func(hook.Gateway, http.ResponseWriter, *http.Request) {}}})
		if err == nil || !strings.Contains(err.Error(), "endpoint name") {
			t.Errorf("endpoint %q: %v", name, err)
		}
	}
	for _, pattern := range []string{"GET /x", "/admin/bans", "POST /admin/revoke/person"} {
		_, err := gateway.New(gateway.Config{}, gateway.Deps{Admin: map[string]http.Handler{pattern: http.NotFoundHandler()}})
		if err == nil || !strings.Contains(err.Error(), "admin route") {
			t.Errorf("admin route %q: %v", pattern, err)
		}
	}
	if _, err := gateway.New(gateway.Config{}, gateway.Deps{Hooks: map[route.Class]gateway.Hook{route.Protected: &bodyHook{}}}); err == nil || !strings.Contains(err.Error(), "no hook can decide") {
		t.Error("hook for a non-hooked class accepted")
	}
}
