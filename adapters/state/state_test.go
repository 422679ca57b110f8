package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/audit"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/logging"
	"github.com/overstap/overstap/internal/testsvc"
	"github.com/prometheus/client_golang/prometheus"
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

// TestAuditorLogsDecisions: every audit event (a refused legacy login, a
// denied family request) is also a log line at info, with references only.
func TestAuditorLogsDecisions(t *testing.T) {
	var buf testsvc.SyncBuffer
	log, _ := logging.New(&buf, "json", "info")
	a := Auditor{Store: open(t, sqliteBackend(t)), Log: log}
	ctx := context.Background()
	n, err := nrn.Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), true, 3)
	if err != nil {
		t.Fatal(err)
	}
	a.Record(ctx, "legacy_login.failed", audit.Denied, "nrnref1:abc", map[string]string{"app": "eloket", "reason": "wrong_password " + n.Digits()})
	if _, err := a.Append(ctx, Event{Type: "family.request", Outcome: "denied", Actor: "nrnref1:abc", Target: "nrnref1:def"}); err != nil {
		t.Fatal(err)
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("want 2 lines:\n%s", buf.String())
	}
	l := lines[0]
	if l["level"] != "INFO" || l["msg"] != "audit" || l["event"] != "legacy_login.failed" || l["outcome"] != "denied" ||
		l["target"] != "nrnref1:abc" || l["app"] != "eloket" || l["details"].(map[string]any)["reason"] == nil {
		t.Errorf("legacy login line: %v", l)
	}
	l = lines[1]
	if l["level"] != "INFO" || l["event"] != "family.request" || l["actor"] != "nrnref1:abc" || l["target"] != "nrnref1:def" {
		t.Errorf("family line: %v", l)
	}
	if strings.Contains(buf.String(), n.Digits()) {
		t.Errorf("a national number in the log:\n%s", buf.String())
	}
	if es, err := a.Store.List(ctx, Filter{}); err != nil || len(es) != 2 {
		t.Errorf("entries %d, %v", len(es), err)
	}
}

// TestAuditorRefusedEventNotCounted: an event the store refuses (it holds
// a national number) is neither counted nor logged as an audit event; the
// caller gets the refusal.
func TestAuditorRefusedEventNotCounted(t *testing.T) {
	var buf testsvc.SyncBuffer
	log, _ := logging.New(&buf, "json", "info")
	events := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "audit_events_total", Help: "x"}, []string{"type", "outcome"})
	a := Auditor{Store: open(t, sqliteBackend(t)), Log: log, Events: events}
	n, _ := nrn.Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), true, 3)
	if _, err := a.Append(context.Background(), Event{Type: "family.request", Outcome: "denied", Actor: n.Digits()}); !errors.Is(err, ErrClearNRN) {
		t.Fatalf("want ErrClearNRN, got %v", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(events)
	if mfs, err := reg.Gather(); err != nil || len(mfs) != 0 {
		t.Errorf("refused event counted: %v %v", mfs, err)
	}
	if strings.Contains(buf.String(), `"msg":"audit"`) {
		t.Errorf("refused event logged as recorded:\n%s", buf.String())
	}
}
