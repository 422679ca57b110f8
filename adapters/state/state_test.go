package state

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/internal/config"
)

func itoa(i int) string { return strconv.Itoa(i) }

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		want []string // one substring per expected problem
	}{
		{"default sqlite", Config{}, nil},
		{"sqlite path", Config{Driver: "sqlite", Path: "/var/lib/overstap/state.db", BusyTimeout: time.Second}, nil},
		{"postgres", Config{Driver: "postgres", DSN: "postgres://overstap@db.internal:5432/overstap?sslmode=verify-full", Password: config.NewSecret([]byte("x"))}, nil},
		{"postgres keyword dsn", Config{Driver: "postgres", DSN: "host=127.0.0.1 user=overstap dbname=overstap"}, nil},
		{"postgres keyword dsn verify-full", Config{Driver: "postgres", DSN: "host=db.internal user=overstap dbname=overstap sslmode=verify-full"}, nil},
		{"unknown driver", Config{Driver: "mysql"}, []string{`driver: unknown driver "mysql"`}},
		{"postgres without dsn", Config{Driver: "postgres"}, []string{"dsn: required"}},
		{"postgres with password in URL", Config{Driver: "postgres", DSN: "postgres://u:hunter2@db/x"}, []string{"dsn: holds a password"}},
		{"postgres with password keyword", Config{Driver: "postgres", DSN: "host=db user=u password=hunter2"}, []string{"dsn: holds a password"}},
		{"postgres garbage dsn", Config{Driver: "postgres", DSN: "postgres://[::1"}, []string{"dsn: not a valid"}},
		{"postgres with path", Config{Driver: "postgres", DSN: "postgres://u@db/x?sslmode=verify-full", Path: "x.db"}, []string{"path: only for driver sqlite"}},
		{"postgres remote without sslmode (prefer)", Config{Driver: "postgres", DSN: "postgres://u@db.gemeente.internal/x"}, []string{"dsn: sslmode must be verify-full"}},
		{"postgres remote sslmode require", Config{Driver: "postgres", DSN: "postgres://u@db.gemeente.internal/x?sslmode=require"}, []string{"dsn: sslmode must be verify-full"}},
		{"postgres remote sslmode disable", Config{Driver: "postgres", DSN: "host=10.1.2.3 user=u dbname=x sslmode=disable"}, []string{"dsn: sslmode must be verify-full"}},
		{"postgres remote sslmode allow", Config{Driver: "postgres", DSN: "host=10.1.2.3 user=u dbname=x sslmode=allow"}, []string{"dsn: sslmode must be verify-full"}},
		{"postgres second host remote and unverified", Config{Driver: "postgres", DSN: "postgres://u@127.0.0.1,db.gemeente.internal/x?sslmode=prefer"}, []string{"dsn: sslmode must be verify-full"}},
		{"postgres remote verify-ca", Config{Driver: "postgres", DSN: "postgres://u@db.gemeente.internal/x?sslmode=verify-ca"}, nil},
		{"postgres loopback without TLS", Config{Driver: "postgres", DSN: "postgres://u@127.0.0.1:5432/x?sslmode=disable"}, nil},
		{"postgres ::1 without TLS", Config{Driver: "postgres", DSN: "postgres://u@[::1]:5432/x?sslmode=disable"}, nil},
		{"postgres localhost", Config{Driver: "postgres", DSN: "postgres://u@localhost/x"}, nil},
		{"postgres unix socket", Config{Driver: "postgres", DSN: "host=/var/run/postgresql user=u dbname=x"}, nil},
		{"postgres remote unverified, explicitly allowed", Config{Driver: "postgres", DSN: "postgres://u@db.gemeente.internal/x?sslmode=disable", AllowUnverifiedTLS: true}, nil},
		{"sqlite with dsn", Config{DSN: "postgres://u@db/x"}, []string{"dsn: only for driver postgres"}},
		{"sqlite path with query", Config{Path: "state.db?mode=memory"}, []string{"path: must not contain"}},
		{"bounds", Config{MaxOpenConns: -1, BusyTimeout: time.Hour, ConnectTimeout: -time.Second},
			[]string{"max_open_conns:", "busy_timeout:", "connect_timeout:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want %v", tc.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Errorf("problems:\n%s\nwant %d", err, len(tc.want))
			}
			for i, w := range tc.want {
				if i < len(lines) && !strings.HasPrefix(lines[i], w) {
					t.Errorf("problem %d = %q, want prefix %q", i, lines[i], w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestRebind(t *testing.T) {
	q := "SELECT a FROM t WHERE b = ? AND c = ?"
	if got := Postgres.Rebind(q); got != "SELECT a FROM t WHERE b = $1 AND c = $2" {
		t.Errorf("Postgres.Rebind = %q", got)
	}
	if got := SQLite.Rebind(q); got != q {
		t.Errorf("SQLite.Rebind = %q", got)
	}
}

func TestSQLiteFileMode(t *testing.T) {
	path := t.TempDir() + "/state.db"
	s := open(t, Config{Path: path})
	s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("database file mode %v is readable by others", fi.Mode().Perm())
	}
}

// TestSQLiteFileModeWarning: an existing database file readable by others
// is reported at Open (its mode is left as the administrator set it).
func TestSQLiteFileModeWarning(t *testing.T) {
	for _, tc := range []struct {
		mode os.FileMode
		warn bool
	}{{0o644, true}, {0o640, true}, {0o600, false}} {
		path := t.TempDir() + "/state.db"
		if err := os.WriteFile(path, nil, tc.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, tc.mode); err != nil { // umask
			t.Fatal(err)
		}
		var logged bytes.Buffer
		s, err := Open(context.Background(), Config{Path: path}, slog.New(slog.NewTextHandler(&logged, nil)))
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if got := strings.Contains(logged.String(), "accessible to group or others"); got != tc.warn {
			t.Errorf("mode %v: warned = %v, want %v; log:\n%s", tc.mode, got, tc.warn, logged.String())
		}
	}
}
