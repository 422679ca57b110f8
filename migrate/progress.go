package migrate

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// ProgressUpdate is one progress report of a run.
type ProgressUpdate struct {
	Run   string `json:"run"`
	Phase string `json:"phase"` // scan, apply, rollback, worker
	// Done counts accounts processed so far (this process, this run).
	Done int64 `json:"done"`
	// Total is the expected number of accounts, or 0 when unknown.
	Total     int64 `json:"total,omitempty"`
	Changed   int64 `json:"changed"`
	Conflicts int64 `json:"conflicts"`
	// Final is set on the last update of a run.
	Final bool `json:"final,omitempty"`
}

// Progress receives updates; it is called from one goroutine at a time.
type Progress interface {
	Update(ProgressUpdate)
}

type nopProgress struct{}

func (nopProgress) Update(ProgressUpdate) {}

// ProgressWriter renders updates: a bar with rate and ETA on a terminal,
// JSON lines otherwise (at most one per Interval, plus the final one).
type ProgressWriter struct {
	w        io.Writer
	tty      bool
	now      func() time.Time
	interval time.Duration
	start    time.Time
	last     time.Time
	// worker updates are per batch; they are summed here.
	sum ProgressUpdate
}

// NewProgressWriter returns a renderer to w; now nil means time.Now.
func NewProgressWriter(w io.Writer, tty bool, now func() time.Time) *ProgressWriter {
	if now == nil {
		now = time.Now
	}
	iv := time.Second
	if tty {
		iv = 200 * time.Millisecond
	}
	return &ProgressWriter{w: w, tty: tty, now: now, interval: iv}
}

// progressLine is one JSON progress line.
type progressLine struct {
	ProgressUpdate
	Rate       float64 `json:"rate_per_s"`
	ETASeconds float64 `json:"eta_s,omitempty"`
	Elapsed    float64 `json:"elapsed_s"`
}

// Update renders u when due.
func (p *ProgressWriter) Update(u ProgressUpdate) {
	now := p.now()
	if p.start.IsZero() {
		p.start = now
	}
	if u.Phase == "worker" && !u.Final {
		p.sum.Run, p.sum.Phase = u.Run, u.Phase
		p.sum.Done += u.Done
		p.sum.Changed += u.Changed
		p.sum.Conflicts += u.Conflicts
		u = p.sum
	}
	if !u.Final && now.Sub(p.last) < p.interval {
		return
	}
	p.last = now
	el := now.Sub(p.start).Seconds()
	line := progressLine{ProgressUpdate: u, Elapsed: round1(el)}
	if el > 0 {
		line.Rate = round1(float64(u.Done) / el)
	}
	if u.Total > 0 && line.Rate > 0 && u.Done < u.Total {
		line.ETASeconds = round1(float64(u.Total-u.Done) / line.Rate)
	}
	if !p.tty {
		b, _ := json.Marshal(line)
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	const width = 30
	bar := strings.Repeat("·", width)
	pct := ""
	if u.Total > 0 {
		f := min(1, float64(u.Done)/float64(u.Total))
		n := int(f * width)
		bar = strings.Repeat("█", n) + strings.Repeat("·", width-n)
		pct = fmt.Sprintf(" %3.0f%%", f*100)
	}
	eta := ""
	if line.ETASeconds > 0 {
		eta = " ETA " + (time.Duration(line.ETASeconds) * time.Second).String()
	}
	end := ""
	if u.Final {
		end = "\n"
	}
	fmt.Fprintf(p.w, "\r%s [%s]%s %d", u.Phase, bar, pct, u.Done)
	if u.Total > 0 {
		fmt.Fprintf(p.w, "/%d", u.Total)
	}
	fmt.Fprintf(p.w, " accounts, %.0f/s, changed %d, conflicts %d%s\x1b[K%s", line.Rate, u.Changed, u.Conflicts, eta, end)
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
