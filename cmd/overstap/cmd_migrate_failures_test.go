package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/testsvc"
)

// otherCA writes a CA certificate that signed nothing the database
// presents: verify-full against it fails the TLS handshake whatever the
// server's certificate is (or the server refuses TLS).
func otherCA(t *testing.T, dir string) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "not the database's CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "other-ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMigrateStartupFailures: every way a store can fail at start ends in
// an error naming the store and the cause (exit 1 from main), never a
// panic, and says how to go on.
func TestMigrateStartupFailures(t *testing.T) {
	dir := t.TempDir()
	pg := testsvc.Postgres(t)
	my := testsvc.MariaDB(t)
	if _, err := pg.DB.Exec(`CREATE TABLE only_ids (id BIGINT PRIMARY KEY, login TEXT)`); err != nil {
		t.Fatal(err)
	}
	port := testsvc.FreePort(t)
	mysqlHost := strings.SplitN(strings.SplitN(my.DSN, "@", 2)[1], "/", 2)[0] // tcp(host:port)
	cases := []struct {
		name, driver, dsn, table string
		cause                    []string // any of these in the message
	}{
		{"refused connection", "postgres", fmt.Sprintf("postgres://postgres@127.0.0.1:%d/test?sslmode=disable&connect_timeout=3", port), "accounts",
			[]string{"connection refused", "connect"}},
		{"auth failure", "mysql", "overstap_nobody:wrong-password@" + mysqlHost + "/" + my.Database, "accounts",
			[]string{"Access denied", "1045"}},
		{"TLS failure", "postgres", pg.DSN + "&sslmode=verify-full&sslrootcert=" + otherCA(t, dir), "accounts",
			[]string{"tls", "TLS", "SSL", "certificate", "x509"}},
		{"missing table", "postgres", pg.DSN, "no_such_table", []string{"no_such_table", "does not exist"}},
		{"missing column", "postgres", pg.DSN, "only_ids", []string{"pw", "column"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dsn := strings.ReplaceAll(tc.dsn, "?sslmode=disable&sslmode=", "?sslmode=")
			storeFile := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			dsnFile := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".dsn")
			if err := os.WriteFile(dsnFile, []byte(dsn), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := fmt.Sprintf("name: gemeente\ntype: sql\nsql:\n  driver: %s\n  dsn: \"file:%s\"\n  table: %s\n  columns: {id: id, username: login, password: pw}\n", tc.driver, dsnFile, tc.table)
			if err := os.WriteFile(storeFile, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			state := filepath.Join(dir, "state-"+strings.ReplaceAll(tc.name, " ", "-")+".db")
			for _, args := range [][]string{
				{"migrate", "scan", "--store", storeFile, "--state", state},
				{"migrate", "apply", "--store", storeFile, "--state", state, "--policy", "revoke-nrn", "--run", "apply-resume-1", "--yes", "--public-key", "unused.pub"},
			} {
				_, _, err := runCLI(t, args...)
				if err == nil {
					t.Fatalf("%s: no error", args[1])
				}
				msg := err.Error()
				if !strings.Contains(msg, `store "gemeente"`) {
					t.Errorf("%s: message does not name the store: %s", args[1], msg)
				}
				found := false
				for _, c := range tc.cause {
					found = found || strings.Contains(msg, c)
				}
				if !found {
					t.Errorf("%s: message does not name the cause (%v): %s", args[1], tc.cause, msg)
				}
				if !strings.Contains(msg, "run the same command again") {
					t.Errorf("%s: no hint how to go on: %s", args[1], msg)
				}
				t.Logf("%s: %s", args[1], msg)
				if strings.Contains(msg, "wrong-password") {
					t.Errorf("%s: message shows the DSN's password", args[1])
				}
			}
		})
	}
}

// TestMigrateAttentionExit: one oversized credential does not halt the run:
// every other account is revoked, the run ends with exit status 2 and
// "finished with 1 accounts needing attention", and `migrate attention`
// lists it (CSV and JSON) by id with its reason, an id that is a national
// number masked.
func TestMigrateAttentionExit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "legacy.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	gen := nrn.NewGenerator(16)
	big := gen.Next()
	if _, err := db.Exec(`CREATE TABLE users (id TEXT PRIMARY KEY, login TEXT, pw BLOB)`); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		n := gen.Next()
		id, pw := fmt.Sprintf("u%02d", i), []byte(fmt.Sprintf("%x", md5.Sum([]byte(n.Digits()))))
		if i == 7 { // a store keyed by national number, and a credential over the adapters' limit
			id, pw = big.Digits(), make([]byte, 70_000)
		}
		if _, err := db.Exec(`INSERT INTO users VALUES (?, ?, ?)`, id, n.Format(), pw); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, dir, "legacy.dsn", path)
	storeFile := writeFile(t, dir, "legacy.yaml", "driver: sqlite\ndsn: \"file:"+filepath.Join(dir, "legacy.dsn")+"\"\ntable: users\nid_type: text\ncolumns: {id: id, username: login, password: pw}\n")
	_, pub := keygen(t, dir)
	state := filepath.Join(dir, "state.db")
	out, errOut, err := runCLI(t, "migrate", "apply", "--store", storeFile, "--state", state, "--policy", "revoke-nrn", "--yes", "--public-key", pub, "--run", "apply-att", "--batch-size", "5")
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("apply: %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(out, "29 changed") || !strings.Contains(out, "1 need attention") ||
		!strings.Contains(errOut, "run apply-att finished with 1 accounts needing attention") {
		t.Errorf("summary:\n%s%s", out, errOut)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM users WHERE pw = CAST('!overstap-revoked:apply-att' AS BLOB)`).Scan(&n); err != nil || n != 29 {
		t.Errorf("revoked %d (%v), want 29", n, err)
	}
	csvOut, _, err := runCLI(t, "migrate", "attention", "--state", state, "--run", "apply-att")
	if err != nil {
		t.Fatal(err)
	}
	jsonOut, _, err := runCLI(t, "migrate", "attention", "--state", state, "--run", "apply-att", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csvOut, "apply-att,"+big.Mask()+",\"credential longer than the store adapter accepts") || !strings.Contains(jsonOut, `"total": 1`) {
		t.Errorf("attention list:\n%s\n%s", csvOut, jsonOut)
	}
	if nrn.Contains(out + errOut + csvOut + jsonOut) {
		t.Error("a national number in the output")
	}
}
