package csvstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/overstap/overstap/adapters/store"
)

func sum(v string, null bool) string {
	if null {
		return ""
	}
	h := sha256.Sum256([]byte(v))
	return hex.EncodeToString(h[:])
}

// verdict checks one swap against the effective state; state holds the
// credentials already swapped earlier in the same batch.
func (s *Store) verdict(sw store.Swap, state map[string]*string) error {
	if err := sw.Check(); err != nil {
		return err
	}
	a, err := s.get("compare-and-swap", sw.ID)
	if err != nil {
		return store.ErrNotFound
	}
	if v, ok := state[sw.ID]; ok {
		a.Credential, a.CredentialNull = *v, false
	}
	if a.CredentialNull != sw.OldNull || a.Credential != sw.Old {
		return store.ErrConflict
	}
	return nil
}

// CompareAndSwap appends a set_credential change when the effective
// credential still equals s.Old.
func (s *Store) CompareAndSwap(ctx context.Context, sw store.Swap) error {
	res, err := s.SwapBatch(ctx, []store.Swap{sw})
	if err != nil {
		return err
	}
	return res[0]
}

// SwapBatch checks each swap in order and appends the successful ones in
// one write followed by one fsync. Not a transaction: a crash during the
// write may leave a prefix of the batch (the torn last line is dropped at
// the next open).
func (s *Store) SwapBatch(_ context.Context, swaps []store.Swap) ([]error, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	results := make([]error, len(swaps))
	if len(swaps) == 0 {
		return results, nil
	}
	if err := s.refresh(); err != nil {
		return nil, err
	}
	for _, sw := range swaps {
		if err := sw.Check(); err != nil {
			return nil, s.x.Err("swap batch", sw.ID, err)
		}
	}
	state := map[string]*string{}
	var lines [][]string
	ts := s.now().UTC().Format(time.RFC3339Nano)
	seq := s.seq
	for i, sw := range swaps {
		if err := s.verdict(sw, state); err != nil {
			results[i] = s.x.Err("compare-and-swap", sw.ID, err)
			continue
		}
		seq++
		v := sw.New
		state[sw.ID] = &v
		lines = append(lines, []string{strconv.FormatInt(seq, 10), ts, sw.ID, ActionSetCredential, sw.New, sum(sw.Old, sw.OldNull)})
	}
	if err := s.appendLines(lines); err != nil {
		return nil, s.x.Errf("swap batch", "", "writing changes: %w", err)
	}
	s.seq = seq
	for id, v := range state {
		p := s.pending[id]
		p.cred = v
		s.pending[id] = p
	}
	return results, nil
}

// SetFederated appends a set_federated change.
func (s *Store) SetFederated(_ context.Context, id string, federated bool) error {
	const op = "set federated"
	if s.cfg.Columns.Federated == "" {
		return s.x.Err(op, id, store.ErrUnsupported)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refresh(); err != nil {
		return err
	}
	if _, ok := s.find(id); !ok {
		return s.x.Err(op, id, store.ErrNotFound)
	}
	line := []string{strconv.FormatInt(s.seq+1, 10), s.now().UTC().Format(time.RFC3339Nano), id, ActionSetFederated, strconv.FormatBool(federated), ""}
	if err := s.appendLines([][]string{line}); err != nil {
		return s.x.Errf(op, id, "writing changes: %w", err)
	}
	s.seq++
	p := s.pending[id]
	p.fed = &federated
	s.pending[id] = p
	return nil
}

func (s *Store) appendLines(lines [][]string) error {
	if len(lines) == 0 {
		return nil
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if s.cf == nil {
		cf, err := os.OpenFile(s.cfg.ChangesPath, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		s.cf = cf
		lines = append([][]string{changesHeader}, lines...)
	}
	if err := w.WriteAll(lines); err != nil {
		return err
	}
	if _, err := s.cf.Write(buf.Bytes()); err != nil {
		return err
	}
	return s.cf.Sync()
}

// loadChanges opens the changes file, drops a torn last line, and replays
// the pending changes.
func (s *Store) loadChanges() error {
	const op = "load changes"
	cf, err := os.OpenFile(s.cfg.ChangesPath, os.O_RDWR|os.O_APPEND, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil // created at the first change: opening writes nothing
	}
	if err != nil {
		return s.x.Errf(op, "", "%w", err)
	}
	data, err := io.ReadAll(cf)
	if err != nil {
		cf.Close()
		return s.x.Errf(op, "", "%w", err)
	}
	if n := len(data); n > 0 && data[n-1] != '\n' {
		keep := bytes.LastIndexByte(data, '\n') + 1
		s.log.Warn("csvstore: dropping a torn last line of the changes file", "store", s.name, "bytes", n-keep)
		if err := cf.Truncate(int64(keep)); err != nil {
			cf.Close()
			return s.x.Errf(op, "", "truncate torn line: %w", err)
		}
		data = data[:keep]
	}
	s.cf = cf
	if len(data) == 0 {
		if err := s.appendLines([][]string{changesHeader}); err != nil {
			return s.x.Errf(op, "", "%w", err)
		}
		return nil
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = len(changesHeader)
	head, err := r.Read()
	if err != nil || !slices.Equal(head, changesHeader) {
		cf.Close()
		return s.x.Errf(op, "", "%s is not a changes file (header %v expected)", s.cfg.ChangesPath, changesHeader)
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			cf.Close()
			return s.x.Errf(op, "", "%w", err)
		}
		seq, err := strconv.ParseInt(rec[0], 10, 64)
		if err != nil {
			cf.Close()
			line, _ := r.FieldPos(0)
			return s.x.Errf(op, "", "line %d: bad seq", line)
		}
		s.seq = max(s.seq, seq)
		p := s.pending[rec[2]]
		switch rec[3] {
		case ActionSetCredential:
			v := rec[4]
			p.cred = &v
		case ActionSetFederated:
			b := rec[4] == "true"
			p.fed = &b
		default:
			cf.Close()
			line, _ := r.FieldPos(3)
			return s.x.Errf(op, "", "line %d: unknown action", line)
		}
		s.pending[rec[2]] = p
	}
}
