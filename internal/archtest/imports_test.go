package archtest

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/overstap/overstap/"

// rule forbids the packages under one of From (module-relative prefixes)
// to depend, directly or not, on a package under one of To (module-
// relative prefixes, or standard-library paths written with a leading
// "std:"). Allow lists exceptions among To.
type rule struct {
	name  string
	from  []string
	to    []string
	allow []string
}

// rules are the forbidden directions of docs/architecture.md.
var rules = []rule{
	{name: "auth/nrn is pure: it imports nothing of the project",
		from: []string{"auth/nrn"}, to: []string{""}, allow: []string{"auth/nrn"}},
	{name: "the identity value imports nothing of the project but auth/nrn",
		from: []string{"auth/identity"}, to: []string{""}, allow: []string{"auth/identity", "auth/nrn"}},
	{name: "the audit contract imports nothing of the project",
		from: []string{"internal/audit"}, to: []string{""}, allow: []string{"internal/audit"}},
	{name: "adapters never import their consumers",
		from: []string{"adapters/"},
		to: []string{"auth/gateway", "auth/family", "auth/legacylogin", "auth/link", "auth/oidc", "auth/session",
			"auth/devidp", "migrate", "internal/server", "internal/demo", "cmd/"}},
	{name: "migrate/hash imports no store, engine or HTTP code",
		from:  []string{"migrate/hash"},
		to:    []string{"adapters/", "migrate", "auth/", "internal/", "std:net/http", "std:database/sql"},
		allow: []string{"migrate/hash", "auth/nrn"}},
	{name: "hooks never import gateway internals (only the hook contract, pages and route)",
		from:  []string{"auth/family", "auth/legacylogin"},
		to:    []string{"auth/gateway", "internal/server", "internal/demo"},
		allow: []string{"auth/gateway/hook", "auth/gateway/pages", "auth/gateway/route"}},
	{name: "the gateway never imports a hook, the assembly or migrate",
		from: []string{"auth/gateway"},
		to:   []string{"auth/family", "auth/legacylogin", "internal/server", "internal/demo", "migrate"}},
	{name: "the hook contract is below the gateway",
		from: []string{"auth/gateway/hook", "auth/gateway/pages", "auth/gateway/route"},
		to:   []string{"auth/oidc", "auth/session", "auth/link", "adapters/"}},
	{name: "the gateway's parts (relying party, sessions, linking) never import the gateway (linking may use the hook contract's account errors)",
		from:  []string{"auth/oidc", "auth/session", "auth/link"},
		to:    []string{"auth/gateway", "auth/family", "auth/legacylogin", "internal/server", "internal/demo"},
		allow: []string{"auth/gateway/hook", "auth/gateway/pages", "auth/gateway/route"}},
}

// under reports whether pkg (module-relative) is prefix or below it; ""
// matches every package of the module.
func under(pkg, prefix string) bool {
	if prefix == "" || strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(pkg, prefix)
	}
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

// deps returns, per package of the module, its dependencies: module
// packages module-relative, standard-library ones as "std:<path>".
func deps(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, module+"...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	m := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		pkg := strings.TrimPrefix(f[0], module)
		for _, d := range f[1:] {
			switch {
			case strings.HasPrefix(d, module):
				m[pkg] = append(m[pkg], strings.TrimPrefix(d, module))
			case !strings.Contains(strings.SplitN(d, "/", 2)[0], "."):
				m[pkg] = append(m[pkg], "std:"+d)
			}
		}
		if _, ok := m[pkg]; !ok {
			m[pkg] = nil
		}
	}
	return m
}

// violations lists "pkg → dep (rule)" for every forbidden dependency.
func violations(all map[string][]string) []string {
	var out []string
	for _, r := range rules {
		for pkg, ds := range all {
			if !anyUnder(pkg, r.from) {
				continue
			}
			for _, d := range ds {
				if anyUnder(d, r.to) && !anyUnder(d, r.allow) && !(strings.HasPrefix(d, "std:") && !hasStd(r.to)) {
					out = append(out, pkg+" → "+d+"  ("+r.name+")")
				}
			}
		}
	}
	return out
}

func hasStd(to []string) bool {
	for _, p := range to {
		if strings.HasPrefix(p, "std:") {
			return true
		}
	}
	return false
}

func anyUnder(pkg string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(p, "std:") {
			if pkg == p || strings.HasPrefix(pkg, p+"/") {
				return true
			}
			continue
		}
		if !strings.HasPrefix(pkg, "std:") && under(pkg, p) {
			return true
		}
	}
	return false
}

// TestImportRules fails on any forbidden import direction (the list and
// the reasons are in docs/architecture.md).
func TestImportRules(t *testing.T) {
	all := deps(t)
	for _, must := range []string{"auth/nrn", "auth/identity", "migrate/hash", "auth/family", "auth/legacylogin", "auth/gateway", "adapters/upstream"} {
		if _, ok := all[must]; !ok {
			t.Fatalf("go list did not list %s", must)
		}
	}
	for _, v := range violations(all) {
		t.Error("forbidden import: " + v)
	}
}

// TestRulesCatchAViolation: the rules are not vacuous; made-up dependency
// lists that break each rule are caught.
func TestRulesCatchAViolation(t *testing.T) {
	for _, tc := range []struct{ pkg, dep string }{
		{"auth/nrn", "internal/config"},
		{"auth/identity", "auth/gateway"},
		{"adapters/upstream", "auth/gateway"},
		{"adapters/store/sqlstore", "migrate"},
		{"migrate/hash", "adapters/store"},
		{"migrate/hash", "std:net/http"},
		{"auth/family", "auth/gateway"},
		{"auth/legacylogin", "auth/gateway/integration"},
		{"auth/session", "auth/gateway"},
		{"auth/link", "auth/family"},
		{"auth/gateway/hook", "auth/link"},
		{"auth/gateway", "auth/family"},
		{"auth/gateway/route", "auth/oidc"},
	} {
		if v := violations(map[string][]string{tc.pkg: {tc.dep}}); len(v) == 0 {
			t.Errorf("%s → %s not caught", tc.pkg, tc.dep)
		}
	}
	if v := violations(map[string][]string{"auth/family": {"auth/gateway/hook", "std:net/http"}}); len(v) != 0 {
		t.Errorf("allowed imports flagged: %v", v)
	}
}
