package legacylogin

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestSameOrigin: a password post from another site is refused (login
// CSRF); the login form's own post and non-browser clients are accepted.
func TestSameOrigin(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    bool
	}{
		{"no browser headers (curl)", nil, true},
		{"same origin by Sec-Fetch-Site", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "https://login.gemeente.example"}, true},
		{"typed by the user", map[string]string{"Sec-Fetch-Site": "none"}, true},
		{"cross-site by Sec-Fetch-Site", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://gemeente.example"}, false},
		{"same-site other origin", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://www.gemeente.example"}, false},
		{"own Origin without Sec-Fetch-Site", map[string]string{"Origin": "https://gemeente.example"}, true},
		{"foreign Origin without Sec-Fetch-Site", map[string]string{"Origin": "http://127.0.0.2:9999"}, false},
		{"opaque Origin", map[string]string{"Origin": "null"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "https://gemeente.example/login", nil)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			if got := sameOrigin(r); got != tc.want {
				t.Errorf("sameOrigin = %v, want %v", got, tc.want)
			}
		})
	}
}
