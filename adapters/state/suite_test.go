package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/testsvc"
)

// backend gives the shared suite a fresh, empty database: the config to
// open it with.
type backend func(t *testing.T) Config

func sqliteBackend(t *testing.T) Config {
	return Config{Driver: "sqlite", Path: filepath.Join(t.TempDir(), "state.db")}
}

func postgresBackend(t *testing.T) Config {
	return Config{Driver: "postgres", DSN: postgresDSN(t)}
}

func postgresDSN(t testing.TB) string { return testsvc.Postgres(t).DSN }

func TestSQLite(t *testing.T)   { runSuite(t, sqliteBackend) }
func TestPostgres(t *testing.T) { runSuite(t, postgresBackend) }

// runSuite is the one test suite every backend passes.
func runSuite(t *testing.T, b backend) {
	t.Run("AppendListVerify", func(t *testing.T) { testAppendList(t, b) })
	t.Run("RefusesClearNRN", func(t *testing.T) { testRefusesNRN(t, b) })
	t.Run("RefusesInvalidEvents", func(t *testing.T) { testInvalidEvents(t, b) })
	t.Run("ConcurrentStores", func(t *testing.T) { testConcurrentStores(t, b) })
	t.Run("ConcurrentProcesses", func(t *testing.T) { testConcurrentProcesses(t, b) })
	t.Run("Tamper", func(t *testing.T) { testTamper(t, b) })
	t.Run("Reopen", func(t *testing.T) { testReopen(t, b) })
	t.Run("ExtraMigrations", func(t *testing.T) { testExtraMigrations(t, b) })
	t.Run("SchemaTooNew", func(t *testing.T) { testSchemaTooNew(t, b) })
	t.Run("FailedMigrationWritesNothing", func(t *testing.T) { testFailedMigration(t, b) })
}

