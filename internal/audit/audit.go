// Package audit is the contract of the audit log as its emitters see it
// (account linking, legacy-login interception): an event kind, the
// outcome the emitter decided, a reference (never a national number) and
// details. The emitter states the outcome; nothing downstream guesses it
// from the kind's name. adapters/state writes the events.
package audit

import "context"

// Outcome is the outcome of an audited decision.
type Outcome string

// The outcomes.
const (
	Success Outcome = "success" // the decision let the citizen through or changed something as asked
	Denied  Outcome = "denied"  // the decision refused
	Info    Outcome = "info"    // a fact worth keeping that is neither
)

// Func records one event: kind ("link.created"), the outcome, the
// reference of the person or username (nrnref1:..., never the number)
// and details (values are scrubbed of national numbers by the writer).
type Func func(ctx context.Context, kind string, outcome Outcome, ref string, details map[string]string)

// Discard is a Func that records nothing.
func Discard(context.Context, string, Outcome, string, map[string]string) {}
