package testsvc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// ErrChildPortTaken is returned by StartChild when the child process
// stopped because one of its ports was taken by another process between
// FreePort and its listen: the caller may pick new ports and try again.
var ErrChildPortTaken = errors.New("testsvc: child process lost its port")

// Child re-runs the test binary as a separate OS process that runs only
// the test named helper (a "TestHelper..." function that acts when env is
// set), with env added to its environment, and waits until it prints a
// line containing ready. Closing its stdin asks it to stop; it is killed
// when it has not stopped 10 s after t ends. It fails t when the process
// exits or stays silent for 30 s, with what the child printed.
func Child(t testing.TB, helper string, env []string, ready string) *exec.Cmd {
	t.Helper()
	cmd, err := StartChild(t, helper, env, ready)
	if err != nil {
		t.Fatal(err)
	}
	return cmd
}

// StartChild is Child that returns the failure instead of failing t, so a
// caller can retry a child that lost its port (ErrChildPortTaken).
func StartChild(t testing.TB, helper string, env []string, ready string) (*exec.Cmd, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+helper+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var out []string // what the child printed, for the failure message
	stderr := &lineSink{add: func(s string) { mu.Lock(); out = append(out, s); mu.Unlock() }, echo: os.Stderr}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	up := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			out = append(out, line)
			if len(out) > 200 {
				out = out[len(out)-200:]
			}
			mu.Unlock()
			if !sent && strings.Contains(line, ready) {
				up <- true
				sent = true
			}
		}
		if !sent {
			close(up)
		}
	}()
	printed := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(out, "\n")
	}
	select {
	case ok := <-up:
		if !ok {
			text := printed()
			if strings.Contains(text, "address already in use") {
				return nil, fmt.Errorf("%w: %s", ErrChildPortTaken, text)
			}
			return nil, fmt.Errorf("testsvc: child process %s exited before it was ready; it printed:\n%s", helper, text)
		}
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("testsvc: child process %s did not get ready in 30 s; it printed:\n%s", helper, printed())
	}
	return cmd, nil
}

// ChildReady is the child's side of Child: it prints ready, the line the
// parent waits for, and returns ctx ended when the parent closes the
// child's stdin (asking it to stop).
func ChildReady(ctx context.Context, ready string) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	fmt.Println(ready)
	go func() {
		bufio.NewReader(os.Stdin).ReadString('\n')
		cancel()
	}()
	return ctx
}

// lineSink passes a child's stderr on and keeps a copy of it.
type lineSink struct {
	add  func(string)
	echo *os.File
}

func (s *lineSink) Write(p []byte) (int, error) {
	s.add(strings.TrimRight(string(p), "\n"))
	return s.echo.Write(p)
}
