package hash

import (
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"strings"
)

// phpass (Solar Designer's portable hashes, WordPress, phpBB): "$P$" or "$H$",
// one crypt-base64 character giving log2 of the iteration count (7..30), 8
// salt characters, 22 characters of MD5 output; 34 in all.
//
// Drupal 7: "$S$", same layout with SHA-512, the encoded hash truncated so
// the whole value is 55 characters. "U$S$..." is Drupal's upgrade of a
// Drupal 6 md5 hash: the $S$ hash of hex(md5(password)).

func phpassSchemes() []*scheme {
	return []*scheme{
		phpassScheme("phpass", "", false),
		phpassScheme("drupal7", "", true),
		phpassScheme("drupal7-md5", "U", true),
	}
}

func phpassScheme(name, pre string, drupal bool) *scheme {
	total, hashLen := 34, 22
	if drupal {
		total, hashLen = 55, 43
	}
	check := func(h *Hasher, log2 int) error {
		if log2 < 7 || log2 > h.limits.PhpassMaxLog2 {
			return limitErr(name, "log2 count", int64(log2), int64(h.limits.PhpassMaxLog2))
		}
		return nil
	}
	return &scheme{
		name:      name,
		expensive: true,
		match: func(stored string, _ Params) bool {
			if drupal {
				return strings.HasPrefix(stored, pre+"$S$")
			}
			return strings.HasPrefix(stored, "$P$") || strings.HasPrefix(stored, "$H$")
		},
		parse: func(h *Hasher, stored string, _ Params) (*decoded, error) {
			s := stored[len(pre):]
			if len(s) != total || !isCrypt64(s[3:]) {
				return nil, unsupported(name, "want %d characters, got %d", total+len(pre), len(stored))
			}
			log2 := strings.IndexByte(itoa64, s[3])
			if err := check(h, log2); err != nil {
				return nil, err
			}
			return &decoded{
				salt: []byte(s[4:12]), rounds: log2, digest: []byte(s[12:]), usable: true,
				strength: phpassStrength(log2), cost: fmt.Sprintf("count 2^%d", log2),
			}, nil
		},
		derive: func(d *decoded, pw []byte) ([]byte, error) {
			if len(pw) > MaxIteratedPasswordBytes {
				return nil, fmt.Errorf("%w: %s takes at most %d bytes", ErrPasswordTooLong, name, MaxIteratedPasswordBytes)
			}
			if pre == "U" {
				m := md5.Sum(pw)
				pw = []byte(hex.EncodeToString(m[:]))
			}
			return phpassHash(drupal, pw, d.salt, d.rounds)[:hashLen], nil
		},
		rebuild: func(h *Hasher, d *decoded) error {
			if len(d.salt) != 8 {
				return unsupported(name, "bad wrapped salt")
			}
			return check(h, d.rounds)
		},
	}
}

func phpassHash(drupal bool, pw, salt []byte, log2 int) []byte {
	newHash := md5.New // phpass
	if drupal {
		newHash = sha512.New // Drupal 7
	}
	h := newHash()
	h.Write(salt)
	h.Write(pw)
	x := h.Sum(nil)
	for n := 1 << log2; n > 0; n-- {
		h.Reset()
		h.Write(x)
		h.Write(pw)
		x = h.Sum(x[:0])
	}
	return phpassEncode64(x)
}
