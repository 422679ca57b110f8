package session

import (
	"bytes"
	"errors"
	"testing"

	"github.com/overstap/overstap/internal/config"
)

func TestKeyRing(t *testing.T) {
	r1, err := newKeyRing([]config.Secret{testKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	r21, err := newKeyRing([]config.Secret{testKey(2), testKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	ctxA, ctxB := sealContext(kindSession, hashID("a")), sealContext(kindSession, hashID("b"))
	plain := []byte("the session record")
	b1, err := r1.seal(ctxA, plain)
	if err != nil {
		t.Fatal(err)
	}
	if len(b1) != len(plain)+sealOverhead {
		t.Errorf("sealed %d bytes into %d, want overhead %d", len(plain), len(b1), sealOverhead)
	}
	again, _ := r1.seal(ctxA, plain)
	if bytes.Equal(b1, again) {
		t.Error("two seals of the same record are equal: nonce reused")
	}
	for _, tc := range []struct {
		name        string
		ring        *keyRing
		ctx, blob   []byte
		wantPrimary bool
		wantErr     bool
	}{
		{"same key", r1, ctxA, b1, true, false},
		{"old key still in the ring", r21, ctxA, b1, false, false},
		{"other context", r1, ctxB, b1, false, true},
		{"other kind", r1, sealContext(kindIDToken, hashID("a")), b1, false, true},
		{"empty", r1, ctxA, nil, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, primary, err := tc.ring.open(tc.ctx, tc.blob)
			if tc.wantErr {
				if !errors.Is(err, errOpen) {
					t.Fatalf("open = %q, %v; want errOpen", p, err)
				}
				return
			}
			if err != nil || !bytes.Equal(p, plain) || primary != tc.wantPrimary {
				t.Fatalf("open = %q, primary %v, %v", p, primary, err)
			}
		})
	}
	// Every single-bit change anywhere is refused.
	for i := range b1 {
		for bit := range 8 {
			b := append([]byte(nil), b1...)
			b[i] ^= 1 << bit
			if _, _, err := r21.open(ctxA, b); err == nil {
				t.Fatalf("flipping bit %d of byte %d still opens", bit, i)
			}
		}
	}
	if _, err := newKeyRing(nil); err == nil {
		t.Error("empty ring accepted")
	}
	if _, err := newKeyRing([]config.Secret{config.NewSecret([]byte("short"))}); err == nil {
		t.Error("short key accepted")
	}
}
