package migrate

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/nacl/box"
)

// Key file formats: one line each, a fixed prefix and the 32-byte key in
// standard base64.
const (
	publicKeyPrefix  = "overstap-migrate-public-key-v1:"
	privateKeyPrefix = "overstap-migrate-private-key-v1:"
	maxKeyFile       = 4096
)

// ErrKey is returned for a missing, unreadable or malformed key, and for a
// journal entry the key cannot open.
var ErrKey = errors.New("migrate: admin key")

// PublicKey is the administrator's X25519 public key: apply seals every old
// credential to it.
type PublicKey [32]byte

// PrivateKey is the administrator's X25519 private key: only rollback needs
// it.
type PrivateKey struct {
	pub  PublicKey
	priv [32]byte
}

// Public returns the matching public key.
func (k *PrivateKey) Public() PublicKey { return k.pub }

// GenerateKey makes a fresh key pair from r (crypto/rand when nil).
func GenerateKey(r io.Reader) (*PrivateKey, error) {
	if r == nil {
		r = rand.Reader
	}
	pub, priv, err := box.GenerateKey(r)
	if err != nil {
		return nil, fmt.Errorf("migrate: generate key: %w", err)
	}
	return &PrivateKey{pub: *pub, priv: *priv}, nil
}

// MarshalText writes the public key line.
func (p PublicKey) MarshalText() ([]byte, error) {
	return []byte(publicKeyPrefix + base64.StdEncoding.EncodeToString(p[:])), nil
}

// String returns the public key line.
func (p PublicKey) String() string { b, _ := p.MarshalText(); return string(b) }

// ParsePublicKey parses a public key line.
func ParsePublicKey(s string) (PublicKey, error) {
	var p PublicKey
	b, err := parseKeyLine(s, publicKeyPrefix)
	if err != nil {
		return p, err
	}
	copy(p[:], b)
	return p, nil
}

// ParsePrivateKey parses a private key file's contents.
func ParsePrivateKey(s string) (*PrivateKey, error) {
	b, err := parseKeyLine(s, privateKeyPrefix)
	if err != nil {
		return nil, err
	}
	k := &PrivateKey{}
	copy(k.priv[:], b)
	// Derive the public half rather than trusting a second field.
	ek, err := ecdh.X25519().NewPrivateKey(k.priv[:])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	copy(k.pub[:], ek.PublicKey().Bytes())
	return k, nil
}

func parseKeyLine(s, prefix string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rest, ok := strings.CutPrefix(line, prefix)
		if !ok {
			return nil, fmt.Errorf("%w: expected a line starting with %q", ErrKey, prefix)
		}
		b, err := base64.StdEncoding.DecodeString(rest)
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("%w: malformed key (want 32 bytes in base64)", ErrKey)
		}
		return b, nil
	}
	return nil, fmt.Errorf("%w: empty key file", ErrKey)
}

// WriteKeyFiles writes the private key to path (mode 0600, refusing to
// overwrite) and the public key to path+".pub" (0644).
func WriteKeyFiles(path string, k *PrivateKey) error {
	if path == "" {
		return fmt.Errorf("%w: no output file", ErrKey)
	}
	priv := "# overstap migrate admin private key (X25519). Needed for rollback only; keep it offline.\n" +
		privateKeyPrefix + base64.StdEncoding.EncodeToString(k.priv[:]) + "\n"
	pub := "# overstap migrate admin public key (X25519). apply seals old credentials to it.\n" +
		k.Public().String() + "\n"
	if err := writeExclusive(path, []byte(priv), 0o600); err != nil {
		return err
	}
	if err := writeExclusive(path+".pub", []byte(pub), 0o644); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

func writeExclusive(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrKey, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("%w: %v", ErrKey, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("%w: %v", ErrKey, err)
	}
	return f.Close()
}

// ReadPublicKeyFile reads a public key file (or a private key file, whose
// public half it returns).
func ReadPublicKeyFile(path string) (PublicKey, error) {
	b, err := readSmall(path)
	if err != nil {
		return PublicKey{}, err
	}
	if bytes.Contains(b, []byte(privateKeyPrefix)) {
		k, err := ParsePrivateKey(string(b))
		if err != nil {
			return PublicKey{}, err
		}
		return k.Public(), nil
	}
	return ParsePublicKey(string(b))
}

// ReadPrivateKeyFile reads a private key file; it refuses a file that
// others can read.
func ReadPrivateKeyFile(path string) (*PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s is readable by others (mode %v); chmod 600 it", ErrKey, path, fi.Mode().Perm())
	}
	b, err := readSmall(path)
	if err != nil {
		return nil, err
	}
	return ParsePrivateKey(string(b))
}

func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("%w: %s is too large for a key file", ErrKey, path)
	}
	return b, nil
}

// sealedValue is what box1 journals sealed: JSON, whose strings turn
// invalid UTF-8 into U+FFFD. Only read now, for journals written before
// box2; a box1 value that does not round-trip is refused at rollback.
type sealedValue struct {
	Run     string `json:"r"`
	Account string `json:"a"`
	Null    bool   `json:"n,omitempty"`
	Value   string `json:"v"`
}

