package devidp

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/overstap/overstap/internal/testsvc"
)

// TestStepUpAndSSO shows the picker honouring acr_values, max_age and
// prompt (login, none), and auth_time staying the time of the real login.
func TestStepUpAndSSO(t *testing.T) {
	clk := testsvc.NewClock(time.Now().Truncate(time.Second))
	e := startIdP(t, func(c *Config) {
		c.Clients = []ClientConfig{fasClient(false)}
		c.Now = clk.Now
	})
	ctx := context.Background()
	issuer := e.idp.Issuer(ProfileFAS)
	prov := discover(t, issuer)
	conf := oauth2.Config{
		ClientID: "fas-rp", ClientSecret: "s3cret-fas", RedirectURL: testRedirect,
		Endpoint: oauth2.Endpoint{AuthURL: issuer + "/authorize", TokenURL: issuer + "/access_token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"openid", "egovnrn"},
	}
	hc := jarClient(t)
	type result struct {
		authTime time.Time
		amr      []string
		sid      string
	}
	// login runs one authorization with extra parameters and returns the
	// ID token's auth_time and amr, or the error.
	login := func(t *testing.T, params url.Values, c Choice) (result, *url.URL, error) {
		t.Helper()
		v := oauth2.GenerateVerifier()
		opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(v)}
		for k := range params {
			opts = append(opts, oauth2.SetAuthURLParam(k, params.Get(k)))
		}
		back, err := e.idp.BrowserLogin(ctx, hc, conf.AuthCodeURL("s", opts...), c)
		if back == nil || back.Query().Get("code") == "" {
			return result{}, back, err
		}
		tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		idt, err := prov.Verifier(&oidc.Config{ClientID: "fas-rp", Now: time.Now}).Verify(ctx, tok.Extra("id_token").(string))
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		var cl struct {
			AuthTime int64    `json:"auth_time"`
			AMR      []string `json:"amr"`
			SID      string   `json:"sid"`
		}
		_ = idt.Claims(&cl)
		return result{authTime: time.Unix(cl.AuthTime, 0), amr: cl.AMR, sid: cl.SID}, back, nil
	}
	pickerOffersContinue := func(t *testing.T, params url.Values) bool {
		t.Helper()
		_, ch := pkce()
		resp, err := hc.Get(authURL(issuer+"/authorize", "fas-rp", testRedirect, "openid", "s", "n", ch, params))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.Contains(string(b), `value="continue"`)
	}
	t0 := clk.Now()
	first, _, err := login(t, url.Values{"acr_values": {"urn:be:fedict:iam:fas:Level400"}}, Choice{Persona: PersonaParentA})
	if err != nil {
		t.Fatal(err)
	}
	if !first.authTime.Equal(t0) || first.amr[0] != "urn:be:fedict:iam:fas:Level400" {
		t.Fatalf("first login: auth_time %v (want %v), amr %v", first.authTime, t0, first.amr)
	}
	clk.Advance(time.Minute)

	t.Run("SSO keeps auth_time and level", func(t *testing.T) {
		if !pickerOffersContinue(t, nil) {
			t.Fatal("no continue offered with a valid session")
		}
		r, _, err := login(t, nil, Choice{Action: "continue"})
		if err != nil {
			t.Fatal(err)
		}
		if !r.authTime.Equal(t0) || r.amr[0] != "urn:be:fedict:iam:fas:Level400" || r.sid != first.sid {
			t.Errorf("SSO: %+v, want auth_time %v, same sid", r, t0)
		}
	})
	for _, tc := range []struct {
		name   string
		params url.Values
	}{
		{"higher acr_values", url.Values{"acr_values": {"urn:be:fedict:iam:fas:Level500"}}},
		{"max_age exceeded", url.Values{"max_age": {"30"}}},
		{"prompt=login", url.Values{"prompt": {"login"}}},
	} {
		t.Run(tc.name+" forces a new login", func(t *testing.T) {
			if pickerOffersContinue(t, tc.params) {
				t.Fatal("continue offered")
			}
			if _, _, err := login(t, tc.params, Choice{Action: "continue"}); err == nil {
				t.Fatal("continue accepted anyway")
			}
		})
	}
	t.Run("max_age within limit allows SSO", func(t *testing.T) {
		if !pickerOffersContinue(t, url.Values{"max_age": {"3600"}}) {
			t.Error("continue not offered")
		}
	})
	t.Run("step-up login", func(t *testing.T) {
		r, _, err := login(t, url.Values{"acr_values": {"urn:be:fedict:iam:fas:Level500"}, "max_age": {"0"}}, Choice{Persona: PersonaParentA})
		if err != nil {
			t.Fatal(err)
		}
		if !r.authTime.Equal(t0.Add(time.Minute)) || r.amr[0] != "urn:be:fedict:iam:fas:Level500" || r.sid != first.sid {
			t.Errorf("step-up: %+v", r)
		}
	})
	t.Run("prompt=none with a session answers without the picker", func(t *testing.T) {
		r, back, err := login(t, url.Values{"prompt": {"none"}}, Choice{})
		if !errors.Is(err, ErrNoPicker) && err != nil {
			t.Fatal(err)
		}
		if back == nil || back.Query().Get("code") == "" || r.amr[0] != "urn:be:fedict:iam:fas:Level500" {
			t.Errorf("prompt=none: %v %+v", back, r)
		}
	})
	t.Run("cancel gives access_denied", func(t *testing.T) {
		_, back, err := login(t, nil, Choice{Action: "cancel"})
		if err != nil || back.Query().Get("error") != "access_denied" || back.Query().Get("state") != "s" {
			t.Errorf("cancel: %v %v", back, err)
		}
	})
	t.Run("another persona on the same browser gets a new session", func(t *testing.T) {
		r, _, err := login(t, nil, Choice{Persona: PersonaUnrelated})
		if err != nil {
			t.Fatal(err)
		}
		if r.sid == first.sid {
			t.Error("sid reused across personas")
		}
	})
}

func TestAuthorizationResponseIss(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(map[bool]string{false: "off", true: "on"}[on], func(t *testing.T) {
			e := startIdP(t, func(c *Config) {
				c.Clients = []ClientConfig{fasClient(false)}
				c.AuthorizationResponseIss = on
			})
			issuer := e.idp.Issuer(ProfileFAS)
			want := ""
			if on {
				want = issuer
			}
			for _, choice := range []Choice{{Persona: PersonaParentA}, {Action: "cancel"}} {
				_, ch := pkce()
				au := authURL(issuer+"/authorize", "fas-rp", testRedirect, "openid", "s", "n", ch, nil)
				back, err := e.idp.BrowserLogin(context.Background(), jarClient(t), au, choice)
				if err != nil {
					t.Fatal(err)
				}
				if got := back.Query().Get("iss"); got != want {
					t.Errorf("%+v: iss %q, want %q", choice, got, want)
				}
				if back.Query().Get("code") == "" && back.Query().Get("error") == "" {
					t.Errorf("no code or error in %v", back)
				}
			}
			// Errors from the authorize endpoint itself (no PKCE) too.
			au := authURL(issuer+"/authorize", "fas-rp", testRedirect, "openid", "s", "n", "", nil)
			back, _ := e.idp.BrowserLogin(context.Background(), jarClient(t), au, Choice{})
			if back == nil || back.Query().Get("iss") != want {
				t.Errorf("PKCE error response %v, want iss %q", back, want)
			}
		})
	}
}
