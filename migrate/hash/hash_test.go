package hash

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/nrn"
)

func testNRN(t testing.TB) nrn.Number {
	t.Helper()
	n, err := nrn.Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), true, 0)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func md5hex(s string) string {
	m := md5.Sum([]byte(s))
	return hex.EncodeToString(m[:])
}

// vectorFor returns the first outside vector of scheme (plain scheme name).
func vectorFor(t testing.TB, scheme string) vector {
	t.Helper()
	for _, v := range loadVectors(t) {
		if v.Scheme == scheme && v.Expect == "match" {
			return v
		}
	}
	t.Fatalf("no vector for %s", scheme)
	return vector{}
}

func TestLockedMarkers(t *testing.T) {
	h := newTestHasher(t)
	ctx := context.Background()
	for _, tc := range []struct{ stored, scheme string }{
		{"", "empty"}, {"   ", "empty"}, {"!", "locked"}, {"!!", "locked"}, {"*", "locked"},
		{"*LK*", "locked"}, {"*NP*", "locked"},
		{"!$6$salt$" + strings.Repeat("a", 86), "locked"},
		{"!" + md5hex("secret"), "locked"},
	} {
		t.Run(tc.scheme+"_"+tc.stored, func(t *testing.T) {
			info, err := h.Identify(tc.stored, Params{})
			if err != nil || info.Usable || info.Scheme != tc.scheme || info.Strength != StrengthNone {
				t.Fatalf("Identify = %+v, %v", info, err)
			}
			res, err := h.Verify(ctx, tc.stored, tc.stored, Params{})
			if err != nil || res.Match {
				t.Fatalf("Verify = %+v, %v", res, err)
			}
			if h.NeedsUpgrade(tc.stored, Params{}) {
				t.Fatal("locked value needs upgrade")
			}
			if _, err := h.Wrap(ctx, tc.stored, Params{}); !errors.Is(err, ErrNotWrappable) {
				t.Fatalf("Wrap error = %v", err)
			}
			if ok, err := h.IsDerived(ctx, tc.stored, Params{}, testNRN(t)); ok || err != nil {
				t.Fatalf("IsDerived = %v, %v", ok, err)
			}
		})
	}
}

func TestHintsAndSelfDescribing(t *testing.T) {
	h := newTestHasher(t)
	ctx := context.Background()
	bc := vectorFor(t, "bcrypt")
	cases := []struct {
		name, stored, pw string
		p                Params
		scheme           string
		match            bool
	}{
		{"plaintext via hint", "geheim", "geheim", Params{Hint: "plaintext"}, "plaintext", true},
		{"plaintext one off", "geheim", "geheiM", Params{Hint: "plaintext"}, "plaintext", false},
		{"plaintext empty password", "geheim", "", Params{Hint: "plaintext"}, "plaintext", false},
		{"plaintext starting with a marker character", "*Secret1", "*Secret1", Params{Hint: "plaintext"}, "plaintext", true},
		{"plaintext store, exact marker", "*LK*", "*LK*", Params{Hint: "plaintext"}, "locked", false},
		{"plaintext store, empty", "", "", Params{Hint: "plaintext"}, "empty", false},
		{"bare md5 by length", md5hex("geheim"), "geheim", Params{}, "md5", true},
		{"upper-case hex", strings.ToUpper(md5hex("geheim")), "geheim", Params{}, "md5", true},
		{"bare md5 with hint", md5hex("geheim"), "geheim", Params{Hint: "md5"}, "md5", true},
		{"self-describing wins over hint", bc.Hash, bc.Password, Params{Hint: "md5"}, "bcrypt", true},
		{"salted md5", md5hex("zout" + "geheim"), "geheim", Params{Hint: "md5(salt+password)", Salt: "zout"}, "md5(salt+password)", true},
		{"salted md5 wrong order", md5hex("zout" + "geheim"), "geheim", Params{Hint: "md5(password+salt)", Salt: "zout"}, "md5(password+salt)", false},
		{"salted md5 wrong salt", md5hex("zout" + "geheim"), "geheim", Params{Hint: "md5(salt+password)", Salt: "zouT"}, "md5(salt+password)", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := h.Verify(ctx, tc.stored, tc.pw, tc.p)
			if err != nil || res.Match != tc.match || res.Scheme != tc.scheme {
				t.Fatalf("Verify = %+v, %v; want match=%v scheme=%s", res, err, tc.match, tc.scheme)
			}
		})
	}
	if err := ValidateHint("md5(salt+password)"); err != nil {
		t.Fatal(err)
	}
	var ue *UnsupportedError
	if err := ValidateHint("rot13"); !errors.As(err, &ue) {
		t.Fatalf("ValidateHint(rot13) = %v", err)
	}
}