func open(t *testing.T, cfg Config, extra ...Migrations) *Store {
	t.Helper()
	s, err := Open(context.Background(), cfg, nil, extra...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)

func ref(t testing.TB, i int) string {
	t.Helper()
	n, err := nrn.Synthetic(time.Date(1950+i%70, 3, 4, 0, 0, 0, 0, time.UTC), i%2 == 0, i)
	if err != nil {
		t.Fatal(err)
	}
	return n.Ref(nrn.MustRefKey([]byte("0123456789abcdef0123456789abcdef")))
}

func event(t testing.TB, i int) Event {
	return Event{
		Time:    t0.Add(time.Duration(i) * time.Minute),
		Type:    []string{"login", "link.created", "password.revoked"}[i%3],
		Actor:   ref(t, i),
		Target:  fmt.Sprintf("account:%d", 1000+i),
		App:     "eloket",
		Outcome: "success",
		Details: map[string]string{"acr": "urn:be:fedict:iam:fas:Level500", "n": strconv.Itoa(i)},
	}
}

func appendN(t *testing.T, s *Store, n int) []Entry {
	t.Helper()
	var out []Entry
	for i := 1; i <= n; i++ {
		e, err := s.Append(context.Background(), event(t, i))
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		out = append(out, e)
	}
	return out
}

func mustVerify(t *testing.T, s *Store) VerifyReport {
	t.Helper()
	rep, err := s.Verify(context.Background())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}

func testAppendList(t *testing.T, b backend) {
	cfg := b(t)
	clock := t0.Add(time.Hour)
	cfg.Now = func() time.Time { return clock }
	s := open(t, cfg)
	ctx := context.Background()
	if rep := mustVerify(t, s); !rep.OK() || rep.Entries != 0 {
		t.Fatalf("empty log: %+v", rep)
	}
	got := appendN(t, s, 5)
	// An event without a time gets the store's clock, in UTC.
	noTime := event(t, 6)
	noTime.Time = time.Time{}
	noTime.Details = nil
	e6, err := s.Append(ctx, noTime)
	if err != nil {
		t.Fatal(err)
	}
	if !e6.Time.Equal(clock) || e6.Time.Location() != time.UTC {
		t.Errorf("default time = %v", e6.Time)
	}
	got = append(got, e6)
	for i, e := range got {
		if e.Seq != int64(i+1) {
			t.Errorf("entry %d has seq %d", i, e.Seq)
		}
		if i == 0 && e.PrevHash != "" || i > 0 && e.PrevHash != got[i-1].Hash {
			t.Errorf("entry %d does not link to its predecessor", e.Seq)
		}
		if len(e.Hash) != 64 {
			t.Errorf("hash %q", e.Hash)
		}
	}
	all, err := s.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, all); diff != "" {
		t.Errorf("List() differs from what Append returned (-append +list):\n%s", diff)
	}
	if !all[0].Time.Equal(t0.Add(time.Minute)) || all[0].Time.Nanosecond() != 123456789 {
		t.Errorf("time not kept to the nanosecond: %v", all[0].Time)
	}
	for _, tc := range []struct {
		name string
		f    Filter
		want []int64
	}{
		{"type", Filter{Type: "login"}, []int64{3, 6}},
		{"actor", Filter{Actor: ref(t, 2)}, []int64{2}},
		{"target", Filter{Target: "account:1004"}, []int64{4}},
		{"app and outcome", Filter{App: "eloket", Outcome: "success"}, []int64{1, 2, 3, 4, 5, 6}},
		{"no match", Filter{App: "other"}, nil},
		{"since until", Filter{Since: t0.Add(2 * time.Minute), Until: t0.Add(4 * time.Minute)}, []int64{2, 3}},
		{"paging", Filter{AfterSeq: 2, Limit: 2}, []int64{3, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es, err := s.List(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var seqs []int64
			for _, e := range es {
				seqs = append(seqs, e.Seq)
			}
			if diff := cmp.Diff(tc.want, seqs); diff != "" {
				t.Errorf("seqs (-want +got):\n%s", diff)
			}
		})
	}
	rep := mustVerify(t, s)
	if !rep.OK() || rep.Entries != 6 || rep.HeadSeq != 6 || rep.HeadHash != e6.Hash {
		t.Errorf("Verify = %+v", rep)
	}
	// Append copies Details: changing the caller's map changes nothing.
	ev := event(t, 7)
	e7, err := s.Append(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	ev.Details["n"] = "changed"
	if e7.Details["n"] != "7" {
		t.Error("Append kept the caller's map")
	}
}

func testRefusesNRN(t *testing.T, b backend) {
	s := open(t, b(t))
	ctx := context.Background()
	n, err := nrn.Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), true, 3)
	if err != nil {
		t.Fatal(err)
	}
	d := n.Digits()
	bad := ""
	for c := 0; bad == ""; c++ {
		if _, err := nrn.Parse(fmt.Sprintf("%s%02d", d[:9], c)); err != nil {
			bad = fmt.Sprintf("%s%02d", d[:9], c)
		}
	}
	mut := []struct {
		name string
		f    func(*Event)
	}{
		{"actor digits", func(e *Event) { e.Actor = d }},
		{"target eID form", func(e *Event) { e.Target = "account " + n.Format() }},
		{"app", func(e *Event) { e.App = "app-" + d[:6] + " " + d[6:9] + " " + d[9:] }},
		{"details value", func(e *Event) { e.Details = map[string]string{"username": d} }},
		{"details key", func(e *Event) { e.Details = map[string]string{d: "x"} }},
		{"mistyped number", func(e *Event) { e.Target = bad }},
		{"loosely grouped", func(e *Event) { e.Actor = d[0:2] + " " + d[2:4] + " " + d[4:6] + " " + d[6:9] + " " + d[9:] }},
	}
	for _, m := range mut {
		t.Run(m.name, func(t *testing.T) {
			e := event(t, 1)
			m.f(&e)
			_, err := s.Append(ctx, e)
			if !errors.Is(err, ErrClearNRN) {
				t.Fatalf("Append = %v, want ErrClearNRN", err)
			}
			if strings.Contains(err.Error(), d[6:9]) || strings.Contains(err.Error(), bad) {
				t.Errorf("error shows the number: %v", err)
			}
		})
	}
	if es, err := s.List(ctx, Filter{}); err != nil || len(es) != 0 {
		t.Errorf("refused events were written: %d, %v", len(es), err)
	}
	// A reference and masks are fine.
	e := event(t, 1)
	e.Actor, e.Details = n.Ref(nrn.MustRefKey([]byte(strings.Repeat("k", 32)))), map[string]string{"masked": n.Mask()}
	if _, err := s.Append(ctx, e); err != nil {
		t.Errorf("Append with a reference: %v", err)
	}
}

