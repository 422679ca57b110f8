package csvstore

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/overstap/overstap/adapters/store"
)

// FuzzExport: any export file either fails to open with an error or can be
// iterated completely, in strictly increasing key order; never a panic.
func FuzzExport(f *testing.F) {
	for _, s := range []string{
		"id,login,hash\n1,a,h\n2,b,\n",
		"\ufeffid;login;hash\n\"1\";\"a;b\";\"h\"\"\"\n",
		"id,login,hash\n1,a\n",
		"id,login,hash\n\n\n3,c,\xff\n",
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, integer bool) {
		dir := t.TempDir()
		path := filepath.Join(dir, "e.csv")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := Config{Path: path, ChangesPath: path + ".changes", Columns: Columns{ID: "id", Username: "login", Password: "hash"}}
		if integer {
			cfg.IDType = "integer"
		}
		s, err := Open(context.Background(), "fuzz", cfg, nil)
		if err != nil {
			return
		}
		defer s.Close()
		var cur store.Cursor
		last := ""
		for range 1000 {
			page, next, err := s.Iterate(context.Background(), cur, 3)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range page {
				if last != "" && s.cmp(entry{id: last, num: atoi(last)}, entry{id: a.ID, num: atoi(a.ID)}) >= 0 {
					t.Fatalf("order: %q then %q", last, a.ID)
				}
				last = a.ID
			}
			if next == "" {
				return
			}
			cur = next
		}
		t.Fatal("iteration does not end")
	})
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