func TestHashTarget(t *testing.T) {
	h, err := New(Config{BcryptCost: 5})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, pw := range []string{"a", "Brüssel-été€", strings.Repeat("x", 72), testNRN(t).Digits()} {
		s, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatalf("Hash(%d bytes): %v", len(pw), err)
		}
		info, err := h.Identify(s, Params{})
		if err != nil || info.Scheme != "bcrypt" || info.Cost != "bcrypt cost 5" {
			t.Fatalf("Identify = %+v, %v", info, err)
		}
		if res, err := h.Verify(ctx, s, pw, Params{}); err != nil || !res.Match || res.NeedsUpgrade {
			t.Fatalf("Verify = %+v, %v", res, err)
		}
		if res, err := h.Verify(ctx, s, oneOff(pw), Params{}); err != nil || res.Match {
			t.Fatalf("Verify(one off) = %+v, %v", res, err)
		}
	}
	// 72-byte rule: never truncate silently.
	if _, err := h.Hash(ctx, strings.Repeat("x", 73)); !errors.Is(err, ErrPasswordTooLong) {
		t.Fatalf("Hash(73 bytes) error = %v", err)
	}
	s72, _ := h.Hash(ctx, strings.Repeat("x", 72))
	if res, err := h.Verify(ctx, s72, strings.Repeat("x", 73), Params{}); !errors.Is(err, ErrPasswordTooLong) || res.Match {
		t.Fatalf("Verify(73 bytes against bcrypt of its 72-byte prefix) = %+v, %v", res, err)
	}
	if _, err := h.Hash(ctx, ""); !errors.Is(err, ErrEmptyPassword) {
		t.Fatalf("Hash(\"\") error = %v", err)
	}
	if res, err := h.Verify(ctx, md5hex("x"), strings.Repeat("x", MaxPasswordBytes+1), Params{}); !errors.Is(err, ErrPasswordTooLong) || res.Match {
		t.Fatalf("Verify(huge password) = %+v, %v", res, err)
	}
	// Iterated schemes whose work grows with the password length.
	long := strings.Repeat("x", MaxIteratedPasswordBytes+1)
	for _, scheme := range []string{"sha512-crypt", "sha256-crypt", "phpass", "drupal7"} {
		v := vectorFor(t, scheme)
		if res, err := h.Verify(ctx, v.Hash, long, Params{}); !errors.Is(err, ErrPasswordTooLong) || res.Match {
			t.Fatalf("Verify(%s, %d bytes) = %+v, %v", scheme, len(long), res, err)
		}
	}
}

