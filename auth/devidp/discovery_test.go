package devidp

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestDiscoveryAdvertisesOnlyWhatItServes: a relying party plans its
// requests by the discovery document, so every endpoint it names answers
// (none is a 404), the device flow that is refused is not advertised, and
// the scopes and claims are the profile's own, not op's defaults (no
// offline_access without refresh tokens, the NRN claim listed).
func TestDiscoveryAdvertisesOnlyWhatItServes(t *testing.T) {
	e := startIdP(t, nil)
	for _, tc := range []struct {
		p      Profile
		scopes []string
		claim  string
	}{
		{ProfileFAS, []string{"openid", "profile", "egovnrn"}, ClaimEgovNRN},
		{ProfileITSME, []string{"openid", "profile", "eid", "email"}, ClaimITSMENRN},
		{ProfileACM, []string{"openid", "profile", "rrn"}, ClaimRRN},
	} {
		t.Run(string(tc.p), func(t *testing.T) {
			resp, err := http.Get(e.idp.Issuer(tc.p) + "/.well-known/openid-configuration")
			if err != nil {
				t.Fatal(err)
			}
			var d map[string]any
			err = json.NewDecoder(resp.Body).Decode(&d)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if v, ok := d["device_authorization_endpoint"]; ok {
				t.Errorf("device_authorization_endpoint advertised (%v) although the device flow is refused", v)
			}
			if got := jsonStrings(d["grant_types_supported"]); !slices.Equal(got, []string{"authorization_code"}) {
				t.Errorf("grant_types_supported %v", got)
			}
			if got := jsonStrings(d["scopes_supported"]); !slices.Equal(got, tc.scopes) {
				t.Errorf("scopes_supported %v, want %v", got, tc.scopes)
			}
			if claims := jsonStrings(d["claims_supported"]); !slices.Contains(claims, tc.claim) || !slices.Contains(claims, "sid") {
				t.Errorf("claims_supported %v lacks %s or sid", claims, tc.claim)
			}
			n := 0
			for k, v := range d {
				if !strings.HasSuffix(k, "_endpoint") && k != "jwks_uri" {
					continue
				}
				n++
				u, _ := v.(string)
				method := http.MethodGet
				switch k {
				case "token_endpoint", "introspection_endpoint", "revocation_endpoint":
					method = http.MethodPost
				}
				req, _ := http.NewRequest(method, u, strings.NewReader(""))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v", k, u, err)
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
					t.Errorf("%s %s: %s %d: advertised but not served", k, u, method, resp.StatusCode)
				}
			}
			if n < 6 {
				t.Errorf("only %d endpoints advertised", n)
			}
		})
	}
}

func jsonStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
