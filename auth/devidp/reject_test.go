package devidp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/internal/testsvc"
)

// tokenCall posts to a token endpoint and returns the status and error code.
func tokenCall(t *testing.T, endpoint string, form url.Values, user, pass string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error string `json:"error"`
	}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &body)
	return resp.StatusCode, body.Error
}

// fasCode runs a login and returns a fresh code and its verifier.
func fasCode(t *testing.T, e *env, hc *http.Client) (code, verifier string) {
	t.Helper()
	return loginCode(t, e, hc, e.idp.Issuer(ProfileFAS)+"/authorize", "fas-rp", "openid egovnrn", PersonaParentB)
}

// acmCode logs parent A in for an ACM client and returns the code and the
// PKCE verifier.
func acmCode(t *testing.T, e *env, client string) (code, verifier string) {
	t.Helper()
	return loginCode(t, e, jarClient(t), e.idp.Issuer(ProfileACM)+"/v1/auth", client, "openid rrn", PersonaParentA)
}

// loginCode logs persona in through the browser flow at authorize for
// client (PKCE S256) and returns the code and the verifier.
func loginCode(t *testing.T, e *env, hc *http.Client, authorize, client, scope, persona string) (code, verifier string) {
	t.Helper()
	verifier, ch := pkce()
	au := authURL(authorize, client, testRedirect, scope, "s", "n", ch, nil)
	back, err := e.idp.BrowserLogin(context.Background(), hc, au, Choice{Persona: persona})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return back.Query().Get("code"), verifier
}

func TestTokenEndpointRejects(t *testing.T) {
	clk := testsvc.NewClock(time.Now())
	e := startIdP(t, func(c *Config) {
		post := acmClient()
		post.ID, post.AuthMethod = "acm-post", "client_secret_post"
		c.Clients = []ClientConfig{fasClient(false), acmClient(), post, itsmeClient()}
		c.Now = clk.Now
	})
	fasTok := e.idp.Issuer(ProfileFAS) + "/access_token"
	form := func(code, verifier, redirect string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {redirect}}
	}
	// itsmeForm is a token request of a fresh itsme login of parent A,
	// authenticated by a client assertion.
	itsmeForm := func(t *testing.T, assertion string) url.Values {
		code, verifier := loginCode(t, e, jarClient(t), e.idp.Issuer(ProfileITSME)+"/authorization", "itsme-rp", "openid eid", PersonaParentA)
		f := form(code, verifier, testRedirect)
		f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		f.Set("client_assertion", assertion)
		return f
	}
	for _, tc := range []struct {
		name       string
		mutate     func(f url.Values, user, pass *string)
		wantStatus int
		wantErr    string
	}{
		{"wrong code_verifier", func(f url.Values, _, _ *string) { f.Set("code_verifier", strings.Repeat("x", 43)) }, 400, "invalid_grant"},
		{"missing code_verifier", func(f url.Values, _, _ *string) { f.Del("code_verifier") }, 400, "invalid_request"},
		{"redirect_uri differs", func(f url.Values, _, _ *string) { f.Set("redirect_uri", "http://127.0.0.1:1/other") }, 400, "invalid_grant"},
		{"wrong secret", func(_ url.Values, _, p *string) { *p = "nope" }, 401, "invalid_client"},
		{"no client authentication", func(_ url.Values, u, p *string) { *u, *p = "", "" }, 401, "invalid_client"},
		{"basic client using client_secret_post", func(f url.Values, u, p *string) {
			f.Set("client_id", *u)
			f.Set("client_secret", *p)
			*u, *p = "", ""
		}, 401, "invalid_client"},
		{"unknown code", func(f url.Values, _, _ *string) { f.Set("code", "bm9wZQ") }, 400, "invalid_grant"},
		{"refresh grant", func(f url.Values, _, _ *string) { f.Set("grant_type", "refresh_token"); f.Set("refresh_token", "x") }, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, v := fasCode(t, e, jarClient(t))
			f := form(code, v, testRedirect)
			user, pass := "fas-rp", "s3cret-fas"
			tc.mutate(f, &user, &pass)
			st, code2 := tokenCall(t, fasTok, f, user, pass)
			if st != tc.wantStatus || (tc.wantErr != "" && code2 != tc.wantErr) {
				t.Errorf("got %d %q, want %d %q", st, code2, tc.wantStatus, tc.wantErr)
			}
		})
	}

	t.Run("code is single use", func(t *testing.T) {
		code, v := fasCode(t, e, jarClient(t))
		if st, _ := tokenCall(t, fasTok, form(code, v, testRedirect), "fas-rp", "s3cret-fas"); st != 200 {
			t.Fatalf("first exchange %d", st)
		}
		if st, ec := tokenCall(t, fasTok, form(code, v, testRedirect), "fas-rp", "s3cret-fas"); st != 400 || ec != "invalid_grant" {
			t.Errorf("replay: %d %q", st, ec)
		}
	})
	t.Run("acm code expires after 30 s", func(t *testing.T) {
		code, verifier := acmCode(t, e, "acm-rp")
		clk.Advance(31 * time.Second)
		st, ec := tokenCall(t, e.idp.Issuer(ProfileACM)+"/v1/token", form(code, verifier, testRedirect), "acm-rp", "s3cret-acm")
		if st != 400 || ec != "invalid_grant" {
			t.Errorf("expired code: %d %q", st, ec)
		}
	})
	t.Run("acm client_secret_post client", func(t *testing.T) {
		code, verifier := acmCode(t, e, "acm-post")
		f := form(code, verifier, testRedirect)
		f.Set("client_id", "acm-post")
		f.Set("client_secret", "s3cret-acm")
		if st, ec := tokenCall(t, e.idp.Issuer(ProfileACM)+"/v1/token", f, "", ""); st != 200 {
			t.Errorf("client_secret_post: %d %q", st, ec)
		}
	})
	t.Run("itsme assertion replayed", func(t *testing.T) {
		iss := e.idp.Issuer(ProfileITSME)
		assertion := clientAssertion(t, "itsme-rp", iss+"/token")
		var statuses []int
		for range 2 {
			st, _ := tokenCall(t, iss+"/token", itsmeForm(t, assertion), "", "")
			statuses = append(statuses, st)
		}
		if statuses[0] != 200 || statuses[1] != 400 {
			t.Errorf("statuses %v, want [200 400]", statuses)
		}
	})
	t.Run("itsme assertion", func(t *testing.T) {
		iss := e.idp.Issuer(ProfileITSME)
		for _, ac := range []struct {
			name   string
			aud    string
			client string
			want   int
		}{
			{"audience elsewhere", "http://127.0.0.1:1/other", "itsme-rp", 400},
			{"assertion for another client", iss + "/token", "fas-rp", 400},
			{"good", iss + "/token", "itsme-rp", 200},
		} {
			t.Run(ac.name, func(t *testing.T) {
				st, ec := tokenCall(t, iss+"/token", itsmeForm(t, clientAssertion(t, ac.client, ac.aud)), "", "")
				if (ac.want == 200) != (st == 200) {
					t.Errorf("got %d %q, want %d", st, ec, ac.want)
				}
			})
		}
	})
}

