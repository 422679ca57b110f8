package main

import (
	"crypto/md5"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/overstap/overstap/adapters/store/storeconfig"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/testsvc"
)

// csvExport writes a vendor export of n accounts: every third has its
// national number as username and the number's MD5 as password (NRN/NRN),
// the others a name and a random-looking MD5. It returns the IDs of the
// NRN/NRN accounts.
func csvExport(t *testing.T, path string, n int) map[string]bool {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Comma = ';'
	w.Write([]string{"klant_id", "gebruikersnaam", "wachtwoord_hash", "naam"})
	gen := nrn.NewGenerator(7)
	nrnIDs := map[string]bool{}
	for i := 1; i <= n; i++ {
		id := fmt.Sprint(i)
		user, pw := fmt.Sprintf("burger%d", i), fmt.Sprintf("geheim-%d", i)
		if i%3 == 0 {
			num := gen.Next()
			user, pw = num.Digits(), num.Digits()
			nrnIDs[id] = true
		}
		sum := md5.Sum([]byte(pw))
		w.Write([]string{id, user, hex.EncodeToString(sum[:]), fmt.Sprintf("Naam %d", i)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return nrnIDs
}

// TestMigrateCSVStore: the migrate commands open any store adapter through
// storeconfig (here the CSV adapter): scan classifies the export, apply
// refuses a store without atomic compare-and-swap unless --force, and with
// --force writes exactly the NRN/NRN accounts' revocations to the changes
// file (the export is never modified).
func TestMigrateCSVStore(t *testing.T) {
	dir := t.TempDir()
	export := filepath.Join(dir, "export.csv")
	changes := filepath.Join(dir, "changes.csv")
	nrnIDs := csvExport(t, export, 30)
	before, _ := os.ReadFile(export)
	storeFile := filepath.Join(dir, "sportkampen.yaml")
	if err := os.WriteFile(storeFile, []byte(fmt.Sprintf(`name: sportkampen
type: csv
csv:
  path: %s
  changes_path: %s
  delimiter: ";"
  id_type: integer
  columns: {id: klant_id, username: gebruikersnaam, password: wachtwoord_hash, name: naam}
`, export, changes)), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state.db")
	key := filepath.Join(dir, "admin.key")
	if _, _, err := runCLI(t, "migrate", "keygen", "--out", key); err != nil {
		t.Fatal(err)
	}

	out, _, err := runCLI(t, "migrate", "scan", "--store", storeFile, "--state", state)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `store "sportkampen": 30 accounts`) || !strings.Contains(out, "linked accounts unknown") {
		t.Fatalf("scan output:\n%s", out)
	}
	var sum struct {
		Accounts    int64 `json:"accounts"`
		NRNUsername int64 `json:"nrn_username"`
	}
	out, _, err = runCLI(t, "migrate", "scan", "--store", storeFile, "--state", state, "--json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Accounts != 30 || sum.NRNUsername != int64(len(nrnIDs)) {
		t.Fatalf("summary %+v, want 30 accounts, %d NRN usernames", sum, len(nrnIDs))
	}

	apply := []string{"migrate", "apply", "--store", storeFile, "--state", state, "--policy", "revoke-nrn", "--public-key", key + ".pub", "--yes", "--json"}
	if _, _, err := runCLI(t, apply...); err == nil || !strings.Contains(err.Error(), "atomic compare-and-swap") {
		t.Fatalf("apply without --force: %v", err)
	}
	if _, err := os.Stat(changes); !os.IsNotExist(err) {
		t.Fatalf("refused apply wrote changes: %v", err)
	}
	out, errOut, err := runCLI(t, append(apply, "--force")...)
	if err != nil {
		t.Fatal(err, errOut)
	}
	if !strings.Contains(errOut, "WARNING") {
		t.Errorf("no warning for --force:\n%s", errOut)
	}
	var res struct {
		Changed int64 `json:"changed"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Changed != int64(len(nrnIDs)) {
		t.Fatalf("apply: %s %v, want %d changed", out, err, len(nrnIDs))
	}
	f, err := os.Open(changes)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range recs[1:] {
		if !strings.HasPrefix(r[4], "!overstap-revoked:") {
			t.Fatalf("change %v is not a revocation", r)
		}
		got[r[2]] = true
	}
	if len(got) != len(nrnIDs) || len(recs)-1 != len(nrnIDs) {
		t.Fatalf("changes for %v, want one each for %v", got, nrnIDs)
	}
	for id := range nrnIDs {
		if !got[id] {
			t.Fatalf("no change for NRN account %s", id)
		}
	}
	if after, _ := os.ReadFile(export); string(after) != string(before) {
		t.Fatal("the export was modified")
	}
}

// TestMigrateStoreFromConfig: with --config, --store names a store of the
// configuration's stores list.
func TestMigrateStoreFromConfig(t *testing.T) {
	dir := t.TempDir()
	export := filepath.Join(dir, "export.csv")
	csvExport(t, export, 9)
	_, err := loadStoreFile(filepath.Join(dir, "missing.yaml"))
	if err == nil {
		t.Fatal("missing store file accepted")
	}
	f := migrateFlags{storeFile: "sportkampen", configFile: "overstap.yaml"}
	cfg := &fileConfig{}
	if _, err := f.storeConfig(cfg); err == nil || !strings.Contains(err.Error(), "neither a file nor a store") {
		t.Fatalf("unknown store name: %v", err)
	}
	cfg.Stores = append(cfg.Stores, mustStoreFile(t, dir, export))
	sc, err := f.storeConfig(cfg)
	if err != nil || sc.Name != "sportkampen" || sc.Type != "csv" {
		t.Fatalf("store from config: %+v %v", sc, err)
	}
}

func mustStoreFile(t *testing.T, dir, export string) storeconfig.Config {
	t.Helper()
	p := filepath.Join(dir, "store.yaml")
	y := "name: sportkampen\ntype: csv\ncsv:\n  path: " + export + "\n  changes_path: " + filepath.Join(dir, "changes.csv") +
		"\n  delimiter: \";\"\n  columns: {id: klant_id, username: gebruikersnaam, password: wachtwoord_hash}\n"
	if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadStoreFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMigrateCreatedBeforeCLI: --created-before on scan, plan and apply
// with a SQLite store whose creation column is mapped; accounts without a
// date never match; a store without the column refuses the flag.
func TestMigrateCreatedBeforeCLI(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "legacy.db")
	if _, _, err := runCLI(t, "migrate", "seed", "--driver", "sqlite", "--dsn", dbPath, "--accounts", "200"); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Even ids: 2015; ids divisible by 5 (odd): no date; other odd: 2024.
	for _, q := range []string{
		`ALTER TABLE legacy_accounts ADD COLUMN created TEXT`,
		`UPDATE legacy_accounts SET created = CASE WHEN id % 2 = 0 THEN '2015-03-01 10:00:00' WHEN id % 5 = 0 THEN NULL ELSE '2024-01-01' END`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	cols := "columns: {id: id, username: login, password: passwd, nrn: rrn, name: full_name, disabled: blocked%s}\n"
	write := func(name, extra string) string {
		p := filepath.Join(dir, name+".yaml")
		y := "driver: sqlite\ndsn: \"insecure-literal:" + dbPath + "\"\ntable: legacy_accounts\nid_type: integer\n" + fmt.Sprintf(cols, extra)
		if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dated, plain := write("dated", ", created: created"), write("plain", "")
	state := filepath.Join(dir, "state.db")
	key := filepath.Join(dir, "admin.key")
	if _, _, err := runCLI(t, "migrate", "keygen", "--out", key); err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Accounts int64 `json:"accounts"`
	}
	if out, _, err := runCLI(t, "migrate", "scan", "--store", dated, "--state", state, "--json"); err != nil || json.Unmarshal([]byte(out), &sum) != nil || sum.Accounts != 200 {
		t.Fatalf("full scan: %s %v", out, err)
	}
	var plan struct {
		Matched int64            `json:"matched"`
		Actions map[string]int64 `json:"actions"`
	}
	out, _, err := runCLI(t, "migrate", "plan", "--state", state, "--policy", "revoke-all", "--created-before", "2020-01-01", "--json")
	if err != nil || json.Unmarshal([]byte(out), &plan) != nil || plan.Matched != 100 {
		t.Fatalf("plan: %s %v, want 100 matched", out, err)
	}
	const read = `SELECT id, COALESCE(passwd, '') FROM legacy_accounts`
	before := testsvc.Pairs(t, db, read)
	out, errOut, err := runCLI(t, "migrate", "apply", "--store", dated, "--state", state, "--policy", "revoke-all", "--created-before", "2020-01-01",
		"--public-key", key+".pub", "--yes", "--json")
	if err != nil {
		t.Fatal(err, errOut)
	}
	var res struct {
		Changed int64 `json:"changed"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Changed != plan.Actions["revoke"] || res.Changed == 0 {
		t.Fatalf("apply: %s %v, want %d changed", out, err, plan.Actions["revoke"])
	}
	for id, pw := range testsvc.Pairs(t, db, read) {
		if n, _ := strconv.Atoi(id); pw != before[id] && n%2 != 0 {
			t.Errorf("account %s (not created before the cutoff) changed", id)
		}
	}
	if out, _, err := runCLI(t, "migrate", "scan", "--store", dated, "--state", state, "--json", "--created-before", "2020-01-01"); err != nil || json.Unmarshal([]byte(out), &sum) != nil || sum.Accounts != 100 {
		t.Fatalf("narrowed scan: %s %v, want 100 accounts", out, err)
	}
	if _, _, err := runCLI(t, "migrate", "scan", "--store", plain, "--state", state, "--created-before", "2020-01-01"); err == nil || !strings.Contains(err.Error(), "creation dates") {
		t.Fatalf("store without creation column: %v", err)
	}
	if _, _, err := runCLI(t, "migrate", "scan", "--store", plain, "--state", state, "--created-before", "gisteren"); err == nil {
		t.Fatal("bad date accepted")
	}
}

// TestMigrateExampleStores loads every configs/stores example as --store
// does, so the documented examples cannot go stale.
func TestMigrateExampleStores(t *testing.T) {
	for _, v := range []string{"SEED_PG_DSN", "SEED_MYSQL_DSN", "SEED_SQLITE_DSN"} {
		t.Setenv(v, "example")
	}
	files, err := filepath.Glob("../../configs/stores/*.yaml")
	if err != nil || len(files) < 5 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := loadStoreFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			if c.Type == "sql" {
				if err := c.SQL.Validate(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
