package testsvc

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Child re-runs the test binary as a separate OS process that runs only
// the test named helper (a "TestHelper..." function that acts when env is
// set), with env added to its environment, and waits until it prints a
// line containing ready. Closing its stdin asks it to stop; it is killed
// when it has not stopped 10 s after t ends. It fails t when the process
// exits or stays silent for 30 s.
func Child(t testing.TB, helper string, env []string, ready string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+helper+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
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
		for sc.Scan() {
			if strings.Contains(sc.Text(), ready) {
				up <- true
			}
		}
		close(up)
	}()
	select {
	case ok := <-up:
		if !ok {
			t.Fatalf("testsvc: child process %s exited before it was ready", helper)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("testsvc: child process %s did not get ready in 30 s", helper)
	}
	return cmd
}
