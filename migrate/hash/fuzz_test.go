package hash

import (
	"context"
	"errors"
	"testing"
)

// FuzzIdentifyVerify: any stored value, password, hint and salt. Never a
// panic; Identify and Verify agree on rejection and on the error type; a
// match only ever happens for a known-answer pair or a plaintext store.
func FuzzIdentifyVerify(f *testing.F) {
	known := map[[2]string]bool{}
	for _, v := range loadVectors(f) {
		known[[2]string{v.Hash, v.Password}] = true
		f.Add(v.Hash, v.Password, v.Hint, v.Salt)
		f.Add(v.Hash, oneOff(v.Password), v.Hint, v.Salt)
	}
	for _, c := range hostileCases(f) {
		f.Add(c.stored, "x", c.p.Hint, c.p.Salt)
	}
	// Tight caps keep every execution fast; the caps themselves are tested
	// in TestHostileHashes.
	h, err := New(Config{BcryptCost: 4, Limits: Limits{
		BcryptMaxCost: 6, ShaCryptMaxRounds: 20_000, PBKDF2MaxIterations: 20_000, PhpassMaxLog2: 12,
		Argon2MaxMemoryKiB: 4096, Argon2MaxTime: 2, Argon2MaxThreads: 2, ScryptMaxMemoryBytes: 1 << 20, ScryptMaxP: 2,
	}})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, stored, password, hint, salt string) {
		p := Params{Hint: hint, Salt: salt}
		info, idErr := h.Identify(stored, p)
		res, vErr := h.Verify(ctx, stored, password, p)
		if idErr != nil {
			if vErr == nil || res.Match {
				t.Fatalf("Identify failed (%v) but Verify = %+v, %v", idErr, res, vErr)
			}
			var ue *UnsupportedError
			var le *LimitError
			if !errors.As(idErr, &ue) && !errors.As(idErr, &le) {
				t.Fatalf("untyped Identify error %v", idErr)
			}
			return
		}
		if res.Scheme != info.Scheme {
			t.Fatalf("Identify says %q, Verify %q", info.Scheme, res.Scheme)
		}
		if !res.Match {
			return
		}
		switch {
		case !info.Usable:
			t.Fatalf("unusable value %q matched", stored)
		case known[[2]string{stored, password}]:
		case info.Scheme == "plaintext" && stored == password:
		default:
			t.Fatalf("unexpected match: %q / %q (hint %q salt %q)", stored, password, hint, salt)
		}
	})
}
