package session

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/testsvc"
)

func newClock() *testsvc.Clock {
	return testsvc.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 123_456_789, time.UTC))
}

// refKey is the NRN reference key of the tests.
var refKey = nrn.MustRefKey([]byte("test-nrn-reference-key-32-bytes!"))

// testKey returns a 32-byte sealing key, different per n.
func testKey(n byte) config.Secret {
	k := make([]byte, KeySize)
	for i := range k {
		k[i] = n + byte(i)*7
	}
	return config.NewSecret(k)
}

// testSession returns a realistic session for person number i.
func testSession(t testing.TB, i int) *Session {
	t.Helper()
	n := nrn.NewGenerator(uint64(i) + 1).Next()
	return &Session{
		Identity: identity.Identity{
			NRN:      n,
			Provider: "fas",
			Issuer:   "https://idp.iamfas.int.belgium.be/fas/oauth2",
			Subject:  fmt.Sprintf("a3c1f0e2-7d44-4b0e-9d1f-%012d", i),
			SID:      fmt.Sprintf("6d3b0f7e-1c2a-4e5f-8a9b-%012d", i),
			Name:     "Jan Peeters",
			ACR:      "0",
			AMR:      []string{"urn:be:fedict:iam:fas:Level500"},
			Level:    identity.LevelHigh,
			AuthTime: time.Date(2026, 3, 2, 8, 59, 30, 0, time.UTC),
		},
		NRNRef:    n.Ref(refKey),
		AccountID: fmt.Sprintf("acct-%06d", i),
		IDToken:   "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
	}
}

func fill(s []string, v string) {
	for i := range s {
		s[i] = v
	}
}

func flipLowBits(c byte) byte {
	// The 43rd base64url character of 32 bytes must have its two low bits
	// zero; pick a character of the alphabet that breaks this.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, c)
	return alphabet[i|1]
}

func mustNewID(t testing.TB) string {
	t.Helper()
	id, err := newID()
	if err != nil {
		t.Fatal(err)
	}
	return id
}
