package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
