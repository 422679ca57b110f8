package hash

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Wrapped values, version 1:
//
//	$osw1$<inner scheme>$r=<rounds>,l=<key length>,h=<digest>,s=<salt>$<bcrypt>
//
// <inner scheme> is a scheme name from Schemes() whose digest can be
// recomputed from a password (fast digests, crypt family, LDAP, phpass,
// PBKDF2 family, ASP.NET Identity); r, l and h are that scheme's parameters
// (0 or empty when it has none); s is its salt in unpadded base64url (for the
// salted hex hints this is the store's separate salt column, so a wrapped
// value verifies on its own). <bcrypt> is a standard 60-character bcrypt
// ($2a$) of
//
//	f(H) = base64(SHA-256("overstap-wrap-v1" || 0x00 || H))   (43 characters, unpadded standard base64)
//
// where H is the inner scheme's digest as that scheme compares it (raw bytes
// for hex/base64 digests, the crypt-base64 text for crypt formats). The
// SHA-256 step keeps every H under bcrypt's 72-byte input limit and free of
// NUL bytes; it adds no secrecy. Verify recomputes H from the password, then
// checks the bcrypt. A wrapped value always needs an upgrade to plain bcrypt.
const wrapPrefix = "$osw1$"

func wrapInput(h []byte) []byte {
	s := sha256.New()
	s.Write([]byte("overstap-wrap-v1\x00"))
	s.Write(h)
	out := make([]byte, base64.RawStdEncoding.EncodedLen(sha256.Size))
	base64.RawStdEncoding.Encode(out, s.Sum(nil))
	return out
}

// Wrap turns a stored value H of a weak scheme into a wrapped bcrypt(f(H))
// value at the configured cost (see the format above). It does not need the
// password. A plaintext value (Hint "plaintext") becomes a plain bcrypt
// Hash of it. Values that are already slow hashes, wrapped, locked or empty
// give an error wrapping ErrNotWrappable; unknown or malformed ones the
// errors of Identify.
func (h *Hasher) Wrap(ctx context.Context, stored string, p Params) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("hash: wrap: %w", err)
	}
	d, err := h.parse(stored, p)
	if err != nil {
		return "", err
	}
	switch {
	case !d.usable:
		return "", fmt.Errorf("%w: %s holds no password", ErrNotWrappable, d.name)
	case !wrappable(d):
		return "", fmt.Errorf("%w: %s is already a slow hash; rehash on the next login instead", ErrNotWrappable, d.name)
	case d.s.name == "plaintext":
		return h.Hash(ctx, stored)
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	b, err := bcrypt.GenerateFromPassword(wrapInput(d.digest), h.cfg.BcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash: wrap: bcrypt: %w", err)
	}
	var sb strings.Builder
	sb.Grow(128)
	sb.WriteString(wrapPrefix)
	sb.WriteString(d.s.name)
	sb.WriteString("$r=")
	sb.WriteString(strconv.Itoa(d.rounds))
	sb.WriteString(",l=")
	sb.WriteString(strconv.Itoa(d.keyLen))
	sb.WriteString(",h=")
	sb.WriteString(d.alg)
	sb.WriteString(",s=")
	sb.WriteString(base64.RawURLEncoding.EncodeToString(d.salt))
	sb.WriteByte('$')
	sb.Write(b)
	return sb.String(), nil
}

func wrappable(d *decoded) bool {
	return d.usable && d.s.derive != nil && d.s.name != "wrapped"
}

func wrappedScheme() *scheme {
	const name = "wrapped"
	return &scheme{
		name:      name,
		expensive: true,
		match:     func(stored string, _ Params) bool { return strings.HasPrefix(stored, wrapPrefix) },
		parse: func(h *Hasher, stored string, _ Params) (*decoded, error) {
			rest := stored[len(wrapPrefix):]
			i := strings.IndexByte(rest, '$')
			if i < 0 {
				return nil, unsupported(name, "missing inner scheme")
			}
			innerName, rest := rest[:i], rest[i+1:]
			inner := h.byName(innerName)
			if inner == nil || inner.derive == nil || inner.name == "plaintext" || inner.name == name {
				return nil, unsupported(name, "inner scheme %q cannot be wrapped", innerName)
			}
			i = strings.IndexByte(rest, '$')
			if i < 0 {
				return nil, unsupported(name, "missing parameters")
			}
			in, err := parseWrapParams(rest[:i])
			if err != nil {
				return nil, err
			}
			in.s, in.name, in.usable = inner, inner.name, true
			if inner.rebuild != nil {
				if err := inner.rebuild(h, in); err != nil {
					return nil, err
				}
			}
			bd, err := parseBcrypt(h, name, rest[i+1:])
			if err != nil {
				return nil, err
			}
			return &decoded{
				name: "wrapped(" + inner.name + ")", inner: in, raw: bd.raw, rounds: bd.rounds, usable: true,
				strength: bd.strength, cost: bd.cost + " over " + inner.name,
			}, nil
		},
		verify: func(_ *Hasher, d *decoded, pw []byte) (bool, error) {
			hv, err := d.inner.s.derive(d.inner, pw)
			if err != nil {
				return false, err
			}
			return bcryptCompare(d.raw, wrapInput(hv))
		},
	}
}

func parseWrapParams(s string) (*decoded, error) {
	kv := strings.Split(s, ",")
	if len(kv) != 4 || !strings.HasPrefix(kv[0], "r=") || !strings.HasPrefix(kv[1], "l=") ||
		!strings.HasPrefix(kv[2], "h=") || !strings.HasPrefix(kv[3], "s=") {
		return nil, unsupported("wrapped", "want parameters r=,l=,h=,s=")
	}
	r, ok1 := atoiStrict(kv[0][2:])
	l, ok2 := atoiStrict(kv[1][2:])
	salt, err := base64.RawURLEncoding.Strict().DecodeString(kv[3][2:])
	if !ok1 || !ok2 || err != nil || len(salt) > 256 || l > 128 {
		return nil, unsupported("wrapped", "bad parameters")
	}
	alg := kv[2][2:]
	if len(alg) > 16 {
		return nil, unsupported("wrapped", "bad parameters")
	}
	return &decoded{rounds: r, keyLen: l, alg: alg, salt: salt}, nil
}
