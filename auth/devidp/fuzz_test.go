package devidp

import (
	"testing"
)

// FuzzParseConfig: the YAML decoder and Validate never panic.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"issuer_base: http://127.0.0.1:8081\n",
		"listen: 127.0.0.1:1\nissuer_base: http://[::1]:1\nprofiles: [fas]\n",
		"issuer_base: http://127.0.0.1:1\nclients:\n  - id: a\n    profile: itsme\n    auth_method: private_key_jwt\n    jwks: '{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\",\"use\":\"enc\"}]}'\n    redirect_uris: [http://127.0.0.1/cb]\n",
		"clients: [{id: x, redirect_uris: ['http://127.0.0.1:1/%zz']}]\n",
		"signing_key: insecure-literal:-----BEGIN RSA PRIVATE KEY-----\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConfig([]byte(s))
		if err == nil && c.IssuerBase == "" {
			t.Fatal("accepted a config without issuer_base")
		}
	})
}

// FuzzPeekAssertion: reading an untrusted client assertion never panics.
func FuzzPeekAssertion(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOlsiYSJdLCJqdGkiOiJ4In0.c2ln")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = peekAssertion(s)
	})
}
