package opstest

import (
	"encoding/json"
	"io/fs"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/overstap/overstap/internal/testsvc"
)

// TestAlertRules: configs/monitoring/overstap-alerts.yaml passes
// `promtool check rules`, and a broken expression would not.
func TestAlertRules(t *testing.T) {
	promtool := testsvc.LookPath(t, []string{"/usr/bin/promtool", "/usr/local/bin/promtool"}, "prometheus")
	out, err := exec.Command(promtool, "check", "rules", "../../configs/monitoring/overstap-alerts.yaml").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS: 8 rules found") {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, bad, strings.Replace(repoFile(t, "configs/monitoring/overstap-alerts.yaml"), "== 0", "== = 0", 1))
	if out, err := exec.Command(promtool, "check", "rules", bad).CombinedOutput(); err == nil {
		t.Fatalf("promtool accepted a broken expression:\n%s", out)
	}
}

// metricRef finds metric names in PromQL.
var metricRef = regexp.MustCompile(`\b(overstap_[a-z_]+)`)

// declared are the metric names the code registers: every Name of a
// prometheus Opts literal in the module's non-test Go files.
func declared(t *testing.T) []string {
	t.Helper()
	decl := regexp.MustCompile(`Name:\s+"(overstap_[a-z_]+)"`)
	var names []string
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "../.." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := readFile(path)
		if err != nil {
			return err
		}
		for _, m := range decl.FindAllStringSubmatch(b, -1) {
			names = append(names, m[1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// TestMonitoringMetricsExist: every metric the dashboard and the alert
// rules query is one the code registers (histogram series by their base
// name), and every documented group of the issue has a panel.
func TestMonitoringMetricsExist(t *testing.T) {
	names := declared(t)
	if len(names) < 8 {
		t.Fatalf("found only %v registered", names)
	}
	var exprs []string
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal([]byte(repoFile(t, "configs/monitoring/overstap-dashboard.json")), &dash); err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, p := range dash.Panels {
		titles = append(titles, p.Title)
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	exprs = append(exprs, repoFile(t, "configs/monitoring/overstap-alerts.yaml"))
	used := map[string]bool{}
	for _, e := range exprs {
		for _, m := range metricRef.FindAllString(e, -1) {
			base := m
			for _, suf := range []string{"_bucket", "_count", "_sum"} {
				if b, ok := strings.CutSuffix(m, suf); ok && slices.Contains(names, b) {
					base = b
				}
			}
			used[base] = true
			if !slices.Contains(names, base) {
				t.Errorf("%s is queried but not registered by the code (registered: %v)", m, names)
			}
		}
	}
	for _, want := range []string{"overstap_gateway_logins_total", "overstap_audit_events_total", "overstap_gateway_revoked_sessions_total",
		"overstap_gateway_requests_total", "overstap_gateway_request_duration_seconds", "overstap_gateway_check_up",
		"overstap_session_cache_hits_total", "overstap_gateway_session_store_seconds"} {
		if !used[want] {
			t.Errorf("%s is not on the dashboard or in the rules", want)
		}
	}
	all := strings.ToLower(strings.Join(titles, "|"))
	for _, want := range []string{"logins by outcome", "refusals", "links and revocations", "bans", "upstream errors", "latency", "redis health", "cache hit rate"} {
		if !strings.Contains(all, want) {
			t.Errorf("no dashboard panel for %q (panels: %s)", want, all)
		}
	}
}
