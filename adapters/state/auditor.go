package state

import (
	"context"
	"log/slog"
	"maps"
	"slices"

	"github.com/overstap/overstap/internal/audit"
	"github.com/overstap/overstap/internal/logging"
	"github.com/prometheus/client_golang/prometheus"
)

// Auditor writes the events of audit.Func emitters (account linking,
// legacy-login interception) and of the family service (Append) to the
// store's hash-chained log, with the outcome the emitter decided, and logs
// each at info: refusals and decisions are visible in the log too, with
// references only. A failed write is logged (the reference is already a
// reference, never an NRN) and does not change the citizen's answer.
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
	d := make(map[string]string, len(details))
	app := ""
	for k, v := range details {
		if k == "app" {
			app = v
			continue
		}
		d[k] = logging.Scrub(v)
	}
	if _, err := a.Append(ctx, Event{Type: kind, Target: logging.Scrub(ref), App: app, Outcome: string(outcome), Details: d}); err != nil {
		logging.OrDiscard(a.Log).Error("audit: append failed", "kind", kind, "err", err.Error())
	}
}

// Append counts e, logs it at info ("audit", with its type, outcome,
// references and details) and appends it to the store.
func (a Auditor) Append(ctx context.Context, e Event) (Entry, error) {
	if a.Events != nil {
		a.Events.WithLabelValues(e.Type, e.Outcome).Inc() // types are the code's fixed event names
	}
	if log := logging.OrDiscard(a.Log); log.Enabled(ctx, slog.LevelInfo) {
		attrs := []slog.Attr{slog.String("event", e.Type), slog.String("outcome", e.Outcome)}
		for _, kv := range [][2]string{{"actor", e.Actor}, {"target", e.Target}, {"app", e.App}} {
			if kv[1] != "" {
				attrs = append(attrs, slog.String(kv[0], kv[1]))
			}
		}
		if len(e.Details) > 0 {
			keys := slices.Sorted(maps.Keys(e.Details))
			details := make([]any, 0, len(keys))
			for _, k := range keys {
				details = append(details, slog.String(k, e.Details[k]))
			}
			attrs = append(attrs, slog.Group("details", details...))
		}
		log.LogAttrs(ctx, slog.LevelInfo, "audit", attrs...)
	}
	return a.Store.Append(ctx, e)
}
