package hash

import (
	"errors"
	"fmt"
)

// UnsupportedError reports a stored value that cannot be verified: an unknown
// format, a malformed value of a known family (truncated, bad base64, wrong
// length), or a variant this package does not implement. Scheme names the
// family when it was recognised, and is empty otherwise.
type UnsupportedError struct {
	Scheme string
	Reason string
}

// Error returns "hash: unsupported <scheme>: <reason>".
func (e *UnsupportedError) Error() string {
	if e.Scheme == "" {
		return "hash: unsupported: " + e.Reason
	}
	return "hash: unsupported " + e.Scheme + ": " + e.Reason
}

// LimitError reports a stored value whose cost parameter exceeds the
// configured cap (or is below the scheme's minimum): verifying it would cost
// more than a hostile row may make us spend.
type LimitError struct {
	Scheme string
	Param  string
	Value  int64
	Max    int64
}

// Error names the scheme, the parameter, its value and the cap.
func (e *LimitError) Error() string {
	return fmt.Sprintf("hash: %s %s %d outside the allowed range (max %d)", e.Scheme, e.Param, e.Value, e.Max)
}

var (
	// ErrPasswordTooLong is returned by Hash for a password over bcrypt's
	// 72-byte input limit (it is refused, never truncated), and by Verify for
	// a password over MaxPasswordBytes, over 72 bytes against a bcrypt hash,
	// or over MaxIteratedPasswordBytes against SHA-crypt, phpass or Drupal 7.
	ErrPasswordTooLong = errors.New("hash: password too long")
	// ErrEmptyPassword is returned by Hash for an empty password.
	ErrEmptyPassword = errors.New("hash: empty password")
	// ErrNotWrappable is returned by Wrap for a value that is already a slow
	// hash (bcrypt, argon2, scrypt, a wrapped value) or holds no password.
	ErrNotWrappable = errors.New("hash: value is not wrapped")
)

func unsupported(scheme, format string, args ...any) error {
	return &UnsupportedError{Scheme: scheme, Reason: fmt.Sprintf(format, args...)}
}

func limitErr(scheme, param string, v, max int64) error {
	return &LimitError{Scheme: scheme, Param: param, Value: v, Max: max}
}
