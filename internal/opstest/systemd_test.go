package opstest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/overstap/overstap/internal/testsvc"
)

// repoFile reads a file of the repository.
func repoFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSystemdUnit: configs/systemd/overstap.service passes
// `systemd-analyze verify` without a single complaint, carries the
// hardening the deployment promises, and its `systemd-analyze security`
// exposure is "OK" or better and the number docs/operations.md states.
func TestSystemdUnit(t *testing.T) {
	analyze := testsvc.LookPath(t, []string{"/usr/bin/systemd-analyze", "/bin/systemd-analyze"}, "systemd")
	unit := repoFile(t, "configs/systemd/overstap.service")
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "\nCapabilityBoundingSet=\n",
		"PrivateTmp=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallFilter=@system-service",
		"ExecStartPre=/usr/local/bin/overstap serve --check --config /etc/overstap/gateway.yaml"} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	// verify wants the ExecStart binary to exist: point it at any
	// executable of this machine (the unit's own path is not installed here).
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "overstap.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/overstap", exe)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// A broken directive is reported (the check is not vacuous).
	bad := filepath.Join(dir, "bad.service")
	os.WriteFile(bad, []byte(strings.ReplaceAll(strings.ReplaceAll(unit, "/usr/local/bin/overstap", exe), "ProtectSystem=strict", "ProtectSystem=bogus")), 0o644)
	if out, _ := exec.Command(analyze, "verify", bad).CombinedOutput(); !strings.Contains(string(out), "ProtectSystem") && !strings.Contains(string(out), "protect system") {
		t.Errorf("verify did not notice a bad directive: %s", out)
	}

	// --offline analyses the file without a running systemd (PID 1 here
	// is not systemd).
	out, err = exec.Command(analyze, "security", "--offline=true", "--no-pager", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for overstap\.service: ([0-9.]+) (\S+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	score, _ := strconv.ParseFloat(m[1], 64)
	if score > 2.0 || m[2] != "OK" {
		t.Errorf("exposure %s %s; want OK (at most 2.0)", m[1], m[2])
	}
	doc := repoFile(t, "docs/operations.md")
	if !strings.Contains(doc, "exposure level "+m[1]+" OK") {
		t.Errorf("docs/operations.md does not state the exposure level %s OK", m[1])
	}
	t.Logf("systemd-analyze security: %s %s", m[1], m[2])
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}
