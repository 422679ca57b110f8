package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"syscall"

	"go.yaml.in/yaml/v3"
)

// Secret is a configuration value that must not sit in the YAML file in
// clear. In YAML it is written as a reference:
//
//	${ENV_VAR}        the value of an environment variable
//	file:/path        the contents of a file (one trailing newline removed)
//
// A literal value is refused unless it is prefixed with "insecure-literal:",
// which only the demo and tests use. Secret never prints its value: String,
// GoString, LogValue and MarshalYAML all return "[redacted]".
type Secret struct {
	value  []byte
	source string // where it came from, safe to show: "env:NAME", "file:/p", "literal"
}

// NewSecret wraps a value built in code (tests, the demo).
func NewSecret(v []byte) Secret { return Secret{value: append([]byte(nil), v...), source: "code"} }

// Bytes returns the secret value. Do not log it.
func (s Secret) Bytes() []byte { return s.value }

// Value returns the secret value as a string. Do not log it.
func (s Secret) Value() string { return string(s.value) }

// IsZero reports whether no secret was given.
func (s Secret) IsZero() bool { return len(s.value) == 0 }

// Source says where the secret was read from, without its value.
func (s Secret) Source() string { return s.source }

// String returns a redacted placeholder.
func (s Secret) String() string { return "[redacted]" }

// GoString returns a redacted placeholder.
func (s Secret) GoString() string { return "config.Secret([redacted])" }

// LogValue makes slog print a redacted placeholder (it implements
// slog.LogValuer).
func (s Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalYAML writes the placeholder, never the value.
func (s Secret) MarshalYAML() (any, error) { return "[redacted]", nil }

// MaxSecretFile bounds a secret read from a file (64 KiB: a PEM private key
// is a few KiB).
const MaxSecretFile = 64 << 10

// ReadSecretFile reads a secret file: it must be a regular file (a FIFO, a
// device such as /dev/zero, or a directory is refused before anything is
// read, so it can neither hang nor exhaust memory) of at most MaxSecretFile
// bytes. Symbolic links to a regular file are followed (Kubernetes mounts
// secrets that way).
func ReadSecretFile(path string) ([]byte, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSecretFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxSecretFile {
		return nil, fmt.Errorf("larger than %d bytes", MaxSecretFile)
	}
	return b, nil
}

// openRegular opens path for reading only if it is a regular file. The
// open does not block on a FIFO (O_NONBLOCK), and the type is checked on
// the opened file, so swapping the path in between does not help.
func openRegular(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fileKind(fi.Mode()))
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err = f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("not a regular file (%s)", fileKind(fi.Mode()))
	}
	return f, nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a plain file"
}

// ErrSecretLiteral is returned for a secret written in clear in the file.
var ErrSecretLiteral = errors.New(`a secret must be a reference: "${ENV_VAR}" or "file:/path"`)

// UnmarshalYAML resolves the reference. Problems are returned as a
// *yaml.TypeError so that decoding goes on and the loader reports every
// problem of the file together, each with its key.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	v, err := decodeSecret(n)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*s = v
	return nil
}

// checkYAML implements nodeChecker: the loader's diagnosis gets the typed
// error (errors.Is finds [ErrSecretLiteral]) and takes the line from n.
func (*Secret) checkYAML(n *yaml.Node) error {
	_, err := decodeSecret(n)
	return err
}

func decodeSecret(n *yaml.Node) (Secret, error) {
	if n.Kind != yaml.ScalarNode {
		return Secret{}, errors.New(`secret: must be a string: "${ENV_VAR}" or "file:/path"`)
	}
	return ResolveSecret(n.Value, os.LookupEnv, ReadSecretFile)
}

// ResolveSecret turns a reference into a Secret, using lookup and read for
// the environment and files (injected for tests). Pass ReadSecretFile as
// read (nil means ReadSecretFile): os.ReadFile would read /dev/zero until
// memory runs out and block on a FIFO.
func ResolveSecret(ref string, lookup func(string) (string, bool), read func(string) ([]byte, error)) (Secret, error) {
	if read == nil {
		read = ReadSecretFile
	}
	switch {
	case ref == "":
		return Secret{}, nil
	case strings.HasPrefix(ref, "${") && strings.HasSuffix(ref, "}"):
		name := ref[2 : len(ref)-1]
		if !validEnvName(name) {
			return Secret{}, fmt.Errorf("secret: %q is not a valid environment variable name", name)
		}
		v, ok := lookup(name)
		if !ok || v == "" {
			return Secret{}, fmt.Errorf("secret: environment variable %s is not set (export it, or use file:/path)", name)
		}
		return Secret{value: []byte(v), source: "env:" + name}, nil
	case strings.HasPrefix(ref, "file:"):
		path := strings.TrimPrefix(ref, "file:")
		if path == "" {
			return Secret{}, errors.New("secret: file: needs a path")
		}
		b, err := read(path)
		if err != nil {
			return Secret{}, fmt.Errorf("secret: reading %s: %w", path, err)
		}
		if len(b) > MaxSecretFile {
			return Secret{}, fmt.Errorf("secret: %s is larger than %d bytes", path, MaxSecretFile)
		}
		b = []byte(strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"))
		if len(b) == 0 {
			return Secret{}, fmt.Errorf("secret: %s is empty", path)
		}
		return Secret{value: b, source: "file:" + path}, nil
	case strings.HasPrefix(ref, "insecure-literal:"):
		return Secret{value: []byte(strings.TrimPrefix(ref, "insecure-literal:")), source: "literal"}, nil
	}
	return Secret{}, ErrSecretLiteral
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}
