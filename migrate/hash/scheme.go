package hash

import (
	"crypto/subtle"
	"strings"
)

// scheme is one row of the fixed table: how to recognise a family, parse and
// bound a value, and check a password against it. Schemes that can recompute
// the stored digest from the password and the parameters (derive) can be
// wrapped; the others (bcrypt, argon2, scrypt) verify with their library.
type scheme struct {
	name string
	// expensive schemes take a limiter slot while they compute.
	expensive bool
	// match is a cheap test: is stored in this scheme's format (or does the
	// store's hint name this scheme)? The first matching row parses.
	match func(stored string, p Params) bool
	// parse decodes and bounds the value; it returns *UnsupportedError or
	// *LimitError, never panics.
	parse func(h *Hasher, stored string, p Params) (*decoded, error)
	// derive recomputes the digest for password with d's parameters.
	derive func(d *decoded, password []byte) ([]byte, error)
	// verify replaces derive+compare for library-verified schemes.
	verify func(h *Hasher, d *decoded, password []byte) (bool, error)
	// rebuild checks the parameters of a wrapped value's inner part (limits,
	// salt length) before derive runs on them; nil means no parameters.
	rebuild func(h *Hasher, d *decoded) error
}

// decoded is a parsed stored value.
type decoded struct {
	s        *scheme
	name     string // reported scheme name
	salt     []byte
	rounds   int    // iterations, rounds, log2 count, bcrypt cost: as the scheme defines
	keyLen   int    // derived key length where variable
	alg      string // digest or variant where a scheme has several
	mem      uint32 // argon2 memory KiB
	par      uint8  // argon2 threads
	r, p     int    // scrypt
	digest   []byte // expected value of derive
	raw      []byte // library-verified hash (bcrypt string, ...)
	inner    *decoded
	usable   bool
	strength Strength
	cost     string
}

// schemeTable returns the fixed table in match order: markers first, then
// self-describing formats, then the values that need the store's hint or are
// recognised by shape alone. It is built per Hasher: there is no global
// mutable registry.
func schemeTable() []*scheme {
	t := []*scheme{lockedScheme(), wrappedScheme()}
	t = append(t, cryptSchemes()...)
	t = append(t, ldapSchemes()...)
	t = append(t, phpassSchemes()...)
	t = append(t, argon2Schemes()...)
	t = append(t, djangoSchemes()...)
	t = append(t, passlibSchemes()...)
	t = append(t, mysql41Scheme())
	t = append(t, embeddedSaltSchemes()...)
	t = append(t, digestSchemes()...)
	t = append(t, aspnetSchemes()...)
	return t
}

// parse identifies and decodes stored.
func (h *Hasher) parse(stored string, p Params) (*decoded, error) {
	if len(stored) > maxStoredLen {
		return nil, unsupported("", "value longer than %d bytes", maxStoredLen)
	}
	if p.Hint != "" && !validHint(p.Hint) {
		return nil, unsupported("", "unknown store hint %q", p.Hint)
	}
	for _, s := range h.schemes {
		if s.match(stored, p) {
			d, err := s.parse(h, stored, p)
			if err != nil {
				return nil, err
			}
			if d.s == nil {
				d.s = s
			}
			if d.name == "" {
				d.name = s.name
			}
			return d, nil
		}
	}
	if p.Hint != "" {
		return nil, unsupported(p.Hint, "value does not have the shape the store hint declares")
	}
	if strings.HasPrefix(stored, "$") || strings.HasPrefix(stored, "{") {
		return nil, unsupported("", "unknown self-describing format")
	}
	return nil, unsupported("", "unrecognised format (a bare value needs the store's hint)")
}

// check runs the password against d in constant time for its length.
func (h *Hasher) check(d *decoded, password []byte) (bool, error) {
	if d.s.verify != nil {
		return d.s.verify(h, d, password)
	}
	got, err := d.s.derive(d, password)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, d.digest) == 1, nil
}

func (h *Hasher) byName(name string) *scheme {
	for _, s := range h.schemes {
		if s.name == name {
			return s
		}
	}
	return nil
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func constEq(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
