package migrate

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/overstap/overstap/adapters/store/sqlstore"
	"github.com/overstap/overstap/internal/testsvc"
	"github.com/overstap/overstap/migrate/hash"
	"github.com/overstap/overstap/migrate/seed"
)

var update = flag.Bool("update", false, "rewrite golden files")

func seedColumns() sqlstore.Columns {
	return sqlstore.Columns{ID: "id", Username: "login", Password: "passwd", NRN: "rrn", Name: "full_name", Disabled: "blocked"}
}

// seededSQLite seeds a SQLite legacy store and opens it through the SQL
// adapter.
func seededSQLite(t testing.TB, n int, mix string) *sqlstore.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "legacy.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Run(context.Background(), db, seed.Config{Driver: "sqlite", Accounts: n, Seed: 1, Mix: mix}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	hint := ""
	if mix == seed.MixPlaintext {
		hint = "plaintext"
	}
	return openLegacy(t, "seed-sqlite", "sqlite", path, sqlstore.Config{SchemeHint: hint})
}

func realHasher(t testing.TB, cost int) Hasher {
	t.Helper()
	h, err := hash.New(hash.Config{BcryptCost: cost})
	if err != nil {
		t.Fatal(err)
	}
	return HashAdapter(h)
}

var runIDRe = regexp.MustCompile(`(scan|apply|rollback)-\d{8}t\d{6}-[0-9a-f]{8}`)

// TestReportGolden scans a seeded store with the real adapter and hasher
// and compares the JSON report with testdata/migrate/report-seed.json.
func TestReportGolden(t *testing.T) {
	ctx := context.Background()
	st := seededSQLite(t, 400, seed.MixHashed)
	db := newStateDB(t)
	fixed := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	e, err := New(Options{DB: db, Store: st, Hasher: realHasher(t, 4), Now: func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := db.BuildReport(ctx, res.Run, "", "", fixed)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	got := runIDRe.ReplaceAllString(b.String(), "$1-golden")
	golden := filepath.Join("..", "testdata", "migrate", "report-seed.json")
	if *update {
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("report differs from %s (-want +got):\n%s", golden, diff)
	}
	// The other formats carry the same figures and no national number.
	var c, h bytes.Buffer
	if err := rep.WriteCSV(&c); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteHTML(&h, "en"); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"json": got, "csv": c.String(), "html": h.String()} {
		if containsDigits11(out) {
			t.Errorf("%s report holds an 11-digit run", name)
		}
	}
	if !strings.Contains(c.String(), "seed-sqlite,2026-11-22T10:00:00Z,nrn,nrn_username,") || strings.Count(c.String(), "\n") < 20 {
		t.Errorf("CSV report:\n%s", c.String())
	}
	html := h.String()
	for _, bad := range []string{"<script", "src=", "href=", "@import", "url("} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML report has %q: not self-contained", bad)
		}
	}
	if !strings.Contains(html, "<svg") || !strings.Contains(html, "seed-sqlite") {
		t.Error("HTML report lacks charts or the store name")
	}
}

// TestPostgresScanRevokeEndToEnd seeds PostgreSQL, scans and applies
// revoke-nrn through the real SQL adapter, then rolls back.
func TestPostgresScanRevokeEndToEnd(t *testing.T) {
	pg := testsvc.Postgres(t)
	ctx := context.Background()
	if _, err := seed.Run(ctx, pg.DB, seed.Config{Driver: "postgres", Accounts: 3000, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	st := openLegacy(t, "seed-postgres", "postgres", pg.DSN, sqlstore.Config{})
	before := pgCredentials(t, pg.DB)
	db := newStateDB(t)
	e, err := New(Options{DB: db, Store: st, Hasher: realHasher(t, 4), Config: Config{BatchSize: 500}})
	if err != nil {
		t.Fatal(err)
	}
	scan, err := e.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := scan.Summary
	if s.Accounts != 3000 || s.NRNUsername == 0 || s.Derived <= s.NRNUsername || s.Unsupported == 0 || s.DuplicateNRNs == 0 || s.Empty == 0 {
		t.Fatalf("scan summary %+v", s)
	}
	plan, err := db.Plan(ctx, scan.Run, PolicyRevokeNRN, Filter{}, 5)
	if err != nil {
		t.Fatal(err)
	}
	k := testKey(t)
	res, err := e.Apply(ctx, ApplyOptions{Policy: PolicyRevokeNRN, PublicKey: k.Public(), Total: s.Accounts})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed != plan.Actions[ActionRevoke] || res.Conflicts != 0 {
		t.Errorf("applied %d, plan said %d (conflicts %d)", res.Changed, plan.Actions[ActionRevoke], res.Conflicts)
	}
	after := pgCredentials(t, pg.DB)
	changed := 0
	for id, v := range after {
		if v != before[id] {
			changed++
			if v != RevokedMarker(res.Run) {
				t.Errorf("account %s changed to %q", id, v)
			}
		}
	}
	if int64(changed) != res.Changed {
		t.Errorf("%d rows changed in PostgreSQL, run says %d", changed, res.Changed)
	}
	// A second scan shows the exposure gone.
	scan2, err := e.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := db.Plan(ctx, scan2.Run, PolicyRevokeNRN, Filter{}, 0)
	if s.NRNLoginOpen != res.Changed || scan2.Summary.NRNLoginOpen != 0 {
		t.Errorf("NRN logins open: before %d (revoked %d), after %d", s.NRNLoginOpen, res.Changed, scan2.Summary.NRNLoginOpen)
	}
	if p2.Actions[ActionRevoke] != 0 || scan2.Summary.Revoked != res.Changed {
		t.Errorf("after apply: plan %v, revoked %d", p2.Actions, scan2.Summary.Revoked)
	}
	rep, err := db.BuildReport(ctx, scan.Run, res.Run, scan2.Run, time.Now())
	if err != nil || rep.After == nil || rep.Run.Changed != res.Changed {
		t.Errorf("report: %+v %v", rep.Run, err)
	}
	// Rollback restores PostgreSQL byte for byte.
	rb, err := e.Rollback(ctx, RollbackOptions{Target: res.Run, Key: k})
	if err != nil {
		t.Fatal(err)
	}
	if rb.Restored != res.Changed || rb.LeftAlone != 0 {
		t.Errorf("rollback %+v", rb)
	}
	if diff := cmp.Diff(before, pgCredentials(t, pg.DB)); diff != "" {
		t.Errorf("after rollback (-before +now):\n%s", diff)
	}
}

// pgCredentials reads the seeded accounts' credentials by id.
func pgCredentials(t testing.TB, db *sql.DB) map[string]string {
	return testsvc.Pairs(t, db, `SELECT id::text, COALESCE(passwd, '<NULL>') FROM legacy_accounts`)
}

// TestMariaDBSeedScan seeds MariaDB and scans it through the SQL adapter.
func TestMariaDBSeedScan(t *testing.T) {
	my := testsvc.MariaDB(t)
	ctx := context.Background()
	if _, err := seed.Run(ctx, my.DB, seed.Config{Driver: "mysql", Accounts: 800, Seed: 2, BcryptCost: 4}); err != nil {
		t.Fatal(err)
	}
	st := openLegacy(t, "seed-mysql", "mysql", my.DSN, sqlstore.Config{})
	e, err := New(Options{DB: newStateDB(t), Store: st, Hasher: realHasher(t, 4)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	if s.Accounts != 800 || s.NRNUsername == 0 || s.Derived == 0 || s.Unsupported == 0 || s.Disabled == 0 || schemeCount(s, "bcrypt") == 0 {
		t.Errorf("summary %+v", s)
	}
}
