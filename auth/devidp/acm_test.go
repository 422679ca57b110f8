package devidp

import (
	"context"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/overstap/overstap/auth/nrn"
)

func acmClient() ClientConfig {
	return ClientConfig{
		ID: "acm-rp", Profile: ProfileACM, AuthMethod: "client_secret_basic", Secret: secret("s3cret-acm"),
		RedirectURIs: []string{testRedirect},
	}
}

// TestACMFlow drives the ACM profile with zitadel's own relying-party
// library (pkg/client/rp), an implementation independent of ours.
func TestACMFlow(t *testing.T) {
	for _, tc := range []struct {
		level   string
		persona string
		wantRRN bool
	}{
		{"eid", PersonaParentA, true},
		{"itsme", PersonaAdult, true},
		{"csamtotp", PersonaRoommate, true},
		{"csamsms", PersonaUnrelated, true},
		{"csampassword", PersonaMinor, true},
		{"eidashigh", PersonaBIS, true},
		{"eidassubstantial", PersonaParentB, true},
		{"csamselfreg", PersonaParentA, false},
	} {
		t.Run(tc.level, func(t *testing.T) {
			e := startIdP(t, func(c *Config) { c.Clients = []ClientConfig{acmClient()} })
			ctx := context.Background()
			issuer := e.idp.Issuer(ProfileACM)
			party, err := rp.NewRelyingPartyOIDC(ctx, issuer, "acm-rp", "s3cret-acm", testRedirect,
				[]string{"openid", "profile", "rrn"}, rp.WithAuthStyle(oauth2.AuthStyleInHeader),
				rp.WithVerifierOpts(rp.WithNonce(func(context.Context) string { return "acm-nonce" })))
			if err != nil {
				t.Fatalf("zitadel rp: %v", err)
			}
			verifier, challenge := pkce()
			au := rp.AuthURL("acm-state", party, rp.WithCodeChallenge(challenge),
				rp.AuthURLOpt(rp.WithURLParam("nonce", "acm-nonce")),
				rp.AuthURLOpt(rp.WithURLParam("acr_values", "urn:be:vlaanderen:authmech:eidassubstantial")))
			back, err := e.idp.BrowserLogin(ctx, jarClient(t), au, Choice{Persona: tc.persona, Level: tc.level})
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			tokens, err := rp.CodeExchange[*zoidc.IDTokenClaims](ctx, back.Query().Get("code"), party, rp.WithCodeVerifier(verifier))
			if err != nil {
				t.Fatalf("code exchange: %v", err)
			}
			c := tokens.IDTokenClaims
			if c.AuthenticationContextClassReference != "urn:be:vlaanderen:authmech:"+tc.level {
				t.Errorf("acr %q", c.AuthenticationContextClassReference)
			}
			if c.Subject != e.idp.Subject(ProfileACM, tc.persona) || nrn.LooksLike(c.Subject) {
				t.Errorf("sub %q is not the opaque person id", c.Subject)
			}
			per, _ := e.idp.persona(tc.persona)
			got, _ := c.Claims[ClaimRRN].(string)
			if tc.wantRRN {
				if n, err := nrn.Parse(got); err != nil || !n.Equal(per.NRN) {
					t.Errorf("rrn in ID token wrong: %v", err)
				}
			} else if got != "" {
				t.Error("rrn released for a self-registered account")
			}
			ui, err := rp.Userinfo[*zoidc.UserInfo](ctx, tokens.AccessToken, tokens.TokenType, c.Subject, party)
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			if ui.GivenName != per.GivenName || ui.FamilyName != per.FamilyName {
				t.Errorf("userinfo names %q %q", ui.GivenName, ui.FamilyName)
			}
			if ur, _ := ui.Claims[ClaimRRN].(string); (ur != "") != tc.wantRRN {
				t.Errorf("userinfo rrn present=%v", ur != "")
			}
		})
	}
}
