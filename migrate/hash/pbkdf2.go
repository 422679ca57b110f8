package hash

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	gohash "hash"
	"math"
	"math/bits"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// PBKDF2 (RFC 8018) as stored by passlib ("$pbkdf2$", "$pbkdf2-sha256$",
// "$pbkdf2-sha512$": rounds, adapted-base64 salt and hash) and, through
// pbkdf2Decoded, by Django and ASP.NET Identity. scrypt in passlib's PHC
// form "$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>".

func pbkdf2Hash(alg string) (func() gohash.Hash, int) {
	switch alg {
	case "sha1":
		return sha1.New, sha1.Size
	case "sha256":
		return sha256.New, sha256.Size
	case "sha512":
		return sha512.New, sha512.Size
	}
	return nil, 0
}

// pbkdf2Decoded checks the iteration count and builds the decoded value.
func pbkdf2Decoded(h *Hasher, name, alg string, iter int, salt, sum []byte) (*decoded, error) {
	if iter < 1 || iter > h.limits.PBKDF2MaxIterations {
		return nil, limitErr(name, "iterations", int64(iter), int64(h.limits.PBKDF2MaxIterations))
	}
	if len(salt) > 256 {
		return nil, unsupported(name, "salt longer than 256 bytes")
	}
	if len(sum) < 16 || len(sum) > 128 {
		return nil, unsupported(name, "derived key must be 16 to 128 bytes, got %d", len(sum))
	}
	return &decoded{
		salt: salt, rounds: iter, keyLen: len(sum), alg: alg, digest: sum, usable: true,
		strength: pbkdf2Strength(alg, iter), cost: fmt.Sprintf("pbkdf2-%s %d iterations", alg, iter),
	}, nil
}

func pbkdf2Derive(d *decoded, pw []byte) ([]byte, error) {
	newH, _ := pbkdf2Hash(d.alg)
	if newH == nil {
		return nil, unsupported("pbkdf2", "unknown digest %q", d.alg)
	}
	// crypto/pbkdf2 fails only on limits the decoder already enforces
	// (key length, and in FIPS mode salt and password sizes).
	dk, err := pbkdf2.Key(newH, string(pw), d.salt, d.rounds, d.keyLen)
	if err != nil {
		return nil, fmt.Errorf("hash: pbkdf2: %w", err)
	}
	return dk, nil
}

func pbkdf2Rebuild(h *Hasher, d *decoded) error {
	if newH, _ := pbkdf2Hash(d.alg); newH == nil {
		return unsupported("pbkdf2", "unknown digest %q", d.alg)
	}
	_, err := pbkdf2Decoded(h, d.s.name, d.alg, d.rounds, d.salt, make([]byte, d.keyLen))
	return err
}

func passlibSchemes() []*scheme {
	return []*scheme{
		pbkdf2Scheme("pbkdf2-sha1", "$pbkdf2$", "sha1", passlibPBKDF2),
		pbkdf2Scheme("pbkdf2-sha256", "$pbkdf2-sha256$", "sha256", passlibPBKDF2),
		pbkdf2Scheme("pbkdf2-sha512", "$pbkdf2-sha512$", "sha512", passlibPBKDF2),
		scryptScheme(),
	}
}

// pbkdf2Layout is how one family writes "<count>$<salt>$<hash>" after its
// prefix: what it calls the count, and how salt and hash are encoded.
type pbkdf2Layout struct {
	count string
	// salt decodes the salt field; its error is the scheme's *UnsupportedError.
	salt func(name, field string) ([]byte, error)
	sum  func(field string) ([]byte, bool)
}

// passlibPBKDF2: rounds, adapted-base64 salt and hash.
var passlibPBKDF2 = pbkdf2Layout{
	count: "rounds",
	salt: func(name, field string) ([]byte, error) {
		salt, ok := decodeAB64(field)
		if !ok {
			return nil, unsupported(name, "bad base64")
		}
		return salt, nil
	},
	sum: decodeAB64,
}

// djangoPBKDF2: iterations, a text salt used as its UTF-8 bytes, base64 hash.
var djangoPBKDF2 = pbkdf2Layout{
	count: "iterations",
	salt: func(name, field string) ([]byte, error) {
		if field == "" {
			return nil, unsupported(name, "empty salt")
		}
		return []byte(field), nil
	},
	sum: decodeB64,
}

// pbkdf2Scheme is a PBKDF2 scheme whose values are prefix followed by the
// count, salt and hash fields in layout l.
func pbkdf2Scheme(name, prefix, alg string, l pbkdf2Layout) *scheme {
	return &scheme{
		name:      name,
		expensive: true,
		match:     func(stored string, _ Params) bool { return strings.HasPrefix(stored, prefix) },
		parse: func(h *Hasher, stored string, _ Params) (*decoded, error) {
			parts := strings.Split(stored[len(prefix):], "$")
			if len(parts) != 3 {
				return nil, unsupported(name, "want %s$salt$hash", l.count)
			}
			iter, ok := atoiStrict(parts[0])
			if !ok {
				return nil, unsupported(name, "%s is not a decimal number", l.count)
			}
			salt, err := l.salt(name, parts[1])
			if err != nil {
				return nil, err
			}
			sum, ok := l.sum(parts[2])
			if !ok {
				return nil, unsupported(name, "bad base64")
			}
			if _, size := pbkdf2Hash(alg); len(sum) != size {
				return nil, unsupported(name, "want %d bytes of hash, got %d", size, len(sum))
			}
			return pbkdf2Decoded(h, name, alg, iter, salt, sum)
		},
		derive:  pbkdf2Derive,
		rebuild: pbkdf2Rebuild,
	}
}

