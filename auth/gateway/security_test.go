package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/auth/oidc"
)

// TestSafeReturnToOpenRedirect is the open-redirect table.
func TestSafeReturnToOpenRedirect(t *testing.T) {
	bad := []string{
		"", "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil", "\\/evil.example",
		"https://evil.example", "http://evil.example/", "HTTPS://evil.example", "javascript:alert(1)",
		"JavaScript:alert(1)", "data:text/html,x", "/%2f%2fevil.example", "/%2F%2Fevil.example", "/%5cevil",
		"/%5Cevil.example", "/\tevil", "/\t/evil.example", "/\n/evil.example", "/\r\n/evil", "/ /evil",
		"/%09/evil.example", "/%0a/evil", "/%0d%0a/evil", "/%00/evil", "/%252f%252fevil.example",
		"/%25%32%66evil", "/.%2f/evil", "/..//evil.example", "/../evil", "//%2fevil", "/%2f/evil",
		"evil.example", "./x", "?x", "#x", "/x#//evil", "/é", "/\u2215\u2215evil", "/%e2%88%95/x%ff",
		" /x", "/x\x7f", "https:/evil.example", "/\\/evil", "//\\evil", "/%5c%5cevil", "/%c0%af%c0%afevil",
	}
	for _, s := range bad {
		t.Run(s, func(t *testing.T) {
			if got, ok := SafeReturnTo(s); ok {
				t.Fatalf("%q accepted as %q", s, got)
			}
		})
	}
	good := map[string]string{
		"/":                    "/",
		"/bank?x=1&y=%2F":      "/bank?x=1&y=%2F",
		"/a/./b/../c":          "/a/c",
		"/a//b":                "/a/b",
		"/%6cogin":             "/login",
		"/x?next=//evil.com":   "/x?next=//evil.com", // a query value is data, not a location
		"/users/1/profile;x=1": "/users/1/profile",
	}
	for in, want := range good {
		t.Run("ok "+in, func(t *testing.T) {
			got, ok := SafeReturnTo(in)
			if !ok || got != want {
				t.Fatalf("got %q %v, want %q", got, ok, want)
			}
		})
	}
}

func TestClientIP(t *testing.T) {
	g := &Gateway{trustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}}
	cases := []struct{ remote, xff, want string }{
		{"203.0.113.5:1234", "1.2.3.4", "203.0.113.5"},                     // untrusted peer: XFF ignored
		{"127.0.0.1:1", "198.51.100.7", "198.51.100.7"},                    // trusted proxy
		{"127.0.0.1:1", "1.1.1.1, 198.51.100.7, 10.0.0.2", "198.51.100.7"}, // right-most untrusted
		{"127.0.0.1:1", "", "127.0.0.1"},
		{"127.0.0.1:1", "garbage", "127.0.0.1"},
		{"[::ffff:127.0.0.1]:1", "198.51.100.9", "198.51.100.9"},
	}
	for _, c := range cases {
		t.Run(c.remote+"|"+c.xff, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.remote
			if c.xff != "" {
				r.Header.Set("X-Forwarded-For", c.xff)
			}
			if got := g.clientIP(r); got != c.want {
				t.Fatalf("got %s want %s", got, c.want)
			}
		})
	}
}

func FuzzSafeReturnTo(f *testing.F) {
	for _, s := range []string{"/", "//evil", "/\\evil", "/%2f%2fevil", "/a?b=//c", "/%5c", "https://x", "/a/../b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := SafeReturnTo(s)
		if !ok {
			return
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || got[0] != '/' ||
			strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\t\r\n") {
			t.Fatalf("unsafe result %q from %q", got, s)
		}
		if again, ok := SafeReturnTo(got); len(got) <= 2048 && (!ok || again != got) {
			t.Fatalf("not a fixed point: %q -> %q", got, again)
		}
		// What a browser resolves it to stays on our origin.
		base, _ := url.Parse("https://eloket.example/x/y")
		if r := base.ResolveReference(u); r.Host != "eloket.example" {
			t.Fatalf("%q leaves the origin: %s", got, r)
		}
	})
}

// TestLoginFailure: the relying party's failure kinds a citizen can act on
// get their own page and status; every other failure, and an error that is
// not a callback error at all, is "login failed" (400). Every page exists.
func TestLoginFailure(t *testing.T) {
	for _, tc := range []struct {
		err    error
		kind   pages.Kind
		status int
	}{
		{&oidc.CallbackError{Kind: oidc.KindAccessDenied}, pages.KindAccessDenied, http.StatusForbidden},
		{&oidc.CallbackError{Kind: oidc.KindIdPUnavailable}, pages.KindIDPUnavailable, http.StatusServiceUnavailable},
		{&oidc.CallbackError{Kind: oidc.KindLevelTooLow}, pages.KindLevelTooLow, http.StatusForbidden},
		{&oidc.CallbackError{Kind: oidc.KindNoNRN}, pages.KindNoNRN, http.StatusForbidden},
		{fmt.Errorf("wrapped: %w", &oidc.CallbackError{Kind: oidc.KindAccessDenied}), pages.KindAccessDenied, http.StatusForbidden},
		{&oidc.CallbackError{Kind: oidc.KindStateInvalid}, pages.KindLoginFailed, http.StatusBadRequest},
		{&oidc.CallbackError{Kind: oidc.KindTokenInvalid}, pages.KindLoginFailed, http.StatusBadRequest},
		{&oidc.CallbackError{Kind: oidc.KindNRNInvalid}, pages.KindLoginFailed, http.StatusBadRequest},
		{&oidc.CallbackError{Kind: "something new"}, pages.KindLoginFailed, http.StatusBadRequest},
		{errors.New("not a callback error"), pages.KindLoginFailed, http.StatusBadRequest},
	} {
		kind := loginFailure(tc.err)
		if kind != tc.kind || loginFailureStatus(kind) != tc.status {
			t.Errorf("%v: page %s (%d), want %s (%d)", tc.err, kind, loginFailureStatus(kind), tc.kind, tc.status)
		}
		if !slices.Contains(pages.ErrorKinds, kind) {
			t.Errorf("%v: page %s is not a gateway error page", tc.err, kind)
		}
	}
}
