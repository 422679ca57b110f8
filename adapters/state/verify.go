package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// BreakKind names how the audit chain was broken.
type BreakKind string

// The kinds of tampering Verify tells apart.
const (
	// Modified: an entry's content no longer matches its hash, or an entry
	// was rewritten with a new hash that its successor does not link to.
	Modified BreakKind = "modified"
	// Deleted: entries are missing (a gap in the sequence, a link to an
	// entry that is gone, or the log ends before the head says it does).
	Deleted BreakKind = "deleted"
	// Inserted: an entry is in the log that the chain does not link to.
	Inserted BreakKind = "inserted"
	// Reordered: an entry links to one that now stands after it.
	Reordered BreakKind = "reordered"
)

// Break is the first broken link of the chain.
type Break struct {
	Seq    int64     // sequence number where the chain breaks
	Kind   BreakKind // what happened there
	Detail string    // a sentence for the admin
}

// VerifyReport is the result of walking the audit chain.
type VerifyReport struct {
	Entries  int64  // entries checked (up to the break, when there is one)
	HeadSeq  int64  // sequence number the head row records
	HeadHash string // hash the head row records; keep it elsewhere to detect a rewritten chain
	Break    *Break // nil when the chain is intact
}

// OK reports whether the chain is intact.
func (r VerifyReport) OK() bool { return r.Break == nil }

// renumberWindow is how far Verify looks for an entry's original sequence
// number when telling "deleted and renumbered" from "modified".
const renumberWindow = 256

// Verify walks the audit chain from the first entry and reports the first
// broken link. It reads a consistent snapshot and holds no lock that stops
// appends. The error is for database failures only: tampering is reported in
// the VerifyReport.
func (s *Store) Verify(ctx context.Context) (VerifyReport, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return VerifyReport{}, fmt.Errorf("state: audit verify: %w", err)
	}
	defer tx.Rollback()
	var rep VerifyReport
	if err := tx.QueryRowContext(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&rep.HeadSeq, &rep.HeadHash); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			rep.Break = &Break{Seq: 1, Kind: Deleted, Detail: "the head row of the audit log is missing"}
			return rep, nil
		}
		return VerifyReport{}, fmt.Errorf("state: audit verify: reading head: %w", err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+entryColumns+" FROM audit_log ORDER BY seq")
	if err != nil {
		return VerifyReport{}, fmt.Errorf("state: audit verify: %w", err)
	}
	var (
		prev, grand Entry // the last two entries that checked out
		found       *Break
		cur         Entry
		curDetails  bool
	)
	for rows.Next() {
		cur, curDetails, err = scanEntry(rows)
		if err != nil {
			rows.Close()
			return VerifyReport{}, fmt.Errorf("state: audit verify: %w", err)
		}
		want := prev.Seq + 1
		selfOK := curDetails && hashEntry(cur.Seq, cur.Event, cur.PrevHash) == cur.Hash
		linkOK := cur.PrevHash == prev.Hash
		switch {
		case cur.Seq > want:
			found = &Break{Seq: want, Kind: Deleted, Detail: fmt.Sprintf("entries %d to %d are missing", want, cur.Seq-1)}
		case cur.Seq < want:
			found = &Break{Seq: cur.Seq, Kind: Inserted, Detail: fmt.Sprintf("entry %d stands where the chain has no room for it", cur.Seq)}
		case selfOK && linkOK:
			grand, prev = prev, cur
			rep.Entries++
			continue
		case linkOK:
			found = &Break{Seq: cur.Seq, Kind: Modified, Detail: fmt.Sprintf("entry %d does not match its hash", cur.Seq)}
		}
		break
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return VerifyReport{}, fmt.Errorf("state: audit verify: %w", err)
	}
	if found == nil && cur.Seq != 0 && cur.Seq != prev.Seq {
		// The loop stopped on cur because its link to prev is broken.
		found, err = s.classifyBrokenLink(ctx, tx, grand, prev, cur)
		if err != nil {
			return VerifyReport{}, err
		}
	}
	if found == nil {
		found = checkHead(rep, prev)
	}
	rep.Break = found
	return rep, nil
}

