package hash

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"strings"
)

// Fast digests: plaintext, unsalted and salted hex MD5/SHA-1/SHA-256/SHA-512,
// MySQL 4.1. None of these can be told apart from the value alone except by
// length, so plaintext and the salted forms need the store's hint.

type digestAlg struct {
	name string
	size int // also tells the algorithms apart: every size is different
}

var digestAlgs = [...]digestAlg{
	{"md5", md5.Size},
	{"sha1", sha1.Size},
	{"sha256", sha256.Size},
	{"sha512", sha512.Size},
}

// Hints lists the store hints Params.Hint accepts.
func Hints() []string {
	out := []string{"plaintext"}
	for _, a := range digestAlgs {
		out = append(out, a.name, a.name+"(salt+password)", a.name+"(password+salt)")
	}
	return out
}

func validHint(h string) bool {
	for _, x := range Hints() {
		if x == h {
			return true
		}
	}
	return false
}

// ValidateHint returns an error naming the accepted hints when h is not one
// ("" is valid: identify bare values by shape).
func ValidateHint(h string) error {
	if h == "" || validHint(h) {
		return nil
	}
	return unsupported("", "unknown store hint %q (want one of %s)", h, strings.Join(Hints(), ", "))
}

func digestSchemes() []*scheme {
	out := []*scheme{plaintextScheme()}
	for _, a := range digestAlgs {
		out = append(out, hexScheme(a))
	}
	for _, a := range digestAlgs {
		out = append(out, saltedScheme(a, true), saltedScheme(a, false))
	}
	return out
}

// embeddedSaltSchemes carry their salt in the value:
//   - Django before 1.4: "sha1$<salt>$<hex sha1(salt+password)>" and
//     "md5$<salt>$<hex md5(salt+password)>" (unsalted ones have an empty salt);
//   - Joomla 1.0-2.5: "<hex md5(password+salt)>:<salt>".
func embeddedSaltSchemes() []*scheme {
	return []*scheme{
		djangoSaltedScheme("django-sha1", "sha1$", digestAlgs[1]),
		djangoSaltedScheme("django-md5", "md5$", digestAlgs[0]),
		joomlaScheme(),
	}
}

func djangoSaltedScheme(name, prefix string, a digestAlg) *scheme {
	return &scheme{
		name:  name,
		match: func(stored string, _ Params) bool { return strings.HasPrefix(stored, prefix) },
		parse: func(_ *Hasher, stored string, _ Params) (*decoded, error) {
			salt, sum, ok := strings.Cut(stored[len(prefix):], "$")
			if !ok || len(sum) != 2*a.size || !isHex(sum) || len(salt) > 256 {
				return nil, unsupported(name, "want %s<salt>$<%d hex digits>", prefix, 2*a.size)
			}
			b, _ := hex.DecodeString(sum)
			cost := "salted, 1 iteration"
			if salt == "" {
				cost = "unsalted, 1 iteration"
			}
			return &decoded{digest: b, salt: []byte(salt), usable: true, strength: StrengthWeak, cost: cost}, nil
		},
		derive: func(d *decoded, pw []byte) ([]byte, error) { return sum(a, d.salt, pw), nil },
	}
}

func joomlaScheme() *scheme {
	const name = "joomla"
	return &scheme{
		name: name,
		match: func(stored string, p Params) bool {
			return p.Hint == "" && len(stored) > 33 && stored[32] == ':' && isHex(stored[:32])
		},
		parse: func(_ *Hasher, stored string, _ Params) (*decoded, error) {
			salt := stored[33:]
			if len(salt) > 256 || strings.ContainsAny(salt, ":$\n") {
				return nil, unsupported(name, "bad salt")
			}
			b, _ := hex.DecodeString(stored[:32])
			return &decoded{digest: b, salt: []byte(salt), usable: true, strength: StrengthWeak, cost: "salted, 1 iteration"}, nil
		},
		derive: func(d *decoded, pw []byte) ([]byte, error) { return sum(digestAlgs[0], pw, d.salt), nil },
		rebuild: func(_ *Hasher, d *decoded) error {
			if len(d.salt) == 0 {
				return unsupported(name, "empty salt")
			}
			return nil
		},
	}
}