func TestAuthorizeRejects(t *testing.T) {
	e := startIdP(t, func(c *Config) { c.Clients = []ClientConfig{fasClient(false)} })
	authz := e.idp.Issuer(ProfileFAS) + "/authorize"
	_, ch := pkce()
	for _, tc := range []struct {
		name string
		url  string
		// wantRPError: redirected back to the RP with this error; "" means
		// the IdP must answer itself (never redirect to an unchecked URI).
		wantRPError string
	}{
		{"unregistered redirect_uri", authURL(authz, "fas-rp", "http://127.0.0.1:1/evil", "openid", "s", "n", ch, nil), ""},
		{"redirect_uri prefix trick", authURL(authz, "fas-rp", testRedirect+"/../evil", "openid", "s", "n", ch, nil), ""},
		{"unknown client", authURL(authz, "nobody", testRedirect, "openid", "s", "n", ch, nil), ""},
		{"no PKCE", authURL(authz, "fas-rp", testRedirect, "openid", "s", "n", "", nil), "invalid_request"},
		{"PKCE plain", authURL(authz, "fas-rp", testRedirect, "openid", "s", "n", "", url.Values{"code_challenge": {ch}, "code_challenge_method": {"plain"}}), "invalid_request"},
		{"implicit flow", authURL(authz, "fas-rp", testRedirect, "openid", "s", "n", ch, url.Values{"response_type": {"id_token"}}), ""},
		{"bad claims parameter", authURL(authz, "fas-rp", testRedirect, "openid", "s", "n", ch, url.Values{"claims": {"{not json"}}), "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			back, err := e.idp.BrowserLogin(context.Background(), jarClient(t), tc.url, Choice{Persona: PersonaParentA})
			if tc.wantRPError == "" {
				if back != nil {
					t.Fatalf("redirected to %v", back)
				}
				if err == nil || !strings.Contains(err.Error(), "400") {
					t.Fatalf("want a 400 page, got %v", err)
				}
				return
			}
			if !errors.Is(err, ErrNoPicker) || back.Query().Get("error") != tc.wantRPError {
				t.Fatalf("got %v %v, want error=%s", back, err, tc.wantRPError)
			}
			if !strings.HasPrefix(back.String(), testRedirect+"?") {
				t.Errorf("error sent to %v", back)
			}
		})
	}
}

