package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/internal/testsvc"
)

// logShape checks that line is a log record of format and returns its
// level: JSON objects that start with time, level and msg, or text lines
// "time=… level=… msg=…", as every command writes them.
func logShape(t *testing.T, format, line string) string {
	t.Helper()
	if format == "text" {
		m := regexp.MustCompile(`^time=(\S+) level=(DEBUG|INFO|WARN|ERROR) msg=`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("not a text log line: %q", line)
		}
		if _, err := time.Parse(time.RFC3339Nano, m[1]); err != nil {
			t.Fatalf("time in %q: %v", line, err)
		}
		return m[2]
	}
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON log line: %q", line)
	}
	var vals []string
	for _, key := range []string{"time", "level", "msg"} {
		k, err := dec.Token()
		if err != nil || k != key {
			t.Fatalf("JSON log line %q: key %v where %q belongs", line, k, key)
		}
		var v string
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("JSON log line %q: %s: %v", line, key, err)
		}
		vals = append(vals, v)
	}
	if _, err := time.Parse(time.RFC3339Nano, vals[0]); err != nil {
		t.Fatalf("time in %q: %v", line, err)
	}
	var whole map[string]any
	if err := json.Unmarshal([]byte(line), &whole); err != nil {
		t.Fatalf("JSON log line %q: %v", line, err)
	}
	return vals[1]
}

// startCmd runs the command until t ends and returns its stderr.
func startCmd(t *testing.T, args ...string) *testsvc.SyncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr testsvc.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, strings.NewReader(""), &stdout, &stderr) }()
	t.Cleanup(func() {
		if err := stopRun(cancel, done); err != nil {
			t.Errorf("%s: %v\n%s", args[0], err, stderr.String())
		}
	})
	return &stderr
}

// stopRun cancels a command started with run (done receives what run
// returned) and returns run's error, or an error when it did not stop
// within 10 seconds.
func stopRun(cancel context.CancelFunc, done <-chan error) error {
	cancel()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		return errors.New("did not stop within 10 s")
	}
}

// waitLog waits for a log line containing want and returns every line.
func waitLog(t *testing.T, stderr *testsvc.SyncBuffer, want string) []string {
	t.Helper()
	testsvc.WaitFor(t, "a log line with "+want, 15*time.Second, func() error {
		if !strings.Contains(stderr.String(), want) {
			return fmt.Errorf("stderr so far: %s", stderr.String())
		}
		return nil
	})
	return strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
}

// TestLogFormatEveryCommand: `overstap devidp` and `overstap serve` write
// the same log lines (internal/logging: JSON by default, text on request,
// the same keys in the same order) from their `log` section.
func TestLogFormatEveryCommand(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			logSection := ""
			if format == "text" {
				logSection = "log: {format: text}\n"
			}
			idpPort, port := testsvc.FreePort(t), testsvc.FreePort(t)
			idpBase := fmt.Sprintf("http://127.0.0.1:%d", idpPort)
			idpCfg := writeConfig(t, fmt.Sprintf("%slisten: 127.0.0.1:%d\nissuer_base: %s\nprofiles: [fas]\n", logSection, idpPort, idpBase))
			idpLog := startCmd(t, "devidp", "--config", idpCfg)
			idpLines := waitLog(t, idpLog, "NOT FOR PRODUCTION")

			serveCfg := writeConfig(t, fmt.Sprintf(`%snrn_ref_key: %q
state: {path: %s}
providers:
  - {name: fas, profile: fas, issuer: %s/fas/oauth2, client_id: rp, client_secret: "insecure-literal:x", redirect_url: "http://127.0.0.1:%d/.overstap/callback/fas"}
gateway:
  listen: 127.0.0.1:%d
  public_url: http://127.0.0.1:%d
  dev_insecure_cookies: true
  apps:
    - {name: eloket, upstream: "http://127.0.0.1:1"}
`, logSection, testRefKey, filepath.Join(t.TempDir(), "state.db"), idpBase, port, port, port))
			serveLog := startCmd(t, "serve", "--config", serveCfg)
			serveLines := waitLog(t, serveLog, "gateway: serving")

			levels := map[string]bool{}
			for _, l := range idpLines {
				levels["devidp "+logShape(t, format, l)] = true
			}
			for _, l := range serveLines {
				levels["serve "+logShape(t, format, l)] = true
			}
			// Both wrote lines of their own: the dev IdP's start-up warning,
			// serve's "serving" at info.
			if !levels["devidp WARN"] || !levels["serve INFO"] {
				t.Errorf("levels seen %v\ndevidp:\n%s\nserve:\n%s", levels, idpLog.String(), serveLog.String())
			}
		})
	}
}
