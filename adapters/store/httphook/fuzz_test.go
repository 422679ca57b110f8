package httphook

import (
	"encoding/json"
	"testing"

	"github.com/overstap/overstap/auth/nrn"
)

// FuzzFromWire: whatever a hook sends, decoding never panics, never yields
// an account without an id, and never puts a clear national number into
// NRNProblem.
func FuzzFromWire(f *testing.F) {
	for _, s := range []string{
		`{"id":"1","username":"jan","credential":"$1$x"}`,
		`{"id":"2","credential_b64":"/w==","nrn":"85073003328"}`,
		`{"id":"3","credential":"x","credential_b64":"eA=="}`,
		`{"id":"4","credential_null":true,"credential":"x"}`,
		`{"id":"5","nrn":"12345678901","nrn_problem":"85.07.30-033.28 is wrong"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var w WireAccount
		if json.Unmarshal(b, &w) != nil {
			return
		}
		a, err := FromWire(w, "")
		if err != nil {
			return
		}
		if a.ID == "" {
			t.Fatal("account without id")
		}
		if nrn.Contains(a.NRNProblem) {
			t.Fatal("clear national number in NRNProblem")
		}
		if a.CredentialNull && a.Credential != "" {
			t.Fatal("null with a value")
		}
	})
}
