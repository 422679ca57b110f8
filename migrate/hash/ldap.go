package hash

import (
	"strings"
)

// LDAP userPassword schemes (RFC 2307 and the OpenLDAP/389-ds extensions):
// "{SHA}", "{SHA256}", "{SHA512}", "{MD5}" = base64(digest(password));
// "{SSHA}", "{SSHA256}", "{SSHA512}", "{SMD5}" = base64(digest(password +
// salt) + salt); "{CRYPT}" + any crypt(3) value this package knows. Scheme
// tags are case-insensitive.

func ldapSchemes() []*scheme {
	type def struct {
		tag    string
		alg    int // index into digestAlgs
		salted bool
	}
	defs := []def{
		{"{SHA}", 1, false}, {"{SSHA}", 1, true},
		{"{SHA256}", 2, false}, {"{SSHA256}", 2, true},
		{"{SHA512}", 3, false}, {"{SSHA512}", 3, true},
		{"{MD5}", 0, false}, {"{SMD5}", 0, true},
	}
	out := []*scheme{ldapCryptScheme()}
	for _, df := range defs {
		out = append(out, ldapDigestScheme(df.tag, digestAlgs[df.alg], df.salted))
	}
	return out
}

func ldapDigestScheme(tag string, a digestAlg, salted bool) *scheme {
	name := "ldap-" + strings.ToLower(strings.Trim(tag, "{}"))
	return &scheme{
		name:  name,
		match: func(stored string, _ Params) bool { return hasPrefixFold(stored, tag) },
		parse: func(_ *Hasher, stored string, _ Params) (*decoded, error) {
			b, ok := decodeB64(stored[len(tag):])
			if !ok {
				return nil, unsupported(name, "bad base64")
			}
			d := &decoded{usable: true, strength: StrengthWeak, cost: "1 iteration"}
			switch {
			case !salted && len(b) != a.size:
				return nil, unsupported(name, "want %d bytes of digest, got %d", a.size, len(b))
			case salted && (len(b) <= a.size || len(b) > a.size+64):
				return nil, unsupported(name, "want %d bytes of digest and 1 to 64 bytes of salt, got %d bytes", a.size, len(b))
			}
			d.digest, d.salt = b[:a.size], b[a.size:]
			return d, nil
		},
		derive: func(d *decoded, pw []byte) ([]byte, error) { return sum(a, pw, d.salt), nil },
		rebuild: func(_ *Hasher, d *decoded) error {
			if salted != (len(d.salt) > 0) || len(d.salt) > 64 {
				return unsupported(name, "bad wrapped salt")
			}
			return nil
		},
	}
}

// ldapCryptScheme: "{CRYPT}" followed by a crypt(3) value. The reported
// name is "ldap-crypt/<inner>"; verification is the inner scheme's.
// Traditional DES crypt (13 characters) is not implemented.
func ldapCryptScheme() *scheme {
	const tag = "{CRYPT}"
	return &scheme{
		name:  "ldap-crypt",
		match: func(stored string, _ Params) bool { return hasPrefixFold(stored, tag) },
		parse: func(h *Hasher, stored string, _ Params) (*decoded, error) {
			inner := stored[len(tag):]
			if !strings.HasPrefix(inner, "$") {
				if len(inner) == 13 {
					return nil, unsupported("ldap-crypt", "traditional DES crypt is not supported")
				}
				return nil, unsupported("ldap-crypt", "want a crypt(3) value after {CRYPT}")
			}
			for _, s := range cryptSchemes() {
				if !s.match(inner, Params{}) {
					continue
				}
				// Use the Hasher's own row so that d.s compares equal.
				row := h.byName(s.name)
				d, err := row.parse(h, inner, Params{})
				if err != nil {
					return nil, err
				}
				d.s = row
				d.name = "ldap-crypt/" + row.name
				return d, nil
			}
			return nil, unsupported("ldap-crypt", "unknown crypt(3) format after {CRYPT}")
		},
	}
}