func TestPickerCSRF(t *testing.T) {
	e := startIdP(t, func(c *Config) { c.Clients = []ClientConfig{fasClient(false)} })
	_, ch := pkce()
	au := authURL(e.idp.Issuer(ProfileFAS)+"/authorize", "fas-rp", testRedirect, "openid", "s", "n", ch, nil)
	hc := jarClient(t)
	resp, err := hc.Get(au)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	vals := url.Values{}
	for _, m := range reHidden.FindAllStringSubmatch(string(body), -1) {
		vals.Set(m[1], m[2])
	}
	loginURL := e.idp.Issuer(ProfileFAS) + "/login"
	good := vals.Get(FieldCSRF)
	for _, tc := range []struct {
		name   string
		client *http.Client
		csrf   string
	}{
		{"wrong form token", hc, "x" + good},
		{"no form token", hc, ""},
		{"no cookie (another browser)", &http.Client{}, good},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{FieldRequestID: {vals.Get(FieldRequestID)}, FieldCSRF: {tc.csrf}, FieldPersona: {PersonaParentA}, FieldLevel: {"500"}}
			resp := postForm(t, noFollow(tc.client), loginURL, f)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("status %d, want 403", resp.StatusCode)
			}
		})
	}
	t.Run("unknown persona or level", func(t *testing.T) {
		for _, f := range []url.Values{
			{FieldRequestID: {vals.Get(FieldRequestID)}, FieldCSRF: {good}, FieldPersona: {"nobody"}, FieldLevel: {"500"}},
			{FieldRequestID: {vals.Get(FieldRequestID)}, FieldCSRF: {good}, FieldPersona: {PersonaParentA}, FieldLevel: {"999"}},
			{FieldRequestID: {vals.Get(FieldRequestID)}, FieldCSRF: {good}, FieldPersona: {PersonaForeign}, FieldLevel: {"500"}},
		} {
			resp := postForm(t, noFollow(hc), loginURL, f)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%v: status %d, want 400", f, resp.StatusCode)
			}
		}
	})
	t.Run("the right token works", func(t *testing.T) {
		f := url.Values{FieldRequestID: {vals.Get(FieldRequestID)}, FieldCSRF: {good}, FieldPersona: {PersonaParentA}, FieldLevel: {"500"}}
		resp := postForm(t, noFollow(hc), loginURL, f)
		if resp.StatusCode != http.StatusFound {
			t.Errorf("status %d, want 302", resp.StatusCode)
		}
	})
}

func TestForeignHostRefused(t *testing.T) {
	e := startIdP(t, nil)
	req, _ := http.NewRequest(http.MethodGet, e.idp.Issuer(ProfileFAS)+"/.well-known/openid-configuration", nil)
	req.Host = "rebound.example.org"
	resp, err := http.DefaultClient.Do(req)
	if closed(t, resp, err).StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("status %d, want 421", resp.StatusCode)
	}
}

// TestPickerTwoTabs: a browser may have two logins open at once.
func TestPickerTwoTabs(t *testing.T) {
	e := startIdP(t, func(c *Config) { c.Clients = []ClientConfig{fasClient(false)} })
	hc := jarClient(t)
	open := func() url.Values {
		_, ch := pkce()
		resp, err := hc.Get(authURL(e.idp.Issuer(ProfileFAS)+"/authorize", "fas-rp", testRedirect, "openid", "s", "n", ch, nil))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		v := url.Values{}
		for _, m := range reHidden.FindAllStringSubmatch(string(body), -1) {
			v.Set(m[1], m[2])
		}
		return v
	}
	a, b := open(), open()
	for _, v := range []url.Values{a, b} {
		v.Set(FieldPersona, PersonaParentA)
		v.Set(FieldLevel, "500")
		resp := postForm(t, noFollow(hc), e.idp.Issuer(ProfileFAS)+"/login", v)
		if resp.StatusCode != http.StatusFound {
			t.Errorf("tab %s: status %d", v.Get(FieldRequestID), resp.StatusCode)
		}
	}
	// A token is bound to its request: tab a's token does not fit tab b.
	c := open()
	c.Set(FieldCSRF, a.Get(FieldCSRF))
	c.Set(FieldPersona, PersonaParentA)
	c.Set(FieldLevel, "500")
	resp := postForm(t, noFollow(hc), e.idp.Issuer(ProfileFAS)+"/login", c)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-request token: status %d, want 403", resp.StatusCode)
	}
}
