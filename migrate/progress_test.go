package migrate

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

func TestProgressWriter(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	t.Run("json", func(t *testing.T) {
		var b bytes.Buffer
		p := NewProgressWriter(&b, false, now)
		p.SetInterval(0) // rendered by Flush, as the ticker does
		p.Update(ProgressUpdate{Run: "r", Phase: "apply", Done: 0, Total: 1000})
		p.Flush()
		clock = clock.Add(500 * time.Millisecond)
		p.Update(ProgressUpdate{Run: "r", Phase: "apply", Done: 100, Total: 1000}) // superseded before the next tick
		clock = clock.Add(1500 * time.Millisecond)
		p.Update(ProgressUpdate{Run: "r", Phase: "apply", Done: 400, Total: 1000})
		p.Flush()
		p.Flush() // nothing new: nothing written
		p.Update(ProgressUpdate{Run: "r", Phase: "apply", Done: 1000, Total: 1000, Final: true})
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		if len(lines) != 3 {
			t.Fatalf("got %d lines: %q", len(lines), b.String())
		}
		var l progressLine
		if err := json.Unmarshal([]byte(lines[1]), &l); err != nil {
			t.Fatal(err)
		}
		if l.Done != 400 || l.Total != 1000 || l.Rate != 200 || l.ETASeconds != 3 || l.Elapsed != 2 {
			t.Errorf("line %+v", l)
		}
		if err := json.Unmarshal([]byte(lines[2]), &l); err != nil || !l.Final || l.Done != 1000 {
			t.Errorf("final line %s: %v", lines[2], err)
		}
	})
	t.Run("worker batches are summed", func(t *testing.T) {
		var b bytes.Buffer
		p := NewProgressWriter(&b, false, now)
		p.SetInterval(0)
		p.Update(ProgressUpdate{Run: "r", Phase: "worker", Done: 50, Changed: 10})
		p.Update(ProgressUpdate{Run: "r", Phase: "worker", Done: 50, Changed: 5, Conflicts: 1})
		p.Close()
		var l progressLine
		if err := json.Unmarshal(b.Bytes(), &l); err != nil || l.Done != 100 || l.Changed != 15 || l.Conflicts != 1 {
			t.Errorf("%s: %v", b.String(), err)
		}
	})
	t.Run("ticker", func(t *testing.T) {
		var b syncBuf
		p := NewProgressWriter(&b, false, nil)
		p.SetInterval(time.Millisecond)
		p.Update(ProgressUpdate{Run: "r", Phase: "scan", Done: 10, Total: 20})
		for deadline := time.Now().Add(10 * time.Second); b.Len() == 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		p.Close()
		if !strings.Contains(b.String(), `"done":10`) {
			t.Errorf("the ticker wrote %q", b.String())
		}
	})
}

// TestProgressWriterEndsOpenLine: a terminal run that stops before its
// final update leaves no half line for the error message that follows.
func TestProgressWriterEndsOpenLine(t *testing.T) {
	var b bytes.Buffer
	p := NewProgressWriter(&b, true, nil)
	p.SetInterval(0)
	p.Update(ProgressUpdate{Run: "r", Phase: "apply", Done: 10, Total: 20})
	p.Close()
	if out := b.String(); !strings.HasPrefix(out, "\r") || !strings.HasSuffix(out, "\x1b[K\n") {
		t.Errorf("output %q", out)
	}
}

// syncBuf is a bytes.Buffer safe for the ticker's goroutine.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) Len() int                    { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Len() }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestRenderProgressTerminal checks the terminal line with a fake width
// and elapsed time: one line redrawn in place, never wider than the
// terminal, with the bar, percentage, rate and ETA.
func TestRenderProgressTerminal(t *testing.T) {
	u := ProgressUpdate{Run: "r", Phase: "apply", Done: 50, Total: 100, Changed: 7, Conflicts: 1}
	wide := renderProgress(u, time.Second, true, 120)
	for _, want := range []string{"\r", "apply [", "████████████████████····················]", " 50%", "50/100", "50/s", "ETA 1s", "changed 7, conflicts 1", "\x1b[K"} {
		if !strings.Contains(wide, want) {
			t.Errorf("width 120: %q lacks %q", wide, want)
		}
	}
	if strings.HasSuffix(wide, "\n") {
		t.Error("a running line ends with a newline")
	}
	for _, width := range []int{120, 80, 60, 40, 20} {
		s := renderProgress(u, time.Second, true, width)
		line := strings.TrimSuffix(strings.TrimPrefix(s, "\r"), "\x1b[K")
		if n := utf8.RuneCountInString(line); n >= width {
			t.Errorf("width %d: line of %d columns: %q", width, n, line)
		}
	}
	if s := renderProgress(u, time.Second, true, 60); strings.Contains(s, "apply [") {
		t.Errorf("width 60 still draws a bar that cannot fit: %q", s)
	}
	u.Done, u.Final = 100, true
	if s := renderProgress(u, 2*time.Second, true, 80); !strings.HasSuffix(s, "\x1b[K\n") || !strings.Contains(s, "100%") || strings.Contains(s, "ETA") {
		t.Errorf("final line %q", s)
	}
	u.Done, u.Final = 95, false
	if s := renderProgress(u, 2*time.Second, true, 120); !strings.Contains(s, "ETA <1s") {
		t.Errorf("ETA under a second: %q", s)
	}
	u.Done, u.Total = 100, 7300
	if s := renderProgress(u, 2*time.Second, true, 120); !strings.Contains(s, "ETA 2m24s") {
		t.Errorf("ETA: %q", s)
	}
	if s := renderProgress(ProgressUpdate{Phase: KindScan, Done: 5, Total: 10}, time.Second, true, 120); strings.Contains(s, "changed") {
		t.Errorf("scan line speaks of changes: %q", s)
	}
	u.Done, u.Final = 100, true
	u.Total = 0 // unknown total: no percentage, an empty bar
	if s := renderProgress(u, 2*time.Second, true, 100); strings.Contains(s, "%") || !strings.Contains(s, "100 accounts, 50/s") {
		t.Errorf("unknown total %q", s)
	}
}