func TestNeedsUpgrade(t *testing.T) {
	h, err := New(Config{BcryptCost: 5})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	low, _ := newTestHasher(t).Hash(ctx, "pw") // cost 4
	same, _ := h.Hash(ctx, "pw")               // cost 5
	high := vectorFor(t, "bcrypt")             // htpasswd -C 5
	wrapped, err := h.Wrap(ctx, md5hex("pw"), Params{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, stored string
		want         bool
	}{
		{"bcrypt below configured cost", low, true},
		{"bcrypt at configured cost", same, false},
		{"bcrypt from htpasswd at cost 5", high.Hash, false},
		{"md5", md5hex("pw"), true},
		{"argon2id (other family)", vectorFor(t, "argon2id").Hash, true},
		{"django bcrypt_sha256 (not our target)", vectorFor(t, "django-bcrypt-sha256").Hash, true},
		{"wrapped", wrapped, true},
		{"locked", "!", false},
		{"garbage", "zzz", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := h.NeedsUpgrade(tc.stored, Params{}); got != tc.want {
				t.Fatalf("NeedsUpgrade = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWrap(t *testing.T) {
	h := newTestHasher(t)
	ctx := context.Background()
	// One outside vector per wrappable scheme, plus the salted hint forms.
	seen := map[string]bool{}
	var vs []vector
	for _, v := range loadVectors(t) {
		if v.Expect != "match" || seen[v.Scheme] {
			continue
		}
		seen[v.Scheme] = true
		vs = append(vs, v)
	}
	wrapped := 0
	for _, v := range vs {
		t.Run(v.Scheme, func(t *testing.T) {
			p := Params{Hint: v.Hint, Salt: v.Salt}
			w, err := h.Wrap(ctx, v.Hash, p)
			info, _ := h.Identify(v.Hash, p)
			if info.Wrappable != (err == nil) {
				t.Fatalf("Info.Wrappable = %v but Wrap error = %v", info.Wrappable, err)
			}
			if errors.Is(err, ErrNotWrappable) {
				if info.Strength < StrengthAcceptable && v.Scheme != "bcrypt" && !strings.HasPrefix(v.Scheme, "django-bcrypt") &&
					v.Scheme != "argon2i" && v.Scheme != "argon2id" && v.Scheme != "django-argon2" && v.Scheme != "scrypt" {
					t.Fatalf("weak %s not wrappable: %v", v.Scheme, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Wrap: %v", err)
			}
			if v.Scheme == "plaintext" {
				if !strings.HasPrefix(w, "$2a$04$") {
					t.Fatalf("plaintext wrap = %q, want a plain bcrypt", w)
				}
			} else {
				wrapped++
				inner := strings.TrimPrefix(info.Scheme, "ldap-crypt/")
				if !strings.HasPrefix(w, wrapPrefix+inner+"$") {
					t.Fatalf("Wrap = %q", w)
				}
				wi, err := h.Identify(w, Params{})
				if err != nil || wi.Scheme != "wrapped("+inner+")" || !wi.Usable {
					t.Fatalf("Identify(wrapped) = %+v, %v", wi, err)
				}
				if _, err := h.Wrap(ctx, w, Params{}); !errors.Is(err, ErrNotWrappable) {
					t.Fatalf("Wrap(wrapped) = %v", err)
				}
			}
			// The wrapped value verifies on its own: no hint or salt needed.
			res, err := h.Verify(ctx, w, v.Password, Params{})
			if err != nil || !res.Match || !res.NeedsUpgrade && v.Scheme != "plaintext" {
				t.Fatalf("Verify(wrapped, password) = %+v, %v", res, err)
			}
			if res, err := h.Verify(ctx, w, oneOff(v.Password), Params{}); err != nil || res.Match {
				t.Fatalf("Verify(wrapped, one off) = %+v, %v", res, err)
			}
			if v.NRN != "" {
				if ok, err := h.IsDerived(ctx, w, Params{}, mustParse(t, v.NRN)); err != nil || !ok {
					t.Fatalf("IsDerived(wrapped) = %v, %v", ok, err)
				}
			}
		})
	}
	if wrapped < 20 {
		t.Fatalf("only %d schemes wrapped", wrapped)
	}
}

func TestWrapTampered(t *testing.T) {
	h := newTestHasher(t)
	ctx := context.Background()
	v := vectorFor(t, "md5-crypt")
	w, err := h.Wrap(ctx, v.Hash, Params{})
	if err != nil {
		t.Fatal(err)
	}
	// Another inner salt or scheme gives another H: no match.
	i := strings.Index(w, ",s=") + 3
	tampered := w[:i] + "QUJD" + w[i+strings.IndexByte(w[i:], '$'):]
	if res, err := h.Verify(ctx, tampered, v.Password, Params{}); err != nil || res.Match {
		t.Fatalf("tampered salt: %+v, %v", res, err)
	}
	other := strings.Replace(w, "$md5-crypt$", "$apr1$", 1)
	if res, err := h.Verify(ctx, other, v.Password, Params{}); err != nil || res.Match {
		t.Fatalf("swapped inner scheme: %+v, %v", res, err)
	}
}

func TestDrupalUpgraded(t *testing.T) {
	// Drupal 7's "U$" form is the $S$ hash of hex(md5(password)); the $S$
	// algorithm itself is checked against John the Ripper's vectors.
	h := newTestHasher(t)
	salt := []byte("abcdefgh")
	inner := phpassHash(true, []byte(md5hex("geheim")), salt, 15)[:43]
	stored := "U$S$D" + string(salt) + string(inner)
	res, err := h.Verify(context.Background(), stored, "geheim", Params{})
	if err != nil || !res.Match || res.Scheme != "drupal7-md5" {
		t.Fatalf("Verify = %+v, %v", res, err)
	}
	if res, _ := h.Verify(context.Background(), stored, "geheiM", Params{}); res.Match {
		t.Fatal("one off matched")
	}
}

func TestStrength(t *testing.T) {
	h := newTestHasher(t)
	for _, tc := range []struct {
		scheme string
		want   Strength
	}{
		{"md5", StrengthWeak}, {"mysql41", StrengthWeak}, {"md5-crypt", StrengthWeak}, {"apr1", StrengthWeak},
		{"ldap-ssha", StrengthWeak}, {"phpass", StrengthWeak}, {"plaintext", StrengthNone},
		{"sha512-crypt", StrengthWeak}, // 12000 rounds
		{"bcrypt", StrengthWeak},       // htpasswd -C 5
		{"argon2id", StrengthWeak},     // m=4096 t=2
		{"aspnet-identity-v2", StrengthWeak},
	} {
		t.Run(tc.scheme, func(t *testing.T) {
			v := vectorFor(t, tc.scheme)
			info, err := h.Identify(v.Hash, Params{Hint: v.Hint, Salt: v.Salt})
			if err != nil || info.Strength != tc.want {
				t.Fatalf("Identify(%s) = %+v, %v; want %v", v.Hash, info, err, tc.want)
			}
		})
	}
	// Threshold edges, from the table in strength.go.
	for _, tc := range []struct {
		name string
		got  Strength
		want Strength
	}{
		{"bcrypt 12", bcryptStrength(12), StrengthStrong},
		{"bcrypt 11", bcryptStrength(11), StrengthAcceptable},
		{"bcrypt 10", bcryptStrength(10), StrengthAcceptable},
		{"bcrypt 9", bcryptStrength(9), StrengthWeak},
		{"pbkdf2-sha256 600k", pbkdf2Strength("sha256", 600_000), StrengthStrong},
		{"pbkdf2-sha256 310k", pbkdf2Strength("sha256", 310_000), StrengthAcceptable},
		{"pbkdf2-sha256 10k (ASP.NET v3)", pbkdf2Strength("sha256", 10_000), StrengthWeak},
		{"pbkdf2-sha512 210k", pbkdf2Strength("sha512", 210_000), StrengthStrong},
		{"pbkdf2-sha512 100k (.NET 7)", pbkdf2Strength("sha512", 100_000), StrengthWeak},
		{"pbkdf2-sha1 1.3M", pbkdf2Strength("sha1", 1_300_000), StrengthStrong},
		{"argon2id OWASP 19 MiB t=2", argon2Strength(true, 19456, 2), StrengthStrong},
		{"argon2id RFC 9106 64 MiB t=3", argon2Strength(true, 65536, 3), StrengthStrong},
		{"argon2id PHP default 64 MiB t=4", argon2Strength(true, 65536, 4), StrengthStrong},
		{"argon2i same params", argon2Strength(false, 65536, 4), StrengthAcceptable},
		{"argon2id 4 MiB t=2", argon2Strength(true, 4096, 2), StrengthWeak},
		{"scrypt 2^15", scryptStrength(15), StrengthStrong},
		{"scrypt 2^14", scryptStrength(14), StrengthAcceptable},
		{"scrypt 2^10", scryptStrength(10), StrengthWeak},
		{"sha512-crypt 656000 (passlib default)", shaCryptStrength(true, 656_000), StrengthAcceptable},
		{"sha512-crypt 5000 (glibc default)", shaCryptStrength(true, 5000), StrengthWeak},
		{"phpass 2^8 (WordPress)", phpassStrength(8), StrengthWeak},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
	for s, want := range map[Strength]string{StrengthNone: "none", StrengthWeak: "weak", StrengthAcceptable: "acceptable", StrengthStrong: "strong"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q", s, s.String())
		}
	}
}

func mustParse(t testing.TB, s string) nrn.Number {
	t.Helper()
	n, err := nrn.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCandidates(t *testing.T) {
	n := testNRN(t)
	d := n.Digits()
	c := Candidates(n)
	for _, want := range []string{d, n.Format(), d[0:6] + "-" + d[6:9] + "-" + d[9:11], d[0:6] + " " + d[6:9] + " " + d[9:11], "30071985", "30/07/1985", "1985-07-30", "850730"} {
		if !slices.Contains(c, want) {
			t.Errorf("Candidates lacks %q", want)
		}
	}
	if len(c) > 13 || c[0] != d {
		t.Errorf("Candidates = %d entries, first %q", len(c), c[0])
	}
	if len(slices.Compact(slices.Sorted(slices.Values(c)))) != len(c) {
		t.Error("duplicates")
	}
	if Candidates(nrn.Number{}) != nil {
		t.Error("zero Number gave candidates")
	}
	// Unknown birth date parts: no date forms.
	unknown := mustParse(t, bisUnknownDate(t))
	for _, x := range Candidates(unknown) {
		if strings.Contains(x, "/") {
			t.Errorf("date form %q for an unknown birth date", x)
		}
	}
}

// bisUnknownDate builds a valid number with day 00 (unknown), sequence 9xx.
func bisUnknownDate(t testing.TB) string {
	t.Helper()
	for seq := 901; seq < 999; seq += 2 {
		base := 85*10_000_000 + 7*100_000 + seq
		num := fmt.Sprintf("%09d%02d", base, 97-base%97)
		if _, err := nrn.Parse(num); err == nil {
			return num
		}
	}
	t.Fatal("no number with unknown day")
	return ""
}

func TestContextWords(t *testing.T) {
	n := testNRN(t)
	w := ContextWords("Jan.Peeters@Gemeente.be", n, "Jan Peeters-Dubois")
	for _, want := range []string{"jan.peeters@gemeente.be", "jan", "peeters", "gemeente", "dubois", n.Digits(), n.Format()} {
		if !slices.Contains(w, want) {
			t.Errorf("ContextWords lacks %q: %q", want, w)
		}
	}
	if slices.Contains(w, "be") {
		t.Error("2-character part kept")
	}
	if got := ContextWords("", nrn.Number{}, ""); len(got) != 0 {
		t.Errorf("empty input gave %q", got)
	}
}

func TestIsDerived(t *testing.T) {
	h := newTestHasher(t)
	ctx := context.Background()
	n := testNRN(t)
	other, _ := nrn.Synthetic(time.Date(1990, 1, 2, 0, 0, 0, 0, time.UTC), false, 3)
	for _, tc := range []struct {
		name, stored string
		p            Params
		n            nrn.Number
		want         bool
	}{
		{"md5 of dotted form", md5hex(n.Format()), Params{}, n, true},
		{"md5 of birth date", md5hex("30/07/1985"), Params{}, n, true},
		{"plaintext digits", n.Digits(), Params{Hint: "plaintext"}, n, true},
		{"other person's number", md5hex(n.Format()), Params{}, other, false},
		{"unrelated password", md5hex("correct horse"), Params{}, n, false},
		{"zero number", md5hex(n.Format()), Params{}, nrn.Number{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.IsDerived(ctx, tc.stored, tc.p, tc.n)
			if err != nil || got != tc.want {
				t.Fatalf("IsDerived = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestContextAndLimiter(t *testing.T) {
	h, err := New(Config{BcryptCost: 4, MaxConcurrent: 1})
	if err != nil {
		t.Fatal(err)
	}
	bc := vectorFor(t, "bcrypt")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Verify(canceled, bc.Hash, bc.Password, Params{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify(canceled) = %v", err)
	}
	if _, err := h.Hash(canceled, "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash(canceled) = %v", err)
	}
	if _, err := h.Wrap(canceled, md5hex("pw"), Params{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wrap(canceled) = %v", err)
	}
	if _, err := h.IsDerived(canceled, bc.Hash, Params{}, testNRN(t)); !errors.Is(err, context.Canceled) {
		t.Fatalf("IsDerived(canceled) = %v", err)
	}
	// Hold the only slot: an expensive verification waits and gives up with ctx.
	release, err := h.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := h.Verify(short, bc.Hash, bc.Password, Params{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Verify while the slot is held = %v", err)
	}
	// Cheap schemes do not take a slot.
	if res, err := h.Verify(context.Background(), md5hex("pw"), "pw", Params{}); err != nil || !res.Match {
		t.Fatalf("cheap Verify while the slot is held = %+v, %v", res, err)
	}
	release()
	if res, err := h.Verify(context.Background(), bc.Hash, bc.Password, Params{}); err != nil || !res.Match {
		t.Fatalf("Verify after release = %+v, %v", res, err)
	}
}

func TestConfigValidate(t *testing.T) {
	if _, err := New(Config{}); err != nil {
		t.Fatalf("zero Config: %v", err)
	}
	h, _ := New(Config{})
	if h.BcryptCost() != DefaultBcryptCost {
		t.Fatalf("default cost %d", h.BcryptCost())
	}
	err := Config{BcryptCost: 3, MaxConcurrent: -1, Limits: Limits{BcryptMaxCost: 40, Argon2MaxThreads: 300, PhpassMaxLog2: 2}}.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, key := range []string{"bcrypt_cost:", "max_concurrent:", "limits.bcrypt_max_cost:", "limits.argon2_max_threads:", "limits.phpass_max_log2:"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error lacks %s: %v", key, err)
		}
	}
	if _, err := New(Config{BcryptCost: 14, Limits: Limits{BcryptMaxCost: 12}}); err == nil {
		t.Fatal("cost above its own cap accepted")
	}
}

func TestSchemesListed(t *testing.T) {
	h := newTestHasher(t)
	s := h.Schemes()
	if len(s) < 40 || !slices.Contains(s, "aspnet-identity-v3") || !slices.Contains(s, "sha512-crypt") {
		t.Fatalf("Schemes = %v", s)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(s)))) != len(s) {
		t.Fatal("duplicate scheme names")
	}
}

func TestDedupe(t *testing.T) {
	for _, n := range []int{0, 1, 5, 8, 9, 40, 200_000} {
		var in []string
		for i := range n {
			in = append(in, fmt.Sprint(i%(n/2+1)), fmt.Sprint(i%7)) // many repeats
		}
		// Reference: first occurrence of each, in input order.
		var want []string
		seen := map[string]bool{}
		for _, s := range in {
			if !seen[s] {
				seen[s] = true
				want = append(want, s)
			}
		}
		if got := dedupe(slices.Clone(in)); !slices.Equal(got, want) {
			t.Fatalf("n=%d: dedupe gave %d strings, want %d (or another order)", n, len(got), len(want))
		}
	}
	// A display name from a vendor database can be anything: a 1 MB name
	// of 262k parts (17.6k distinct) stays linear; a linear search per
	// part alone would make that billions of string comparisons.
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, "%c%c%c ", 'a'+i%26, 'a'+i/26%26, 'a'+i/676%26)
	}
	// The username, the whole name and each distinct part.
	if w := ContextWords("user", nrn.Number{}, b.String()); len(w) != 2+26*26*26 {
		t.Fatalf("ContextWords of a huge name: %d words, want %d", len(w), 2+26*26*26)
	}
}
