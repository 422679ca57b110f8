package sqlstore

import (
	"context"
	"testing"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/adapters/store/storetest"
	"github.com/overstap/overstap/internal/testsvc"
)

// TestMariaDBDroppedConnectionResume kills the adapter's server
// connections (KILL from a separate admin connection) in the middle of an
// iteration and continues from the cursor: no row lost, none twice.
func TestMariaDBDroppedConnectionResume(t *testing.T) {
	my := testsvc.MariaDB(t)
	mustExec(t, my.DB, sprintf(myTable, "BIGINT"))
	const total = 1000
	mustExec(t, my.DB, sprintf(`INSERT INTO accounts (id, username, pw) SELECT seq, CONCAT('u', seq), 'h' FROM seq_1_to_%d`, total))
	s := openStore(t, "mysql", my.DSN, nil)
	ctx := context.Background()
	admin, err := my.DB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	iterateThroughKill(t, s, 100, 2, total, func(rows int) {
		rs, err := admin.QueryContext(ctx, `SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()`, my.Database)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for rs.Next() {
			var id int64
			rs.Scan(&id)
			ids = append(ids, id)
		}
		rs.Close()
		for _, id := range ids {
			admin.ExecContext(ctx, sprintf("KILL CONNECTION %d", id)) // some may be gone already
		}
		if len(ids) == 0 {
			t.Fatal("no connection to kill")
		}
		t.Logf("killed %d connection(s) after %d rows", len(ids), rows)
	})
}

// TestContractMariaDBCustomQueries: custom queries in MySQL's "?" style,
// by_nrn taking the four written forms twice.
func TestContractMariaDBCustomQueries(t *testing.T) {
	const sel = "SELECT id, username, pw, salt, nrn, full_name, disabled, federated FROM accounts"
	storetest.Run(t, func(t *testing.T) (store.Store, storetest.Seeder) {
		my := testsvc.MariaDB(t)
		mustExec(t, my.DB, sprintf(myTable, "BIGINT"))
		cfg := Config{Driver: "mysql", DSN: secret(my.DSN), IDType: "integer", Queries: Queries{
			IterateFirst:       sel + " ORDER BY id LIMIT ?",
			Iterate:            sel + " WHERE id > ? ORDER BY id LIMIT ?",
			Get:                sel + " WHERE id = ?",
			ByUsername:         sel + " WHERE username = ? LIMIT 2",
			ByNRN:              sel + " WHERE username IN (?, ?, ?, ?) OR nrn IN (?, ?, ?, ?) ORDER BY id",
			CompareAndSwap:     "UPDATE accounts SET pw = ? WHERE id = ? AND CAST(pw AS BINARY) = CAST(? AS BINARY)",
			CompareAndSwapNull: "UPDATE accounts SET pw = ? WHERE id = ? AND pw IS NULL",
			Current:            "SELECT pw FROM accounts WHERE id = ?",
			SetFederated:       "UPDATE accounts SET federated = ? WHERE id = ?",
		}}
		s, err := Open(context.Background(), "legacy", cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, &sqlSeeder{db: my.DB, d: s.d, table: "accounts", concat: func(c, p string) string { return "CONCAT(" + c + ", " + p + ")" }}
	})
}
