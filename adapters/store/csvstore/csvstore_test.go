package csvstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/adapters/store/storetest"
)

var stdColumns = Columns{ID: "id", Username: "login", Password: "hash", Salt: "salt", NRN: "rrn",
	Name: "naam", Disabled: "geblokkeerd", Federated: "federated"}

// csvSeeder writes the export file (replacing it, as a new export would).
type csvSeeder struct {
	cfg  Config
	rows []storetest.Row
}

func (s *csvSeeder) Seed(t testing.TB, rows ...storetest.Row) {
	t.Helper()
	s.rows = append(s.rows, rows...)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"id", "login", "hash", "salt", "rrn", "naam", "geblokkeerd", "federated"})
	for _, r := range s.rows {
		pw, n := "", ""
		if r.Password != nil {
			pw = *r.Password
		}
		if r.NRN != nil {
			n = *r.NRN
		}
		w.Write([]string{r.ID, r.Username, pw, r.Salt, n, r.Name, strconv.FormatBool(r.Disabled), strconv.FormatBool(r.Federated)})
	}
	w.Flush()
	tmp := s.cfg.Path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, s.cfg.Path); err != nil {
		t.Fatal(err)
	}
}

func (s *csvSeeder) Append(t testing.TB, _, _ string) {
	t.Fatal("csvstore has no atomic CAS; the suite must not call Append")
}

// Credential reads the value the vendor would have after importing: a
// fresh adapter over the export and the fsynced changes file.
func (s *csvSeeder) Credential(t testing.TB, id string) (string, bool) {
	t.Helper()
	st, err := Open(context.Background(), "verify", s.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := st.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a.Credential, a.CredentialNull
}

// newCSV opens a store on a fresh export (and changes file) with the
// standard columns and the given id_type.
func newCSV(t *testing.T, idType string) (*Store, *csvSeeder) {
	dir := t.TempDir()
	cfg := Config{Path: filepath.Join(dir, "export.csv"), ChangesPath: filepath.Join(dir, "changes.csv"), Columns: stdColumns, IDType: idType}
	seed := &csvSeeder{cfg: cfg}
	seed.Seed(t)
	s, err := Open(context.Background(), "legacy", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, seed
}

func TestContractCSV(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, storetest.Seeder) { return newCSV(t, "") })
}

func TestContractCSVIntegerIDs(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, storetest.Seeder) { return newCSV(t, "integer") })
}

