package testsvc

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
	"testing"
	"time"
)

// The private OpenLDAP directory of the LDAP tests: suffix, root DN and
// root password (test-only values).
const (
	SlapdSuffix = "dc=overstap,dc=test"
	SlapdRootDN = "cn=admin," + SlapdSuffix
	SlapdRootPW = "test-only-root-password"
)

// SlapdServer is a private slapd on two free loopback ports.
type SlapdServer struct {
	URL   string // ldap://127.0.0.1:port
	LDAPS string // ldaps://127.0.0.1:port
	CA    string // PEM file of the self-signed server certificate
	dir   string
	cmd   *exec.Cmd
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

// Slapd starts a private slapd loaded with the LDIF file ldif (which must
// create SlapdSuffix) and stops it when t ends.
func Slapd(t testing.TB, ldif string) *SlapdServer {
	t.Helper()
	s, err := StartSlapd(t, ldif)
	if s != nil {
		t.Cleanup(s.Stop)
	}
	if err != nil {
		t.Fatalf("slapd: %v", err)
	}
	return s
}

// StartSlapd starts a private slapd loaded with the LDIF file ldif; the
// caller stops it (a test binary sharing one server stops it in TestMain).
// A missing slapd fails the test in CI and skips it locally.
func StartSlapd(t testing.TB, ldif string) (*SlapdServer, error) {
	t.Helper()
	bin := LookPath(t, []string{"/usr/sbin/slapd"}, "slapd")
	add := LookPath(t, []string{"/usr/sbin/slapadd"}, "slapd")
	dir, err := os.MkdirTemp("", "overstap-slapd-")
	if err != nil {
		return nil, err
	}
	s := &SlapdServer{dir: dir}
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		return s, err
	}
	conf := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, slapdConf, dir, SlapdSuffix, SlapdRootDN, SlapdRootPW), 0o600); err != nil {
		return s, err
	}
	if ldif, err = filepath.Abs(ldif); err != nil {
		return s, err
	}
	if out, err := exec.Command(add, "-f", conf, "-l", ldif).CombinedOutput(); err != nil {
		return s, fmt.Errorf("slapadd: %v: %s", err, out)
	}
	if err := writeCert(dir); err != nil {
		return s, err
	}
	s.CA = filepath.Join(dir, "server.pem")
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	s.LDAPS = "ldaps://" + tlsAddr
	s.cmd = exec.Command(bin, "-f", conf, "-h", "ldap://"+addr+"/ ldaps://"+tlsAddr+"/", "-d", "0")
	if err := s.cmd.Start(); err != nil {
		s.cmd = nil
		return s, err
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			s.URL = "ldap://" + addr
			return s, nil
		}
	}
	return s, fmt.Errorf("slapd did not listen on %s", addr)
}

// Stop kills slapd and removes its files.
func (s *SlapdServer) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
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