// classifyBrokenLink explains why cur does not link to prev (the entry
// before it, whose own hash checks out).
func (s *Store) classifyBrokenLink(ctx context.Context, tx *sql.Tx, grand, prev, cur Entry) (*Break, error) {
	if prev.Seq > 0 && cur.PrevHash == grand.Hash {
		return &Break{Seq: prev.Seq, Kind: Inserted, Detail: fmt.Sprintf("entry %d is not part of the chain: entry %d links to entry %d", prev.Seq, cur.Seq, grand.Seq)}, nil
	}
	if cur.PrevHash == "" {
		return &Break{Seq: cur.Seq, Kind: Modified, Detail: fmt.Sprintf("entry %d claims to be the first entry", cur.Seq)}, nil
	}
	// Where is the entry cur links to now?
	var at int64
	err := tx.QueryRowContext(ctx, s.dialect.Rebind("SELECT seq FROM audit_log WHERE hash = ? ORDER BY seq LIMIT 1"), cur.PrevHash).Scan(&at)
	switch {
	case err == nil && at > cur.Seq:
		return &Break{Seq: cur.Seq, Kind: Reordered, Detail: fmt.Sprintf("entry %d links to entry %d, which now stands after it", cur.Seq, at)}, nil
	case err == nil && at < prev.Seq:
		return &Break{Seq: at + 1, Kind: Inserted, Detail: fmt.Sprintf("entries %d to %d are not part of the chain: entry %d links to entry %d", at+1, prev.Seq, cur.Seq, at)}, nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("state: audit verify: %w", err)
	}
	// The entry cur links to is gone. If cur's hash is intact, prev was
	// rewritten with a fresh hash; if cur matches its hash at a later
	// sequence number, entries were deleted and the rest renumbered.
	if prev.Seq == 0 {
		return &Break{Seq: 1, Kind: Deleted, Detail: fmt.Sprintf("the log starts at entry %d, which links to an entry that is gone", cur.Seq)}, nil
	}
	if hashEntry(cur.Seq, cur.Event, cur.PrevHash) == cur.Hash {
		return &Break{Seq: prev.Seq, Kind: Modified, Detail: fmt.Sprintf("entry %d was rewritten: entry %d links to a different entry %d", prev.Seq, cur.Seq, prev.Seq)}, nil
	}
	for orig := cur.Seq + 1; orig <= cur.Seq+renumberWindow; orig++ {
		if hashEntry(orig, cur.Event, cur.PrevHash) == cur.Hash {
			return &Break{Seq: cur.Seq, Kind: Deleted, Detail: fmt.Sprintf("%d entries before entry %d were deleted and the rest renumbered (entry %d was %d)", orig-cur.Seq, cur.Seq, cur.Seq, orig)}, nil
		}
	}
	return &Break{Seq: cur.Seq, Kind: Modified, Detail: fmt.Sprintf("entry %d does not match its hash and links to no entry in the log", cur.Seq)}, nil
}

// checkHead compares the end of an otherwise intact chain with the head row.
func checkHead(rep VerifyReport, last Entry) *Break {
	switch {
	case rep.HeadSeq > last.Seq:
		return &Break{Seq: last.Seq + 1, Kind: Deleted, Detail: fmt.Sprintf("the log ends at entry %d but the head records %d entries", last.Seq, rep.HeadSeq)}
	case rep.HeadSeq < last.Seq:
		return &Break{Seq: rep.HeadSeq + 1, Kind: Inserted, Detail: fmt.Sprintf("entries after %d were added behind the store's back", rep.HeadSeq)}
	case rep.HeadHash != last.Hash:
		return &Break{Seq: last.Seq, Kind: Modified, Detail: fmt.Sprintf("entry %d is not the entry the head records", last.Seq)}
	}
	return nil
}
