package hash

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/overstap/overstap/auth/nrn"
)

// vector is one line of testdata/hash/*.jsonl, written by
// scripts/gen-hash-vectors.sh from outside tools.
type vector struct {
	Scheme   string `json:"scheme"`
	Tool     string `json:"tool"`
	Version  string `json:"version"`
	Password string `json:"password"`
	NRN      string `json:"nrn"`
	Hash     string `json:"hash"`
	Hint     string `json:"hint"`
	Salt     string `json:"salt"`
	Expect   string `json:"expect"`
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	var out []vector
	for _, name := range []string{"vectors.jsonl", "published.jsonl"} {
		f, err := os.Open(filepath.Join("..", "..", "testdata", "hash", name))
		if err != nil {
			t.Fatalf("open vectors: %v", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var v vector
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if v.Hash == "" && v.Tool == "" {
				continue // header line
			}
			if v.Tool == "" || v.Version == "" {
				t.Fatalf("%s: vector without tool/version: %+v", name, v)
			}
			out = append(out, v)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if len(out) < 100 {
		t.Fatalf("only %d vectors", len(out))
	}
	return out
}

// oneOff returns password with its last character replaced (or "a"
// appended to the empty password): a negative that differs by one character.
func oneOff(pw string) string {
	if pw == "" {
		return "a"
	}
	r, size := utf8.DecodeLastRuneInString(pw)
	repl := 'a'
	if r == 'a' {
		repl = 'b'
	}
	return pw[:len(pw)-size] + string(repl)
}

func newTestHasher(t testing.TB) *Hasher {
	t.Helper()
	h, err := New(Config{BcryptCost: 4, DerivedBudget: -1}) // known answers check the derivation; TestDerivedBudget the bound
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestKnownAnswerVectors(t *testing.T) {
	h := newTestHasher(t)
	ctx := context.Background()
	for i, v := range loadVectors(t) {
		t.Run(strings.ReplaceAll(v.Tool, "/", "_")+"#"+strconv.Itoa(i), func(t *testing.T) {
			p := Params{Hint: v.Hint, Salt: v.Salt}
			info, err := h.Identify(v.Hash, p)
			if v.Expect == "unsupported" {
				var ue *UnsupportedError
				if !errors.As(err, &ue) || ue.Reason == "" {
					t.Fatalf("Identify(%q) = %+v, %v; want *UnsupportedError with a reason", v.Hash, info, err)
				}
				res, err := h.Verify(ctx, v.Hash, v.Password, p)
				if err == nil || res.Match {
					t.Fatalf("Verify of unsupported value = %+v, %v", res, err)
				}
				return
			}
			if v.Expect == "unusable" {
				res, err := h.Verify(ctx, v.Hash, v.Password, p)
				if err != nil || info.Usable || info.Scheme != v.Scheme || res.Match {
					t.Fatalf("unusable marker: Identify = %+v, Verify = %+v, %v", info, res, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Identify(%q): %v", v.Hash, err)
			}
			if info.Scheme != v.Scheme || !info.Usable {
				t.Fatalf("Identify(%q) = %+v, want scheme %q usable", v.Hash, info, v.Scheme)
			}
			res, err := h.Verify(ctx, v.Hash, v.Password, p)
			if err != nil || !res.Match || res.Scheme != v.Scheme {
				t.Fatalf("Verify(right password) = %+v, %v", res, err)
			}
			neg := oneOff(v.Password)
			res, err = h.Verify(ctx, v.Hash, neg, p)
			if err != nil || res.Match {
				t.Fatalf("Verify(one character off %q) = %+v, %v", neg, res, err)
			}
			if v.NRN != "" {
				n, err := nrn.Parse(v.NRN)
				if err != nil || !nrn.IsSynthetic(n) {
					t.Fatalf("vector NRN is not a synthetic number: %v", err)
				}
				ok, err := h.IsDerived(ctx, v.Hash, p, n)
				if err != nil || !ok {
					t.Fatalf("IsDerived = %v, %v; want true", ok, err)
				}
			}
		})
	}
}

// TestVectorsCoverSchemes: every scheme except the ones no outside tool
// writes has a vector from an outside tool.
func TestVectorsCoverSchemes(t *testing.T) {
	h := newTestHasher(t)
	seen := map[string]bool{}
	for _, v := range loadVectors(t) {
		seen[strings.TrimPrefix(v.Scheme, "ldap-crypt/")] = true
		if strings.HasPrefix(v.Scheme, "ldap-crypt/") {
			seen["ldap-crypt"] = true
		}
	}
	// Not written by any outside tool: markers and our own wrap (own tests),
	// Drupal's U$ upgrade form (derived from drupal7 in TestDrupalUpgraded).
	exempt := map[string]bool{"locked": true, "wrapped": true, "drupal7-md5": true}
	for _, s := range h.Schemes() {
		if !seen[s] && !exempt[s] {
			t.Errorf("scheme %s has no outside known-answer vector", s)
		}
	}
}
