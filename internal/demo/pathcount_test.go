//go:build pathcount

package demo

import (
	"os"
	"testing"

	"github.com/overstap/overstap/auth/devidp"
)

// TestPathCount is a measurement, not a test: built only with the
// pathcount tag, run by scripts/path-count.sh (with a coverage profile): PATHCOUNT=setup starts the
// demo and warms it with one request; PATHCOUNT=requests does the same
// and then sends one citizen's four requests (legacy login GET, federated
// login, IdP callback, first proxied request). The script keeps the code
// blocks that ran more often in the second run.
func TestPathCount(t *testing.T) {
	mode := os.Getenv("PATHCOUNT")
	d := startDemo(t, Options{})
	newCitizen(t).get(d.GatewayURL + "/") // warm: lazily built parts are built in both runs
	if mode != "requests" {
		return
	}
	c := newCitizen(t)
	c.get(d.GatewayURL + "/login")
	if resp, _ := c.login(d, devidp.PersonaParentA, "/"); resp.StatusCode != 200 {
		t.Fatalf("first proxied request: %d", resp.StatusCode)
	}
}
