package hash

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// bcrypt: "$2a$", "$2b$", "$2y$" + two-digit cost + 22 + 31 bcrypt-base64
// characters (60 in all). "$2$" and "$2x$" (the buggy 2011 crypt_blowfish
// variant) are refused: x/crypto cannot reproduce $2x$ and $2$ predates the
// 8-bit fix.

func bcryptSchemes() []*scheme {
	return []*scheme{{
		name:      "bcrypt",
		expensive: true,
		match:     func(stored string, _ Params) bool { return strings.HasPrefix(stored, "$2") },
		parse: func(h *Hasher, stored string, _ Params) (*decoded, error) {
			return parseBcrypt(h, "bcrypt", stored)
		},
		verify: func(_ *Hasher, d *decoded, pw []byte) (bool, error) { return bcryptCompare(d.raw, pw) },
	}}
}

func parseBcrypt(h *Hasher, name, stored string) (*decoded, error) {
	if len(stored) < 4 || stored[0] != '$' || stored[1] != '2' {
		return nil, unsupported(name, "not a bcrypt value")
	}
	switch stored[2] {
	case 'a', 'b', 'y':
	default:
		return nil, unsupported(name, "bcrypt version %q not supported (only 2a, 2b, 2y)", stored[:min(len(stored), 3)])
	}
	if len(stored) != 60 || stored[3] != '$' || stored[6] != '$' || !isBcrypt64(stored[7:]) {
		return nil, unsupported(name, "want 60 characters $2x$NN$<53 bcrypt-base64>, got %d", len(stored))
	}
	cost, ok := atoiStrict(strings.TrimPrefix(stored[4:6], "0"))
	if !ok {
		return nil, unsupported(name, "cost is not two digits")
	}
	if cost < bcrypt.MinCost || cost > h.limits.BcryptMaxCost {
		return nil, limitErr(name, "cost", int64(cost), int64(h.limits.BcryptMaxCost))
	}
	// x/crypto accepts any minor version letter; normalise the accepted
	// ones so that its parser sees the same hash.
	raw := []byte(stored)
	if _, err := bcrypt.Cost(raw); err != nil {
		return nil, unsupported(name, "%v", err)
	}
	return &decoded{raw: raw, rounds: cost, usable: true, strength: bcryptStrength(cost), cost: fmt.Sprintf("bcrypt cost %d", cost)}, nil
}

// bcryptCompare compares in constant time (x/crypto uses
// subtle.ConstantTimeCompare). bcrypt reads at most 72 bytes of the key:
// a longer password would silently match its 72-byte prefix, so it is
// refused instead.
func bcryptCompare(raw, pw []byte) (bool, error) {
	if len(pw) > 72 {
		return false, fmt.Errorf("%w: bcrypt compares at most 72 bytes", ErrPasswordTooLong)
	}
	err := bcrypt.CompareHashAndPassword(raw, pw)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	}
	return false, unsupported("bcrypt", "%v", err)
}

const bcrypt64 = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func isBcrypt64(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(bcrypt64, s[i]) < 0 {
			return false
		}
	}
	return true
}
