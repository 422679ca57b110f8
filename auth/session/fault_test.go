package session

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/testsvc"
)

// ownRedis runs a redis-server of the test's own on a free loopback port;
// stop ends it. Only this process is ever stopped.
type ownRedis struct {
	bin   string
	port  int
	extra []string // more arguments (cluster, sentinel)
	dir   string   // working directory (cluster and sentinel write files)
	cmd   *exec.Cmd
}

func startOwnRedis(t *testing.T, bin string, port int, extra ...string) *ownRedis {
	t.Helper()
	r := &ownRedis{bin: bin, port: port, extra: extra, dir: t.TempDir()}
	r.start(t)
	t.Cleanup(r.stop)
	return r
}

func (r *ownRedis) start(t *testing.T) {
	t.Helper()
	args := append(append([]string(nil), r.extra...), "--port", fmt.Sprint(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "yes", "--loglevel", "warning")
	r.cmd = exec.Command(r.bin, args...)
	r.cmd.Dir = r.dir
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", r.port)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not come up: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *ownRedis) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGCONT) // in case it was paused
	r.cmd.Process.Kill()
	r.cmd.Wait()
	r.cmd = nil
}

// TestRedisUnavailable stops the store's Redis mid-test: every operation
// reports ErrUnavailable (never ErrNotFound, which would read as "logged
// out", and never a panic); a paused Redis times out into the same error;
// once Redis is back the same store works again without a restart.
func TestRedisUnavailable(t *testing.T) {
	bin := testsvc.LookPath(t, []string{"/usr/bin/redis-server", "/usr/local/bin/redis-server"}, "redis-server")
	port := testsvc.FreePort(t)
	srv := startOwnRedis(t, bin, port)
	ctx := context.Background()
	st, err := Open(Config{
		Store: "redis",
		Keys:  []config.Secret{testKey(1)},
		Redis: RedisConfig{
			URL:         fmt.Sprintf("redis://127.0.0.1:%d/0", port),
			DialTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := testSession(t, 1)
	id, err := st.Create(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(ctx, id); err != nil {
		t.Fatal(err)
	}

	ops := map[string]func() error{
		"Create":        func() error { _, err := st.Create(ctx, testSession(t, 2)); return err },
		"Load":          func() error { _, err := st.Load(ctx, id); return err },
		"IDToken":       func() error { _, err := st.IDToken(ctx, id); return err },
		"Delete":        func() error { return st.Delete(ctx, id) },
		"RevokePerson":  func() error { _, err := st.RevokePerson(ctx, s.NRNRef); return err },
		"RevokeSID":     func() error { _, err := st.RevokeSID(ctx, s.Issuer, s.SID); return err },
		"RevokeSubject": func() error { _, err := st.RevokeSubject(ctx, s.Issuer, s.Subject); return err },
		"RevokeAll":     func() error { _, err := st.RevokeAll(ctx); return err },
		"Ping":          func() error { return st.Ping(ctx) },
	}
	allUnavailable := func(t *testing.T) {
		for name, op := range ops {
			t.Run(name, func(t *testing.T) {
				start := time.Now()
				err := op()
				if !errors.Is(err, ErrUnavailable) {
					t.Fatalf("%s: %v, want ErrUnavailable", name, err)
				}
				if errors.Is(err, ErrNotFound) {
					t.Fatalf("%s: also ErrNotFound: %v", name, err)
				}
				if strings.Contains(err.Error(), id) || strings.Contains(err.Error(), s.NRN.Digits()) {
					t.Fatalf("%s: the error shows the session id or the national number: %v", name, err)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("%s took %v to fail", name, d)
				}
			})
		}
	}

	t.Run("paused", func(t *testing.T) {
		srv.cmd.Process.Signal(syscall.SIGSTOP)
		defer srv.cmd.Process.Signal(syscall.SIGCONT)
		if _, err := st.Load(ctx, id); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Load on a paused Redis: %v, want ErrUnavailable", err)
		}
	})
	t.Run("resumed", func(t *testing.T) {
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, err := st.Load(ctx, id)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("Load after resume: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	srv.stop()
	t.Run("stopped", allUnavailable)

	srv.start(t)
	t.Run("restarted", func(t *testing.T) {
		if err := st.Ping(ctx); err != nil {
			t.Fatalf("Ping after restart: %v", err)
		}
		// Without persistence the old session is gone: that is "not found",
		// no longer "unavailable".
		if _, err := st.Load(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Load of a session lost with the restart: %v", err)
		}
		id2, err := st.Create(ctx, testSession(t, 3))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Load(ctx, id2); err != nil {
			t.Fatal(err)
		}
	})
}
