package state

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/overstap/overstap/internal/testsvc"
)

// dirDigest hashes the names, sizes and contents of the files in dir, to
// show that a read-only open wrote nothing (no -wal or -shm left either).
func dirDigest(t *testing.T, dir string) [32]byte {
	t.Helper()
	h := sha256.New()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(e.Name() + "\x00"))
		h.Write(b)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func TestOpenReadOnlySQLite(t *testing.T) {
	ctx := context.Background()

	t.Run("missing file is not created", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "mistyped.db")
		_, err := OpenReadOnly(ctx, Config{Path: path}, nil)
		if !errors.Is(err, ErrNoDatabase) {
			t.Fatalf("err = %v, want ErrNoDatabase", err)
		}
		if _, serr := os.Stat(path); !errors.Is(serr, os.ErrNotExist) {
			t.Fatalf("OpenReadOnly created %s (%v)", path, serr)
		}
	})

	t.Run("empty file is not migrated", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "empty.db")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		before := dirDigest(t, dir)
		_, err := OpenReadOnly(ctx, Config{Path: path}, nil)
		if !errors.Is(err, ErrNoAuditLog) {
			t.Fatalf("err = %v, want ErrNoAuditLog", err)
		}
		if dirDigest(t, dir) != before {
			t.Fatal("the directory changed: the empty database was written")
		}
	})

	t.Run("foreign database", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "other.db")
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("CREATE TABLE something (x INTEGER)"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if _, err := OpenReadOnly(ctx, Config{Path: path}, nil); !errors.Is(err, ErrNoAuditLog) {
			t.Fatalf("err = %v, want ErrNoAuditLog", err)
		}
	})

	t.Run("audit table dropped", func(t *testing.T) {
		path := changedState(t, "DROP TABLE audit_log")
		if _, err := OpenReadOnly(ctx, Config{Path: path}, nil); !errors.Is(err, ErrNoAuditLog) {
			t.Fatalf("err = %v, want ErrNoAuditLog", err)
		}
	})

	t.Run("schema too new", func(t *testing.T) {
		path := changedState(t, "INSERT INTO schema_migrations (component, version, applied_at) VALUES ('state', 99, 0)")
		var tn *SchemaTooNewError
		if _, err := OpenReadOnly(ctx, Config{Path: path}, nil); !errors.As(err, &tn) {
			t.Fatalf("err = %v, want *SchemaTooNewError", err)
		}
	})

	t.Run("path with a space and a percent sign", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "gemeente 100%25 data")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "state.db")
		open(t, Config{Path: path}).Close()
		ro, err := OpenReadOnly(ctx, Config{Path: path}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ro.Close()
		if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "gemeente 100% data")); !errors.Is(err, os.ErrNotExist) {
			t.Fatal("the percent escape was decoded into another directory")
		}
	})

	t.Run("verifies a real log without writing", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "state.db")
		s := open(t, Config{Path: path})
		appendN(t, s, 3)
		s.Close()
		before, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ro, err := OpenReadOnly(ctx, Config{Path: path}, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkReadOnly(t, ro)
		if err := ro.Close(); err != nil {
			t.Fatal(err)
		}
		after, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(after, before) {
			t.Fatalf("the database file changed during a read-only verify (%v)", err)
		}
		// SQLite may leave its WAL coordination files (-shm, an empty -wal)
		// next to a WAL database it opened read-only; no data goes there.
		if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
			t.Fatalf("read-only open wrote %d bytes of WAL", fi.Size())
		}
	})
}

func TestOpenReadOnlyPostgres(t *testing.T) {
	ctx := context.Background()
	t.Run("fresh schema is not migrated", func(t *testing.T) {
		pg := testsvc.Postgres(t)
		cfg := Config{Driver: "postgres", DSN: pg.DSN}
		_, err := OpenReadOnly(ctx, cfg, nil)
		if !errors.Is(err, ErrNoAuditLog) {
			t.Fatalf("err = %v, want ErrNoAuditLog", err)
		}
		var n int
		if err := pg.DB.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1", pg.Schema).Scan(&n); err != nil || n != 0 {
			t.Fatalf("tables in the fresh schema after a read-only open = %d, %v; want 0", n, err)
		}
	})
	t.Run("verifies a real log without writing", func(t *testing.T) {
		cfg := postgresBackend(t)
		s := open(t, cfg)
		appendN(t, s, 3)
		ro, err := OpenReadOnly(ctx, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		checkReadOnly(t, ro)
	})
}

// changedState is the path of a fresh SQLite state database, closed, on
// which stmt ran.
func changedState(t *testing.T, stmt string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, Config{Path: path})
	if _, err := s.DB().Exec(stmt); err != nil {
		t.Fatal(err)
	}
	s.Close()
	return path
}

// checkReadOnly verifies ro's log of three entries and checks that ro
// refuses an Append and a write through DB().
func checkReadOnly(t *testing.T, ro *Store) {
	t.Helper()
	ctx := context.Background()
	rep, err := ro.Verify(ctx)
	if err != nil || !rep.OK() || rep.Entries != 3 {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
	if _, err := ro.Append(ctx, event(t, 9)); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Append on a read-only store: %v", err)
	}
	if _, err := ro.DB().Exec("DELETE FROM audit_log"); err == nil {
		t.Fatal("a write through DB() succeeded on a read-only store")
	}
}
