package devidp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// receiver is a test RP's back-channel logout endpoint.
type receiver struct {
	mu     sync.Mutex
	tokens []string
	status int
	ts     *httptest.Server
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{status: http.StatusOK}
	rc.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		_ = r.ParseForm()
		rc.mu.Lock()
		rc.tokens = append(rc.tokens, r.PostForm.Get("logout_token"))
		st := rc.status
		rc.mu.Unlock()
		w.WriteHeader(st)
	}))
	t.Cleanup(rc.ts.Close)
	return rc
}

func (rc *receiver) got() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.tokens...)
}

// verifyLogoutToken checks a logout token as an RP must (Back-Channel
// Logout 1.0 §2.6) and returns its claims.
func verifyLogoutToken(t *testing.T, e *env, raw, issuer, clientID string) map[string]any {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("logout token: %v", err)
	}
	if typ, _ := jws.Signatures[0].Header.ExtraHeaders["typ"].(string); typ != "logout+jwt" {
		t.Errorf("typ %q, want logout+jwt", typ)
	}
	ks := e.idp.PublicJWKS()
	payload, err := jws.Verify(&ks)
	if err != nil {
		t.Fatalf("logout token signature: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	if c["iss"] != issuer || c["aud"] != clientID || c["jti"] == "" || c["nonce"] != nil {
		t.Errorf("logout token claims %v", c)
	}
	iat, _ := c["iat"].(float64)
	exp, _ := c["exp"].(float64)
	if iat == 0 || exp <= iat || time.Since(time.Unix(int64(iat), 0)) > time.Minute {
		t.Errorf("iat %v exp %v", iat, exp)
	}
	ev, _ := c["events"].(map[string]any)
	if _, ok := ev[EventBackchannelLogout]; !ok || len(ev) != 1 {
		t.Errorf("events %v", c["events"])
	}
	return c
}

// fasLogin logs persona in at the FAS profile and returns the tokens.
func fasLogin(t *testing.T, e *env, hc *http.Client, clientID, persona string) (*oauth2.Token, map[string]any) {
	t.Helper()
	ctx := context.Background()
	issuer := e.idp.Issuer(ProfileFAS)
	conf := oauth2.Config{
		ClientID: clientID, ClientSecret: "s3cret-fas", RedirectURL: testRedirect,
		Endpoint: oauth2.Endpoint{AuthURL: issuer + "/authorize", TokenURL: issuer + "/access_token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"openid", "egovnrn"},
	}
	v := oauth2.GenerateVerifier()
	back, err := e.idp.BrowserLogin(ctx, hc, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), Choice{Persona: persona})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	_ = json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c)
	return tok, c
}

