package ldapstore

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/overstap/overstap/internal/testsvc"
)

const (
	suffix = "dc=overstap,dc=test"
	rootDN = "cn=admin," + suffix
	rootPW = "test-only-root-password"
)

// slapd is the private directory server of this test binary: started on
// first use, stopped by TestMain.
var slapd struct {
	once  sync.Once
	url   string // ldap://
	ldaps string // ldaps://
	ca    string // PEM file of the self-signed server certificate
	dir   string
	cmd   *exec.Cmd
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if slapd.cmd != nil && slapd.cmd.Process != nil {
		slapd.cmd.Process.Kill()
		slapd.cmd.Wait()
	}
	if slapd.dir != "" {
		os.RemoveAll(slapd.dir)
	}
	os.Exit(code)
}

const slapdConf = `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile %[1]s/slapd.pid
argsfile %[1]s/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 268435456
suffix "%[2]s"
rootdn "%[3]s"
rootpw %[4]s
directory %[1]s/db
index objectClass eq
index employeeNumber,uid,serialNumber eq
TLSCertificateFile %[1]s/server.pem
TLSCertificateKeyFile %[1]s/server.key
`

// server returns the URL of the private slapd, starting it on first use.
func server(t testing.TB) string {
	t.Helper()
	bin := testsvc.LookPath(t, []string{"/usr/sbin/slapd"}, "slapd")
	add := testsvc.LookPath(t, []string{"/usr/sbin/slapadd"}, "slapd")
	slapd.once.Do(func() {
		slapd.err = start(t, bin, add)
	})
	if slapd.err != nil {
		t.Fatalf("slapd: %v", slapd.err)
	}
	return slapd.url
}

func start(t testing.TB, bin, add string) error {
	dir, err := os.MkdirTemp("", "overstap-slapd-")
	if err != nil {
		return err
	}
	slapd.dir = dir
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		return err
	}
	conf := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, slapdConf, dir, suffix, rootDN, rootPW), 0o600); err != nil {
		return err
	}
	ldif, err := filepath.Abs("../../../testdata/ldap/base.ldif")
	if err != nil {
		return err
	}
	if out, err := exec.Command(add, "-f", conf, "-l", ldif).CombinedOutput(); err != nil {
		return fmt.Errorf("slapadd: %v: %s", err, out)
	}
	if err := writeCert(dir); err != nil {
		return err
	}
	slapd.ca = filepath.Join(dir, "server.pem")
	addr := fmt.Sprintf("127.0.0.1:%d", testsvc.FreePort(t))
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", testsvc.FreePort(t))
	slapd.ldaps = "ldaps://" + tlsAddr
	slapd.cmd = exec.Command(bin, "-f", conf, "-h", "ldap://"+addr+"/ ldaps://"+tlsAddr+"/", "-d", "0")
	slapd.cmd.Stdout, slapd.cmd.Stderr = nil, nil
	if err := slapd.cmd.Start(); err != nil {
		return err
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			slapd.url = "ldap://" + addr
			return nil
		}
	}
	return fmt.Errorf("slapd did not listen on %s", addr)
}

// writeCert writes a self-signed certificate for 127.0.0.1/localhost.
func writeCert(dir string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(filepath.Join(dir, "server.pem"), certPEM, 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "server.key"), keyPEM, 0o600)
}

// admin returns a root connection for seeding.
func admin(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(server(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Bind(rootDN, rootPW); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
