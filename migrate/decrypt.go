package migrate

import (
	"context"
	"fmt"
	"strings"
)

// DecryptJournal opens every entry of a run with the admin key and returns
// account -> "action state old=<sha256 of old value> new=<ref>": an
// auditor's view for comparing runs without printing credentials.
func DecryptJournal(ctx context.Context, db *DB, run string, key *PrivateKey) (map[string]string, error) {
	out := map[string]string{}
	after := ""
	for {
		es, err := db.EntriesAfter(ctx, run, after, 1000)
		if err != nil {
			return nil, err
		}
		if len(es) == 0 {
			return out, nil
		}
		for _, e := range es {
			old := "-"
			if e.Sealed != "" {
				v, null, err := key.open(run, e.Account, e.Sealed)
				if err != nil {
					return nil, err
				}
				old = newRef(ActionWrap, v)
				if null {
					old = "NULL"
				}
			}
			nv := e.New
			if strings.HasPrefix(nv, "sha256:") && e.Action == ActionWrap {
				nv = "sha256" // wrapped hashes are salted: equal runs differ here
			}
			out[e.Account] = fmt.Sprintf("%s %s old=%s new=%s", e.Action, e.State, old, nv)
		}
		after = es[len(es)-1].Account
	}
}
