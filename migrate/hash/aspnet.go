package hash

import (
	"encoding/base64"
	"encoding/binary"
)

// ASP.NET Identity PasswordHasher (Microsoft.AspNetCore.Identity and
// Microsoft.AspNet.Identity), base64 of:
//   - v2: 0x00 | salt (16) | PBKDF2-HMAC-SHA1, 1000 iterations, 32 bytes
//     (49 bytes, 68 base64 characters);
//   - v3: 0x01 | prf (uint32 big-endian: 0 SHA-1, 1 SHA-256, 2 SHA-512) |
//     iterations (uint32 BE) | salt length (uint32 BE) | salt | subkey.
//     .NET Core/5/6 write HMACSHA256 with 10,000 iterations; .NET 7 and
//     later HMACSHA512 with 100,000.
// These values are plain base64 and carry no textual tag: they are
// recognised by decoding and checking the layout.

func aspnetSchemes() []*scheme {
	return []*scheme{
		{name: "aspnet-identity-v2", expensive: true, match: aspnetMatch(0), parse: aspnetParse, derive: pbkdf2Derive, rebuild: pbkdf2Rebuild},
		{name: "aspnet-identity-v3", expensive: true, match: aspnetMatch(1), parse: aspnetParse, derive: pbkdf2Derive, rebuild: pbkdf2Rebuild},
	}
}

func aspnetMatch(version byte) func(string, Params) bool {
	return func(stored string, p Params) bool {
		if p.Hint != "" || len(stored) < 64 || len(stored)%4 != 0 {
			return false
		}
		b, err := base64.StdEncoding.Strict().DecodeString(stored)
		return err == nil && len(b) > 0 && b[0] == version
	}
}

func aspnetParse(h *Hasher, stored string, _ Params) (*decoded, error) {
	b, _ := base64.StdEncoding.Strict().DecodeString(stored)
	if b[0] == 0 {
		const name = "aspnet-identity-v2"
		if len(b) != 49 {
			return nil, unsupported(name, "want 49 bytes, got %d", len(b))
		}
		return pbkdf2Decoded(h, name, "sha1", 1000, b[1:17], b[17:])
	}
	const name = "aspnet-identity-v3"
	if len(b) < 13 {
		return nil, unsupported(name, "header truncated")
	}
	prf := binary.BigEndian.Uint32(b[1:5])
	iter := binary.BigEndian.Uint32(b[5:9])
	saltLen := binary.BigEndian.Uint32(b[9:13])
	alg := map[uint32]string{0: "sha1", 1: "sha256", 2: "sha512"}[prf]
	switch {
	case alg == "":
		return nil, unsupported(name, "unknown PRF %d", prf)
	case saltLen < 16 || saltLen > 256 || uint64(saltLen)+13 > uint64(len(b)):
		return nil, unsupported(name, "salt length %d does not fit the value", saltLen)
	case iter > uint32(h.limits.PBKDF2MaxIterations):
		return nil, limitErr(name, "iterations", int64(iter), int64(h.limits.PBKDF2MaxIterations))
	}
	salt, sub := b[13:13+saltLen], b[13+saltLen:]
	if len(sub) < 16 {
		return nil, unsupported(name, "subkey shorter than 16 bytes")
	}
	return pbkdf2Decoded(h, name, alg, int(iter), salt, sub)
}
