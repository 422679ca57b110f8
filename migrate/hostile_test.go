package migrate

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/overstap/overstap/adapters/store/sqlstore"
	"github.com/overstap/overstap/internal/testsvc"
)

// TestRollbackPastDamage: a damaged journal entry and a foreign one (an
// entry's sealed value copied onto another row) are listed and skipped,
// every other account is restored, and nothing blames the (right) key.
func TestRollbackPastDamage(t *testing.T) {
	ctx := context.Background()
	db := newStateDB(t)
	accts := mixedAccounts(t, 60)
	st := newMemStore(accts)
	before := st.snapshot()
	e := newTestEngine(t, st, db, Config{BatchSize: 7})
	k := testKey(t)
	res, err := e.Apply(ctx, ApplyOptions{Policy: PolicyRevokeAll, PublicKey: k.Public(), RunID: "apply-dmg"})
	if err != nil || res.Changed < 10 {
		t.Fatalf("apply: %+v %v", res, err)
	}
	es, err := db.EntriesAfter(ctx, "apply-dmg", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var applied []Entry
	for _, en := range es {
		if en.State == StateApplied {
			applied = append(applied, en)
		}
	}
	// Damage one entry early in the journal (so later batches must still be
	// restored), and copy another's sealed value onto a third.
	damaged, foreign, source := applied[1], applied[4], applied[9]
	exec := func(q string, args ...any) {
		if _, err := db.SQL().Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE migrate_journal SET old_sealed = ? WHERE run_id = 'apply-dmg' AND account_id = ?`, damaged.Sealed[:len(damaged.Sealed)-8]+"AAAAAAA=", damaged.Account)
	exec(`UPDATE migrate_journal SET old_sealed = ? WHERE run_id = 'apply-dmg' AND account_id = ?`, source.Sealed, foreign.Account)
	rb, err := e.Rollback(ctx, RollbackOptions{Target: "apply-dmg", Key: k})
	if err != nil {
		t.Fatalf("rollback stopped at the damage: %v", err)
	}
	if rb.NeedAttention != 2 || rb.Restored != res.Changed-2 {
		t.Fatalf("rollback: %+v (applied %d)", rb, res.Changed)
	}
	reasons := map[string]string{}
	for _, a := range rb.Attention {
		reasons[a.Account] = a.Reason
		if strings.Contains(a.Reason, "wrong key") || strings.Contains(a.Reason, "admin key") {
			t.Errorf("reason blames the key: %s", a.Reason)
		}
	}
	if !strings.Contains(reasons[damaged.Account], "damaged") || !strings.Contains(reasons[foreign.Account], "foreign") {
		t.Errorf("reasons: %v", reasons)
	}
	after := st.snapshot()
	for id, v := range before {
		switch id {
		case damaged.Account, foreign.Account:
			if after[id] != RevokedMarker("apply-dmg") {
				t.Errorf("%s: skipped entry changed the account", id)
			}
		default:
			if after[id] != v {
				t.Errorf("%s not restored", id)
			}
		}
	}
	// The same damaged entry opened directly: ErrSealed, never ErrKey.
	if _, _, err := k.open("apply-dmg", damaged.Account, damaged.Sealed[:len(damaged.Sealed)-8]+"AAAAAAA="); !errors.Is(err, ErrSealed) || errors.Is(err, ErrKey) {
		t.Errorf("open damaged: %v", err)
	}
}

// TestHostileTableCrashResume: a PostgreSQL table with the rows a real
// municipality has (oversized, non-UTF-8, over the cost caps, NULL, mixed
// plaintext and hashes in one column, bcrypt over the derived-check budget) goes through revoke-nrn with the
// store's connections killed mid-run, resumed until done: every swappable
// account is revoked exactly once, every other NRN account is listed with
// its reason, and nothing else is touched.
func TestHostileTableCrashResume(t *testing.T) {
	ctx := context.Background()
	pg := testsvc.Postgres(t)
	for _, q := range []string{
		`CREATE TABLE legacy (id BIGINT PRIMARY KEY, login TEXT NOT NULL, passwd BYTEA, rrn TEXT)`,
		`CREATE TABLE credential_writes (id BIGINT, old BYTEA, new BYTEA)`,
		`CREATE FUNCTION count_write() RETURNS trigger AS $$ BEGIN INSERT INTO credential_writes VALUES (NEW.id, OLD.passwd, NEW.passwd); RETURN NEW; END $$ LANGUAGE plpgsql`,
		`CREATE TRIGGER count_writes AFTER UPDATE OF passwd ON legacy FOR EACH ROW WHEN (OLD.passwd IS DISTINCT FROM NEW.passwd) EXECUTE FUNCTION count_write()`,
	} {
		if _, err := pg.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	md5s := func(s string) []byte { d := md5.Sum([]byte(s)); return []byte(hex.EncodeToString(d[:])) }
	swappable, attention, untouched := map[string]bool{}, map[string]string{}, map[string]bool{}
	insert := func(id int, login string, pw []byte, rrn any) {
		if _, err := pg.DB.Exec(`INSERT INTO legacy VALUES ($1, $2, $3, $4)`, id, login, pw, rrn); err != nil {
			t.Fatal(err)
		}
	}
	overCap := []byte("$2y$31$" + strings.Repeat("a", 53)) // bcrypt cost 31: over the cap
	dear, err := bcrypt.GenerateFromPassword([]byte("geheim"), 10)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 400 {
		n := synth(t, i)
		id := 1 + i
		key := fmt.Sprint(id)
		switch i % 10 {
		case 0: // NRN username, md5 of the NRN
			insert(id, n.Format(), md5s(n.Digits()), nil)
			swappable[key] = true
		case 1: // NRN username with mixed separators, any hash: revoke-nrn takes it
			d := n.Digits()
			insert(id, d[:6]+"-"+d[6:9]+"."+d[9:], md5s("x"+key), nil)
			swappable[key] = true
		case 2: // NRN column, plaintext NRN in another written form, in a column of hashes
			insert(id, "user"+key, []byte(n.Digits()[:2]+" "+n.Digits()[2:4]+" "+n.Digits()[4:6]+" "+n.Digits()[6:9]+" "+n.Digits()[9:]), n.Digits())
			swappable[key] = true
		case 3: // NRN column, md5 of the NRN: derived
			insert(id, "user"+key, md5s(n.Format()), n.Digits())
			swappable[key] = true
		case 4:
			if i%20 == 4 { // NRN column, a real password's md5: not derived, untouched
				insert(id, "user"+key, md5s("geheim"+key), n.Digits())
				untouched[key] = true
			} else { // NRN column, bcrypt-10: 13 candidates are over the default budget
				insert(id, "user"+key, dear, n.Digits())
				attention[key] = ReasonOverBudget
			}
		case 5: // NRN username, oversized credential: listed, never sent
			insert(id, n.Digits(), append([]byte("$1$"), make([]byte, 70_000)...), nil)
			attention[key] = ReasonTooLong
		case 6: // NRN username, non-UTF-8 credential: swapped, byte-exact in the journal
			insert(id, n.Digits(), []byte{0xff, 0xfe, 0x00, 'p', 0xe9}, nil)
			swappable[key] = true
		case 7: // NRN column, over the cost caps: unknown risk, listed
			insert(id, "user"+key, overCap, n.Digits())
			attention[key] = ReasonUnknownRisk
		case 8: // NULL on an NRN username: nothing to take away
			insert(id, n.Digits(), nil, nil)
			untouched[key] = true
		case 9: // no NRN at all, garbage
			insert(id, "user"+key, []byte("??garbage"), nil)
			untouched[key] = true
		}
	}
	app := "hostile_" + pg.Schema
	open := func() *sqlstore.Store {
		return openLegacy(t, "hostile", "postgres", pg.DSN+"&application_name="+app,
			sqlstore.Config{Table: "legacy", Columns: sqlstore.Columns{ID: "id", Username: "login", Password: "passwd", NRN: "rrn"}})
	}
	k := testKey(t)
	db := newStateDB(t)
	// Scan first: the mixed column's plaintext NRNs count as open, the
	// unclassifiable values on NRN accounts as unknown risk.
	{
		st := open()
		e, err := New(Options{DB: db, Store: st, Hasher: realHasher(t, 4), Config: Config{BatchSize: 25}})
		if err != nil {
			t.Fatal(err)
		}
		sr, err := e.Scan(ctx)
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		sum, err := db.Summarize(ctx, sr.Run)
		if err != nil {
			t.Fatal(err)
		}
		// Open: cases 0-3 (NRN usernames with a readable hash, plaintext
		// and md5 NRNs in the NRN-column rows). Unknown risk: cases 5-7
		// (NRN accounts whose credential cannot be read: oversized,
		// non-UTF-8 garbage, over the cost caps).
		// Over the derived-check budget (half of case 4): unknown risk too.
		if sum.NRNLoginOpen != 160 || sum.NRNUnknownRisk != 140 {
			t.Errorf("scan: open %d (want 160), unknown risk %d (want 140)", sum.NRNLoginOpen, sum.NRNUnknownRisk)
		}
	}
	var res ApplyResult
	for attempt := 1; ; attempt++ {
		st := open()
		var prog Progress
		if attempt <= 3 {
			prog = &killer{t: t, pg: pg, app: app, after: 2 + attempt}
		}
		e, err := New(Options{DB: db, Store: st, Hasher: realHasher(t, 4), Progress: prog, Config: Config{BatchSize: 25}})
		if err != nil {
			t.Fatal(err)
		}
		res, err = e.Apply(ctx, ApplyOptions{Policy: PolicyRevokeNRN, PublicKey: k.Public(), RunID: "apply-hostile"})
		st.Close()
		if err == nil {
			t.Logf("done after %d attempts", attempt)
			break
		}
		if !errors.Is(err, ErrStopped) || attempt > 10 {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
	}
	// Every swappable account written exactly once, to the marker.
	rows, err := pg.DB.Query(`SELECT id::text, count(*), (array_agg(new))[1] FROM credential_writes GROUP BY id`)
	if err != nil {
		t.Fatal(err)
	}
	written := map[string]bool{}
	for rows.Next() {
		var id string
		var n int
		var nv []byte
		if err := rows.Scan(&id, &n, &nv); err != nil {
			t.Fatal(err)
		}
		written[id] = true
		if !swappable[id] || n != 1 || string(nv) != RevokedMarker("apply-hostile") {
			t.Errorf("account %s written %d times (swappable %v) to %q", id, n, swappable[id], prefix(string(nv)))
		}
	}
	rows.Close()
	for id := range swappable {
		if !written[id] {
			t.Errorf("swappable account %s not revoked", id)
		}
	}
	// Every other NRN account is listed, with its reason.
	list, total, err := db.AttentionList(ctx, "apply-hostile", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if total != int64(len(attention)) || res.NeedAttention != total || res.Changed != int64(len(swappable)) {
		t.Errorf("attention %d (result %d), want %d; changed %d, want %d", total, res.NeedAttention, len(attention), res.Changed, len(swappable))
	}
	for _, a := range list {
		if attention[a.Account] != a.Reason {
			t.Errorf("account %s listed with %q, want %q", a.Account, a.Reason, attention[a.Account])
		}
	}
	// The non-UTF-8 credential comes back byte for byte from the journal.
	es, err := db.Entries(ctx, "apply-hostile", []string{"7"})
	if err != nil {
		t.Fatal(err)
	}
	if v, null, err := k.open("apply-hostile", "7", es["7"].Sealed); err != nil || null || v != "\xff\xfe\x00p\xe9" {
		t.Errorf("journal of the non-UTF-8 account: %q %v %v", v, null, err)
	}
}
