package session

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/config"
)

func storedSession(t testing.TB) *Session {
	s := testSession(t, 1)
	tm := timing{idle: DefaultIdleTimeout, absolute: DefaultAbsoluteTimeout, touch: time.Minute}
	if err := tm.start(s, newClock().Now()); err != nil {
		t.Fatal(err)
	}
	s.IDToken, s.IdleExpiry = "", time.Time{}
	return s
}

func TestRecordRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Session)
	}{
		{"full", func(*Session) {}},
		{"no national number", func(s *Session) { s.NRN, s.NRNRef = nrn.Number{}, "" }},
		{"no auth time", func(s *Session) { s.AuthTime = time.Time{} }},
		{"empty optional strings", func(s *Session) { s.SID, s.ACR, s.AccountID, s.Provider, s.AMR = "", "", "", "", nil }},
		{"max amr", func(s *Session) { s.AMR = make([]string, maxAMR); fill(s.AMR, "urn:x") }},
		{"unicode", func(s *Session) { s.AccountID = "gebruiker-é-ü-ß"; s.Subject = "sub\x00with-nul" }},
		{"no level", func(s *Session) { s.Level = identity.LevelNone }},
		{"no display name", func(s *Session) { s.Name = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := storedSession(t)
			tc.mod(s)
			got, gen, err := decodeRecord(encodeRecord(s, 77))
			if err != nil {
				t.Fatal(err)
			}
			if gen != 77 {
				t.Errorf("generation %d, want 77", gen)
			}
			opt := cmp.Comparer(func(a, b nrn.Number) bool { return a.Equal(b) })
			if d := cmp.Diff(s, got, opt); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestRecordReadsFormat1: records written before the display name was kept
// (format 1: no Name after AMR) still load, with an empty name.
func TestRecordReadsFormat1(t *testing.T) {
	s := storedSession(t)
	v2 := encodeRecord(s, 5)
	name := appendString(nil, s.Name)
	if !bytes.HasSuffix(v2, name) {
		t.Fatal("format 2 record does not end with the name")
	}
	v1 := append([]byte{recordFormatV1}, v2[1:len(v2)-len(name)]...)
	got, gen, err := decodeRecord(v1)
	if err != nil || gen != 5 {
		t.Fatalf("decode format 1 = %v, %d", err, gen)
	}
	want := *s
	want.Name = ""
	if d := cmp.Diff(&want, got, cmp.Comparer(func(a, b nrn.Number) bool { return a.Equal(b) })); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestRecordRejectsMalformed(t *testing.T) {
	good := encodeRecord(storedSession(t), 3)
	bad := func(f func([]byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	// The NRN digits field: find it to corrupt the number inside.
	s := storedSession(t)
	digits := []byte(s.NRN.Digits())
	at := bytes.Index(good, digits)
	if at < 0 {
		t.Fatal("digits not found in the plain record")
	}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"wrong format", bad(func(b []byte) []byte { b[0] = 3; return b })},
		{"level beyond high", encodeRecord(func() *Session { s := storedSession(t); s.Level = identity.LevelHigh + 1; return s }(), 1)},
		{"truncated", good[:len(good)-1]},
		{"trailing byte", append(append([]byte(nil), good...), 0)},
		{"only the format", good[:1]},
		{"bad check digits", bad(func(b []byte) []byte { b[at+10] = '0' + (b[at+10]-'0'+1)%10; return b })},
		{"digits not digits", bad(func(b []byte) []byte { b[at] = 'x'; return b })},
		{"huge string length", append([]byte{recordFormat, 0, 2, 2, 0, 2, 0}, binary.AppendUvarint(nil, 1<<40)...)},
		{"overlong varint", append([]byte{recordFormat}, bytes.Repeat([]byte{0xff}, 11)...)},
		{"zero created time", encodeRecord(func() *Session { s := storedSession(t); s.CreatedAt = time.Time{}; return s }(), 1)},
		{"missing issuer", encodeRecord(func() *Session { s := storedSession(t); s.Issuer = ""; return s }(), 1)},
		{"too many amr", encodeRecord(func() *Session { s := storedSession(t); s.AMR = make([]string, maxAMR+1); fill(s.AMR, "x"); return s }(), 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s, _, err := decodeRecord(tc.b); !errors.Is(err, errDecode) {
				t.Fatalf("decode = %+v, %v; want errDecode", s, err)
			}
		})
	}
}

// FuzzDecodeRecord: the decoder never panics, and whatever it accepts
// encodes back to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(storedSession(f), 0))
	s := storedSession(f)
	s.NRN, s.NRNRef, s.AMR = nrn.Number{}, "", nil
	f.Add(encodeRecord(s, 1<<40))
	f.Add([]byte{recordFormat})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, gen, err := decodeRecord(b)
		if err != nil {
			return
		}
		if again := encodeRecord(s, gen); !bytes.Equal(again, b) {
			// Only non-canonical varints may differ; they must decode alike.
			s2, gen2, err := decodeRecord(again)
			if err != nil || gen2 != gen || !cmp.Equal(s, s2, cmp.Comparer(func(a, b nrn.Number) bool { return a.Equal(b) })) {
				t.Fatalf("accepted record does not round-trip")
			}
		}
	})
}

// FuzzOpen: opening arbitrary bytes never panics, and nothing opens but a
// genuine seal of the one record sealed here (the fuzzing workers each seal
// their own copy under the same key, with their own nonce).
func FuzzOpen(f *testing.F) {
	ring, err := newKeyRing([]config.Secret{testKey(1)})
	if err != nil {
		f.Fatal(err)
	}
	ctx := sealContext(kindSession, hashID("x"))
	sealed, _ := ring.seal(ctx, []byte("hello"))
	f.Add(sealed)
	f.Add([]byte{sealVersion, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, _, err := ring.open(ctx, b)
		if err == nil && !bytes.Equal(p, []byte("hello")) {
			t.Fatalf("forged record opened: %q", p)
		}
	})
}
