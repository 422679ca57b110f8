package ldapstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/adapters/store/storetest"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/config"
)

var ouSeq atomic.Int64

// ldapSeeder adds entries under one ou with the root connection.
type ldapSeeder struct {
	c  *ldap.Conn
	ou string
}

func (s *ldapSeeder) dn(id string) string { return "employeeNumber=" + ldap.EscapeDN(id) + "," + s.ou }

func (s *ldapSeeder) Seed(t testing.TB, rows ...storetest.Row) {
	t.Helper()
	for _, r := range rows {
		req := ldap.NewAddRequest(s.dn(r.ID), nil)
		req.Attribute("objectClass", []string{"inetOrgPerson", "extensibleObject"})
		req.Attribute("employeeNumber", []string{r.ID})
		req.Attribute("uid", []string{r.Username})
		req.Attribute("cn", []string{r.Name})
		req.Attribute("sn", []string{"x"})
		if r.Password != nil {
			req.Attribute("userPassword", []string{*r.Password})
		}
		if r.Salt != "" {
			req.Attribute("departmentNumber", []string{r.Salt})
		}
		if r.NRN != nil && *r.NRN != "" {
			req.Attribute("serialNumber", []string{*r.NRN})
		}
		if r.Disabled {
			req.Attribute("employeeType", []string{"disabled"})
		}
		req.Attribute("businessCategory", []string{strings.ToUpper(fmt.Sprint(r.Federated))})
		if err := s.c.Add(req); err != nil {
			t.Fatalf("add %s: %v", r.ID, err)
		}
	}
}

func (s *ldapSeeder) values(t testing.TB, id string) []string {
	res, err := s.c.Search(ldap.NewSearchRequest(s.dn(id), ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"userPassword"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("read %s: %v", id, err)
	}
	return res.Entries[0].GetAttributeValues("userPassword")
}

// Append changes the password natively and atomically: a delete-old/add-new
// modify retried until it applies, as a directory client would.
func (s *ldapSeeder) Append(t testing.TB, id, suffix string) {
	for range 1000 {
		old := s.values(t, id)
		req := ldap.NewModifyRequest(s.dn(id), nil)
		req.Delete("userPassword", old)
		req.Add("userPassword", []string{strings.Join(old, "") + suffix})
		err := s.c.Modify(req)
		if err == nil {
			return
		}
		if !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchAttribute) {
			t.Errorf("append: %v", err)
			return
		}
	}
	t.Error("append: no progress")
}

func (s *ldapSeeder) Credential(t testing.TB, id string) (string, bool) {
	v := s.values(t, id)
	return strings.Join(v, "\n"), len(v) == 0
}

func testConfig(t testing.TB, base string) Config {
	return Config{
		URL: server(t), InsecureAllowPlain: true, BindDN: rootDN, BindPassword: config.NewSecret([]byte(rootPW)),
		BaseDN: base, PageSize: 7,
		Attributes: Attributes{ID: "employeeNumber", Username: "uid", Password: "userPassword", Salt: "departmentNumber",
			NRN: "serialNumber", Name: "cn", Disabled: "employeeType", Federated: "businessCategory"},
	}
}

