package hash

import (
	"crypto/md5"
	"io"
	"strings"
)

// MD5-crypt ("$1$", Poul-Henning Kamp's FreeBSD algorithm) and Apache's
// "$apr1$" variant (same algorithm, different magic). Format:
// magic salt(≤8 chars) "$" 22 crypt-base64 characters. 1,000 MD5 rounds:
// weak.

func md5CryptSchemes() []*scheme {
	return []*scheme{md5CryptScheme("md5-crypt", "$1$"), md5CryptScheme("apr1", "$apr1$")}
}

func md5CryptScheme(name, magic string) *scheme {
	return &scheme{
		name:  name,
		match: func(stored string, _ Params) bool { return strings.HasPrefix(stored, magic) },
		parse: func(_ *Hasher, stored string, _ Params) (*decoded, error) {
			rest := stored[len(magic):]
			i := strings.IndexByte(rest, '$')
			if i < 0 {
				return nil, unsupported(name, "missing '$' after the salt")
			}
			salt, sum := rest[:i], rest[i+1:]
			if len(salt) > 8 || !isCrypt64(salt) {
				return nil, unsupported(name, "salt must be at most 8 crypt-base64 characters")
			}
			if len(sum) != 22 || !isCrypt64(sum) {
				return nil, unsupported(name, "want 22 crypt-base64 characters of hash, got %d", len(sum))
			}
			return &decoded{salt: []byte(salt), digest: []byte(sum), usable: true, strength: StrengthWeak, cost: "1000 md5 rounds"}, nil
		},
		derive: func(d *decoded, pw []byte) ([]byte, error) { return md5Crypt(pw, d.salt, []byte(magic)), nil },
		rebuild: func(_ *Hasher, d *decoded) error {
			if len(d.salt) > 8 {
				return unsupported(name, "salt longer than 8")
			}
			return nil
		},
	}
}

// writeCryptRound writes the input of round i of MD5-crypt and SHA-crypt:
// the password (p) and the previous digest (prev) in turn, with the salt (s)
// on rounds not divisible by 3 and the password again on rounds not
// divisible by 7.
func writeCryptRound(w io.Writer, i int, p, prev, s []byte) {
	if i&1 != 0 {
		w.Write(p)
	} else {
		w.Write(prev)
	}
	if i%3 != 0 {
		w.Write(s)
	}
	if i%7 != 0 {
		w.Write(p)
	}
	if i&1 != 0 {
		w.Write(prev)
	} else {
		w.Write(p)
	}
}

// md5Crypt returns the 22-character hash part of MD5-crypt.
func md5Crypt(pw, salt, magic []byte) []byte {
	alt := md5.New()
	alt.Write(pw)
	alt.Write(salt)
	alt.Write(pw)
	altSum := alt.Sum(nil)

	ctx := md5.New()
	ctx.Write(pw)
	ctx.Write(magic)
	ctx.Write(salt)
	for pl := len(pw); pl > 0; pl -= 16 {
		ctx.Write(altSum[:min(pl, 16)])
	}
	for i := len(pw); i != 0; i >>= 1 {
		if i&1 != 0 {
			ctx.Write([]byte{0})
		} else {
			ctx.Write(pw[:1])
		}
	}
	final := ctx.Sum(nil)

	for i := 0; i < 1000; i++ {
		c := md5.New()
		writeCryptRound(c, i, pw, final, salt)
		final = c.Sum(final[:0])
	}

	out := make([]byte, 0, 22)
	out = b64From24(out, final[0], final[6], final[12], 4)
	out = b64From24(out, final[1], final[7], final[13], 4)
	out = b64From24(out, final[2], final[8], final[14], 4)
	out = b64From24(out, final[3], final[9], final[15], 4)
	out = b64From24(out, final[4], final[10], final[5], 4)
	out = b64From24(out, 0, 0, final[11], 2)
	return out
}
