package gateway_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/auth/gateway/route"
	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/auth/session"
	"github.com/overstap/overstap/internal/demo"
	"github.com/overstap/overstap/internal/testsvc"
)

// pathVariants mutates every rule path of the demo configuration the way
// an attacker probes a proxy in front of a servlet container, IIS or a PHP
// front controller: path parameters, dot segments, trailing dots and
// spaces, encoded dots, slashes and backslashes, double encoding, overlong
// UTF-8, NUL, case, repeated slashes and Unicode look-alikes, at every
// segment.
func pathVariants(rules []route.Rule) []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, r := range rules {
		// A concrete path of the rule: "*" is a member id, "**" two segments.
		base := strings.NewReplacer("/**", "/x/y", "*", "3").Replace(r.Path)
		segs := strings.Split(strings.TrimPrefix(base, "/"), "/")
		join := func(s []string) string { return "/" + strings.Join(s, "/") }
		add(base)
		add(base + "/")
		add(base + "?q=1")
		for i := range segs {
			at := func(f func(string) string) string {
				s := append([]string(nil), segs...)
				s[i] = f(s[i])
				return join(s)
			}
			before := func(prefix string) string {
				return join(segs[:i]) + prefix + join(segs[i:])
			}
			if i == 0 {
				before = func(prefix string) string { return strings.TrimSuffix(prefix, "/") + join(segs) }
			}
			for _, suffix := range []string{";x=1", ";jsessionid=0", ";", ".", "..", "%20", ".%20", "%2e", "..;",
				"%00", "%2f", "%5c", "%252f", "%c0%af", "%e2%80%8b", "%2500", "::$DATA", "%09", "~1"} {
				add(at(func(s string) string { return s + suffix }))
			}
			for _, prefix := range []string{"/./", "/x/../", "/x/..;/", "/%2e/", "/x/%2e%2e/", "//", "/;/", "/.;/",
				"/x/%2e%2e%2f", "/%c0%ae%c0%ae/", "/x\\..\\", "\\", "/%5c", "/x/%252e%252e/"} {
				add(before(prefix))
			}
			add(at(strings.ToUpper))
			add(at(func(s string) string { return "%" + fmt.Sprintf("%02X", s[0]) + s[1:] }))
			add(at(func(s string) string { return "%" + fmt.Sprintf("%02x", s[0]) + s[1:] }))
			add(at(func(s string) string { return "%25" + fmt.Sprintf("%02X", s[0]) + s[1:] }))
			add(at(func(s string) string { // full-width first letter
				return url.PathEscape(string(rune(0xFF00+int(s[0])-0x20))) + s[1:]
			}))
			add(at(func(s string) string { return strings.ReplaceAll(s, "s", "%C5%BF") }))   // long s
			add(at(func(s string) string { return strings.ReplaceAll(s, "i", "%C4%B1") }))   // dotless i
			add(at(func(s string) string { return strings.ReplaceAll(s, "a", "%C3%A0") }))   // a with grave
			add(at(func(s string) string { return strings.ReplaceAll(s, "o", "%CE%BF") }))   // Greek omicron
			add(at(func(s string) string { return strings.ReplaceAll(s, "a", "\xc3\xa0") })) // raw UTF-8
		}
	}
	return out
}

// passHook forwards every hooked request and records what it was given.
type passHook struct {
	mu   sync.Mutex
	last *gateway.HookRequest
}

func (h *passHook) Intercept(_ http.ResponseWriter, _ *http.Request, c *gateway.HookRequest) gateway.HookResult {
	h.mu.Lock()
	defer h.mu.Unlock()
	cp := *c
	h.last = &cp
	return gateway.HookResult{}
}

func (h *passHook) take() *gateway.HookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.last
	h.last = nil
	return l
}

// rawRequest sends the request line exactly as written (no client-side
// cleaning) and returns the response.
func rawRequest(t *testing.T, addr, method, target, host, cookie string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", method, target, host, cookie)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(b)
}

// echoed reads the "key=value" lines of an echo app.
func echoed(body, key string) (string, bool) {
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			return v, true
		}
	}
	return "", false
}

// diffResult counts one server's corpus run.
type diffResult struct {
	variants, forwarded, refused, own, disagreements int
}

