package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/auth/oidc"
)

// loginProvider completes every callback with one verified identity.
type loginProvider struct{ stubProvider }

func (loginProvider) Callback(http.ResponseWriter, *http.Request) (*oidc.Login, error) {
	n, _ := nrn.Synthetic(time.Date(1981, 2, 3, 0, 0, 0, 0, time.UTC), true, 907)
	return &oidc.Login{Identity: identity.Identity{Provider: "stub", Issuer: "https://idp.example", Subject: "s-9", NRN: n,
		Level: identity.LevelSubstantial, AuthTime: time.Now()}, ReturnTo: "/"}, nil
}

type resolverFunc func(ctx context.Context, app string, id *identity.Identity) (string, error)

func (f resolverFunc) Resolve(ctx context.Context, app string, id *identity.Identity) (string, error) {
	return f(ctx, app, id)
}

// TestResolverOutcomes: every way linking can end gets its own page and
// status, and only a linked account gets a session. A store failure is a
// retry page (503), never a "no account" verdict.
func TestResolverOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		kind   string
	}{
		{"store down", errors.New("dial tcp 127.0.0.1:5432: connection refused"), 503, "unavailable"},
		{"no account", gateway.ErrNoAccount, 403, "no_account"},
		{"several accounts", fmt.Errorf("wrapped: %w", gateway.ErrAccountChoice), 409, "account_choice"},
		{"flagged", gateway.ErrAccountFlagged, 403, "account_flagged"},
		{"linked", nil, 303, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gotApp string
			f := newFixtureDeps(t, nil, nil, func(d *gateway.Deps) {
				d.Providers = []gateway.Authenticator{loginProvider{}}
				d.Accounts = resolverFunc(func(_ context.Context, app string, _ *identity.Identity) (string, error) {
					gotApp = app
					if tc.err != nil {
						return "", tc.err
					}
					return "acc-7", nil
				})
			})
			resp, body := f.do(t, "GET", "/.overstap/callback/stub?code=x&state=y", map[string]string{"Accept": "application/json"}, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.kind != "" && !strings.Contains(body, `"`+tc.kind+`"`) {
				t.Fatalf("body %s, want kind %s", body, tc.kind)
			}
			if gotApp != "eloket" {
				t.Fatalf("resolver got app %q, want the return path's app", gotApp)
			}
			session := false
			for _, c := range resp.Cookies() {
				session = session || c.Name == "overstap_session"
			}
			if session != (tc.err == nil) {
				t.Fatalf("session cookie set: %v", session)
			}
			if tc.status == 503 && resp.Header.Get("Retry-After") == "" {
				t.Fatal("retry page without Retry-After")
			}
		})
	}
}
