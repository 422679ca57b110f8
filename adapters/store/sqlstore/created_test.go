package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/internal/testsvc"
)

// TestCreatedAt reads the mapped creation column on every database and
// column kind: dates, ISO text, Unix seconds; NULL and unparseable values
// are unknown (left out), as are accounts outside the filter.
func TestCreatedAt(t *testing.T) {
	jan := time.Date(2019, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name, driver, colType string
		vals                  []any                // ids 1..4: a date, NULL, garbage or another date, outside the filter
		want                  map[string]time.Time // nil: only 1 = jan
	}{
		{"postgres-timestamptz", "postgres", "timestamptz", []any{jan, nil, jan.AddDate(1, 0, 0), jan}, map[string]time.Time{"1": jan, "3": jan.AddDate(1, 0, 0)}},
		{"postgres-text", "postgres", "text", []any{"2019-01-02 03:04:05", nil, "gisteren", "2019-01-02"}, nil},
		{"mariadb-datetime", "mysql", "DATETIME", []any{"2019-01-02 03:04:05", nil, "0000-00-00 00:00:00", "2019-01-02"}, nil},
		{"sqlite-text", "sqlite", "TEXT", []any{"2019-01-02T03:04:05Z", nil, "02/01/2019", "2019-01-02"}, nil},
		{"sqlite-unix", "sqlite", "INTEGER", []any{jan.Unix(), nil, "x", jan.Unix()}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var dsn string
			var db *sql.DB
			var d dialect
			switch c.driver {
			case "postgres":
				pg := testsvc.Postgres(t)
				dsn, db = pg.DSN, pg.DB
				mustExec(t, db, sprintf(pgTable, "bigint"))
			case "mysql":
				my := testsvc.MariaDB(t)
				dsn, db = my.DSN, my.DB
				mustExec(t, db, "SET SESSION sql_mode = ''") // allow the zero date
				mustExec(t, db, sprintf(myTable, "BIGINT"))
			default:
				dsn, db = sqliteDB(t, sprintf(liteTable, "INTEGER"))
			}
			d, _ = dialectFor(c.driver)
			mustExec(t, db, "ALTER TABLE accounts ADD COLUMN created_at "+c.colType)
			for i, v := range c.vals {
				realm := "in"
				if i == 3 {
					realm = "out"
				}
				q := "INSERT INTO accounts (id, username, pw, salt, created_at) VALUES (" + d.ph(1) + ", " + d.ph(2) + ", 'h', " + d.ph(3) + ", " + d.ph(4) + ")"
				if c.driver == "mysql" && i == 2 {
					// The zero date needs a permissive session.
					conn, err := db.Conn(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					mustConnExec(t, conn, "SET SESSION sql_mode = ''")
					mustConnExec(t, conn, q, i+1, sprintf("u%d", i), realm, v)
					conn.Close()
					continue
				}
				mustExec(t, db, q, i+1, sprintf("u%d", i), realm, v)
			}
			s := openStore(t, c.driver, dsn, func(cfg *Config) { cfg.Columns.Created = "created_at"; cfg.Filter = "salt = 'in'" })
			if !s.HasCreationDates() {
				t.Fatal("HasCreationDates false")
			}
			got, err := s.CreatedAt(context.Background(), []string{"1", "2", "3", "4", "99", "x"})
			if err != nil {
				t.Fatal(err)
			}
			want := c.want
			if want == nil {
				want = map[string]time.Time{"1": jan}
			}
			if len(got) != len(want) {
				t.Fatalf("created %v, want %v", got, want)
			}
			for id, w := range want {
				if !got[id].Equal(w) {
					t.Fatalf("created %v, want %v", got, want)
				}
			}
		})
	}
	t.Run("unmapped", func(t *testing.T) {
		dsn, _ := sqliteDB(t, sprintf(liteTable, "INTEGER"))
		s := openStore(t, "sqlite", dsn, nil)
		if _, err := s.CreatedAt(context.Background(), []string{"1"}); !errors.Is(err, store.ErrUnsupported) {
			t.Fatalf("unmapped column: %v", err)
		}
	})
}

func mustConnExec(t *testing.T, c *sql.Conn, q string, args ...any) {
	t.Helper()
	if _, err := c.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