func scryptScheme() *scheme {
	const name, prefix = "scrypt", "$scrypt$"
	return &scheme{
		name:      name,
		expensive: true,
		match:     func(stored string, _ Params) bool { return strings.HasPrefix(stored, prefix) },
		parse: func(h *Hasher, stored string, _ Params) (*decoded, error) {
			parts := strings.Split(stored[len(prefix):], "$")
			if len(parts) != 3 {
				return nil, unsupported(name, "want ln=,r=,p=$salt$hash")
			}
			kv := strings.Split(parts[0], ",")
			if len(kv) != 3 {
				return nil, unsupported(name, "want ln=,r=,p= parameters")
			}
			var v [3]int
			for i, key := range []string{"ln=", "r=", "p="} {
				n, ok := 0, strings.HasPrefix(kv[i], key)
				if ok {
					n, ok = atoiStrict(kv[i][len(key):])
				}
				if !ok {
					return nil, unsupported(name, "want ln=,r=,p= decimal parameters in that order")
				}
				v[i] = n
			}
			ln, r, p := v[0], v[1], v[2]
			if err := checkScrypt(h.limits, ln, r, p); err != nil {
				return nil, err
			}
			salt, ok1 := decodeB64(parts[1])
			sum, ok2 := decodeB64(parts[2])
			switch {
			case !ok1 || !ok2:
				return nil, unsupported(name, "bad base64")
			case len(salt) == 0 || len(salt) > 256:
				return nil, unsupported(name, "salt must be 1 to 256 bytes")
			case len(sum) < 16 || len(sum) > 128:
				return nil, unsupported(name, "hash must be 16 to 128 bytes, got %d", len(sum))
			}
			return &decoded{
				salt: salt, digest: sum, rounds: ln, r: r, p: p, usable: true,
				strength: scryptStrength(ln), cost: fmt.Sprintf("N=2^%d r=%d p=%d", ln, r, p),
			}, nil
		},
		verify: func(_ *Hasher, d *decoded, pw []byte) (bool, error) {
			got, err := scrypt.Key(pw, d.salt, 1<<d.rounds, d.r, d.p, len(d.digest))
			if err != nil {
				return false, unsupported(name, "%v", err)
			}
			return constEq(got, d.digest), nil
		},
	}
}

// scryptMaxLog2N bounds log2 N before any arithmetic: 2^40 is far beyond
// any cap the Limits allow, and 1<<ln stays exact in 64 bits.
const scryptMaxLog2N = 40

// checkScrypt bounds scrypt's parameters before use: N = 2^ln a power of
// two above 1, r and p at least 1, p within ScryptMaxP, r·p below 2^30 (RFC
// 7914 §2), the memory scrypt allocates (128·N·r for V, 128·r·p for B)
// within ScryptMaxMemoryBytes and the work (128·N·r·p) within four times
// that. Products are computed without overflow: a hostile value cannot
// wrap a product below a cap.
func checkScrypt(l Limits, ln, r, p int) error {
	const name = "scrypt"
	maxMem := uint64(l.ScryptMaxMemoryBytes)
	switch {
	case ln < 1 || ln > scryptMaxLog2N:
		return limitErr(name, "ln (log2 N)", int64(ln), scryptMaxLog2N)
	case r < 1:
		return limitErr(name, "r", int64(r), int64(maxMem/128))
	case p < 1 || p > l.ScryptMaxP:
		return limitErr(name, "p", int64(p), int64(l.ScryptMaxP))
	}
	n, ur, up := uint64(1)<<ln, uint64(r), uint64(p)
	if v, ok := mulCapped(1<<30-1, ur, up); !ok {
		return limitErr(name, "r*p", clampInt64(v), 1<<30-1)
	}
	if v, ok := mulCapped(maxMem, 128, n, ur); !ok {
		return limitErr(name, "memory bytes (128*N*r)", clampInt64(v), int64(maxMem))
	}
	if v, ok := mulCapped(maxMem, 128, ur, up); !ok {
		// scrypt also allocates p·128·r bytes up front.
		return limitErr(name, "memory bytes (128*r*p)", clampInt64(v), int64(maxMem))
	}
	if v, ok := mulCapped(4*maxMem, 128, n, ur, up); !ok {
		// Work grows with N·r·p: cap it at four times the memory cap.
		return limitErr(name, "work bytes (128*N*r*p)", clampInt64(v), int64(4*maxMem))
	}
	return nil
}

// mulCapped multiplies fs and reports whether the product is at most limit.
// On overflow it returns math.MaxUint64 and false.
func mulCapped(limit uint64, fs ...uint64) (uint64, bool) {
	prod := uint64(1)
	for _, f := range fs {
		hi, lo := bits.Mul64(prod, f)
		if hi != 0 {
			return math.MaxUint64, false
		}
		prod = lo
	}
	return prod, prod <= limit
}

func clampInt64(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}
