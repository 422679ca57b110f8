package ldapstore

import (
	"os"
	"sync"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/overstap/overstap/internal/testsvc"
)

const (
	suffix = testsvc.SlapdSuffix
	rootDN = testsvc.SlapdRootDN
	rootPW = testsvc.SlapdRootPW
)

// slapd is the private directory server of this test binary: started on
// first use, stopped by TestMain.
var slapd struct {
	once sync.Once
	*testsvc.SlapdServer
	err error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if slapd.SlapdServer != nil {
		slapd.Stop()
	}
	os.Exit(code)
}

// server returns the URL of the private slapd, starting it on first use.
func server(t testing.TB) string {
	t.Helper()
	started := false
	slapd.once.Do(func() {
		slapd.SlapdServer, slapd.err = testsvc.StartSlapd(t, "../../../testdata/ldap/base.ldif")
		started = true
	})
	if slapd.err != nil {
		t.Fatalf("slapd: %v", slapd.err)
	}
	if !started && slapd.SlapdServer == nil {
		// The first start was skipped (no slapd, outside CI): so is this.
		testsvc.LookPath(t, []string{"/usr/sbin/slapd"}, "slapd")
		t.Fatal("slapd: the first start was abandoned")
	}
	return slapd.URL
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
