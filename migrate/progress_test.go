package migrate

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestProgressWriter(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	t.Run("json", func(t *testing.T) {
		var b bytes.Buffer
		p := NewProgressWriter(&b, false, now)
		p.Update(ProgressUpdate{Run: "r", Phase: "apply", Done: 0, Total: 1000})
		clock = clock.Add(500 * time.Millisecond)
		p.Update(ProgressUpdate{Run: "r", Phase: "apply", Done: 100, Total: 1000}) // throttled
		clock = clock.Add(1500 * time.Millisecond)
		p.Update(ProgressUpdate{Run: "r", Phase: "apply", Done: 400, Total: 1000})
		p.Update(ProgressUpdate{Run: "r", Phase: "apply", Done: 1000, Total: 1000, Final: true})
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		if len(lines) != 3 {
			t.Fatalf("got %d lines: %q", len(lines), b.String())
		}
		var l progressLine
		if err := json.Unmarshal([]byte(lines[1]), &l); err != nil {
			t.Fatal(err)
		}
		if l.Done != 400 || l.Rate != 200 || l.ETASeconds != 3 {
			t.Errorf("line %+v", l)
		}
	})
	t.Run("tty", func(t *testing.T) {
		var b bytes.Buffer
		p := NewProgressWriter(&b, true, now)
		p.Update(ProgressUpdate{Run: "r", Phase: "apply", Done: 0, Total: 100})
		clock = clock.Add(time.Second)
		p.Update(ProgressUpdate{Run: "r", Phase: "apply", Done: 50, Total: 100})
		out := b.String()
		for _, want := range []string{"\r", " 50%", "50/100", "50/s", "ETA 1s"} {
			if !strings.Contains(out, want) {
				t.Errorf("output %q lacks %q", out, want)
			}
		}
	})
}
