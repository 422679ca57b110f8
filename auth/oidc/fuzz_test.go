package oidc

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// FuzzCallbackQuery: any callback query string yields a *CallbackError,
// never a panic or an identity.
func FuzzCallbackQuery(f *testing.F) {
	for _, s := range []string{"", "state=a&code=b", "error=access_denied&state=x", "iss=%ff&state=" + strings.Repeat("s", 43),
		"code=a&code=b", "state=%00", strings.Repeat("a=b&", 3000)} {
		f.Add(s)
	}
	op := newFakeOP(f)
	p := newTestProvider(f, testConfig(f, op, "acmidm"), nil)
	f.Fuzz(func(t *testing.T, q string) {
		req := httptest.NewRequest(http.MethodGet, "https://rp.test/cb", nil)
		req.URL.RawQuery = q
		id, err := p.Callback(httptest.NewRecorder(), req)
		if err == nil || id != nil {
			t.Fatalf("query %q accepted", q)
		}
		if KindOf(err) == "" {
			t.Fatalf("untyped error %v", err)
		}
	})
}

// FuzzLogoutToken: arbitrary logout_token values are rejected without panic.
func FuzzLogoutToken(f *testing.F) {
	op := newFakeOP(f)
	p := newTestProvider(f, testConfig(f, op, "acmidm"), nil)
	f.Add(sign(f, opKey, jose.RS256, "k1", "logout+jwt", map[string]any{"iss": op.issuer}))
	f.Add(unsigned(map[string]any{"iss": op.issuer}))
	f.Add("a.b.c")
	f.Add("a.b.c.d.e")
	f.Fuzz(func(t *testing.T, raw string) {
		if _, err := p.ValidateLogoutToken(context.Background(), raw); err == nil {
			t.Fatalf("token %q accepted", raw)
		}
	})
}

// TestNoNRNInLogs logs in successfully and with a bad checksum and checks
// that neither the national number nor the bad value reaches the log.
func TestNoNRNInLogs(t *testing.T) {
	testKeys(t)
	var buf bytes.Buffer
	op := newFakeOP(t)
	claimsFor := profileSetup(t, op, "acmidm")
	bad := false
	op.idToken = func(g *codeGrant) string {
		c := claimsFor(g)
		if bad {
			c["rrn"] = badChecksum(testNRN(t))
		}
		return sign(t, opKey, jose.RS256, "k1", "", c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := New(ctx, testConfig(t, op, "acmidm"), Deps{
		Flows: NewMemoryStore(nil, 0), Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if err := p.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	var b browser
	if _, err := b.callback(p, callbackQuery(op.authorize(t, b.start(t, p, LoginOptions{})))); err != nil {
		t.Fatal(err)
	}
	bad = true
	if _, err := b.callback(p, callbackQuery(op.authorize(t, b.start(t, p, LoginOptions{})))); KindOf(err) != KindNRNInvalid {
		t.Fatalf("kind %q", KindOf(err))
	}
	log := buf.String()
	if !strings.Contains(log, "nrn_invalid") || !strings.Contains(log, "oidc: login") {
		t.Fatalf("expected outcome lines missing from the log:\n%s", log)
	}
	for _, s := range []string{testNRN(t).Digits(), badChecksum(testNRN(t))} {
		if strings.Contains(log, s) {
			t.Fatalf("log contains a national number:\n%s", log)
		}
	}
}