func testInvalidEvents(t *testing.T, b backend) {
	s := open(t, b(t))
	many := map[string]string{}
	for i := 0; i <= maxDetails; i++ {
		many[fmt.Sprintf("k%d", i)] = "v"
	}
	for _, tc := range []struct {
		name string
		f    func(*Event)
	}{
		{"no type", func(e *Event) { e.Type = "" }},
		{"type with spaces", func(e *Event) { e.Type = "log in" }},
		{"type too long", func(e *Event) { e.Type = strings.Repeat("a", 65) }},
		{"no outcome", func(e *Event) { e.Outcome = "" }},
		{"upper-case outcome", func(e *Event) { e.Outcome = "OK" }},
		{"actor too long", func(e *Event) { e.Actor = strings.Repeat("a", 257) }},
		{"newline in target", func(e *Event) { e.Target = "a\nforged line" }},
		{"invalid UTF-8 app", func(e *Event) { e.App = "\xff" }},
		{"too many details", func(e *Event) { e.Details = many }},
		{"bad details key", func(e *Event) { e.Details = map[string]string{"Bad Key": "v"} }},
		{"details value too long", func(e *Event) { e.Details = map[string]string{"k": strings.Repeat("v", 1025)} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := event(t, 1)
			tc.f(&e)
			if _, err := s.Append(context.Background(), e); !errors.Is(err, ErrInvalidEvent) {
				t.Errorf("Append = %v, want ErrInvalidEvent", err)
			}
		})
	}
	if rep := mustVerify(t, s); rep.HeadSeq != 0 {
		t.Errorf("refused events were written: %+v", rep)
	}
}

// testConcurrentStores appends from several independent stores (separate
// connection pools, as several gateway nodes would have) at once.
func testConcurrentStores(t *testing.T, b backend) {
	cfg := b(t)
	const stores, each = 4, 15
	ss := make([]*Store, stores)
	for i := range ss {
		ss[i] = open(t, cfg)
	}
	var wg sync.WaitGroup
	errs := make(chan error, stores*each)
	for i, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				e := event(t, i*100+j)
				e.Details = map[string]string{"store": strconv.Itoa(i)}
				if _, err := s.Append(context.Background(), e); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Append: %v", err)
	}
	rep := mustVerify(t, ss[0])
	if !rep.OK() || rep.Entries != stores*each {
		t.Errorf("after concurrent appends: %+v, break %+v", rep, rep.Break)
	}
}

const childEnv = "OVERSTAP_STATE_TEST_CHILD"

// TestAppendChild is the body of the child processes of
// testConcurrentProcesses; it does nothing in a normal test run.
func TestAppendChild(t *testing.T) {
	spec := os.Getenv(childEnv)
	if spec == "" {
		return
	}
	parts := strings.SplitN(spec, "|", 4) // driver|count|id|path-or-dsn
	if len(parts) != 4 {
		t.Fatalf("bad %s", childEnv)
	}
	cfg := Config{Driver: parts[0]}
	if cfg.Driver == "sqlite" {
		cfg.Path = parts[3]
	} else {
		cfg.DSN = parts[3]
	}
	n, _ := strconv.Atoi(parts[1])
	s := open(t, cfg)
	for i := 0; i < n; i++ {
		e := event(t, i)
		e.Details = map[string]string{"process": parts[2]}
		if _, err := s.Append(context.Background(), e); err != nil {
			t.Fatalf("child Append: %v", err)
		}
	}
}

