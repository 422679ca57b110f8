package route

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/identity"
)

func testTable(t *testing.T) *Table {
	t.Helper()
	tb, err := New([]App{
		{
			Name:  "eloket",
			Hosts: []string{"eloket.gemeente.be"},
			Rules: []Rule{
				{Path: "/static/**", Class: Public},
				{Path: "/login", Methods: []string{"POST"}, Class: LegacyLogin},
				{Path: "/login", Class: Blocked},
				{Path: "/admin/**", Class: Blocked},
				{Path: "/users/*/password", Class: Blocked},
				{Path: "/bank", Class: StepUp, MinLevel: "substantial", MaxAuthAge: 10 * time.Minute},
				{Path: "/bank", Methods: []string{"POST"}, Class: StepUp, MinLevel: "high", MaxAuthAge: time.Minute},
				{Path: "/family/add", Class: FamilyLink},
			},
		},
		{Name: "other", Hosts: []string{"*.example.be"}, PathPrefix: "/app", Default: Public},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestMatchClasses(t *testing.T) {
	tb := testTable(t)
	cases := []struct {
		host, method, path string
		app                string
		class              Class
		level              identity.Level
		age                time.Duration
	}{
		{"eloket.gemeente.be", "GET", "/", "eloket", Protected, identity.LevelLow, 0},
		{"ELOKET.gemeente.be:443", "GET", "/static/a.css", "eloket", Public, 0, 0},
		{"eloket.gemeente.be", "GET", "/static", "eloket", Public, 0, 0},
		{"eloket.gemeente.be", "POST", "/login", "eloket", Blocked, 0, 0},
		{"eloket.gemeente.be", "GET", "/bank", "eloket", StepUp, identity.LevelSubstantial, 10 * time.Minute},
		{"eloket.gemeente.be", "POST", "/bank", "eloket", StepUp, identity.LevelHigh, time.Minute},
		{"eloket.gemeente.be", "GET", "/family/add", "eloket", FamilyLink, identity.LevelLow, 0},
		{"eloket.gemeente.be", "GET", "/users/42/password", "eloket", Blocked, 0, 0},
		{"eloket.gemeente.be", "GET", "/users/42/profile", "eloket", Protected, identity.LevelLow, 0},
		{"x.example.be", "GET", "/app/x", "other", Public, 0, 0},
		{"x.example.be", "GET", "/app", "other", Public, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.method+c.path, func(t *testing.T) {
			d, err := tb.Match(c.host, c.method, c.path)
			if err != nil {
				t.Fatal(err)
			}
			if d.AppName != c.app || d.Class != c.class || d.MinLevel != c.level || d.MaxAuthAge != c.age {
				t.Fatalf("got %+v", d)
			}
		})
	}
	for _, c := range []struct{ host, path string }{
		{"evil.be", "/"}, {"x.example.be", "/apple"}, {"example.be", "/app"},
	} {
		t.Run("noapp"+c.host+c.path, func(t *testing.T) {
			if _, err := tb.Match(c.host, "GET", c.path); !errors.Is(err, ErrNoApp) {
				t.Fatalf("want ErrNoApp, got %v", err)
			}
		})
	}
}

// TestBlockedNeverBypassed is the table of path tricks: each either is
// refused as ambiguous or still lands on the blocked rule.
func TestBlockedNeverBypassed(t *testing.T) {
	tb := testTable(t)
	tricks := []string{
		"/login", "/LOGIN", "/Login", "/login/", "/./login", "/%6cogin", "/%6Cogin", "/%4cOGIN",
		"/login;jsessionid=x", "/login;", "/LOGIN;a=b/", "//login", "///login", "/a/../login",
		"/static/../login", "/static/..;/login", "/static/%2e%2e/login", "/static/%2E%2E/login",
		"/static/.%2e/login", "/%2e/login", "/static%2f..%2flogin", "/static/..%2flogin",
		"/%252e%252e/login", "/static/%252e%252e/login", "/%256cogin", "/static\\..\\login",
		"/login%00", "/login%00.css", "/static/%00/../../login", "/login.", "/login..",
		"/login%20", "/login.%20", "/login%2e", "/login%3bx", "/static/%c0%ae%c0%ae/login",
		"/static/%c0%af../login", "/login%ff", "/%", "/%2", "/%zz/login", "/login%",
		"/login\t", "/login\x00", "/login#frag", "/login?x", "/admin", "/ADMIN/users",
		"/admin/", "/admin/./x", "/x/../admin/y", "/Admin;x=1/y", "/%61dmin", "/admin%2fx",
		"/users/1/password", "/users//1/password", "/USERS/1/PASSWORD/", "/users/1/password;x",
		"/users/1/./password", "/users/2/../1/password", "/users/%31/password",
		"/static/../../login", "/../login", "/login/.", "/login/x/..",
	}
	for _, p := range tricks {
		for _, m := range []string{"GET", "POST", "get", "HEAD", "PUT"} {
			t.Run(m+" "+p, func(t *testing.T) {
				d, err := tb.Match("eloket.gemeente.be", m, p)
				if errors.Is(err, ErrAmbiguousPath) {
					return
				}
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if d.Class != Blocked && d.Class != LegacyLogin {
					t.Fatalf("%s %q bypassed the rule: class %s (match form %q)", m, p, d.Class, d.Path.Match)
				}
			})
		}
	}
}

func TestNormalize(t *testing.T) {
	cases := []struct {
		in, clean, match string
		ambiguous        bool
	}{
		{"/", "/", "/", false},
		{"/a/b/", "/a/b/", "/a/b", false},
		{"/A/./B//c/../d", "/A/B/d", "/a/b/d", true},
		{"/%6cogin", "/login", "/login", false},
		{"/caf%C3%A9", "/caf%C3%A9", "/café", false},
		{"/a%2eb", "/a.b", "/a.b", false},
		{"/login;jsessionid=x", "/login", "/login", true},
		{"/a%20b", "/a%20b", "/a b", false},
		{"/x.", "/x", "/x", true},
		{"/x%20", "/x", "/x", true},
		{"/x.%20.", "/x", "/x", true},
		// Tomcat cuts ";params" before it resolves dots: "..;" is "..".
		{"/x/..;/family/3/password", "/family/3/password", "/family/3/password", true},
		{"/family..;/3/password", "/family/3/password", "/family/3/password", true},
		{"/;x/a/..", "/", "/", true},
		{"/family;x=1/3/password", "/family/3/password", "/family/3/password", true},
		{"/family./3/password", "/family/3/password", "/family/3/password", true},
		{"/family%20/3/password", "/family/3/password", "/family/3/password", true},
		{"/family;jsessionid=0/3/password", "/family/3/password", "/family/3/password", true},
		{"/%2e%2e;/x", "", "", false}, // ".." above the root: refused below
		{"/a/%2e%2e/b", "/b", "/b", true},
		{"//a", "/a", "/a", true},
		{"/a/", "/a/", "/a", false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			p, err := Normalize(c.in)
			if c.clean == "" {
				if !errors.Is(err, ErrAmbiguousPath) {
					t.Fatalf("want ErrAmbiguousPath, got %+v %v", p, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Clean != c.clean || p.Match != c.match || p.Ambiguous != c.ambiguous {
				t.Fatalf("got %+v", p)
			}
		})
	}
	bad := []string{"", "x", "/a%2fb", "/a%2Fb", "/%5c", "/a\\b", "/%00", "/%25", "/%252f", "/%zz",
		"/%", "/%a", "/%c0%af", "/%ff", "/..", "/a/../..", "/...", "/a%3bb", "/a b", "/\x80",
		"/%c0%ae%c0%ae/x", "/%e0%80%af", "/%C5%BFtatic", "/%E2%84%AAey", "/%EF%BD%86amily", "/%C4%B1d", "/a/.%20/b",
		"/" + strings.Repeat("a", MaxPathLen)}
	for _, b := range bad {
		t.Run("bad "+b, func(t *testing.T) {
			if _, err := Normalize(b); !errors.Is(err, ErrAmbiguousPath) {
				t.Fatalf("want ErrAmbiguousPath, got %v", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	_, err := New([]App{{
		Name:  "",
		Hosts: []string{"https://x"},
		Rules: []Rule{
			{Path: "login", Class: Blocked},
			{Path: "/a/**/b", Class: "nope"},
			{Path: "/x", Class: StepUp, MinLevel: "ultra"},
			{Path: "/y", Class: Protected, MinLevel: "high"},
			{Path: "/z%2f", Class: Public, Methods: []string{"get"}},
		},
	}})
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"apps[0].name", "hosts[0]", "rules[0].path", "rules[1].path", "rules[1].class",
		"rules[2].min_level", "rules[3].min_level", "rules[4].path", "rules[4].methods[0]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	if _, err := New(nil); err == nil {
		t.Fatal("no apps must fail")
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"/", "/a/../b", "/%6cogin", "/login;x", "/%c0%af", "//x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Normalize(s)
		slow, serr := normalizeSlow(s)
		if !precheck(s) {
			slow, serr = Path{}, ErrAmbiguousPath
		}
		if (err == nil) != (serr == nil) || p != slow {
			t.Fatalf("fast path differs: %v %v", err, serr)
		}
		if err != nil {
			return
		}
		// The clean form is a fixed point and matches the same way.
		if len(p.Clean) <= MaxPathLen {
			q, err := Normalize(p.Clean)
			if err != nil || q.Match != p.Match {
				t.Fatalf("clean form not a fixed point: %v", err)
			}
		}
		if strings.Contains(p.Match, "//") || strings.Contains(p.Match, "/./") || strings.Contains(p.Match, "/../") {
			t.Fatal("match form not clean")
		}
	})
}
