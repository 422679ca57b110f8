package devidp

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"
)

// BenchmarkLoginFlow is one whole FAS login over loopback HTTP: authorize,
// picker GET, picker POST, callback, token exchange (4 round trips plus
// redirects). Compare with BenchmarkDiscoveryBaseline, one GET of the
// discovery document on the same server in the same run.
func BenchmarkLoginFlow(b *testing.B) {
	e := benchIdP(b)
	hc := http.DefaultClient
	ctx := context.Background()
	tokenURL := e.idp.Issuer(ProfileFAS) + "/access_token"
	b.ResetTimer()
	for b.Loop() {
		verifier, ch := pkce()
		au := authURL(e.idp.Issuer(ProfileFAS)+"/authorize", "fas-rp", testRedirect, "openid egovnrn", "s", "n", ch, nil)
		back, err := e.idp.BrowserLogin(ctx, hc, au, Choice{Persona: PersonaParentA})
		if err != nil {
			b.Fatal(err)
		}
		f := url.Values{"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")}, "code_verifier": {verifier}, "redirect_uri": {testRedirect}}
		req, _ := http.NewRequest(http.MethodPost, tokenURL, stringsReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("fas-rp", "s3cret-fas")
		resp, err := hc.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("token: %v %v", err, resp.StatusCode)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func BenchmarkDiscoveryBaseline(b *testing.B) {
	e := benchIdP(b)
	u := e.idp.Issuer(ProfileFAS) + "/.well-known/openid-configuration"
	b.ResetTimer()
	for b.Loop() {
		resp, err := http.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func benchIdP(b *testing.B) *env {
	b.Helper()
	return newBenchServer(b)
}
