package migrate

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