func noFollow(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func TestRPInitiatedLogoutSendsBackchannelToken(t *testing.T) {
	recv := newReceiver(t)
	other := newReceiver(t)
	e := startIdP(t, func(c *Config) {
		a := fasClient(false)
		a.BackchannelLogoutURI = recv.ts.URL + "/bcl"
		b := fasClient(false)
		b.ID = "fas-rp-2"
		b.BackchannelLogoutURI = other.ts.URL + "/bcl"
		c.Clients = []ClientConfig{a, b}
	})
	issuer := e.idp.Issuer(ProfileFAS)
	hc := jarClient(t)
	tok, idc := fasLogin(t, e, hc, "fas-rp", PersonaParentA)
	// Same browser, second RP: SSO continues the same session (same sid).
	v := oauth2.GenerateVerifier()
	au := issuer + "/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"fas-rp-2"}, "redirect_uri": {testRedirect},
		"scope": {"openid"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(v)}, "code_challenge_method": {"S256"}}.Encode()
	back, err := e.idp.BrowserLogin(context.Background(), hc, au, Choice{Action: "continue"})
	if err != nil {
		t.Fatalf("SSO continue: %v", err)
	}
	conf2 := oauth2.Config{ClientID: "fas-rp-2", ClientSecret: "s3cret-fas", RedirectURL: testRedirect,
		Endpoint: oauth2.Endpoint{TokenURL: issuer + "/access_token", AuthStyle: oauth2.AuthStyleInHeader}}
	tok2, err := conf2.Exchange(context.Background(), back.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("exchange 2: %v", err)
	}
	if _, err := tok2.Extra("id_token").(string); !err {
		t.Fatal("no id_token")
	}

	t.Run("unregistered post_logout_redirect_uri is refused", func(t *testing.T) {
		q := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {"http://127.0.0.1:1/elsewhere"}}
		resp := get(t, noFollow(hc), issuer+"/connect/endSession?"+q.Encode())
		if resp.StatusCode == http.StatusFound {
			t.Fatalf("redirected to %s", resp.Header.Get("Location"))
		}
		if len(recv.got()) != 0 {
			t.Fatal("logout happened on a refused request")
		}
	})

	t.Run("logout", func(t *testing.T) {
		q := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {"http://127.0.0.1:1/bye"}, "state": {"ls"}}
		resp := get(t, noFollow(hc), issuer+"/connect/endSession?"+q.Encode())
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "http://127.0.0.1:1/bye?state=ls" {
			t.Fatalf("end session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		for name, r := range map[string]*receiver{"fas-rp": recv, "fas-rp-2": other} {
			got := r.got()
			if len(got) != 1 {
				t.Fatalf("%s got %d logout tokens", name, len(got))
			}
			c := verifyLogoutToken(t, e, got[0], issuer, name)
			if c["sid"] != idc["sid"] || c["sub"] != idc["sub"] {
				t.Errorf("%s: sid/sub %v/%v, want %v/%v", name, c["sid"], c["sub"], idc["sid"], idc["sub"])
			}
		}
		// The session is gone: prompt=none now fails with login_required.
		v := oauth2.GenerateVerifier()
		au := issuer + "/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"fas-rp"}, "redirect_uri": {testRedirect},
			"scope": {"openid"}, "prompt": {"none"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(v)}, "code_challenge_method": {"S256"}}.Encode()
		back, err := e.idp.BrowserLogin(context.Background(), hc, au, Choice{})
		if err != ErrNoPicker || back.Query().Get("error") != "login_required" {
			t.Fatalf("prompt=none after logout: %v %v", back, err)
		}
		// The access token of the session no longer works.
		req, _ := http.NewRequest(http.MethodGet, issuer+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("access token still valid after logout")
		}
	})
}

func TestLogoutPersona(t *testing.T) {
	recv := newReceiver(t)
	e := startIdP(t, func(c *Config) {
		a := fasClient(false)
		a.BackchannelLogoutURI = recv.ts.URL + "/bcl"
		c.Clients = []ClientConfig{a}
	})
	_, idcA := fasLogin(t, e, jarClient(t), "fas-rp", PersonaParentA)
	_, _ = fasLogin(t, e, jarClient(t), "fas-rp", PersonaUnrelated)
	_, idcA2 := fasLogin(t, e, jarClient(t), "fas-rp", PersonaParentA) // a second browser

	if err := e.idp.LogoutPersona(context.Background(), ProfileFAS, PersonaParentA); err != nil {
		t.Fatalf("LogoutPersona: %v", err)
	}
	got := recv.got()
	if len(got) != 2 {
		t.Fatalf("got %d logout tokens, want 2 (two browsers of parent-a)", len(got))
	}
	sids := map[any]bool{}
	for _, raw := range got {
		c := verifyLogoutToken(t, e, raw, e.idp.Issuer(ProfileFAS), "fas-rp")
		if c["sub"] != e.idp.Subject(ProfileFAS, PersonaParentA) {
			t.Errorf("sub %v", c["sub"])
		}
		sids[c["sid"]] = true
	}
	if !sids[idcA["sid"]] || !sids[idcA2["sid"]] {
		t.Errorf("sids %v, want %v and %v", sids, idcA["sid"], idcA2["sid"])
	}
	// Nothing left for parent-a; the unrelated persona is untouched.
	if err := e.idp.LogoutPersona(context.Background(), "", PersonaParentA); err != nil || len(recv.got()) != 2 {
		t.Errorf("second LogoutPersona: %v, %d tokens", err, len(recv.got()))
	}
	// A receiver that answers 400 is reported.
	recv.mu.Lock()
	recv.status = http.StatusBadRequest
	recv.mu.Unlock()
	err := e.idp.LogoutPersona(context.Background(), ProfileFAS, PersonaUnrelated)
	if err == nil || !strings.Contains(err.Error(), "status 400") {
		t.Errorf("want a delivery error, got %v", err)
	}
}
