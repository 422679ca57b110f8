package hash

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
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
