package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/nrn"
)

func TestStoreCheck(t *testing.T) {
	n, _ := nrn.Synthetic(time.Date(1975, 6, 7, 0, 0, 0, 0, time.UTC), true, 5)
	sum := md5.Sum([]byte("x"))
	dir := t.TempDir()
	export := "id,login,hash,rrn\n" +
		"1," + n.Digits() + ",$1$saltsalt$abcdefghijklmnopqrstuv,\n" +
		"2,jan," + hex.EncodeToString(sum[:]) + "," + n.Format() + "\n" +
		"3,piet,,\n" +
		"4,mia,$weird$x,12345678901\n"
	os.WriteFile(filepath.Join(dir, "export.csv"), []byte(export), 0o600)
	cfgFile := filepath.Join(dir, "store.yaml")
	os.WriteFile(cfgFile, []byte("name: eloket\ntype: csv\ncsv:\n  path: "+filepath.Join(dir, "export.csv")+
		"\n  changes_path: "+filepath.Join(dir, "changes.csv")+"\n  columns: {id: id, username: login, password: hash, nrn: rrn}\n"), 0o600)
	before, _ := os.ReadFile(filepath.Join(dir, "export.csv"))

	cases := []struct {
		name    string
		args    []string
		code    int
		want    []string
		wantErr string
	}{
		{"report", []string{"store", "check", "--config", cfgFile}, 0, []string{
			"store eloket (csv): read 4 accounts (whole store)",
			"atomic_cas=false", "column=1 username=1 none=2 duplicates=2",
			"unusable nrn value: invalid check digits: 1", "null=1",
			"scheme unknown: 1", "warning: no atomic compare-and-swap",
		}, ""},
		{"missing config", []string{"store", "check"}, -1, nil, "--store FILE is required"},
		{"--store as in the README", []string{"store", "check", "--store", cfgFile}, 0, []string{"store eloket (csv): read 4 accounts"}, ""},
		{"bare sqlstore file, as migrate takes", []string{"store", "check", "--store", bareSQL(t, dir, n)}, 0, []string{
			"store legacy (sql): read 3 accounts (whole store)", "column=0 username=2 none=1",
		}, ""},
		{"bad sample", []string{"store", "check", "--config", cfgFile, "--sample", "0"}, -1, nil, "--sample"},
		{"missing column", []string{"store", "check", "--config", writeFile(t, dir, "bad.yaml",
			"name: eloket\ntype: csv\ncsv:\n  path: "+filepath.Join(dir, "export.csv")+"\n  changes_path: "+filepath.Join(dir, "c2.csv")+
				"\n  columns: {id: id, username: user, password: pw}\n")}, 1, []string{"cannot open", "columns.username", "columns.password"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			root := newRootCmd(strings.NewReader(""), &out, &errOut)
			root.SetArgs(c.args)
			err := root.ExecuteContext(context.Background())
			var ee exitError
			switch {
			case c.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want %q", err, c.wantErr)
				}
			case c.code == 0 && err != nil:
				t.Fatalf("err %v\n%s", err, out.String())
			case c.code > 0 && (!errors.As(err, &ee) || ee.code != c.code):
				t.Fatalf("err %v, want exit %d\n%s", err, c.code, out.String())
			}
			for _, w := range c.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if strings.HasPrefix(c.name, "bare") && strings.Contains(out.String(), "do not validate") {
				t.Errorf("valid NRN usernames warned about:\n%s", nrn.Scrub(out.String()))
			}
			if nrn.Contains(out.String()+errOut.String()) || strings.Contains(out.String(), "$1$saltsalt") {
				t.Errorf("output leaks a national number or hash:\n%s", nrn.Scrub(out.String()))
			}
		})
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "export.csv")); !bytes.Equal(before, after) {
		t.Fatal("check modified the export")
	}
	if _, err := os.Stat(filepath.Join(dir, "changes.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("check created the changes file: %v", err)
	}
}

// bareSQL writes a SQLite user table and a bare sqlstore file for it
// (driver, dsn, table, columns; no name or type), as configs/stores/ has.
// Both NRN usernames are valid (one in a mixed written form): store check
// must not warn about them.
func bareSQL(t *testing.T, dir string, n nrn.Number) string {
	t.Helper()
	path := filepath.Join(dir, "legacy.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := n.Digits()
	m, _ := nrn.Synthetic(time.Date(1980, 1, 2, 0, 0, 0, 0, time.UTC), false, 8)
	for _, q := range []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT, pw TEXT)`,
		`INSERT INTO users VALUES (1, '` + d + `', '$1$saltsalt$abcdefghijklmnopqrstuv')`,
		`INSERT INTO users VALUES (2, '` + m.Digits()[:6] + `-` + m.Digits()[6:9] + `.` + m.Digits()[9:] + `', '$1$saltsalt$abcdefghijklmnopqrstuv')`,
		`INSERT INTO users VALUES (3, 'jan', NULL)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, dir, "legacy.dsn", path)
	return writeFile(t, dir, "legacy.yaml", "driver: sqlite\ndsn: \"file:"+filepath.Join(dir, "legacy.dsn")+"\"\ntable: users\ncolumns: {id: id, username: login, password: pw}\n")
}

func writeFile(t *testing.T, dir, name, content string) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
