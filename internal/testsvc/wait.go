package testsvc

import (
	"testing"
	"time"
)

// WaitFor waits for an event that has no notification of its own (a Redis
// cluster agreeing on its slots, a worker claiming a batch): it checks cond
// until cond returns nil, backing off from 1 ms to 50 ms between checks. The
// timeout only guards against a hang; the test asserts nothing about time.
// After the timeout t fails with what and cond's last error.
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testsvc: timed out waiting for %s: %v", what, err)
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
}
