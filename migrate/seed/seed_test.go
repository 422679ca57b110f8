package seed

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/migrate/hash"
)

func TestSeedMix(t *testing.T) {
	ctx := context.Background()
	h, err := hash.New(hash.Config{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, mix := range []string{MixHashed, MixPlaintext} {
		t.Run(mix, func(t *testing.T) {
			db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "s.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			st, err := Run(ctx, db, Config{Driver: "sqlite", Accounts: 2000, Mix: mix, Seed: 3, BcryptCost: 4})
			if err != nil {
				t.Fatal(err)
			}
			if st.Rows != 2000 {
				t.Errorf("rows %d", st.Rows)
			}
			hint := ""
			if mix == MixPlaintext {
				hint = "plaintext"
			}
			rows, err := db.Query(`SELECT login, passwd, rrn FROM legacy_accounts`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			schemes := map[string]int{}
			derived := 0
			for rows.Next() {
				var login string
				var pw, rrn sql.NullString
				rows.Scan(&login, &pw, &rrn)
				if !pw.Valid {
					schemes["NULL"]++
					continue
				}
				info, err := h.Identify(pw.String, hash.Params{Hint: hint})
				if err != nil {
					schemes["unsupported"]++
					continue
				}
				schemes[info.Scheme]++
				var n nrn.Number
				if rrn.Valid {
					n, _ = nrn.Parse(rrn.String)
				} else if nrn.LooksLike(login) {
					n, _ = nrn.Parse(login)
				}
				if !n.IsZero() {
					if !nrn.IsSynthetic(n) {
						t.Fatalf("seed wrote a non-synthetic national number")
					}
					if d, _ := h.IsDerived(ctx, pw.String, hash.Params{Hint: hint}, n); d {
						derived++
					}
				}
			}
			t.Logf("%s: %v, derived %d", mix, schemes, derived)
			want := []string{"md5", "ldap-ssha", "phpass", "bcrypt", "unsupported", "NULL"}
			if mix == MixPlaintext {
				want = []string{"plaintext", "NULL"}
			}
			for _, w := range want {
				if schemes[w] < 20 {
					t.Errorf("only %d %s rows", schemes[w], w)
				}
			}
			if derived < 400 {
				t.Errorf("only %d NRN-derived passwords", derived)
			}
		})
	}
	// The phpass encoder matches the hash package's verifier.
	p := phpassHash("hunter2", "abcdefgh", 8)
	if r, err := h.Verify(ctx, p, "hunter2", hash.Params{}); err != nil || !r.Match {
		t.Errorf("phpass %q does not verify: %v", p, err)
	}
	if r, _ := h.Verify(ctx, p, "hunter3", hash.Params{}); r.Match {
		t.Error("phpass verifies a wrong password")
	}
	if r, err := h.Verify(ctx, ssha("pw", "saltsalt"), "pw", hash.Params{}); err != nil || !r.Match {
		t.Errorf("ssha does not verify: %v", err)
	}
}

func TestSeedRejects(t *testing.T) {
	for name, c := range map[string]Config{
		"driver":   {Driver: "oracle", Accounts: 1},
		"accounts": {Driver: "sqlite", Accounts: 0},
		"table":    {Driver: "sqlite", Accounts: 1, Table: "x; DROP TABLE y"},
		"mix":      {Driver: "sqlite", Accounts: 1, Mix: "argon"},
		"cost":     {Driver: "sqlite", Accounts: 1, BcryptCost: 31},
	} {
		t.Run(name, func(t *testing.T) {
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("Validate = %v", err)
			}
		})
	}
}