// TestDifferentialAppServers sends every path variant through the gateway
// (demo route rules, a session at the highest level, hooks that forward)
// to real app servers that echo the path they routed to, and checks that
// the class the gateway applied equals the class of that path, and that
// the hook saw the very path the app got. Once per app path policy.
func TestDifferentialAppServers(t *testing.T) {
	servers := []struct {
		name string
		url  func(testing.TB) string
		keys []string // echoed paths the app may route on
	}{
		{"tomcat", testsvc.Tomcat, []string{"routed"}},
		{"php-fpm", testsvc.PHPFPM, []string{"routed", "path_info"}},
	}
	rules := demo.Rules()
	variants := pathVariants(rules)
	// The logout class answers with the gateway's own page instead of the
	// app's body (and ends the session): the gateway under test runs the
	// other rules, the variants still come from every rule path.
	rules = slices.DeleteFunc(slices.Clone(rules), func(r route.Rule) bool { return r.Class == route.Logout })
	if len(variants) < 300 {
		t.Fatalf("only %d variants", len(variants))
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			upURL := srv.url(t)
			hook := &passHook{}
			apps := []gateway.AppConfig{
				{App: route.App{Name: "refuse", Hosts: []string{"refuse.example"}, Rules: rules}, Upstream: upURL},
				{App: route.App{Name: "normalize", Hosts: []string{"normalize.example"}, Rules: rules, PathPolicy: route.PathNormalize}, Upstream: upURL},
			}
			f := newFixtureDeps(t, nil, func(c *gateway.Config) { c.Apps = apps }, func(d *gateway.Deps) {
				d.Hooks = map[route.Class]gateway.Hook{route.FamilyLink: hook, route.FamilyData: hook, route.Credential: hook, route.LegacyLogin: hook}
			})
			id, err := f.store.Create(context.Background(), &session.Session{NRNRef: f.n.Ref(nrn.MustRefKey([]byte(strings.Repeat("k", 32)))), AccountID: "acc-42",
				Identity: identity.Identity{NRN: f.n, Provider: "stub", Issuer: "https://idp.example", Subject: "s1", Level: identity.LevelHigh, AuthTime: time.Now()}})
			if err != nil {
				t.Fatal(err)
			}
			cookie := "overstap_session=" + id
			table, err := route.New([]route.App{apps[0].App, apps[1].App})
			if err != nil {
				t.Fatal(err)
			}
			addr := strings.TrimPrefix(f.srv.URL, "http://")
			for _, host := range []string{"refuse.example", "normalize.example"} {
				var res diffResult
				for _, v := range variants {
					res.variants++
					// The path as the gateway reads it: net/http's escaped form
					// of the request target (raw UTF-8 comes out percent-encoded).
					d, derr := route.Decision{}, error(nil)
					if u, err := url.ParseRequestURI(v); err != nil {
						derr = err
					} else {
						d, derr = table.Match(host, "POST", u.EscapedPath())
					}
					status, body := rawRequest(t, addr, "POST", v, host, cookie)
					h := hook.take()
					if derr != nil || strings.HasPrefix(d.Path.Match, gateway.Prefix) {
						if derr != nil && status != http.StatusBadRequest {
							t.Errorf("%s %s: gateway refuses (%v) but answered %d", host, v, derr, status)
							res.disagreements++
						}
						if derr != nil {
							res.refused++
						} else {
							res.own++
						}
						continue
					}
					res.forwarded++
					if d.Class.Hooked() && (h == nil || h.Class != d.Class || h.Path != d.Path.Clean) {
						t.Errorf("%s %s: hook saw %+v, route %s %s", host, v, h, d.Class, d.Path.Clean)
						res.disagreements++
						continue
					}
					for _, k := range srv.keys {
						routed, ok := echoed(body, k)
						if !ok {
							t.Errorf("%s %s: app answered %d without %s: %.200q", host, v, status, k, body)
							res.disagreements++
							break
						}
						ad, err := table.Match(host, "POST", escapePath(routed))
						if err != nil || ad.Class != d.Class || routed != mustUnescape(d.Path.Clean) {
							t.Errorf("%s %s: gateway %s on %s, app routed %s=%q (%v %v)", host, v, d.Class, d.Path.Clean, k, routed, ad.Class, err)
							res.disagreements++
							break
						}
					}
				}
				t.Logf("%s %s: %d variants: %d forwarded, %d refused, %d gateway's own, %d disagreements",
					srv.name, host, res.variants, res.forwarded, res.refused, res.own, res.disagreements)
			}
		})
	}
}

// escapePath percent-encodes a decoded path segment by segment.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func mustUnescape(p string) string {
	u, err := url.PathUnescape(p)
	if err != nil {
		return "\x00invalid"
	}
	return u
}
