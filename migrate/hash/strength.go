package hash

// Strength says how much a leaked copy of a stored value protects the
// password. The thresholds below are the only place where it is decided.
type Strength int

// Strength levels, weakest first.
const (
	// StrengthNone: the password is readable (plaintext) or there is none
	// (locked or empty marker).
	StrengthNone Strength = iota
	// StrengthWeak: fast or under-iterated hashes that a GPU cracks at
	// millions to billions of guesses per second.
	StrengthWeak
	// StrengthAcceptable: a slow hash below current guidance.
	StrengthAcceptable
	// StrengthStrong: a slow hash at or above current guidance.
	StrengthStrong
)

// String returns "none", "weak", "acceptable" or "strong".
func (s Strength) String() string {
	switch s {
	case StrengthNone:
		return "none"
	case StrengthWeak:
		return "weak"
	case StrengthAcceptable:
		return "acceptable"
	case StrengthStrong:
		return "strong"
	}
	return "unknown"
}

// Thresholds. Sources:
//   - OWASP Password Storage Cheat Sheet (2023 revision, "current"): bcrypt
//     work factor 10 minimum; PBKDF2-HMAC-SHA256 600,000, -SHA1 1,300,000,
//     -SHA512 210,000 iterations; scrypt N=2^17 r=8 p=1 (or equivalent, down
//     to N=2^13 with p=10); argon2id m=19 MiB t=2 p=1 and its equivalents
//     (m=47104 t=1, m=12288 t=3, m=9216 t=4, m=7168 t=5).
//   - OWASP Password Storage Cheat Sheet (2021 revision, "previous"):
//     PBKDF2-HMAC-SHA256 310,000, -SHA1 720,000, -SHA512 120,000.
//   - RFC 9106 §4: argon2id t=3 m=64 MiB as the second recommended option.
//   - The issue: bcrypt ≥ 12 and scrypt N ≥ 2^15 are "strong".
//
// Project judgement where the sources are silent: SHA-crypt and the phpass
// family are not in OWASP's list, so they are never "strong"; they are
// "acceptable" from the iteration count OWASP asks of PBKDF2 with the same
// digest (SHA-crypt) or from 2^18 iterations (phpass, Drupal 7), "weak"
// below.
const (
	bcryptStrongCost     = 12
	bcryptAcceptableCost = 10

	pbkdf2SHA256Strong     = 600_000
	pbkdf2SHA1Strong       = 1_300_000
	pbkdf2SHA512Strong     = 210_000
	pbkdf2SHA256Acceptable = 310_000
	pbkdf2SHA1Acceptable   = 720_000
	pbkdf2SHA512Acceptable = 120_000

	scryptStrongLog2N     = 15
	scryptAcceptableLog2N = 14

	shaCrypt256Acceptable = 600_000
	shaCrypt512Acceptable = 210_000

	phpassAcceptableLog2 = 18
)

// argon2OWASP lists OWASP's equivalent minimum argon2id configurations as
// {memory KiB, passes}.
var argon2OWASP = [...][2]uint32{{47104, 1}, {19456, 2}, {12288, 3}, {9216, 4}, {7168, 5}}

func bcryptStrength(cost int) Strength {
	switch {
	case cost >= bcryptStrongCost:
		return StrengthStrong
	case cost >= bcryptAcceptableCost:
		return StrengthAcceptable
	}
	return StrengthWeak
}

// pbkdf2Strength grades an iteration count for the named digest
// ("sha1", "sha256", "sha512").
func pbkdf2Strength(alg string, iter int) Strength {
	strong, ok := map[string]int{"sha1": pbkdf2SHA1Strong, "sha256": pbkdf2SHA256Strong, "sha512": pbkdf2SHA512Strong}[alg]
	acc := map[string]int{"sha1": pbkdf2SHA1Acceptable, "sha256": pbkdf2SHA256Acceptable, "sha512": pbkdf2SHA512Acceptable}[alg]
	switch {
	case !ok:
		return StrengthWeak
	case iter >= strong:
		return StrengthStrong
	case iter >= acc:
		return StrengthAcceptable
	}
	return StrengthWeak
}

func argon2Strength(id bool, mem, t uint32) Strength {
	meets := false
	for _, c := range argon2OWASP {
		if mem >= c[0] && t >= c[1] {
			meets = true
		}
	}
	rfc := mem >= 64*1024 && t >= 3
	switch {
	case id && (meets || rfc):
		return StrengthStrong
	case meets || rfc:
		return StrengthAcceptable // argon2i: not the recommended variant
	}
	return StrengthWeak
}

func scryptStrength(log2N int) Strength {
	switch {
	case log2N >= scryptStrongLog2N:
		return StrengthStrong
	case log2N >= scryptAcceptableLog2N:
		return StrengthAcceptable
	}
	return StrengthWeak
}

func shaCryptStrength(is512 bool, rounds int) Strength {
	min := shaCrypt256Acceptable
	if is512 {
		min = shaCrypt512Acceptable
	}
	if rounds >= min {
		return StrengthAcceptable
	}
	return StrengthWeak
}

func phpassStrength(log2 int) Strength {
	if log2 >= phpassAcceptableLog2 {
		return StrengthAcceptable
	}
	return StrengthWeak
}
