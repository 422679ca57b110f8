package migrate

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
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

// Progress receives updates; it is called from one goroutine at a time,
// once per batch (never per account).
type Progress interface {
	Update(ProgressUpdate)
}

type nopProgress struct{}

func (nopProgress) Update(ProgressUpdate) {}

// ProgressWriter renders updates: on a terminal one line redrawn in place
// (a bar with rate and ETA), otherwise JSON lines. Update only records the
// latest counts; a ticker renders them once per interval (when they
// changed), so the run never waits on the output. The final update is
// rendered at once.
type ProgressWriter struct {
	w        io.Writer
	tty      bool
	now      func() time.Time
	width    func() int
	interval time.Duration

	mu    sync.Mutex
	start time.Time
	cur   ProgressUpdate
	dirty bool
	// midLine: a terminal line is drawn and not ended yet.
	midLine bool
	stop    chan struct{}
	// worker updates are per batch; they are summed here.
	sum ProgressUpdate
}

// NewProgressWriter returns a renderer to w; now nil means time.Now. The
// interval is 200 ms on a terminal and 1 s otherwise (SetInterval).
func NewProgressWriter(w io.Writer, tty bool, now func() time.Time) *ProgressWriter {
	if now == nil {
		now = time.Now
	}
	iv := time.Second
	if tty {
		iv = 200 * time.Millisecond
	}
	return &ProgressWriter{w: w, tty: tty, now: now, interval: iv, width: func() int { return 80 }}
}

// SetInterval sets how often the ticker renders (0: only the final
// update, and Flush).
func (p *ProgressWriter) SetInterval(d time.Duration) { p.interval = d }

// SetWidth sets how the terminal's width in columns is found.
func (p *ProgressWriter) SetWidth(f func() int) { p.width = f }

// progressLine is one JSON progress line.
type progressLine struct {
	ProgressUpdate
	Rate       float64 `json:"rate_per_s"`
	ETASeconds float64 `json:"eta_s,omitempty"`
	Elapsed    float64 `json:"elapsed_s"`
}

// Update records u; the ticker renders it.
func (p *ProgressWriter) Update(u ProgressUpdate) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.start.IsZero() {
		p.start = p.now()
		if p.interval > 0 && !u.Final {
			p.stop = make(chan struct{})
			go p.tick(p.stop, p.interval)
		}
	}
	if u.Phase == "worker" && !u.Final {
		p.sum.Run, p.sum.Phase = u.Run, u.Phase
		p.sum.Done += u.Done
		p.sum.Changed += u.Changed
		p.sum.Conflicts += u.Conflicts
		u = p.sum
	}
	p.cur, p.dirty = u, true
	if u.Final {
		p.flushLocked()
		p.closeLocked()
	}
}

func (p *ProgressWriter) tick(stop chan struct{}, iv time.Duration) {
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			p.Flush()
		}
	}
}

// Flush renders the latest update if it changed since the last render.
func (p *ProgressWriter) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flushLocked()
}

func (p *ProgressWriter) flushLocked() {
	if !p.dirty {
		return
	}
	p.dirty = false
	s := renderProgress(p.cur, p.now().Sub(p.start), p.tty, p.width())
	io.WriteString(p.w, s)
	p.midLine = p.tty && !p.cur.Final
}

// Close stops the ticker; a pending update is rendered, and a terminal
// line left open (a run that stopped before its final update) is ended,
// so that what is printed next starts on a line of its own.
func (p *ProgressWriter) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flushLocked()
	if p.midLine {
		io.WriteString(p.w, "\n")
		p.midLine = false
	}
	p.closeLocked()
}

func (p *ProgressWriter) closeLocked() {
	if p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
	// A later run of the same process starts its own clock.
	p.start, p.sum = time.Time{}, ProgressUpdate{}
}

// renderProgress renders one update elapsed after the run's start: a JSON
// line, or on a terminal "\r" + one line of at most width columns ending
// with erase-to-end-of-line (and a newline when final).
func renderProgress(u ProgressUpdate, elapsed time.Duration, tty bool, width int) string {
	el := elapsed.Seconds()
	line := progressLine{ProgressUpdate: u, Elapsed: round1(el)}
	if el > 0 {
		line.Rate = round1(float64(u.Done) / el)
	}
	if u.Total > 0 && line.Rate > 0 && u.Done < u.Total {
		line.ETASeconds = round1(float64(u.Total-u.Done) / line.Rate)
	}
	if !tty {
		b, _ := json.Marshal(line)
		return string(b) + "\n"
	}
	count := fmt.Sprint(u.Done)
	pct := ""
	if u.Total > 0 {
		count += fmt.Sprintf("/%d", u.Total)
		pct = fmt.Sprintf(" %3.0f%%", min(1, float64(u.Done)/float64(u.Total))*100)
	}
	tail := fmt.Sprintf("%s %s accounts, %.0f/s", pct, count, line.Rate)
	switch {
	case line.ETASeconds >= 1:
		tail += " ETA " + time.Duration(line.ETASeconds*float64(time.Second)).Round(time.Second).String()
	case line.ETASeconds > 0:
		tail += " ETA <1s"
	}
	if u.Phase != KindScan { // a scan changes nothing
		tail += fmt.Sprintf(", changed %d, conflicts %d", u.Changed, u.Conflicts)
	}
	head := u.Phase + " "
	// The bar takes what is left, between 10 and 40 cells; on a narrow
	// terminal the line is cut, never wrapped (a wrapped line cannot be
	// redrawn with "\r").
	n := min(40, width-1-utf8.RuneCountInString(head)-2-utf8.RuneCountInString(tail))
	bar := ""
	if n >= 10 {
		fill := 0
		if u.Total > 0 {
			fill = int(min(1, float64(u.Done)/float64(u.Total)) * float64(n))
		}
		bar = "[" + strings.Repeat("█", fill) + strings.Repeat("·", n-fill) + "]"
	}
	s := head + bar + tail
	if r := []rune(s); width > 1 && len(r) > width-1 {
		s = string(r[:width-1])
	}
	end := ""
	if u.Final {
		end = "\n"
	}
	return "\r" + s + "\x1b[K" + end
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
