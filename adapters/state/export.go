package state

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Export walks the audit chain from its first entry, checking each entry's
// hash and its link to the previous one as it goes, and calls fn for every
// intact entry with since ≤ Time < until (a zero bound is open). It stops at
// the first broken link and returns the report of [Store.Verify] for it, so
// an export never hands on an entry past a break; entries before the break
// were handed to fn and check out. The walk reads one consistent snapshot
// and streams: memory does not grow with the log.
//
// The error is for database failures and for fn's error.
func (s *Store) Export(ctx context.Context, since, until time.Time, fn func(Entry) error) (VerifyReport, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return VerifyReport{}, fmt.Errorf("state: audit export: %w", err)
	}
	defer tx.Rollback()
	var rep VerifyReport
	if err := tx.QueryRowContext(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&rep.HeadSeq, &rep.HeadHash); err != nil {
		return s.Verify(ctx) // no head: Verify says how
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+entryColumns+" FROM audit_log ORDER BY seq")
	if err != nil {
		return VerifyReport{}, fmt.Errorf("state: audit export: %w", err)
	}
	defer rows.Close()
	var prev Entry
	for rows.Next() {
		cur, detailsOK, err := scanEntry(rows)
		if err != nil {
			return VerifyReport{}, fmt.Errorf("state: audit export: %w", err)
		}
		if cur.Seq != prev.Seq+1 || !detailsOK || cur.PrevHash != prev.Hash || hashEntry(cur.Seq, cur.Event, cur.PrevHash) != cur.Hash {
			rows.Close()
			return s.brokenAt(ctx)
		}
		if (since.IsZero() || !cur.Time.Before(since)) && (until.IsZero() || cur.Time.Before(until)) {
			if err := fn(cur); err != nil {
				return VerifyReport{}, err
			}
		}
		prev = cur
		rep.Entries++
	}
	if err := rows.Err(); err != nil {
		return VerifyReport{}, fmt.Errorf("state: audit export: %w", err)
	}
	if b := checkHead(rep, prev); b != nil {
		return s.brokenAt(ctx)
	}
	return rep, nil
}

// brokenAt classifies a break Export found, with the one classification
// Verify does.
func (s *Store) brokenAt(ctx context.Context) (VerifyReport, error) {
	rep, err := s.Verify(ctx)
	if err != nil {
		return VerifyReport{}, err
	}
	if rep.Break == nil { // the break was repaired between the two reads
		rep.Break = &Break{Seq: rep.HeadSeq, Kind: Modified, Detail: "the audit log changed while it was exported; export again"}
	}
	return rep, nil
}
