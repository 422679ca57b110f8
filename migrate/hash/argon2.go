package hash

import (
	"crypto/subtle"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argon2 in the PHC string format (PHP password_hash, argon2-cffi, libsodium):
// "$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt b64>$<hash b64>",
// unpadded standard base64. Only version 19 (0x13) is implemented by
// x/crypto; argon2d is refused (not a password hash).

func argon2Schemes() []*scheme {
	return []*scheme{argon2Scheme("argon2id", true), argon2Scheme("argon2i", false)}
}

func argon2Scheme(name string, id bool) *scheme {
	return &scheme{
		name:      name,
		expensive: true,
		match:     func(stored string, _ Params) bool { return strings.HasPrefix(stored, "$"+name+"$") },
		parse: func(h *Hasher, stored string, _ Params) (*decoded, error) {
			return parseArgon2PHC(h, name, id, stored[len(name)+2:])
		},
		verify: func(_ *Hasher, d *decoded, pw []byte) (bool, error) { return argon2Verify(d, pw), nil },
	}
}

// parseArgon2PHC parses "v=19$m=..,t=..,p=..$salt$hash".
func parseArgon2PHC(h *Hasher, name string, id bool, rest string) (*decoded, error) {
	parts := strings.Split(rest, "$")
	if len(parts) != 4 {
		return nil, unsupported(name, "want v=19$m=,t=,p=$salt$hash")
	}
	if parts[0] != "v=19" {
		return nil, unsupported(name, "only version 19 is supported, got %q", parts[0])
	}
	var m, t, p int
	kv := strings.Split(parts[1], ",")
	if len(kv) != 3 {
		return nil, unsupported(name, "want m=,t=,p= parameters")
	}
	for i, key := range []string{"m=", "t=", "p="} {
		if !strings.HasPrefix(kv[i], key) {
			return nil, unsupported(name, "want m=,t=,p= parameters in that order")
		}
		n, ok := atoiStrict(kv[i][2:])
		if !ok {
			return nil, unsupported(name, "parameter %s is not a decimal number", key)
		}
		switch i {
		case 0:
			m = n
		case 1:
			t = n
		default:
			p = n
		}
	}
	l := h.limits
	switch {
	case m > l.Argon2MaxMemoryKiB:
		return nil, limitErr(name, "memory KiB", int64(m), int64(l.Argon2MaxMemoryKiB))
	case t < 1 || t > l.Argon2MaxTime:
		return nil, limitErr(name, "time", int64(t), int64(l.Argon2MaxTime))
	case p < 1 || p > l.Argon2MaxThreads || p > 255:
		return nil, limitErr(name, "threads", int64(p), int64(min(l.Argon2MaxThreads, 255)))
	case int64(m)*int64(t) > 4*int64(l.Argon2MaxMemoryKiB):
		// Work grows with memory × passes: cap it at four passes over the
		// largest allowed memory.
		return nil, limitErr(name, "memory KiB × time", int64(m)*int64(t), 4*int64(l.Argon2MaxMemoryKiB))
	case m < 8*p:
		return nil, unsupported(name, "memory must be at least 8 KiB per lane")
	}
	salt, ok1 := decodeB64(parts[2])
	sum, ok2 := decodeB64(parts[3])
	switch {
	case !ok1 || !ok2:
		return nil, unsupported(name, "bad base64")
	case len(salt) < 8 || len(salt) > 64:
		return nil, unsupported(name, "salt must be 8 to 64 bytes, got %d", len(salt))
	case len(sum) < 4 || len(sum) > 128:
		return nil, unsupported(name, "hash must be 4 to 128 bytes, got %d", len(sum))
	}
	alg := "i"
	if id {
		alg = "id"
	}
	return &decoded{
		salt: salt, digest: sum, rounds: t, mem: uint32(m), par: uint8(p), alg: alg, usable: true,
		strength: argon2Strength(id, uint32(m), uint32(t)), cost: fmt.Sprintf("m=%d t=%d p=%d", m, t, p),
	}, nil
}

func argon2Verify(d *decoded, pw []byte) bool {
	var got []byte
	if d.alg == "id" {
		got = argon2.IDKey(pw, d.salt, uint32(d.rounds), d.mem, d.par, uint32(len(d.digest)))
	} else {
		got = argon2.Key(pw, d.salt, uint32(d.rounds), d.mem, d.par, uint32(len(d.digest)))
	}
	return subtle.ConstantTimeCompare(got, d.digest) == 1
}
