package testsvc

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Proc is a process a test started with Start.
type Proc struct {
	Name string
	Cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
}

// Start starts cmd with its output in logFile (a file, not a pipe: child
// processes such as nginx workers inherit it), stops it (SIGTERM, then
// SIGKILL after 10 s) when t ends, and waits up to limit until ready
// answers: an http(s) URL with 200, or "tcp://host:port" accepting
// connections. It fails t, with what the process wrote, when the process
// exits or is not ready in time.
func Start(t testing.TB, name string, cmd *exec.Cmd, logFile, ready string, limit time.Duration) *Proc {
	t.Helper()
	out, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("testsvc: start %s: %v", name, err)
	}
	p := &Proc{Name: name, Cmd: cmd, log: logFile, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		if p.Exited() {
			t.Fatalf("testsvc: %s exited: %s", name, p.Output())
		}
		if addr, ok := strings.CutPrefix(ready, "tcp://"); ok {
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.Close()
				return p
			}
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ready, nil)
			resp, err := client.Do(req)
			cancel()
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return p
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("testsvc: %s not ready after %s: %s", name, limit, p.Output())
	return nil
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Kill9 kills the process with SIGKILL, as a crash would.
func (p *Proc) Kill9(t testing.TB) {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("testsvc: kill -9 %s: %v", p.Name, err)
	}
}

// Output is what the process wrote so far.
func (p *Proc) Output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}
