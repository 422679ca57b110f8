package hash

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math/big"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func aspnetV3(prf, iter, saltLen uint32, rest int) string {
	b := []byte{1}
	b = binary.BigEndian.AppendUint32(b, prf)
	b = binary.BigEndian.AppendUint32(b, iter)
	b = binary.BigEndian.AppendUint32(b, saltLen)
	return b64(append(b, make([]byte, rest)...))
}

type hostileCase struct {
	name   string
	stored string
	p      Params
	want   string // "limit" or "unsupported"
}

func hostileCases(t testing.TB) []hostileCase {
	bc, err := bcrypt.GenerateFromPassword([]byte("x"), 4)
	if err != nil {
		t.Fatal(err)
	}
	h86, h43, h53 := strings.Repeat("a", 86), strings.Repeat("a", 43), strings.Repeat("a", 53)
	b32 := b64(make([]byte, 32))
	ab32 := strings.TrimRight(strings.ReplaceAll(b32, "+", "."), "=")
	return []hostileCase{
		// Absurd costs: *LimitError.
		{"sha512-crypt rounds 999999999", "$6$rounds=999999999$salt$" + h86, Params{}, "limit"},
		{"sha256-crypt rounds 2000000", "$5$rounds=2000000$salt$" + h43, Params{}, "limit"},
		{"bcrypt cost 31", "$2a$31$" + h53, Params{}, "limit"},
		{"bcrypt cost 03", "$2b$03$" + h53, Params{}, "limit"},
		{"argon2id 4 GiB", "$argon2id$v=19$m=4194304,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", Params{}, "limit"},
		{"argon2id t=100000", "$argon2id$v=19$m=65536,t=100000,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", Params{}, "limit"},
		{"argon2i p=0", "$argon2i$v=19$m=65536,t=3,p=0$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", Params{}, "limit"},
		{"django argon2 p=255", "argon2$argon2id$v=19$m=65536,t=3,p=255$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", Params{}, "limit"},
		{"scrypt ln=30", "$scrypt$ln=30,r=8,p=1$c2FsdA$" + strings.TrimRight(b32, "="), Params{}, "limit"},
		{"scrypt r=2^20 p=16 (2 GiB up front)", "$scrypt$ln=1,r=1048576,p=16$c2FsdA$" + strings.TrimRight(b32, "="), Params{}, "limit"},
		{"scrypt N=2^18 r=8 p=16 (work)", "$scrypt$ln=18,r=8,p=16$c2FsdA$" + strings.TrimRight(b32, "="), Params{}, "limit"},
		{"argon2id 256 MiB t=16 (work)", "$argon2id$v=19$m=262144,t=16,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", Params{}, "limit"},
		{"scrypt p=1000", "$scrypt$ln=10,r=8,p=1000$c2FsdA$" + strings.TrimRight(b32, "="), Params{}, "limit"},
		// Overflow: with int64 arithmetic 128·N·r wraps to 0 or below zero.
		{"scrypt ln=39 r=2^18 (128·N·r wraps to 0)", "$scrypt$ln=39,r=262144,p=1$c2FsdA$" + strings.TrimRight(b32, "="), Params{}, "limit"},
		{"scrypt ln=36 r=2^20 (128·N·r wraps negative)", "$scrypt$ln=36,r=1048576,p=1$c2FsdA$" + strings.TrimRight(b32, "="), Params{}, "limit"},
		{"scrypt ln=40 r=2^17 p=16 (wraps)", "$scrypt$ln=40,r=131072,p=16$c2FsdA$" + strings.TrimRight(b32, "="), Params{}, "limit"},
		{"scrypt ln=62", "$scrypt$ln=62,r=1,p=1$c2FsdA$" + strings.TrimRight(b32, "="), Params{}, "limit"},
		{"scrypt ln=64", "$scrypt$ln=64,r=1,p=1$c2FsdA$" + strings.TrimRight(b32, "="), Params{}, "limit"},
		{"scrypt ln=0 (N=1)", "$scrypt$ln=0,r=8,p=1$c2FsdA$" + strings.TrimRight(b32, "="), Params{}, "limit"},
		{"scrypt r=0", "$scrypt$ln=10,r=0,p=1$c2FsdA$" + strings.TrimRight(b32, "="), Params{}, "limit"},
		{"scrypt p=0", "$scrypt$ln=10,r=8,p=0$c2FsdA$" + strings.TrimRight(b32, "="), Params{}, "limit"},
		{"scrypt r=2^30 (r·p ≥ 2^30)", "$scrypt$ln=1,r=1073741824,p=1$c2FsdA$" + strings.TrimRight(b32, "="), Params{}, "limit"},
		{"scrypt r=9999999999", "$scrypt$ln=1,r=9999999999,p=1$c2FsdA$" + strings.TrimRight(b32, "="), Params{}, "limit"},
		{"scrypt p=9999999999", "$scrypt$ln=1,r=1,p=9999999999$c2FsdA$" + strings.TrimRight(b32, "="), Params{}, "limit"},
		{"argon2id m=9999999999 (over uint32)", "$argon2id$v=19$m=9999999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", Params{}, "limit"},
		{"argon2id m=4294967304 (wraps uint32 to 8)", "$argon2id$v=19$m=4294967304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", Params{}, "limit"},
		{"argon2id t=0", "$argon2id$v=19$m=65536,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", Params{}, "limit"},
		{"argon2id t=4294967296 (wraps uint32 to 0)", "$argon2id$v=19$m=65536,t=4294967296,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", Params{}, "limit"},
		{"argon2id p=256 (wraps uint8 to 0)", "$argon2id$v=19$m=65536,t=1,p=256$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", Params{}, "limit"},
		{"argon2id p=9999999999", "$argon2id$v=19$m=65536,t=1,p=9999999999$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", Params{}, "limit"},
		{"django argon2 m=4294967304", "argon2$argon2id$v=19$m=4294967304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", Params{}, "limit"},
		{"bcrypt cost 99", "$2a$99$" + h53, Params{}, "limit"},
		{"bcrypt cost 00", "$2y$00$" + h53, Params{}, "limit"},
		{"django bcrypt cost 31", "bcrypt$$2b$31$" + h53, Params{}, "limit"},
		{"passlib pbkdf2 0 rounds", "$pbkdf2-sha256$0$c2FsdA$" + ab32, Params{}, "limit"},
		{"passlib pbkdf2 9999999999 rounds", "$pbkdf2-sha256$9999999999$c2FsdA$" + ab32, Params{}, "limit"},
		{"django pbkdf2 2^31 iterations", "pbkdf2_sha256$2147483648$salt$" + b32, Params{}, "limit"},
		{"aspnet v3 0 iterations", aspnetV3(1, 0, 16, 48), Params{}, "limit"},
		{"aspnet v3 2^31 iterations", aspnetV3(2, 1<<31, 16, 64), Params{}, "limit"},
		{"sha256-crypt rounds 9999999999 (clamped, then capped)", "$5$rounds=9999999999$salt$" + h43, Params{}, "limit"},
		{"phpass log2 31", "$P$T" + strings.Repeat("a", 30), Params{}, "limit"},
		{"wrapped pbkdf2 inner 1e9 iterations", "$osw1$pbkdf2-sha256$r=1000000000,l=32,h=sha256,s=c2FsdA$" + string(bc), Params{}, "limit"},
		{"wrapped phpass inner log2 30", "$osw1$phpass$r=30,l=0,h=,s=c2FsdHNhbHQ$" + string(bc), Params{}, "limit"},
		{"django pbkdf2 1e8 iterations", "pbkdf2_sha256$100000000$salt$" + b32, Params{}, "limit"},
		{"django pbkdf2 0 iterations", "pbkdf2_sha256$0$salt$" + b32, Params{}, "limit"},
		{"passlib pbkdf2 99999999", "$pbkdf2-sha256$99999999$c2FsdA$" + ab32, Params{}, "limit"},
		{"phpass log2 30", "$P$S" + strings.Repeat("a", 30), Params{}, "limit"},
		{"phpass log2 2", "$H$0" + strings.Repeat("a", 30), Params{}, "limit"},
		{"drupal7 log2 30", "$S$S" + strings.Repeat("a", 51), Params{}, "limit"},
		{"aspnet v3 4e9 iterations", aspnetV3(1, 0xFFFFFFFF, 16, 48), Params{}, "limit"},
		{"wrapped inner rounds", "$osw1$sha512-crypt$r=99999999,l=0,h=,s=c2FsdA$" + string(bc), Params{}, "limit"},
		{"wrapped outer cost", "$osw1$md5$r=0,l=0,h=,s=$$2a$20$" + h53, Params{}, "limit"},

		// Truncated, bad base64, wrong lengths, unknown: *UnsupportedError.
		{"md5-crypt truncated", "$1$abc", Params{}, "unsupported"},
		{"md5-crypt salt too long", "$1$abcdefghi$" + strings.Repeat("a", 22), Params{}, "unsupported"},
		{"md5-crypt short hash", "$1$abcdefgh$aaaa", Params{}, "unsupported"},
		{"apr1 bad characters", "$apr1$abc$" + strings.Repeat("!", 22), Params{}, "unsupported"},
		{"sha512-crypt short hash", "$6$salt$short", Params{}, "unsupported"},
		{"sha512-crypt rounds not a number", "$6$rounds=12x$salt$" + h86, Params{}, "unsupported"},
		{"sha256-crypt salt too long", "$5$" + strings.Repeat("s", 17) + "$" + h43, Params{}, "unsupported"},
		{"bcrypt truncated", "$2a$10$short", Params{}, "unsupported"},
		{"bcrypt 2x", "$2x$10$" + h53, Params{}, "unsupported"},
		{"bcrypt bad characters", "$2y$10$" + strings.Repeat("!", 53), Params{}, "unsupported"},
		{"ldap ssha bad base64", "{SSHA}!!!notbase64", Params{}, "unsupported"},
		{"ldap sha wrong length", "{SHA}" + b64(make([]byte, 19)), Params{}, "unsupported"},
		{"ldap ssha no salt", "{SSHA}" + b64(make([]byte, 20)), Params{}, "unsupported"},
		{"ldap crypt des", "{CRYPT}abcdefghijklm", Params{}, "unsupported"},
		{"ldap crypt unknown", "{CRYPT}$9$xyz", Params{}, "unsupported"},
		{"ldap unknown tag", "{PBKDF2}abc", Params{}, "unsupported"},
		{"mysql41 truncated", "*ABCDEF", Params{}, "unsupported"},
		{"hex 31 digits", "5f4dcc3b5aa765d61d8327deb882cf9", Params{}, "unsupported"},
		{"garbage", "zzzz", Params{}, "unsupported"},
		{"unknown dollar format", "$unknown$x", Params{}, "unsupported"},
		{"yescrypt", "$y$j9T$ppEdCa8Vc25mykSYgc8Af1$PtZ58KbVpzzUmf6BEKOOSPuBpoHwJsqP8ZahKpMUUR8", Params{}, "unsupported"},
		{"argon2d", "$argon2d$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", Params{}, "unsupported"},
		{"argon2 old version", "$argon2id$v=16$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", Params{}, "unsupported"},
		{"argon2 bad base64", "$argon2id$v=19$m=65536,t=3,p=4$@@@$aGFzaGhhc2hoYXNoaGFzaA", Params{}, "unsupported"},
		{"argon2 short salt", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA", Params{}, "unsupported"},
		{"argon2 missing field", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ", Params{}, "unsupported"},
		{"django pbkdf2 bad iterations", "pbkdf2_sha256$abc$salt$" + b32, Params{}, "unsupported"},
		{"django pbkdf2 bad base64", "pbkdf2_sha256$1000$salt$!!!", Params{}, "unsupported"},
		{"django pbkdf2 wrong length", "pbkdf2_sha1$1000$salt$" + b32, Params{}, "unsupported"},
		{"django bcrypt_sha256 truncated", "bcrypt_sha256$$2b$12$abc", Params{}, "unsupported"},
		{"django argon2d", "argon2$argon2d$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", Params{}, "unsupported"},
		{"scrypt 8-byte key", "$scrypt$ln=10,r=8,p=1$c2FsdA$" + strings.TrimRight(b64(make([]byte, 8)), "="), Params{}, "unsupported"},
		{"scrypt 200-byte key", "$scrypt$ln=10,r=8,p=1$c2FsdA$" + strings.TrimRight(b64(make([]byte, 200)), "="), Params{}, "unsupported"},
		{"scrypt r with a sign", "$scrypt$ln=10,r=-8,p=1$c2FsdA$" + strings.TrimRight(b32, "="), Params{}, "unsupported"},
		{"scrypt 11-digit ln", "$scrypt$ln=10000000000,r=8,p=1$c2FsdA$" + strings.TrimRight(b32, "="), Params{}, "unsupported"},
		{"argon2 m=0", "$argon2id$v=19$m=0,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", Params{}, "unsupported"},
		{"argon2 4 KiB hash", "$argon2id$v=19$m=65536,t=1,p=1$c2FsdHNhbHQ$" + strings.TrimRight(b64(make([]byte, 4096)), "="), Params{}, "unsupported"},
		{"wrapped pbkdf2 inner key length 0", "$osw1$pbkdf2-sha256$r=1000,l=0,h=sha256,s=c2FsdA$" + string(bc), Params{}, "unsupported"},
		{"scrypt missing p", "$scrypt$ln=10,r=8$c2FsdA$" + strings.TrimRight(b32, "="), Params{}, "unsupported"},
		{"passlib pbkdf2 wrong length", "$pbkdf2-sha512$1000$c2FsdA$" + ab32, Params{}, "unsupported"},
		{"aspnet v2 wrong length", b64(append([]byte{0}, make([]byte, 50)...)), Params{}, "unsupported"},
		{"aspnet v3 salt length too big", aspnetV3(1, 10000, 1<<30, 48), Params{}, "unsupported"},
		{"aspnet v3 unknown prf", aspnetV3(7, 10000, 16, 48), Params{}, "unsupported"},
		{"aspnet v3 short subkey", aspnetV3(1, 10000, 16, 20), Params{}, "unsupported"},
		{"hint md5 but sha1 length", strings.Repeat("a", 40), Params{Hint: "md5"}, "unsupported"},
		{"unknown hint", strings.Repeat("a", 32), Params{Hint: "md6"}, "unsupported"},
		{"salted hint without salt", strings.Repeat("a", 32), Params{Hint: "md5(salt+password)"}, "unsupported"},
		{"wrapped garbage", "$osw1$md5$r=0,l=0,h=,s=$garbage", Params{}, "unsupported"},
		{"wrapped slow inner", "$osw1$bcrypt$r=0,l=0,h=,s=$" + string(bc), Params{}, "unsupported"},
		{"wrapped bad params", "$osw1$md5$x=1$" + string(bc), Params{}, "unsupported"},
		{"wrapped bad salt", "$osw1$md5$r=0,l=0,h=,s=***$" + string(bc), Params{}, "unsupported"},
		{"wrapped unknown inner", "$osw1$nope$r=0,l=0,h=,s=$" + string(bc), Params{}, "unsupported"},
		{"too long", "$6$" + strings.Repeat("a", 2000), Params{}, "unsupported"},
	}
}

func TestHostileHashes(t *testing.T) {
	h := newTestHasher(t)
	ctx := context.Background()
	for _, tc := range hostileCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.Identify(tc.stored, tc.p)
			checkErrType(t, "Identify", err, tc.want)
			res, err := h.Verify(ctx, tc.stored, "x", tc.p)
			checkErrType(t, "Verify", err, tc.want)
			if res.Match {
				t.Fatal("hostile value matched")
			}
			if _, err := h.Wrap(ctx, tc.stored, tc.p); err == nil {
				t.Fatal("Wrap accepted a hostile value")
			}
			if ok, err := h.IsDerived(ctx, tc.stored, tc.p, testNRN(t)); ok || err == nil {
				t.Fatalf("IsDerived = %v, %v", ok, err)
			}
		})
	}
}

