package demo

import (
	"net/http"
	"strings"
	"testing"
)

// TestDemoEdges: the demo enforces limits.max_header_bytes (32 KiB by
// default) although its listener is a plain http.Server, and refuses the
// path forms of issue 15's family-password takeover before any hook.
func TestDemoEdges(t *testing.T) {
	d := startDemo(t, Options{})
	c := newCitizen(t)
	for _, tc := range []struct {
		size     int
		tooLarge bool
	}{{16 << 10, false}, {40 << 10, true}, {900 << 10, true}} {
		req, _ := http.NewRequest("GET", d.GatewayURL+"/", nil)
		req.Header.Set("X-Big", strings.Repeat("a", tc.size))
		if resp, _ := c.do(req); (resp.StatusCode == http.StatusRequestHeaderFieldsTooLarge) != tc.tooLarge {
			t.Errorf("%d KiB header: %d", tc.size>>10, resp.StatusCode)
		}
	}
	for _, p := range []string{"/family;x=1/3/password", "/family./3/password", "/family%20/3/password",
		"/family..;/3/password", "/family;jsessionid=0/3/password"} {
		req, _ := http.NewRequest("POST", d.GatewayURL+p, strings.NewReader("nieuw_wachtwoord=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if resp, _ := c.do(req); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	if n := d.AppSaw("POST", "/family/3/password"); n != 0 {
		t.Fatalf("the e-loket got %d family password posts", n)
	}
}