// TestOriginalUntouchedAndChangesFile: the export is byte-identical after
// writes; the changes file holds one line per change with the old value's
// SHA-256, never the old value.
func TestOriginalUntouchedAndChangesFile(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	export := "id;login;hash;federated\n7;jan;{MD5}old==;0\n8;piet;;0\n"
	path := filepath.Join(dir, "export.csv")
	if err := os.WriteFile(path, []byte(export), 0o400); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Path: path, ChangesPath: filepath.Join(dir, "changes.csv"), Delimiter: ";",
		Columns: Columns{ID: "id", Username: "login", Password: "hash", Federated: "federated"}, Now: func() time.Time { return now }}
	s, err := Open(context.Background(), "legacy", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.CompareAndSwap(ctx, store.Swap{ID: "7", Old: "{MD5}old==", New: "!revoked"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CompareAndSwap(ctx, store.Swap{ID: "7", Old: "{MD5}old==", New: "again"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second swap on the old value: %v", err)
	}
	if err := s.CompareAndSwap(ctx, store.Swap{ID: "8", OldNull: true, New: "!revoked"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFederated(ctx, "7", true); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if got, _ := os.ReadFile(path); string(got) != export {
		t.Fatalf("export modified:\n%s", got)
	}
	changes, err := os.ReadFile(cfg.ChangesPath)
	if err != nil {
		t.Fatal(err)
	}
	old := sha256.Sum256([]byte("{MD5}old=="))
	want := "seq,time,id,action,value,old_sha256\n" +
		"1,2026-11-22T10:00:00Z,7,set_credential,!revoked," + hexs(old[:]) + "\n" +
		"2,2026-11-22T10:00:00Z,8,set_credential,!revoked,\n" +
		"3,2026-11-22T10:00:00Z,7,set_federated,true,\n"
	if string(changes) != want {
		t.Fatalf("changes file\n%s\nwant\n%s", changes, want)
	}
	if fi, _ := os.Stat(cfg.ChangesPath); fi.Mode().Perm() != 0o600 {
		t.Fatalf("changes file mode %v", fi.Mode())
	}
	// A torn last line (crash during a write) is dropped at the next open.
	f, _ := os.OpenFile(cfg.ChangesPath, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("4,2026-11-22T10:00:00Z,8,set_cred")
	f.Close()
	s2, err := Open(context.Background(), "legacy", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	a, err := s2.Get(ctx, "7")
	if err != nil || a.Credential != "!revoked" || !a.Federated {
		t.Fatalf("pending changes not replayed: %+v %v", a, err)
	}
	if err := s2.CompareAndSwap(ctx, store.Swap{ID: "8", Old: "!revoked", New: "x"}); err != nil {
		t.Fatal(err)
	}
	changes, _ = os.ReadFile(cfg.ChangesPath)
	if !strings.HasSuffix(string(changes), "\n4,2026-11-22T10:00:00Z,8,set_credential,x,"+sha(t, "!revoked")+"\n") {
		t.Fatalf("after torn line:\n%s", changes)
	}
}

func sha(_ *testing.T, s string) string { h := sha256.Sum256([]byte(s)); return hexs(h[:]) }

func hexs(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// TestBadExports: broken exports are refused with the line, never a value.
func TestBadExports(t *testing.T) {
	cases := []struct{ name, data, want string }{
		{"missing column", "id,login\n1,a\n", "columns.password"},
		{"ragged row", "id,login,hash\n1,a,h\n2,b\n", "line 3"},
		{"bare quote", "id,login,hash\n1,a\"b,h\n", "line 2"},
		{"duplicate id", "id,login,hash\n1,a,h\n1,b,h\n", "duplicate id"},
		{"empty id", "id,login,hash\n,a,h\n", "empty id"},
		{"empty file", "", "header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "e.csv")
			os.WriteFile(path, []byte(c.data), 0o600)
			_, err := Open(context.Background(), "legacy", Config{Path: path, ChangesPath: path + ".changes",
				Columns: Columns{ID: "id", Username: "login", Password: "hash"}}, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "csvstore: ") {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}

// TestTSVWithBOMAndLatin1: a TSV spreadsheet export with a BOM and a
// Latin-1 name is read; bytes of credentials are kept exactly.
func TestTSVWithBOMAndLatin1(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "e.tsv")
	os.WriteFile(path, []byte("\ufeffid\tlogin\thash\tnaam\n1\tjos\tmd5\xff\tJos\xe9\n"), 0o600)
	s, err := Open(context.Background(), "legacy", Config{Path: path, ChangesPath: path + ".changes", Delimiter: "tab",
		Columns: Columns{ID: "id", Username: "login", Password: "hash", Name: "naam"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, err := s.Get(context.Background(), "1")
	if err != nil || a.Credential != "md5\xff" || a.Name != "Jos\uFFFD" {
		t.Fatalf("%q %q %v", a.Credential, a.Name, err)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		keys []string
	}{
		{"empty", Config{}, []string{"path:", "changes_path:", "columns.id:", "columns.username:", "columns.password:"}},
		{"same file", Config{Path: "/a/x.csv", ChangesPath: "/a/../a/x.csv", Columns: Columns{ID: "i", Username: "u", Password: "p"}}, []string{"changes_path:"}},
		{"delimiter", Config{Path: "a", ChangesPath: "b", Delimiter: "::", IDType: "uuid", Columns: Columns{ID: "i", Username: "u", Password: "p"}}, []string{"delimiter:", "id_type:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { storetest.WantKeys(t, c.cfg.Validate(), c.keys...) })
	}
}

func BenchmarkIterateCSV(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "e.csv")
	var buf bytes.Buffer
	buf.WriteString("id,login,hash\n")
	const rows = 20_000
	for i := range rows {
		buf.WriteString(strconv.Itoa(i+1) + ",user" + strconv.Itoa(i) + ",{SSHA}abcdefabcdefabcdef\n")
	}
	os.WriteFile(path, buf.Bytes(), 0o600)
	s, err := Open(context.Background(), "legacy", Config{Path: path, ChangesPath: path + ".changes", IDType: "integer",
		Columns: Columns{ID: "id", Username: "login", Password: "hash"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.Run("raw-csv-read", func(b *testing.B) {
		n := 0
		for b.Loop() {
			r := csv.NewReader(bytes.NewReader(buf.Bytes()))
			r.ReuseRecord = true
			for {
				if _, err := r.Read(); err != nil {
					break
				}
				n++
			}
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("adapter", func(b *testing.B) { storetest.BenchIterate(b, s) })
}
