package session

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/nrn"
)

// The plain record is a compact binary encoding, so that a typical sealed
// session stays well under 1 KiB:
//
//	format (1 byte = 1)
//	uvarint generation
//	varint  CreatedAt, LastSeen, AuthTime, AbsoluteExpiry (unix ms, 0 = zero time)
//	uvarint Level (the eIDAS level, identity.Level)
//	string  NRNRef, NRN digits, AccountID, Provider, Issuer, Subject, SID, ACR
//	uvarint len(AMR), then each AMR string
//	string  Name (format 2; format 1 records, written before the display
//	        name was kept, end after AMR and are still read)
//
// where a string is a uvarint length followed by its bytes. IdleExpiry is
// derived from LastSeen, and IDToken is sealed in a record of its own.
const (
	recordFormat   = 2
	recordFormatV1 = 1
)

var errDecode = errors.New("session: malformed record")

func encodeRecord(s *Session, gen uint64) []byte {
	n := 1 + 6*binary.MaxVarintLen64 + len(s.AMR)*binary.MaxVarintLen16
	for _, v := range [...]string{s.NRNRef, s.NRN.Digits(), s.AccountID, s.Provider, s.Issuer, s.Subject, s.SID, s.ACR, s.Name} {
		n += binary.MaxVarintLen16 + len(v)
	}
	for _, a := range s.AMR {
		n += len(a)
	}
	b := make([]byte, 0, n)
	b = append(b, recordFormat)
	b = binary.AppendUvarint(b, gen)
	for _, t := range [...]time.Time{s.CreatedAt, s.LastSeen, s.AuthTime, s.AbsoluteExpiry} {
		b = binary.AppendVarint(b, unixMilli(t))
	}
	b = binary.AppendUvarint(b, uint64(s.Level))
	for _, v := range [...]string{s.NRNRef, s.NRN.Digits(), s.AccountID, s.Provider, s.Issuer, s.Subject, s.SID, s.ACR} {
		b = appendString(b, v)
	}
	b = binary.AppendUvarint(b, uint64(len(s.AMR)))
	for _, a := range s.AMR {
		b = appendString(b, a)
	}
	return appendString(b, s.Name)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMilli(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// decoder reads a record and remembers the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint(limit uint64) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > limit {
		d.err = errDecode
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errDecode
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint(maxField)
	if d.err != nil {
		return ""
	}
	if uint64(len(d.b)) < n {
		d.err = errDecode
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// decodeRecord is the inverse of encodeRecord. It never panics and refuses
// anything encodeRecord would not have produced for a valid session.
func decodeRecord(b []byte) (*Session, uint64, error) {
	if len(b) == 0 || (b[0] != recordFormat && b[0] != recordFormatV1) {
		return nil, 0, errDecode
	}
	d := &decoder{b: b[1:]}
	gen := d.uvarint(1<<63 - 1)
	s := &Session{}
	s.CreatedAt = fromMilli(d.varint())
	s.LastSeen = fromMilli(d.varint())
	s.AuthTime = fromMilli(d.varint())
	s.AbsoluteExpiry = fromMilli(d.varint())
	s.Level = identity.Level(d.uvarint(uint64(identity.LevelHigh)))
	s.NRNRef = d.str()
	digits := d.str()
	s.AccountID = d.str()
	s.Provider = d.str()
	s.Issuer = d.str()
	s.Subject = d.str()
	s.SID = d.str()
	s.ACR = d.str()
	if n := d.uvarint(maxAMR); n > 0 {
		s.AMR = make([]string, 0, n)
		for range n {
			s.AMR = append(s.AMR, d.str())
		}
	}
	if b[0] == recordFormat {
		s.Name = d.str()
	}
	if d.err != nil || len(d.b) != 0 {
		return nil, 0, errDecode
	}
	if digits != "" {
		n, err := nrn.Parse(digits)
		if err != nil || n.Digits() != digits {
			return nil, 0, errDecode
		}
		s.NRN = n
	}
	if s.CreatedAt.IsZero() || s.LastSeen.IsZero() || s.AbsoluteExpiry.IsZero() || validate(s) != nil {
		return nil, 0, errDecode
	}
	return s, gen, nil
}
