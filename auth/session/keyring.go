package session

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/overstap/overstap/internal/config"
)

// A sealed record is
//
//	version (1 byte) | key id (4 bytes) | nonce (24 bytes) | ciphertext+tag
//
// sealed with XChaCha20-Poly1305: its 192-bit random nonces make nonce reuse
// a non-issue however many records one key seals (AES-GCM's 96-bit random
// nonces would cap a key at about 2^32 records). The associated data is the
// header followed by the record's context (its kind and hashed id), so a
// record only opens under the name it was sealed for.
const (
	sealVersion  = 1
	keyIDSize    = 4
	sealHeader   = 1 + keyIDSize
	sealOverhead = sealHeader + chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead
)

// errOpen is returned for any record that does not open: unknown key id,
// wrong version, tampered bytes, wrong context. Callers map it to
// ErrNotFound; the reason is deliberately not distinguished.
var errOpen = errors.New("session: record does not open")

// keyRing seals with its first key and opens with any.
type keyRing struct {
	ids   [][keyIDSize]byte
	aeads []cipher.AEAD
}

// keyID names a key without revealing it: the first bytes of a domain-
// separated SHA-256 of the key.
func keyID(k []byte) [keyIDSize]byte {
	h := sha256.New()
	h.Write([]byte("overstap/session/key-id/v1\x00"))
	h.Write(k)
	var id [keyIDSize]byte
	copy(id[:], h.Sum(nil))
	return id
}

func newKeyRing(keys []config.Secret) (*keyRing, error) {
	r := &keyRing{}
	for i, s := range keys {
		k, err := parseKey(s)
		if err != nil {
			return nil, fmt.Errorf("session: keys[%d]: %w", i, err)
		}
		a, err := chacha20poly1305.NewX(k)
		if err != nil {
			return nil, fmt.Errorf("session: keys[%d]: %w", i, err)
		}
		r.ids = append(r.ids, keyID(k))
		r.aeads = append(r.aeads, a)
	}
	if len(r.aeads) == 0 {
		return nil, errors.New("session: keys: at least one 32-byte key is required to seal sessions in Redis")
	}
	return r, nil
}

// seal encrypts plain for context with the first key.
func (r *keyRing) seal(context, plain []byte) ([]byte, error) {
	a := r.aeads[0]
	out := make([]byte, sealHeader+a.NonceSize(), sealOverhead+len(plain))
	out[0] = sealVersion
	copy(out[1:sealHeader], r.ids[0][:])
	nonce := out[sealHeader:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("session: random nonce: %w", err)
	}
	ad := make([]byte, 0, sealHeader+len(context))
	ad = append(append(ad, out[:sealHeader]...), context...)
	return a.Seal(out, nonce, plain, ad), nil
}

// open decrypts a record sealed for context and reports whether the key
// that opened it is the first one (if not, the caller reseals it).
func (r *keyRing) open(context, blob []byte) (plain []byte, primary bool, err error) {
	if len(blob) < sealOverhead || len(blob) > maxRecord || blob[0] != sealVersion {
		return nil, false, errOpen
	}
	for i, id := range r.ids {
		if [keyIDSize]byte(blob[1:sealHeader]) != id {
			continue
		}
		a := r.aeads[i]
		nonce := blob[sealHeader : sealHeader+a.NonceSize()]
		ad := make([]byte, 0, sealHeader+len(context))
		ad = append(append(ad, blob[:sealHeader]...), context...)
		p, err := a.Open(nil, nonce, blob[sealHeader+a.NonceSize():], ad)
		if err != nil {
			return nil, false, errOpen
		}
		return p, i == 0, nil
	}
	return nil, false, errOpen
}

// Record kinds, part of the associated data.
const (
	kindSession = 's'
	kindIDToken = 't'
)

// sealContext is the associated data naming a record: a version string,
// its kind and the hashed session id.
func sealContext(kind byte, hid string) []byte {
	c := make([]byte, 0, 32+len(hid))
	c = append(c, "overstap/session/record/v1\x00"...)
	c = append(c, kind, 0)
	return append(c, hid...)
}
