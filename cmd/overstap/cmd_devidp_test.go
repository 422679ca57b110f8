package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/testsvc"
)

func TestDevIDPCommand(t *testing.T) {
	port := testsvc.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cfg := fmt.Sprintf(`
listen: 127.0.0.1:%d
issuer_base: %s
clients:
  - id: rp
    profile: acm
    auth_method: client_secret_basic
    secret: insecure-literal:x
    redirect_uris: [http://127.0.0.1:1/cb]
`, port, base)
	path := filepath.Join(t.TempDir(), "devidp.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testsvc.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"devidp", "--config", path}, strings.NewReader(""), &stdout, &stderr)
	}()

	var resp *http.Response
	var err error
	for i := 0; i < 100; i++ {
		resp, err = http.Get(base + "/acm/op/.well-known/openid-configuration")
		if err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v\n%s", err, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err != nil {
		t.Fatalf("dev IdP not reachable: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery status %d", resp.StatusCode)
	}
	out := stdout.String()
	for _, want := range []string{devidp.Banner, base + "/fas/oauth2", base + "/itsme/v2", base + "/acm/op", "minor"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if nrn.Contains(out) || nrn.Contains(stderr.String()) {
		t.Error("a national number in clear on the console")
	}
	if !strings.Contains(stderr.String(), "NOT FOR PRODUCTION") {
		t.Errorf("start-up warning not logged:\n%s", stderr.String())
	}
	if err := stopRun(cancel, done); err != nil {
		t.Fatalf("run: %v", err)
	}
}

// TestDevIDPPrintNumbers: --print-numbers shows the synthetic numbers, for
// vendors seeding a test user store.
func TestDevIDPPrintNumbers(t *testing.T) {
	port := testsvc.FreePort(t)
	path := filepath.Join(t.TempDir(), "devidp.yaml")
	cfg := fmt.Sprintf("listen: 127.0.0.1:%d\nissuer_base: http://127.0.0.1:%d\nprofiles: [fas]\n", port, port)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr testsvc.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"devidp", "--config", path, "--print-numbers"}, strings.NewReader(""), &stdout, &stderr)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "roommate") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	out := stdout.String()
	found := 0
	for _, sp := range nrn.Find(out) {
		if !nrn.IsSynthetic(sp.Number) {
			t.Errorf("printed a non-synthetic number")
		}
		found++
	}
	if found != 7 {
		t.Errorf("found %d numbers, want 7 (every persona but the foreign one):\n%s", found, out)
	}
}

func TestDevIDPCommandErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"no flag", []string{"devidp"}, []string{`"config" not set`}},
		{"missing file", []string{"devidp", "--config", filepath.Join(dir, "nope.yaml")}, []string{"no such file"}},
		{"unknown key", []string{"devidp", "--config", write("a.yaml", "issuer_base: http://127.0.0.1:1\nlisten: 127.0.0.1:1\nport: 3\n")}, []string{"field port not found"}},
		{"all problems at once", []string{"devidp", "--config", write("b.yaml", "issuer_base: https://idp.example.be\nlisten: 0.0.0.0:8081\nlog: {format: xml, level: loud}\n")},
			[]string{"listen: the dev IdP listens on loopback only", "issuer_base: the dev IdP is loopback only",
				`log.format: unknown format "xml"`, `log.level: unknown level "loud"`}},
		{"no listen", []string{"devidp", "--config", write("c.yaml", "issuer_base: http://127.0.0.1:1\n")}, []string{"listen: required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(context.Background(), tc.args, strings.NewReader(""), &out, &errb)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