func checkErrType(t *testing.T, op string, err error, want string) {
	t.Helper()
	var le *LimitError
	var ue *UnsupportedError
	switch want {
	case "limit":
		if !errors.As(err, &le) || le.Param == "" || !strings.HasPrefix(err.Error(), "hash: ") {
			t.Fatalf("%s error = %v, want *LimitError", op, err)
		}
	case "unsupported":
		if !errors.As(err, &ue) || ue.Reason == "" || !strings.HasPrefix(err.Error(), "hash: ") {
			t.Fatalf("%s error = %v, want *UnsupportedError", op, err)
		}
	}
}

// TestCheckScryptExhaustive checks the scrypt bounds against exact
// (big.Int) arithmetic over every ln and powers of two (and their
// neighbours) for r and p: whatever checkScrypt accepts fits the limits,
// so no product can wrap below a cap.
func TestCheckScryptExhaustive(t *testing.T) {
	l := DefaultLimits()
	maxMem := big.NewInt(int64(l.ScryptMaxMemoryBytes))
	var vals []int
	for k := 0; k < 63; k++ {
		vals = append(vals, (1<<k)-1, 1<<k, (1<<k)+1)
	}
	prod := func(fs ...int64) *big.Int {
		x := big.NewInt(1)
		for _, f := range fs {
			x.Mul(x, big.NewInt(f))
		}
		return x
	}
	accepted := 0
	for ln := -1; ln <= 70; ln++ {
		for _, r := range vals {
			for _, p := range []int{-1, 0, 1, 2, 15, 16, 17, 1 << 20} {
				err := checkScrypt(l, ln, r, p)
				if err != nil {
					var le *LimitError
					if !errors.As(err, &le) {
						t.Fatalf("ln=%d r=%d p=%d: %v is not a *LimitError", ln, r, p, err)
					}
					continue
				}
				accepted++
				n := new(big.Int).Lsh(big.NewInt(1), uint(ln))
				mem := new(big.Int).Mul(prod(128, int64(r)), n)
				work := new(big.Int).Mul(mem, big.NewInt(int64(p)))
				if ln < 1 || r < 1 || p < 1 || mem.Cmp(maxMem) > 0 || prod(128, int64(r), int64(p)).Cmp(maxMem) > 0 ||
					work.Cmp(new(big.Int).Mul(maxMem, big.NewInt(4))) > 0 || prod(int64(r), int64(p)).Cmp(big.NewInt(1<<30)) >= 0 {
					t.Fatalf("accepted ln=%d r=%d p=%d: memory %s, work %s over the limits", ln, r, p, mem, work)
				}
			}
		}
	}
	if accepted == 0 {
		t.Fatal("nothing accepted: the test checks nothing")
	}
}
