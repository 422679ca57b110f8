package migrate

import (
	"strings"
	"testing"
)

// FuzzParseKeys: key files never panic the parsers, and what parses
// round-trips.
func FuzzParseKeys(f *testing.F) {
	k, _ := GenerateKey(nil)
	pub := k.Public().String()
	f.Add(pub)
	f.Add("# comment\n" + pub + "\n")
	f.Add(privateKeyPrefix + strings.Repeat("A", 43) + "=")
	f.Add(publicKeyPrefix + "!!")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := ParsePublicKey(s); err == nil {
			if q, err := ParsePublicKey(p.String()); err != nil || q != p {
				t.Fatalf("round trip of %q failed", s)
			}
		}
		if k, err := ParsePrivateKey(s); err == nil && k.Public() == (PublicKey{}) {
			t.Fatalf("private key %q without public half", s)
		}
	})
}

// FuzzOpenSealed: a tampered or arbitrary sealed value never opens and
// never panics.
func FuzzOpenSealed(f *testing.F) {
	k, _ := GenerateKey(nil)
	s, _ := newSealer(k.Public())
	good, _ := s.seal("run-f", "acct", "old", false)
	f.Add(good)
	f.Add(sealedPrefix)
	f.Add(sealedPrefix + "AAAA")
	f.Add("garbage")
	f.Fuzz(func(t *testing.T, v string) {
		val, _, err := k.open("run-f", "acct", v)
		if err == nil && (v != good || val != "old") {
			t.Fatalf("%q opened to %q", v, val)
		}
	})
}
