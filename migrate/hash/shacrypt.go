package hash

import (
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	gohash "hash"
	"strings"
)

// SHA-crypt ("$5$" SHA-256, "$6$" SHA-512), Ulrich Drepper's "Unix crypt
// using SHA-256 and SHA-512" specification: optional "rounds=N$" (default
// 5000, clamped to 1000..999999999 by the spec, capped lower by
// Limits.ShaCryptMaxRounds), salt of at most 16 characters, hash of 43 or 86
// crypt-base64 characters.

const shaCryptDefaultRounds = 5000

func cryptSchemes() []*scheme {
	out := md5CryptSchemes()
	out = append(out, shaCryptScheme("sha256-crypt", "$5$", false), shaCryptScheme("sha512-crypt", "$6$", true))
	return append(out, bcryptSchemes()...)
}

func shaCryptScheme(name, magic string, is512 bool) *scheme {
	newH, hashLen := sha256.New, 43
	if is512 {
		newH, hashLen = sha512.New, 86
	}
	check := func(h *Hasher, rounds int) error {
		if rounds > h.limits.ShaCryptMaxRounds {
			return limitErr(name, "rounds", int64(rounds), int64(h.limits.ShaCryptMaxRounds))
		}
		return nil
	}
	return &scheme{
		name:      name,
		expensive: true,
		match:     func(stored string, _ Params) bool { return strings.HasPrefix(stored, magic) },
		parse: func(h *Hasher, stored string, _ Params) (*decoded, error) {
			rest := stored[len(magic):]
			rounds := shaCryptDefaultRounds
			if strings.HasPrefix(rest, "rounds=") {
				i := strings.IndexByte(rest, '$')
				if i < 0 {
					return nil, unsupported(name, "missing '$' after rounds=")
				}
				n, ok := atoiStrict(rest[len("rounds="):i])
				if !ok {
					return nil, unsupported(name, "rounds= is not a decimal number")
				}
				rounds = min(max(n, 1000), 999_999_999)
				rest = rest[i+1:]
			}
			if err := check(h, rounds); err != nil {
				return nil, err
			}
			i := strings.IndexByte(rest, '$')
			if i < 0 {
				return nil, unsupported(name, "missing '$' after the salt")
			}
			salt, sum := rest[:i], rest[i+1:]
			if len(salt) > 16 || strings.ContainsAny(salt, "$:\n") {
				return nil, unsupported(name, "salt must be at most 16 characters")
			}
			if len(sum) != hashLen || !isCrypt64(sum) {
				return nil, unsupported(name, "want %d crypt-base64 characters of hash, got %d", hashLen, len(sum))
			}
			return &decoded{
				salt: []byte(salt), rounds: rounds, digest: []byte(sum), usable: true,
				strength: shaCryptStrength(is512, rounds), cost: fmt.Sprintf("rounds %d", rounds),
			}, nil
		},
		derive: func(d *decoded, pw []byte) ([]byte, error) {
			if len(pw) > MaxIteratedPasswordBytes {
				return nil, fmt.Errorf("%w: %s takes at most %d bytes", ErrPasswordTooLong, name, MaxIteratedPasswordBytes)
			}
			return shaCrypt(newH, is512, pw, d.salt, d.rounds), nil
		},
		rebuild: func(h *Hasher, d *decoded) error {
			if len(d.salt) > 16 || d.rounds < 1000 {
				return unsupported(name, "bad wrapped parameters")
			}
			return check(h, d.rounds)
		},
	}
}

// shaCrypt returns the hash part of SHA-crypt for the given digest.
func shaCrypt(newH func() gohash.Hash, is512 bool, pw, salt []byte, rounds int) []byte {
	b := newH()
	b.Write(pw)
	b.Write(salt)
	b.Write(pw)
	bSum := b.Sum(nil)
	hl := len(bSum)

	a := newH()
	a.Write(pw)
	a.Write(salt)
	cnt := len(pw)
	for ; cnt > hl; cnt -= hl {
		a.Write(bSum)
	}
	a.Write(bSum[:cnt])
	for cnt = len(pw); cnt > 0; cnt >>= 1 {
		if cnt&1 != 0 {
			a.Write(bSum)
		} else {
			a.Write(pw)
		}
	}
	aSum := a.Sum(nil)

	dp := newH()
	for i := 0; i < len(pw); i++ {
		dp.Write(pw)
	}
	dpSum := dp.Sum(nil)
	p := make([]byte, 0, len(pw))
	for len(p)+hl <= len(pw) {
		p = append(p, dpSum...)
	}
	p = append(p, dpSum[:len(pw)-len(p)]...)

	ds := newH()
	for i := 0; i < 16+int(aSum[0]); i++ {
		ds.Write(salt)
	}
	dsSum := ds.Sum(nil)
	s := make([]byte, 0, len(salt))
	for len(s)+hl <= len(salt) {
		s = append(s, dsSum...)
	}
	s = append(s, dsSum[:len(salt)-len(s)]...)

	c := newH()
	for i := 0; i < rounds; i++ {
		c.Reset()
		writeCryptRound(c, i, p, aSum, s)
		aSum = c.Sum(aSum[:0])
	}

	out := make([]byte, 0, 86)
	if is512 {
		for k := 0; k < 21; k++ {
			f := (k * 22) % 63
			out = b64From24(out, aSum[f], aSum[(f+21)%63], aSum[(f+42)%63], 4)
		}
		return b64From24(out, 0, 0, aSum[63], 2)
	}
	for k := 0; k < 10; k++ {
		f := (k * 21) % 30
		out = b64From24(out, aSum[f], aSum[(f+10)%30], aSum[(f+20)%30], 4)
	}
	return b64From24(out, 0, aSum[31], aSum[30], 3)
}
