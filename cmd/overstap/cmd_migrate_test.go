package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	statepkg "github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/internal/testsvc"
	"github.com/overstap/overstap/migrate"
	"github.com/overstap/overstap/migrate/seed"
)

// The test binary re-executes itself as the overstap binary when this
// variable is set, so crash tests can SIGKILL a real process.
const reexecEnv = "OVERSTAP_TEST_REEXEC_MAIN"

func init() {
	if os.Getenv(reexecEnv) == "1" {
		main()
		os.Exit(0)
	}
}

// overstapCmd returns a command running this test binary as overstap.
func overstapCmd(args ...string) *exec.Cmd {
	c := exec.Command(os.Args[0], args...)
	c.Env = append(os.Environ(), reexecEnv+"=1")
	return c
}

func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), err
}

// pgStore seeds a PostgreSQL schema, counts every credential write with a
// trigger, and writes a store configuration file for it.
// With from set, the rows are copied from that schema (bcrypt salts are
// random, so two seeds are not byte-identical).
func pgStore(t *testing.T, dir, name string, n int, from *testsvc.PG) (testsvc.PG, string) {
	t.Helper()
	pg := testsvc.Postgres(t)
	ctx := context.Background()
	if from != nil {
		for _, q := range []string{
			`CREATE TABLE legacy_accounts (LIKE ` + from.Schema + `.legacy_accounts INCLUDING ALL)`,
			`INSERT INTO legacy_accounts SELECT * FROM ` + from.Schema + `.legacy_accounts`,
		} {
			if _, err := pg.DB.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
	} else if _, err := seed.Run(ctx, pg.DB, seed.Config{Driver: "postgres", Accounts: n, Seed: 42, BcryptCost: 4}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE credential_writes (id BIGINT NOT NULL, old TEXT, new TEXT)`,
		`CREATE FUNCTION count_write() RETURNS trigger AS $$ BEGIN INSERT INTO credential_writes VALUES (NEW.id, OLD.passwd, NEW.passwd); RETURN NEW; END $$ LANGUAGE plpgsql`,
		`CREATE TRIGGER count_write AFTER UPDATE OF passwd ON legacy_accounts FOR EACH ROW WHEN (OLD.passwd IS DISTINCT FROM NEW.passwd) EXECUTE FUNCTION count_write()`,
	} {
		if _, err := pg.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	cfg := fmt.Sprintf(`driver: postgres
dsn: "insecure-literal:%s"
table: legacy_accounts
id_type: integer
columns: {id: id, username: login, password: passwd, nrn: rrn, name: full_name, disabled: blocked}
`, pg.DSN)
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return pg, path
}

// credentials reads the seeded accounts' credentials by id.
func credentials(t *testing.T, db *sql.DB) map[string]string {
	return testsvc.Pairs(t, db, `SELECT id::text, COALESCE(passwd, '<NULL>') FROM legacy_accounts`)
}

// writesPerAccount returns how often each account's credential changed.
func writesPerAccount(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	rows, err := db.Query(`SELECT id::text, COUNT(*) FROM credential_writes GROUP BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		rows.Scan(&id, &n)
		out[id] = n
	}
	return out
}

// journal returns account -> "action state old new" of a run, opened with
// the private key.
func journal(t *testing.T, statePath, run, keyFile string) map[string]string {
	t.Helper()
	db, st, err := openState(context.Background(), statePath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key, err := migrate.ReadPrivateKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	out, err := migrate.DecryptJournal(context.Background(), db, run, key)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func keygen(t *testing.T, dir string) (priv, pub string) {
	t.Helper()
	priv = filepath.Join(dir, "admin.key")
	if _, _, err := runCLI(t, "migrate", "keygen", "--out", priv); err != nil {
		t.Fatal(err)
	}
	return priv, priv + ".pub"
}

func TestMigrateCLIFlow(t *testing.T) {
	dir := t.TempDir()
	pg, storeFile := pgStore(t, dir, "legacy", 600, nil)
	priv, pub := keygen(t, dir)
	state := filepath.Join(dir, "state.db")
	common := []string{"--store", storeFile, "--state", state, "--bcrypt-cost", "4"}
	before := credentials(t, pg.DB)

	out, _, err := runCLI(t, append([]string{"migrate", "scan"}, common...)...)
	if err != nil || !strings.Contains(out, "600 accounts") || !strings.Contains(out, "NRN as username") {
		t.Fatalf("scan: %v\n%s", err, out)
	}
	// The same state store through --config (its state section).
	cfgFile := filepath.Join(dir, "overstap.yaml")
	os.WriteFile(cfgFile, []byte("nrn_ref_key: \"insecure-literal:"+strings.Repeat("k", 32)+"\"\nstate:\n  driver: sqlite\n  path: "+state+"\n"), 0o600)
	out, _, err = runCLI(t, "migrate", "plan", "--policy", "revoke-nrn", "--config", cfgFile)
	if err != nil || !strings.Contains(out, "revoke") || !strings.Contains(out, "dry run") {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	// Without --yes nothing is written.
	if _, _, err := runCLI(t, append([]string{"migrate", "apply", "--policy", "revoke-nrn", "--public-key", pub}, common...)...); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, credentials(t, pg.DB)); diff != "" {
		t.Fatalf("apply without --yes wrote:\n%s", diff)
	}
	// apply --yes refuses without a public key.
	if _, _, err := runCLI(t, append([]string{"migrate", "apply", "--policy", "revoke-nrn", "--yes"}, common...)...); err == nil {
		t.Error("apply without --public-key succeeded")
	}
	out, _, err = runCLI(t, append([]string{"migrate", "apply", "--policy", "revoke-nrn", "--yes", "--public-key", pub, "--run", "apply-cli", "--json"}, common...)...)
	if err != nil || !strings.Contains(out, `"changed"`) {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	// The citizen behind one revoked account sets a new password.
	var changedID string
	pg.DB.QueryRow(`SELECT id::text FROM legacy_accounts WHERE passwd = $1 ORDER BY id LIMIT 1`, migrate.RevokedMarker("apply-cli")).Scan(&changedID)
	if changedID == "" {
		t.Fatal("nothing revoked")
	}
	pg.DB.Exec(`UPDATE legacy_accounts SET passwd = '$2y$04$citizenchangedaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' WHERE id = $1`, changedID)
	// Rollback refuses without the key, or with the public key as key.
	for _, args := range [][]string{
		{"migrate", "rollback", "--run", "apply-cli", "--yes"},
		{"migrate", "rollback", "--run", "apply-cli", "--yes", "--key", pub},
	} {
		if _, _, err := runCLI(t, append(args, common...)...); err == nil {
			t.Errorf("%v succeeded", args)
		}
	}
	out, _, err = runCLI(t, append([]string{"migrate", "rollback", "--run", "apply-cli", "--yes", "--key", priv}, common...)...)
	if err != nil || !strings.Contains(out, "1 left alone") || !strings.Contains(out, "left alone: "+changedID) {
		t.Fatalf("rollback: %v\n%s", err, out)
	}
	want := before
	want[changedID] = "$2y$04$citizenchangedaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	if diff := cmp.Diff(want, credentials(t, pg.DB)); diff != "" {
		t.Errorf("after rollback (-want +got):\n%s", diff)
	}
	// Start and end of every run are in the state store's audit log.
	_, st, err := openState(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := st.List(context.Background(), auditFilter("apply-cli"))
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range entries {
		types = append(types, e.Type+"/"+e.Outcome+"/"+e.Details["changed"])
	}
	if len(types) != 2 || types[0] != "migrate.apply.start/started/" || !strings.HasPrefix(types[1], "migrate.apply.end/done/") || types[1] == "migrate.apply.end/done/0" {
		t.Errorf("audit entries of the run: %v", types)
	}
	for _, format := range []string{"json", "csv", "html"} {
		outFile := filepath.Join(dir, "report."+format)
		if _, _, err := runCLI(t, "migrate", "report", "--state", state, "--format", format, "--apply-run", "apply-cli", "--out", outFile); err != nil {
			t.Errorf("report %s: %v", format, err)
		}
		if fi, err := os.Stat(outFile); err != nil || fi.Size() < 200 {
			t.Errorf("report %s: %v", format, err)
		}
	}
}

func auditFilter(run string) statepkg.Filter { return statepkg.Filter{Target: run} }

// TestApplyKilledAndResumed SIGKILLs `overstap migrate apply` at random
// points (at least 10 times), resumes it each time, and checks the end state
// equals an uninterrupted run: same store, same journal, every account
// written at most once.
func TestApplyKilledAndResumed(t *testing.T) {
	dir := t.TempDir()
	const n = 3000
	refPG, refStore := pgStore(t, dir, "ref", n, nil)
	pg, crashStore := pgStore(t, dir, "crash", n, &refPG)
	priv, pub := keygen(t, dir)
	args := func(store, state string) []string {
		return []string{"migrate", "apply", "--policy", "revoke-nrn", "--yes", "--public-key", pub, "--run", "apply-crash",
			"--store", store, "--store-name", "legacy", "--state", state, "--batch-size", "20", "--max-rate", "1200"}
	}
	refState := filepath.Join(dir, "ref.db")
	if out, err := overstapCmd(args(refStore, refState)...).CombinedOutput(); err != nil {
		t.Fatalf("reference run: %v\n%s", err, out)
	}
	crashState := filepath.Join(dir, "crash.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	kills := 0
	for attempt := 0; attempt < 60; attempt++ {
		cmd := overstapCmd(args(crashStore, crashState)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		if kills < 12 {
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("attempt %d: %v\n%s", attempt, err, out.String())
				}
			case <-time.After(time.Duration(60+rng.IntN(200)) * time.Millisecond):
				cmd.Process.Signal(syscall.SIGKILL)
				<-done
				kills++
				continue
			}
		} else if err := <-done; err != nil {
			t.Fatalf("final run: %v\n%s", err, out.String())
		}
		break
	}
	if kills < 10 {
		t.Fatalf("only %d kills landed before the run finished", kills)
	}
	t.Logf("killed %d times", kills)
	if diff := cmp.Diff(credentials(t, refPG.DB), credentials(t, pg.DB)); diff != "" {
		t.Errorf("store differs from the uninterrupted run (-ref +crashed):\n%s", diff)
	}
	refJ, gotJ := journal(t, refState, "apply-crash", priv), journal(t, crashState, "apply-crash", priv)
	if len(refJ) == 0 {
		t.Fatal("reference run changed nothing")
	}
	if diff := cmp.Diff(refJ, gotJ); diff != "" {
		t.Errorf("journal differs from the uninterrupted run (-ref +crashed):\n%s", diff)
	}
	writes := writesPerAccount(t, pg.DB)
	for id, w := range writes {
		if w != 1 {
			t.Errorf("account %s written %d times", id, w)
		}
	}
	if len(writes) != len(gotJ) {
		t.Errorf("%d accounts written, journal has %d entries", len(writes), len(gotJ))
	}
}

// TestDistributedWorkers runs a coordinator and 3 worker processes on
// loopback with Redis, kills one worker mid-run, and checks every account
// was processed exactly once.
func TestDistributedWorkers(t *testing.T) {
	r := testsvc.Redis(t)
	dir := t.TempDir()
	pg, storeFile := pgStore(t, dir, "legacy", 500, nil)
	priv, pub := keygen(t, dir)
	state := filepath.Join(dir, "state.db")
	common := []string{"--store", storeFile, "--state", state, "--bcrypt-cost", "7", "--batch-size", "10",
		"--queue", r.URL, "--queue-prefix", r.Prefix, "--claim-after", "1s"}
	workers := make([]*exec.Cmd, 3)
	outs := make([]*bytes.Buffer, 3)
	for i := range workers {
		workers[i] = overstapCmd(append([]string{"migrate", "worker", "--name", fmt.Sprintf("w%d", i), "--idle-exit", "4s", "--workers", "1"}, common...)...)
		outs[i] = &bytes.Buffer{}
		workers[i].Stdout, workers[i].Stderr = outs[i], outs[i]
		if err := workers[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	coord := overstapCmd(append([]string{"migrate", "apply", "--policy", "wrap-weak", "--yes", "--public-key", pub, "--run", "apply-dist"}, common...)...)
	var cout bytes.Buffer
	coord.Stdout, coord.Stderr = &cout, &cout
	if err := coord.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill worker 0 once it has a batch in flight: claimed from the queue's
	// stream ("<prefix>migrate:batches", group "workers") and not yet
	// acknowledged. The other workers must take it over.
	testsvc.WaitFor(t, "worker w0 to claim a batch", time.Minute, func() error {
		p, err := r.Client.XPendingExt(context.Background(), &redis.XPendingExtArgs{
			Stream: r.Prefix + "migrate:batches", Group: "workers", Start: "-", End: "+", Count: 1, Consumer: "w0"}).Result()
		if err == nil && len(p) == 0 {
			err = errors.New("no batch pending for w0")
		}
		return err
	})
	if err := workers[0].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cerr := coord.Wait()
	for i, w := range workers {
		err := w.Wait()
		if i > 0 && err != nil {
			t.Errorf("worker %d: %v\n%s", i, err, outs[i])
		}
	}
	if cerr != nil {
		t.Fatalf("coordinator: %v\n%s", cerr, cout.String())
	}
	j := journal(t, state, "apply-dist", priv)
	writes := writesPerAccount(t, pg.DB)
	if len(j) == 0 || len(writes) != len(j) {
		t.Fatalf("%d accounts written, journal has %d", len(writes), len(j))
	}
	for id, w := range writes {
		if w != 1 {
			t.Errorf("account %s written %d times", id, w)
		}
		if !strings.HasPrefix(j[id], "wrap applied") {
			t.Errorf("account %s journal %q", id, j[id])
		}
	}
	// Every wrappable weak hash is wrapped now (phpass counts as a slow
	// scheme, which hash.Wrap leaves alone).
	out, _, err := runCLI(t, "migrate", "scan", "--store", storeFile, "--state", state, "--skip-derived-check", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var sum migrate.Summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	for _, sc := range sum.Schemes {
		if sc.Scheme == "md5" || sc.Scheme == "ldap-ssha" {
			t.Errorf("%d %s hashes left after the distributed run", sc.Accounts, sc.Scheme)
		}
	}
	// The finished run left nothing in Redis (the dead worker's batch was
	// reclaimed and settled, the stream removed; the workers, waiting until
	// --idle-exit, created nothing either).
	if keys, err := r.Client.Keys(context.Background(), r.Prefix+"*").Result(); err != nil || len(keys) != 0 {
		t.Errorf("Redis keys left after the run: %q %v", keys, err)
	}
	t.Logf("coordinator: %s", strings.TrimSpace(cout.String()[max(0, cout.Len()-300):]))
}

// TestMigrateProgressJSONLines: with stderr not a terminal, scan, apply and
// rollback write JSON progress lines with the total known up front
// (COUNT(*) for scan, the scan's total for apply, the journal's size for
// rollback), done, rate and ETA; the last line of each is final with done
// = total.
func TestMigrateProgressJSONLines(t *testing.T) {
	dir := t.TempDir()
	pg, storeFile := pgStore(t, dir, "legacy", 400, nil)
	priv, pub := keygen(t, dir)
	state := filepath.Join(dir, "state.db")
	common := []string{"--store", storeFile, "--state", state, "--bcrypt-cost", "4", "--batch-size", "50", "--progress-interval", "1ms"}
	var journaled int
	if err := pg.DB.QueryRow(`SELECT COUNT(*) FROM legacy_accounts WHERE passwd <> ''`).Scan(&journaled); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		phase string
		total float64
		args  []string
	}{
		{migrate.KindScan, 400, []string{"migrate", "scan"}},
		{migrate.KindApply, 400, []string{"migrate", "apply", "--policy", "revoke-all", "--yes", "--public-key", pub, "--run", "apply-progress"}},
		// Every journal entry of the apply: the accounts it had a
		// credential to revoke (not the empty or NULL ones).
		{migrate.KindRollback, float64(journaled), []string{"migrate", "rollback", "--run", "apply-progress", "--yes", "--key", priv}},
	} {
		_, stderr, err := runCLI(t, append(step.args, common...)...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", step.phase, err, stderr)
		}
		var lines []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("%s: stderr line %q is not JSON: %v", step.phase, l, err)
			}
			if m["phase"] != step.phase {
				t.Fatalf("%s: line of phase %v", step.phase, m["phase"])
			}
			for _, k := range []string{"run", "done", "total", "rate_per_s", "elapsed_s"} {
				if _, ok := m[k]; !ok {
					t.Errorf("%s: line %s lacks %s", step.phase, l, k)
				}
			}
			if m["total"] != step.total {
				t.Errorf("%s: total %v up front, want %v", step.phase, m["total"], step.total)
			}
			lines = append(lines, m)
		}
		if len(lines) < 2 {
			t.Errorf("%s: %d progress lines, want one per interval and a final one: %s", step.phase, len(lines), stderr)
		}
		last := lines[len(lines)-1]
		if last["final"] != true || last["done"] != step.total {
			t.Errorf("%s: last line %v", step.phase, last)
		}
		if first := lines[0]; first["done"].(float64) >= 400 {
			t.Errorf("%s: the first line came only at the end: %v", step.phase, first)
		}
	}
}