// box2 plaintext: the credential bound to its run and account, so a sealed
// value copied onto another journal row is refused, as bytes, whatever
// their encoding:
//
//	uvarint(len(run)) run uvarint(len(account)) account null(0|1) value
func encodeSealed(run, account, value string, null bool) []byte {
	b := make([]byte, 0, 2*binary.MaxVarintLen64+len(run)+len(account)+1+len(value))
	b = binary.AppendUvarint(b, uint64(len(run)))
	b = append(b, run...)
	b = binary.AppendUvarint(b, uint64(len(account)))
	b = append(b, account...)
	if null {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	return append(b, value...)
}

func decodeSealed(b []byte) (run, account, value string, null bool, ok bool) {
	field := func() (string, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return "", false
		}
		f := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return f, true
	}
	if run, ok = field(); !ok {
		return
	}
	if account, ok = field(); !ok {
		return
	}
	if len(b) < 1 || b[0] > 1 {
		return "", "", "", false, false
	}
	null, value = b[0] == 1, string(b[1:])
	if null && value != "" {
		return "", "", "", false, false
	}
	return run, account, value, null, true
}

// sealer encrypts old credentials to the admin's public key with NaCl box
// (X25519, XSalsa20-Poly1305) from a fresh ephemeral sender key per batch,
// whose private half is dropped after the batch: only the admin's private
// key opens the values, as with box.SealAnonymous. One ephemeral key per
// batch instead of per value because SealAnonymous costs two X25519
// operations per value (≈ 200 µs here, 5k values/s per core), which would
// make the journal — not the database — the bottleneck of a revoke run.
// Each value gets a random 24-byte nonce.
type sealer struct {
	epub   [32]byte
	shared [32]byte
}

// Sealed formats: prefix + base64(epub || nonce || box). box2 seals the
// binary plaintext (encodeSealed); box1, the JSON one (sealedValue), is
// still opened.
const (
	sealedPrefix   = "box2:"
	sealedPrefixV1 = "box1:"
)

func newSealer(pub PublicKey) (*sealer, error) {
	epub, epriv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("migrate: seal: %w", err)
	}
	s := &sealer{epub: *epub}
	k := [32]byte(pub)
	box.Precompute(&s.shared, &k, epriv)
	clear(epriv[:])
	return s, nil
}

// seal encrypts one old credential, bound to its run and account.
func (s *sealer) seal(run, account, value string, null bool) (string, error) {
	pt := encodeSealed(run, account, value, null)
	out := make([]byte, 0, 32+24+len(pt)+box.Overhead)
	out = append(out, s.epub[:]...)
	var nonce [24]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", fmt.Errorf("migrate: seal: %w", err)
	}
	out = append(out, nonce[:]...)
	out = box.SealAfterPrecomputation(out, pt, &nonce, &s.shared)
	return sealedPrefix + base64.StdEncoding.EncodeToString(out), nil
}

// ErrSealed is returned for a journal entry that cannot be opened although
// the key is right: damaged, malformed, or belonging to another entry.
var ErrSealed = errors.New("migrate: journal entry")

// ErrForeignEntry is the ErrSealed of an entry that opens but was sealed for
// another account or run (copied onto this row).
var ErrForeignEntry = fmt.Errorf("%w (foreign)", ErrSealed)

// open decrypts a sealed credential and checks it belongs to run/account.
// A damaged entry is ErrSealed, not ErrKey: the key is checked separately
// (verifyKey) and a right key must not be blamed for one bad entry.
func (k *PrivateKey) open(run, account, sealed string) (value string, null bool, err error) {
	v1 := false
	rest, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		rest, ok = strings.CutPrefix(sealed, sealedPrefixV1)
		v1 = ok
	}
	ct, derr := base64.StdEncoding.DecodeString(rest)
	if !ok || derr != nil || len(ct) < 32+24+box.Overhead {
		return "", false, fmt.Errorf("%w %s: malformed sealed value", ErrSealed, safeID(account))
	}
	var epub [32]byte
	var nonce [24]byte
	copy(epub[:], ct[:32])
	copy(nonce[:], ct[32:56])
	pt, ok := box.Open(nil, ct[56:], &nonce, &epub, &k.priv)
	if !ok {
		return "", false, fmt.Errorf("%w %s: does not open with this key (damaged, or sealed to another key)", ErrSealed, safeID(account))
	}
	var r, a string
	if v1 {
		var v sealedValue
		if err := json.Unmarshal(pt, &v); err != nil {
			return "", false, fmt.Errorf("%w %s: malformed plaintext", ErrSealed, safeID(account))
		}
		r, a, value, null = v.Run, v.Account, v.Value, v.Null
	} else if r, a, value, null, ok = decodeSealed(pt); !ok {
		return "", false, fmt.Errorf("%w %s: malformed plaintext", ErrSealed, safeID(account))
	}
	if r != run || a != account {
		return "", false, fmt.Errorf("%w %s: sealed value belongs to another entry", ErrForeignEntry, safeID(account))
	}
	return value, null, nil
}
