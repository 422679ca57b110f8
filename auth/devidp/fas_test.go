package devidp

import (
	"context"
	"net/url"
	"slices"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/overstap/overstap/auth/nrn"
)

func fasClient(signed bool) ClientConfig {
	return ClientConfig{
		ID: "fas-rp", Profile: ProfileFAS, AuthMethod: "client_secret_basic", Secret: secret("s3cret-fas"),
		RedirectURIs: []string{testRedirect}, PostLogoutRedirectURIs: []string{"http://127.0.0.1:1/bye"},
		UserinfoSigned: signed,
	}
}

func TestFASFlow(t *testing.T) {
	for _, tc := range []struct {
		name      string
		signed    bool
		persona   string
		level     string
		wantNRN   bool
		wantLevel string
	}{
		{"eid level 500 json userinfo", false, PersonaParentA, "500", true, "urn:be:fedict:iam:fas:Level500"},
		{"level 400 signed userinfo", true, PersonaUnrelated, "400", true, "urn:be:fedict:iam:fas:Level400"},
		{"bis holder", false, PersonaBIS, "450", true, "urn:be:fedict:iam:fas:Level450"},
		{"self-registered level 100 has no egovNRN", false, PersonaParentB, "100", false, "urn:be:fedict:iam:fas:Level100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := startIdP(t, func(c *Config) { c.Clients = []ClientConfig{fasClient(tc.signed)} })
			ctx := context.Background()
			issuer := e.idp.Issuer(ProfileFAS)
			if want := e.ts.URL + "/fas/oauth2"; issuer != want {
				t.Fatalf("issuer %q, want %q", issuer, want)
			}
			prov := discover(t, issuer)
			if got := prov.Endpoint().TokenURL; got != issuer+"/access_token" {
				t.Errorf("token endpoint %q", got)
			}
			conf := oauth2.Config{
				ClientID: "fas-rp", ClientSecret: "s3cret-fas", RedirectURL: testRedirect,
				Endpoint: oauth2.Endpoint{AuthURL: prov.Endpoint().AuthURL, TokenURL: prov.Endpoint().TokenURL, AuthStyle: oauth2.AuthStyleInHeader},
				Scopes:   []string{"openid", "profile", "egovnrn"},
			}
			verifier := oauth2.GenerateVerifier()
			au := conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "n0nce"),
				oauth2.SetAuthURLParam("acr_values", "urn:be:fedict:iam:fas:Level400"))
			back, err := e.idp.BrowserLogin(ctx, jarClient(t), au, Choice{Persona: tc.persona, Level: tc.level})
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			if back.Query().Get("state") != "st4te" || back.Query().Get("code") == "" {
				t.Fatalf("callback %v", back)
			}
			tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := prov.Verifier(&oidc.Config{ClientID: "fas-rp"}).Verify(ctx, raw)
			if err != nil {
				t.Fatalf("verify id token: %v", err)
			}
			var claims struct {
				ACR   string   `json:"acr"`
				AMR   []string `json:"amr"`
				Nonce string   `json:"nonce"`
				SID   string   `json:"sid"`
				NRN   string   `json:"egovNRN"`
			}
			if err := idt.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			if claims.ACR != "0" || !slices.Equal(claims.AMR, []string{tc.wantLevel}) || claims.Nonce != "n0nce" || claims.SID == "" {
				t.Errorf("id token claims %+v", claims)
			}
			if claims.NRN != "" {
				t.Error("FAS puts egovNRN in userinfo, not in the ID token")
			}
			if idt.Subject != e.idp.Subject(ProfileFAS, tc.persona) {
				t.Errorf("sub %q", idt.Subject)
			}
			ui, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			var uc map[string]any
			if err := ui.Claims(&uc); err != nil {
				t.Fatal(err)
			}
			per, _ := e.idp.persona(tc.persona)
			got, _ := uc[ClaimEgovNRN].(string)
			if tc.wantNRN {
				n, err := nrn.Parse(got)
				if err != nil || !n.Equal(per.NRN) || !nrn.IsSynthetic(n) {
					t.Errorf("egovNRN %q (masked want %s): %v", nrn.Scrub(got), per.NRN.Mask(), err)
				}
			} else if got != "" {
				t.Errorf("egovNRN released at a level not linked to a national number")
			}
			if uc[ClaimFASGivenName] != per.GivenName || uc[ClaimFASSurname] != per.FamilyName || uc[ClaimFASPrefLanguage] != per.Language {
				t.Errorf("userinfo names %v", uc)
			}
			if ui.Subject != idt.Subject {
				t.Errorf("userinfo sub %q != id token sub %q", ui.Subject, idt.Subject)
			}
			// The code is single use.
			if _, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier)); err == nil {
				t.Error("second exchange of the same code succeeded")
			}
			_ = url.Values{}
		})
	}
}