func open(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := Open(context.Background(), "legacy", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newOU(t testing.TB) (*Store, *ldapSeeder) {
	c := admin(t)
	c.SetTimeout(30 * time.Second)
	ou := fmt.Sprintf("ou=t%d,%s", ouSeq.Add(1), suffix)
	req := ldap.NewAddRequest(ou, nil)
	req.Attribute("objectClass", []string{"organizationalUnit"})
	req.Attribute("ou", []string{strings.TrimPrefix(strings.Split(ou, ",")[0], "ou=")})
	if err := c.Add(req); err != nil {
		t.Fatal(err)
	}
	return open(t, testConfig(t, ou)), &ldapSeeder{c: c, ou: ou}
}

func TestContractLDAP(t *testing.T) {
	server(t)
	storetest.Run(t, func(t *testing.T) (store.Store, storetest.Seeder) { return newOU(t) })
}

// TestFixtures reads the LDIF fixtures: several password values, a
// binary value, an entry without id, an invalid NRN.
func TestFixtures(t *testing.T) {
	s := open(t, testConfig(t, "ou=fixtures,"+suffix))
	ctx := context.Background()
	var all []store.Account
	var cur store.Cursor
	for {
		page, next, err := s.Iterate(ctx, cur, 2)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		cur = next
	}
	if len(all) != 3 || all[0].ID != "5001" || all[1].ID != "5002" || all[2].ID != "5003" {
		t.Fatalf("got %d accounts", len(all))
	}
	if all[0].Credential != "{SSHA}fixtureHashA\n{MD5}fixtureHashB==" || all[0].NRNSource != "username" {
		t.Fatalf("multi-valued: %q %q", all[0].Credential, all[0].NRNSource)
	}
	if all[1].Credential != "md5\xff\xfe\x00x" || all[1].NRNSource != "column" {
		t.Fatalf("binary: %q", all[1].Credential)
	}
	if all[2].NRNProblem == "" || !all[2].NRN.IsZero() {
		t.Fatalf("invalid NRN not reported")
	}
	// Swapping all values away in one modify; a stale list conflicts.
	// Deleting only one of two values would leave a usable password.
	if err := s.CompareAndSwap(ctx, store.Swap{ID: "5001", Old: "{SSHA}fixtureHashA", New: "x"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("partial old list: %v", err)
	}
	t.Run("fixture numbers are synthetic", func(t *testing.T) {
		b, err := os.ReadFile("../../../testdata/ldap/base.ldif")
		if err != nil {
			t.Fatal(err)
		}
		spans := nrn.Find(string(b))
		if len(spans) == 0 {
			t.Fatal("no numbers found")
		}
		for _, sp := range spans {
			if !nrn.IsSynthetic(sp.Number) {
				t.Errorf("non-synthetic number at byte %d", sp.Start)
			}
		}
	})
}

// TestFilterInjection: user values cannot widen a filter.
func TestFilterInjection(t *testing.T) {
	s, seed := newOU(t)
	seed.Seed(t, storetest.Row{ID: "1", Username: "jan", Password: storetest.P("h"), Name: "Jan"},
		storetest.Row{ID: "2", Username: "piet", Password: storetest.P("h"), Name: "Piet"})
	ctx := context.Background()
	for _, u := range []string{"*", "jan)(uid=*", "*)(|(uid=*", "j*", "\\2a", "jan\x00"} {
		if _, err := s.LookupByUsername(ctx, u); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("LookupByUsername(%q): %v", u, err)
		}
		if _, err := s.Get(ctx, u); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%q): %v", u, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{URL: "ldaps://ldap.example:636", BindDN: "cn=x,dc=e", BindPassword: config.NewSecret([]byte("p")), BaseDN: "dc=e"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		mod  func(*Config)
		keys []string
	}{
		{"plain", func(c *Config) { c.URL = "ldap://ldap.example" }, []string{"url:"}},
		{"scheme", func(c *Config) { c.URL = "http://ldap.example" }, []string{"url:"}},
		{"starttls+ldaps", func(c *Config) { c.StartTLS = true }, []string{"start_tls:"}},
		{"dn", func(c *Config) { c.BaseDN = "not a dn"; c.BindDN = "" }, []string{"base_dn:", "bind_dn:"}},
		{"password", func(c *Config) { c.BindPassword = config.Secret{} }, []string{"bind_password:"}},
		{"filter", func(c *Config) { c.Filter = "(uid=*" }, []string{"filter:"}},
		{"attribute", func(c *Config) { c.Attributes.NRN = "serial)(x" }, []string{"attributes.nrn:"}},
		{"page", func(c *Config) { c.PageSize = 100000 }, []string{"page_size:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			c.mod(&cfg)
			storetest.WantKeys(t, cfg.Validate(), c.keys...)
		})
	}
}

// BenchmarkIterateLDAP compares Iterate (page size 1000) with a raw paged
// search of the same entries in the same run.
func BenchmarkIterateLDAP(b *testing.B) {
	s, seed := newOU(b)
	const n = 3000
	for i := range n {
		seed.Seed(b, storetest.Row{ID: fmt.Sprintf("%06d", i), Username: fmt.Sprint("u", i), Password: storetest.P("{SSHA}abcdefabcdef"), Name: "N"})
	}
	cfg := testConfig(b, seed.ou)
	cfg.PageSize = 500
	s = open(b, cfg)
	b.Run("raw-paged-search", func(b *testing.B) {
		rows := 0
		for b.Loop() {
			res, err := seed.c.SearchWithPaging(ldap.NewSearchRequest(seed.ou, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
				"(objectClass=inetOrgPerson)", s.attrs, nil), 500)
			if err != nil {
				b.Fatal(err)
			}
			rows += len(res.Entries)
		}
		b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("adapter", func(b *testing.B) { storetest.BenchIterate(b, s) })
}

// TestTLS connects over LDAPS and StartTLS, verifying the server against
// ca_file, and refuses an unverifiable or misnamed server.
func TestTLS(t *testing.T) {
	plain := server(t)
	base := "ou=fixtures," + suffix
	cases := []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"ldaps with ca_file", func(c *Config) { c.URL = slapd.LDAPS; c.CAFile = slapd.CA }, true},
		{"starttls with ca_file", func(c *Config) { c.URL = plain; c.StartTLS = true; c.InsecureAllowPlain = false; c.CAFile = slapd.CA }, true},
		{"ldaps unknown authority", func(c *Config) { c.URL = slapd.LDAPS }, false},
		{"starttls wrong server name", func(c *Config) {
			c.URL = plain
			c.StartTLS = true
			c.CAFile = slapd.CA
			c.ServerName = "ldap.example"
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(t, base)
			cfg.InsecureAllowPlain = false
			c.mod(&cfg)
			s, err := Open(context.Background(), "legacy", cfg, nil)
			if !c.ok {
				if err == nil {
					s.Close()
					t.Fatal("connected without a verifiable certificate")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Get(context.Background(), "5002"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestReconnectMidIteration: the connection dies between pages; the next
// page from the same cursor re-dials and nothing is lost or repeated.
func TestReconnectMidIteration(t *testing.T) {
	s, seed := newOU(t)
	for i := range 20 {
		seed.Seed(t, storetest.Row{ID: fmt.Sprintf("%04d", i), Username: fmt.Sprint("u", i), Password: storetest.P("h"), Name: "N"})
	}
	ctx := context.Background()
	seen := map[string]bool{}
	var cur store.Cursor
	for pages := 0; ; pages++ {
		if pages == 2 {
			s.mu.Lock()
			s.conn.Close() // as if the server or a firewall dropped it
			s.mu.Unlock()
		}
		page, next, err := s.Iterate(ctx, cur, 6)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		for _, a := range page {
			if seen[a.ID] {
				t.Fatalf("%s twice", a.ID)
			}
			seen[a.ID] = true
		}
		if next == "" {
			break
		}
		cur = next
	}
	if len(seen) != 20 {
		t.Fatalf("saw %d", len(seen))
	}
}