func plaintextScheme() *scheme {
	return &scheme{
		name:  "plaintext",
		match: func(_ string, p Params) bool { return p.Hint == "plaintext" },
		// Both sides are compared as SHA-256 digests so that the comparison
		// does not leak the stored password's length.
		parse: func(_ *Hasher, stored string, _ Params) (*decoded, error) {
			d := sha256.Sum256([]byte(stored))
			return &decoded{digest: d[:], usable: true, strength: StrengthNone, cost: "none"}, nil
		},
		derive: func(_ *decoded, pw []byte) ([]byte, error) { d := sha256.Sum256(pw); return d[:], nil },
	}
}

// sum digests the concatenated parts. The one-shot functions on a stack
// buffer leave only the result on the heap: a bulk migration checks
// several candidates for each of a million accounts.
func sum(a digestAlg, parts ...[]byte) []byte {
	var buf [256]byte
	in := buf[:0]
	for _, p := range parts {
		in = append(in, p...)
	}
	switch a.size {
	case md5.Size:
		d := md5.Sum(in)
		return d[:]
	case sha1.Size:
		d := sha1.Sum(in)
		return d[:]
	case sha256.Size:
		d := sha256.Sum256(in)
		return d[:]
	case sha512.Size:
		d := sha512.Sum512(in)
		return d[:]
	}
	panic("hash: unknown digest size") // digestAlgs is fixed at compile time
}

func hexScheme(a digestAlg) *scheme {
	return &scheme{
		name: a.name,
		match: func(stored string, p Params) bool {
			return p.Hint == a.name || p.Hint == "" && len(stored) == 2*a.size && isHex(stored)
		},
		parse: func(_ *Hasher, stored string, _ Params) (*decoded, error) {
			if len(stored) != 2*a.size || !isHex(stored) {
				return nil, unsupported(a.name, "want %d hex digits, got %d characters", 2*a.size, len(stored))
			}
			b, _ := hex.DecodeString(stored)
			return &decoded{digest: b, usable: true, strength: StrengthWeak, cost: "unsalted, 1 iteration"}, nil
		},
		derive: func(_ *decoded, pw []byte) ([]byte, error) { return sum(a, pw), nil },
	}
}

func saltedScheme(a digestAlg, saltFirst bool) *scheme {
	name := a.name + "(password+salt)"
	if saltFirst {
		name = a.name + "(salt+password)"
	}
	return &scheme{
		name:  name,
		match: func(_ string, p Params) bool { return p.Hint == name },
		parse: func(_ *Hasher, stored string, p Params) (*decoded, error) {
			if len(stored) != 2*a.size || !isHex(stored) {
				return nil, unsupported(name, "want %d hex digits, got %d characters", 2*a.size, len(stored))
			}
			if p.Salt == "" {
				return nil, unsupported(name, "store declares a salted scheme but the salt is empty")
			}
			if len(p.Salt) > 256 {
				return nil, unsupported(name, "salt longer than 256 bytes")
			}
			b, _ := hex.DecodeString(stored)
			return &decoded{digest: b, salt: []byte(p.Salt), usable: true, strength: StrengthWeak, cost: "salted, 1 iteration"}, nil
		},
		derive: func(d *decoded, pw []byte) ([]byte, error) {
			if saltFirst {
				return sum(a, d.salt, pw), nil
			}
			return sum(a, pw, d.salt), nil
		},
		rebuild: func(_ *Hasher, d *decoded) error {
			if len(d.salt) == 0 || len(d.salt) > 256 {
				return unsupported(name, "salt length %d", len(d.salt))
			}
			return nil
		},
	}
}

// mysql41Scheme: MySQL 4.1+ PASSWORD(): "*" + 40 upper-case hex of
// SHA1(SHA1(password)).
func mysql41Scheme() *scheme {
	return &scheme{
		name:  "mysql41",
		match: func(stored string, _ Params) bool { return strings.HasPrefix(stored, "*") && isHex(stored[1:]) },
		parse: func(_ *Hasher, stored string, _ Params) (*decoded, error) {
			if len(stored) != 41 || !isHex(stored[1:]) {
				return nil, unsupported("mysql41", "want '*' and 40 hex digits, got %d characters", len(stored))
			}
			b, _ := hex.DecodeString(stored[1:])
			return &decoded{digest: b, usable: true, strength: StrengthWeak, cost: "unsalted, 2 iterations"}, nil
		},
		derive: func(_ *decoded, pw []byte) ([]byte, error) {
			a := sha1.Sum(pw)
			b := sha1.Sum(a[:])
			return b[:], nil
		},
	}
}
