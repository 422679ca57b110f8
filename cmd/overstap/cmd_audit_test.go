package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/testsvc"
)

// seedAudit writes n audit entries through the store.
func seedAudit(t *testing.T, cfg state.Config, n int) []state.Entry {
	t.Helper()
	st, err := state.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out []state.Entry
	for i := 0; i < n; i++ {
		p, err := nrn.Synthetic(time.Date(1980+i, 1, 2, 0, 0, 0, 0, time.UTC), true, i)
		if err != nil {
			t.Fatal(err)
		}
		e, err := st.Append(context.Background(), state.Event{
			Type: "link.created", Actor: p.Ref(nrn.MustRefKey([]byte("0123456789abcdef0123456789abcdef"))),
			Target: fmt.Sprintf("account:%d", i), App: "eloket", Outcome: "success",
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "overstap.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCmd(args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestAuditVerifySQLite(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "state.db")
	es := seedAudit(t, state.Config{Path: dbPath}, 4)
	cfgPath := writeConfig(t, "log: {format: text, level: warn}\nnrn_ref_key: "+testRefKey+"\nstate:\n  path: "+dbPath+"\n")

	out, _, err := runCmd("audit", "verify", "--config", cfgPath)
	if err != nil {
		t.Fatalf("verify intact: %v", err)
	}
	if want := fmt.Sprintf("audit chain ok: 4 entries\nhead: 4 %s\n", es[3].Hash); out != want {
		t.Errorf("output %q, want %q", out, want)
	}

	tamperSQLite(t, dbPath, "UPDATE audit_log SET outcome = 'denied' WHERE seq = 2")
	out, _, err = runCmd("audit", "verify", "--config", cfgPath)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("verify tampered: err %v, want exit 1", err)
	}
	if want := "audit chain BROKEN at entry 2: modified: entry 2 does not match its hash\n(1 entries before it check out)\n"; out != want {
		t.Errorf("output %q, want %q", out, want)
	}
}

func TestAuditVerifyPostgres(t *testing.T) {
	pg := testsvc.Postgres(t)
	seedAudit(t, state.Config{Driver: "postgres", DSN: pg.DSN}, 3)
	cfgPath := writeConfig(t, "nrn_ref_key: "+testRefKey+"\nstate:\n  driver: postgres\n  dsn: \""+pg.DSN+"\"\n")
	out, _, err := runCmd("audit", "verify", "--config", cfgPath)
	if err != nil || !strings.HasPrefix(out, "audit chain ok: 3 entries\n") {
		t.Fatalf("verify: %q, %v", out, err)
	}
	if _, err := pg.DB.Exec("DELETE FROM audit_log WHERE seq = 3"); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCmd("audit", "verify", "--config", cfgPath)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.HasPrefix(out, "audit chain BROKEN at entry 3: deleted: ") {
		t.Errorf("verify after delete: %q, %v", out, err)
	}
}

func TestAuditVerifyErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no config flag", []string{"audit", "verify"}, []string{"--config or --state is required"}},
		{"config file missing", []string{"audit", "verify", "--config", filepath.Join(dir, "nope.yaml")}, []string{"no such file"}},
		{"bad config lists every problem", []string{"audit", "verify", "--config", writeConfig(t, "nrn_ref_key: insecure-literal:x\nstate: {driver: oracle}\nextra: 1\n")},
			[]string{"3 problems", "nrn_ref_key: must be at least 32 bytes", `state.driver: unknown driver "oracle"`, "extra: unknown key"}},
		{"database file missing", []string{"audit", "verify", "--config", writeConfig(t, "nrn_ref_key: "+testRefKey+"\nstate: {path: "+missing+"}\n")},
			[]string{"state database", missing}},
		{"postgres unreachable", []string{"audit", "verify", "--config", writeConfig(t, fmt.Sprintf(
			"nrn_ref_key: %s\nstate: {driver: postgres, dsn: \"postgres://overstap@127.0.0.1:%d/overstap\", connect_timeout: 2s}\n", testRefKey, testsvc.FreePort(t)))},
			[]string{"database unreachable"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runCmd(tc.args...)
			if err == nil {
				t.Fatalf("no error; output %q", out)
			}
			var ee exitError
			if errors.As(err, &ee) {
				t.Fatalf("silent exit %d; want a message", ee.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("verify created the missing database: %v", err)
	}
}

// TestAuditVerifyEmptyDatabase: a database without overstap's audit log
// (a mistyped path to another file, a fresh schema) is an error, and
// verifying leaves it as it was.
func TestAuditVerifyEmptyDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := runCmd("audit", "verify", "--config", writeConfig(t, "nrn_ref_key: "+testRefKey+"\nstate: {path: "+path+"}\n"))
	if err == nil || !strings.Contains(err.Error(), "audit log") {
		t.Fatalf("empty database: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Fatalf("verify changed the empty database: %v %v", fi, err)
	}
	pg := testsvc.Postgres(t)
	_, _, err = runCmd("audit", "verify", "--config", writeConfig(t, fmt.Sprintf("nrn_ref_key: %s\nstate: {driver: postgres, dsn: %q}\n", testRefKey, pg.DSN)))
	if err == nil || !strings.Contains(err.Error(), "audit log") {
		t.Fatalf("fresh postgres schema: %v", err)
	}
	var n int
	if err := pg.DB.QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("verify created %d tables in the fresh schema (%v)", n, err)
	}
}

// TestAuditStateFlag: verify and export need no configuration file, only
// --state (a SQLite path or a PostgreSQL DSN).
func TestAuditStateFlag(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "state.db")
	es := seedAudit(t, state.Config{Path: dbPath}, 3)
	out, _, err := runCmd("audit", "verify", "--state", dbPath)
	if want := fmt.Sprintf("audit chain ok: 3 entries\nhead: 3 %s\n", es[2].Hash); err != nil || out != want {
		t.Fatalf("verify --state sqlite: %q %v, want %q", out, err, want)
	}
	pg := testsvc.Postgres(t)
	seedAudit(t, state.Config{Driver: "postgres", DSN: pg.DSN}, 2)
	out, _, err = runCmd("audit", "verify", "--state", pg.DSN)
	if err != nil || !strings.HasPrefix(out, "audit chain ok: 2 entries\n") {
		t.Fatalf("verify --state postgres: %q %v", out, err)
	}
	if _, _, err := runCmd("audit", "verify", "--state", dbPath, "--config", "x.yaml"); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("both flags: %v", err)
	}
	if _, _, err := runCmd("audit", "verify", "--state", "postgres://u@127.0.0.1:5432/x?sslmode=disable&password=p"); err == nil || !strings.Contains(err.Error(), "--state: dsn") {
		t.Fatalf("password in --state: %v", err)
	}
}

// seedAuditAt writes entries at given times, one with details.
func seedAuditAt(t *testing.T, cfg state.Config, times []time.Time) {
	t.Helper()
	st, err := state.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i, at := range times {
		p, _ := nrn.Synthetic(time.Date(1990, 3, 4, 0, 0, 0, 0, time.UTC), false, 900+i)
		if _, err := st.Append(context.Background(), state.Event{Time: at, Type: "legacy_login.refused", Target: p.Ref(nrn.MustRefKey([]byte(testRefKey))),
			App: "eloket", Outcome: "denied", Details: map[string]string{"form": "dotted", "ip": "127.0.0.1"}}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuditExport: the period's entries as JSON lines and CSV, references
// only, and an export of a tampered log stops at the break with exit 1.
func TestAuditExport(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "state.db")
	day := func(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC) }
	seedAuditAt(t, state.Config{Path: dbPath}, []time.Time{day(1), day(2), day(3), day(4)})

	out, errOut, err := runCmd("audit", "export", "--state", dbPath, "--since", "2026-03-02", "--until", "2026-03-04")
	if err != nil {
		t.Fatalf("export: %v %s", err, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want entries 2 and 3, got %d lines:\n%s", len(lines), out)
	}
	for i, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["seq"].(float64) != float64(i+2) || rec["type"] != "legacy_login.refused" || !strings.HasPrefix(rec["target"].(string), "nrnref1:") ||
			rec["details"].(map[string]any)["form"] != "dotted" || rec["hash"] == "" {
			t.Errorf("line %d: %s", i, l)
		}
	}
	if !strings.Contains(errOut, "2 entries exported; chain ok: 4 entries") {
		t.Errorf("summary: %q", errOut)
	}

	out, _, err = runCmd("audit", "export", "--state", dbPath, "--format", "csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 5 || strings.Join(rows[0], ",") != "seq,time,type,actor,target,app,outcome,details,prev_hash,hash" ||
		rows[1][7] != "form=dotted;ip=127.0.0.1" || rows[4][0] != "4" {
		t.Fatalf("csv: %v %q", err, out)
	}
	for _, r := range rows[1:] {
		for _, v := range r {
			if nrn.Contains(v) {
				t.Fatalf("national number in export: %q", r)
			}
		}
	}

	tamperSQLite(t, dbPath, "UPDATE audit_log SET app = 'other' WHERE seq = 3")
	out, errOut, err = runCmd("audit", "export", "--state", dbPath)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("export of a tampered log: %v", err)
	}
	if n := strings.Count(out, "\n"); n != 2 || !strings.Contains(errOut, "chain BROKEN at entry 3: modified") {
		t.Fatalf("tampered export: %d lines, stderr %q", n, errOut)
	}

	for _, bad := range [][]string{{"--format", "xml"}, {"--since", "yesterday"}, {"--since", "2026-03-04", "--until", "2026-03-01"}} {
		if _, _, err := runCmd(append([]string{"audit", "export", "--state", dbPath}, bad...)...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// tamperSQLite runs stmt on the SQLite state database at path, behind the
// audit log's back.
func tamperSQLite(t *testing.T, path, stmt string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		t.Fatal(err)
	}
}