// testConcurrentProcesses appends from several OS processes at once, the
// way two overstap processes on one host (SQLite) or several nodes
// (PostgreSQL) would.
func testConcurrentProcesses(t *testing.T, b backend) {
	cfg := b(t)
	parent := open(t, cfg) // applies the migrations first
	const procs, each = 3, 20
	where := cfg.Path
	if cfg.Driver == "postgres" {
		where = cfg.DSN
	}
	cmds := make([]*exec.Cmd, procs)
	outs := make([]*strings.Builder, procs)
	for i := range cmds {
		c := exec.Command(os.Args[0], "-test.run=^TestAppendChild$", "-test.count=1")
		c.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%d|%d|%s", childEnv, cfg.Driver, each, i, where))
		outs[i] = &strings.Builder{}
		c.Stdout, c.Stderr = outs[i], outs[i]
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = c
	}
	for j := 0; j < each; j++ {
		if _, err := parent.Append(context.Background(), event(t, j)); err != nil {
			t.Errorf("parent Append: %v", err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("child %d: %v\n%s", i, err, outs[i].String())
		}
	}
	rep := mustVerify(t, parent)
	if !rep.OK() || rep.Entries != (procs+1)*each {
		t.Errorf("after appends from %d processes: entries %d, break %+v", procs+1, rep.Entries, rep.Break)
	}
	es, err := parent.List(context.Background(), Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	perProc := map[string]int{}
	for _, e := range es {
		perProc[e.Details["process"]]++
	}
	for i := 0; i < procs; i++ {
		if perProc[strconv.Itoa(i)] != each {
			t.Errorf("process %d wrote %d entries, want %d", i, perProc[strconv.Itoa(i)], each)
		}
	}
}

func testReopen(t *testing.T, b backend) {
	cfg := b(t)
	s := open(t, cfg)
	appendN(t, s, 3)
	s.Close()
	s2 := open(t, cfg)
	var n int
	if err := s2.DB().QueryRow("SELECT COUNT(*) FROM schema_migrations WHERE component = 'state'").Scan(&n); err != nil || n != 1 {
		t.Errorf("schema_migrations rows for state = %d, %v", n, err)
	}
	e, err := s2.Append(context.Background(), event(t, 4))
	if err != nil || e.Seq != 4 {
		t.Fatalf("Append after reopen: seq %d, %v", e.Seq, err)
	}
	if rep := mustVerify(t, s2); !rep.OK() || rep.Entries != 4 {
		t.Errorf("Verify after reopen: %+v", rep)
	}
}

// demoMigrations is another package's component, as the migrate and family
// packages will add theirs.
func demoMigrations(versions int) Migrations {
	fs := fstest.MapFS{}
	for v := 1; v <= versions; v++ {
		for _, d := range []string{"sqlite", "postgres"} {
			fs[fmt.Sprintf("%s/%04d_v%d.sql", d, v, v)] = &fstest.MapFile{Data: []byte(fmt.Sprintf(
				"CREATE TABLE demo_v%d (id INTEGER PRIMARY KEY, note TEXT NOT NULL);\nINSERT INTO demo_v%d (id, note) VALUES (1, 'v%d');", v, v, v))}
		}
	}
	return Migrations{Component: "demo", FS: fs}
}

func tableCount(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		return -1
	}
	return n
}

func testExtraMigrations(t *testing.T, b backend) {
	cfg := b(t)
	s := open(t, cfg, demoMigrations(1))
	if s.Dialect() != Dialect(cfg.Driver) {
		t.Errorf("Dialect = %q", s.Dialect())
	}
	if tableCount(t, s, "demo_v1") != 1 {
		t.Error("demo_v1 not created")
	}
	s.Close()
	s = open(t, cfg, demoMigrations(2))
	if tableCount(t, s, "demo_v2") != 1 || tableCount(t, s, "demo_v1") != 1 {
		t.Error("demo_v2 not applied on top of v1")
	}
	var n int
	if err := s.DB().QueryRow("SELECT MAX(version) FROM schema_migrations WHERE component = 'demo'").Scan(&n); err != nil || n != 2 {
		t.Errorf("demo version = %d, %v", n, err)
	}
	s.Close()
	// Malformed sets are refused.
	for name, m := range map[string]Migrations{
		"gap":        {Component: "gap", FS: fstest.MapFS{"sqlite/0002_x.sql": {Data: []byte("SELECT 1")}, "postgres/0002_x.sql": {Data: []byte("SELECT 1")}}},
		"bad name":   {Component: "bad", FS: fstest.MapFS{"sqlite/1_x.sql": {Data: []byte("SELECT 1")}, "postgres/1_x.sql": {Data: []byte("SELECT 1")}}},
		"no dialect": {Component: "nodir", FS: fstest.MapFS{"mysql/0001_x.sql": {Data: []byte("SELECT 1")}}},
		"component":  {Component: "Bad Name", FS: fstest.MapFS{}},
		"twice":      {Component: "state", FS: ownMigrations},
	} {
		t.Run(name, func(t *testing.T) {
			if s, err := Open(context.Background(), cfg, nil, m); err == nil {
				s.Close()
				t.Error("Open accepted a malformed migration set")
			}
		})
	}
}

func testSchemaTooNew(t *testing.T, b backend) {
	cfg := b(t)
	s := open(t, cfg)
	appendN(t, s, 2)
	if _, err := s.DB().Exec(s.Dialect().Rebind("INSERT INTO schema_migrations (component, version, applied_at) VALUES (?, ?, ?)"), "state", 7, 0); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(context.Background(), cfg, nil, demoMigrations(1))
	var tooNew *SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Component != "state" || tooNew.Database != 7 || tooNew.Binary != 1 {
		t.Fatalf("Open = %v, want SchemaTooNewError for state 7 > 1", err)
	}
	for _, want := range []string{`"state"`, "version 7", "(1)", "nothing was written"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// Nothing written: the demo component's migration was not applied.
	raw := openRaw(t, cfg)
	var n int
	if err := raw.QueryRow("SELECT COUNT(*) FROM schema_migrations WHERE component = 'demo'").Scan(&n); err != nil || n != 0 {
		t.Errorf("demo migration recorded: %d, %v", n, err)
	}
	if err := raw.QueryRow("SELECT COUNT(*) FROM demo_v1").Scan(&n); err == nil {
		t.Error("demo_v1 was created")
	}
}

func testFailedMigration(t *testing.T, b backend) {
	cfg := b(t)
	broken := demoMigrations(1)
	fs := broken.FS.(fstest.MapFS)
	for _, d := range []string{"sqlite", "postgres"} {
		fs[d+"/0002_broken.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE demo_broken (id INTEGER);\nTHIS IS NOT SQL;")}
	}
	if s, err := Open(context.Background(), cfg, nil, broken); err == nil {
		s.Close()
		t.Fatal("Open applied a broken migration")
	} else if !strings.Contains(err.Error(), "0002_broken.sql") {
		t.Errorf("error does not name the file: %v", err)
	}
	raw := openRaw(t, cfg)
	var n int
	if err := raw.QueryRow("SELECT COUNT(*) FROM demo_v1").Scan(&n); err == nil {
		t.Error("demo_v1 was created although its batch failed")
	}
	if err := raw.QueryRow("SELECT COUNT(*) FROM audit_log").Scan(&n); err == nil {
		t.Error("the state component was applied although the batch failed")
	}
}
