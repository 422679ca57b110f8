package testsvc

import (
	"database/sql"
	"testing"
)

// Pairs runs a query of two columns and returns the first column's values
// mapped to the second's, both read as text; for comparing a table before
// and after a run (account id → credential).
func Pairs(t testing.TB, db *sql.DB, query string, args ...any) map[string]string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
