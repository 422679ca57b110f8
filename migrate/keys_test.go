package migrate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyFilesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "admin.key")
	k := testKey(t)
	if err := WriteKeyFiles(path, k); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v, want 0600", fi.Mode().Perm())
	}
	if err := WriteKeyFiles(path, k); err == nil {
		t.Error("WriteKeyFiles overwrote an existing key")
	}
	pub, err := ReadPublicKeyFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if pub != k.Public() {
		t.Error("public key differs after round trip")
	}
	priv, err := ReadPrivateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if priv.Public() != k.Public() {
		t.Error("private key derives another public key")
	}
	if p2, err := ReadPublicKeyFile(path); err != nil || p2 != pub {
		t.Errorf("public key from private file: %v", err)
	}
	os.Chmod(path, 0o644)
	if _, err := ReadPrivateKeyFile(path); !errors.Is(err, ErrKey) {
		t.Errorf("world-readable private key accepted: %v", err)
	}
}

func TestParseKeyRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":      "",
		"comment":    "# nothing\n",
		"wrong kind": privateKeyPrefix + strings.Repeat("A", 43) + "=",
		"short":      publicKeyPrefix + "AAAA",
		"not b64":    publicKeyPrefix + strings.Repeat("!", 44),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParsePublicKey(in); !errors.Is(err, ErrKey) {
				t.Errorf("ParsePublicKey(%q) = %v, want ErrKey", in, err)
			}
		})
	}
}

func TestSealOpen(t *testing.T) {
	k := testKey(t)
	other := testKey(t)
	s, err := newSealer(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.seal("run-1", "acct-1", "$2y$10$old", false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "old") {
		t.Fatal("sealed value shows the plaintext")
	}
	v, null, err := k.open("run-1", "acct-1", sealed)
	if err != nil || v != "$2y$10$old" || null {
		t.Fatalf("open = %q %v %v", v, null, err)
	}
	sn, _ := s.seal("run-1", "acct-2", "", true)
	if v, null, err := k.open("run-1", "acct-2", sn); err != nil || v != "" || !null {
		t.Fatalf("open null = %q %v %v", v, null, err)
	}
	cases := map[string]struct {
		key            *PrivateKey
		run, acct, val string
	}{
		"wrong key":     {other, "run-1", "acct-1", sealed},
		"other account": {k, "run-1", "acct-2", sealed},
		"other run":     {k, "run-2", "acct-1", sealed},
		"truncated":     {k, "run-1", "acct-1", sealed[:40]},
		"no prefix":     {k, "run-1", "acct-1", strings.TrimPrefix(sealed, sealedPrefix)},
		"tampered":      {k, "run-1", "acct-1", sealed[:len(sealed)-6] + "AAAA=="},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, _, err := c.key.open(c.run, c.acct, c.val); !errors.Is(err, ErrSealed) || errors.Is(err, ErrKey) {
				t.Errorf("open succeeded or wrong error: %v", err)
			}
		})
	}
}
