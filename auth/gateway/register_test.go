package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/overstap/overstap/adapters/upstream"
	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/auth/identity"
)

// TestNoAccountRegister: with no_account: register, a verified citizen
// without an account gets a session usable only on the app's registration
// route, which receives the verified NRN and the registration marker and
// never an account id; once the app has created the account, the next
// request links it and replaces the session.
func TestNoAccountRegister(t *testing.T) {
	var registered atomic.Bool
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "path=%s account=%q nrn=%q registration=%q", r.URL.Path, r.Header.Get("X-Overstap-Account"),
			r.Header.Get("X-Nrn"), r.Header.Get(upstream.RegistrationHeader))
	})
	f := newFixtureDeps(t, up, func(c *gateway.Config) {
		c.Apps[0].NoAccount, c.Apps[0].RegisterPath = "register", "/registreren"
		c.Apps[0].Identity.Headers.NRN = "X-Nrn"
	}, func(d *gateway.Deps) {
		d.Providers = []gateway.Authenticator{loginProvider{}}
		d.Accounts = resolverFunc(func(context.Context, string, *identity.Identity) (string, error) {
			if registered.Load() {
				return "acc-new", nil
			}
			return "", gateway.ErrNoAccount
		})
	})
	resp, _ := f.do(t, "GET", "/.overstap/callback/stub?code=x&state=y", nil, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/registreren" {
		t.Fatalf("callback: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == "overstap_session" {
			cookie = c.Name + "=" + c.Value
		}
	}
	if cookie == "" {
		t.Fatal("no session")
	}
	hdr := map[string]string{"Cookie": cookie, "Accept": "text/html"}
	_, body := f.do(t, "GET", "/registreren/stap1", hdr, nil)
	if !strings.Contains(body, `account=""`) || !strings.Contains(body, `registration="1"`) || !strings.Contains(body, `nrn="`) || strings.Contains(body, `nrn=""`) {
		t.Fatalf("registration route got %s", body)
	}
	// Forged headers from the client never pass.
	_, body = f.do(t, "GET", "/registreren", map[string]string{"Cookie": cookie, "X-Overstap-Account": "acc-1", "X-Nrn": "85073003328"}, nil)
	if !strings.Contains(body, `account=""`) || strings.Contains(body, "85073003328") {
		t.Fatalf("forged headers passed: %s", body)
	}
	resp, body = f.do(t, "GET", "/profile", hdr, nil)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/registreren" || strings.Contains(body, "path=") {
		t.Fatalf("other route while registering: %d %s", resp.StatusCode, body)
	}
	resp, _ = f.do(t, "GET", "/profile", map[string]string{"Cookie": cookie, "Accept": "application/json"}, nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("API call while registering: %d", resp.StatusCode)
	}
	// The app created the account: the next request links it.
	registered.Store(true)
	resp, body = f.do(t, "GET", "/profile", hdr, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `account="acc-new"`) || !strings.Contains(body, `registration=""`) {
		t.Fatalf("after registration: %d %s", resp.StatusCode, body)
	}
	rotated := false
	for _, c := range resp.Cookies() {
		rotated = rotated || (c.Name == "overstap_session" && c.Name+"="+c.Value != cookie)
	}
	if !rotated {
		t.Fatal("the session id was not replaced when the account was linked")
	}
}

// TestNoAccountRegisterConfig: register needs a clean path and the NRN
// propagated.
func TestNoAccountRegisterConfig(t *testing.T) {
	for _, tc := range []struct {
		noAccount, path, nrnHeader string
		want                       string
	}{
		{"register", "", "X-Nrn", "register_path: required"},
		{"register", "/a/../b", "X-Nrn", "register_path: required"},
		{"register", "/registreren", "", "needs the national number propagated"},
		{"page", "/registreren", "", "register_path: only with no_account: register"},
		{"sometimes", "", "", "no_account: must be page or register"},
	} {
		c := gateway.Config{Apps: []gateway.AppConfig{{NoAccount: tc.noAccount, RegisterPath: tc.path,
			Identity: upstream.Config{Headers: upstream.HeaderNames{NRN: tc.nrnHeader}}}}}
		c.Apps[0].Name = "eloket"
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v", tc, err)
		}
	}
}

// TestNoAccountRegisterForwardAuth: in forward-auth mode a registering
// session gets the registration identity on the registration route only.
func TestNoAccountRegisterForwardAuth(t *testing.T) {
	f := newFixtureDeps(t, nil, func(c *gateway.Config) {
		c.Apps[0].NoAccount, c.Apps[0].RegisterPath = "register", "/registreren"
		c.Apps[0].Identity.Headers.NRN = "X-Nrn"
	}, func(d *gateway.Deps) {
		d.Providers = []gateway.Authenticator{loginProvider{}}
		d.Accounts = resolverFunc(func(context.Context, string, *identity.Identity) (string, error) { return "", gateway.ErrNoAccount })
	})
	resp, _ := f.do(t, "GET", "/.overstap/callback/stub?code=x&state=y", nil, nil)
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == "overstap_session" {
			cookie = c.Name + "=" + c.Value
		}
	}
	for uri, want := range map[string]int{"/registreren": 200, "/registreren/stap2": 200, "/profile": 403, "/registreren-nep": 403} {
		resp, _ := f.do(t, "GET", "/.overstap/auth", map[string]string{"Cookie": cookie, "X-Original-Method": "GET", "X-Original-URI": uri}, nil)
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", uri, resp.StatusCode, want)
		}
		if want == 200 && (resp.Header.Get(upstream.RegistrationHeader) != "1" || resp.Header.Get("X-Nrn") == "") {
			t.Errorf("%s: identity headers %v", uri, resp.Header)
		}
		if want == 403 && (resp.Header.Get("X-Nrn") != "" || resp.Header.Get(upstream.RegistrationHeader) != "") {
			t.Errorf("%s: identity leaked on a refusal", uri)
		}
	}
}
