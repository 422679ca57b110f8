package state

import (
	"context"
	"log/slog"

	"github.com/overstap/overstap/internal/audit"
	"github.com/overstap/overstap/internal/logging"
	"github.com/prometheus/client_golang/prometheus"
)

// Auditor writes the events of audit.Func emitters (account linking,
// legacy-login interception) to the store's hash-chained log, with the
// outcome the emitter decided. A failed write is logged (the reference is
// already a reference, never an NRN) and does not change the citizen's
// answer.
type Auditor struct {
	Store *Store
	Log   *slog.Logger
	// Events counts events by type and outcome (nil: not counted).
	Events *prometheus.CounterVec
}

var _ audit.Func = Auditor{}.Record

// Record appends one event; the "app" detail becomes the event's app and
// every other value is scrubbed of national numbers.
func (a Auditor) Record(ctx context.Context, kind string, outcome audit.Outcome, ref string, details map[string]string) {
	if a.Events != nil {
		a.Events.WithLabelValues(kind, string(outcome)).Inc() // kinds are the code's fixed event names
	}
	d := make(map[string]string, len(details))
	app := ""
	for k, v := range details {
		if k == "app" {
			app = v
			continue
		}
		d[k] = logging.Scrub(v)
	}
	if _, err := a.Store.Append(ctx, Event{Type: kind, Target: logging.Scrub(ref), App: app, Outcome: string(outcome), Details: d}); err != nil {
		logging.OrDiscard(a.Log).Error("audit: append failed", "kind", kind, "err", err.Error())
	}
}
