package hash

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Django's password field "<algorithm>$<fields>" (django.contrib.auth.hashers):
//   - pbkdf2_sha256$<iterations>$<salt>$<base64 hash>, pbkdf2_sha1$... : the
//     salt is text and used as its UTF-8 bytes;
//   - bcrypt_sha256$<bcrypt of hex(sha256(password))> and bcrypt$<bcrypt>;
//   - argon2$argon2id$v=19$m=..,t=..,p=..$<salt>$<hash> (argon2i likewise).

func djangoSchemes() []*scheme {
	return []*scheme{
		pbkdf2Scheme("django-pbkdf2-sha256", "pbkdf2_sha256$", "sha256", djangoPBKDF2),
		pbkdf2Scheme("django-pbkdf2-sha1", "pbkdf2_sha1$", "sha1", djangoPBKDF2),
		djangoBcrypt("django-bcrypt-sha256", "bcrypt_sha256$", true),
		djangoBcrypt("django-bcrypt", "bcrypt$", false),
		djangoArgon2(),
	}
}

func djangoBcrypt(name, prefix string, preSHA bool) *scheme {
	return &scheme{
		name:      name,
		expensive: true,
		match:     func(stored string, _ Params) bool { return strings.HasPrefix(stored, prefix) },
		parse: func(h *Hasher, stored string, _ Params) (*decoded, error) {
			d, err := parseBcrypt(h, name, stored[len(prefix):])
			if err != nil {
				return nil, err
			}
			return d, nil
		},
		verify: func(_ *Hasher, d *decoded, pw []byte) (bool, error) {
			if preSHA {
				s := sha256.Sum256(pw)
				pw = []byte(hex.EncodeToString(s[:]))
			}
			return bcryptCompare(d.raw, pw)
		},
	}
}

func djangoArgon2() *scheme {
	const name = "django-argon2"
	return &scheme{
		name:      name,
		expensive: true,
		match:     func(stored string, _ Params) bool { return strings.HasPrefix(stored, "argon2$argon2") },
		parse: func(h *Hasher, stored string, _ Params) (*decoded, error) {
			rest := stored[len("argon2$"):]
			switch {
			case strings.HasPrefix(rest, "argon2id$"):
				return parseArgon2PHC(h, name, true, rest[len("argon2id$"):])
			case strings.HasPrefix(rest, "argon2i$"):
				return parseArgon2PHC(h, name, false, rest[len("argon2i$"):])
			}
			return nil, unsupported(name, "only argon2id and argon2i are supported")
		},
		verify: func(_ *Hasher, d *decoded, pw []byte) (bool, error) { return argon2Verify(d, pw), nil },
	}
}
