package route

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// ErrAmbiguousPath is returned by Normalize for a path the gateway refuses
// to interpret (the HTTP layer answers 400).
var ErrAmbiguousPath = errors.New("route: ambiguous request path")

// MaxPathLen bounds the raw path Normalize accepts.
const MaxPathLen = 8192

// Path is a request path in the two forms the gateway needs.
type Path struct {
	// Clean is the path sent to the legacy app: percent-decoding undone
	// only where it is unambiguous and re-encoded, dot segments resolved,
	// repeated slashes collapsed, case and ";params" preserved.
	Clean string
	// Match is the form rules are matched against: Clean, lower-cased,
	// with ";params" removed from every segment, trailing dots and spaces
	// removed from every segment, and no trailing slash (except "/").
	Match string
}

// Normalize turns the raw (still percent-encoded) path of a request into
// its canonical forms. The steps, in order:
//
//  1. The raw path must start with "/", be at most MaxPathLen bytes and
//     contain no control byte, space, backslash, '#' or non-ASCII byte
//     (clients must percent-encode those).
//  2. Percent-escapes are decoded exactly once. An invalid escape ("%zz",
//     a lone "%"), or an escape that decodes to '/', '\\', '%', ';', '?',
//     '#', a control byte or NUL is refused: such a path means something
//     different to different servers (encoded slash, double encoding).
//  3. The decoded bytes must be valid UTF-8 (refuses overlong encodings
//     such as %c0%af).
//  4. The path is split at '/'; empty segments (from "//") and "." are
//     dropped; ".." removes the previous segment (and is refused above the
//     root, rather than silently clamped).
//  5. For matching only: each segment is cut at its first ';' (servlet
//     path parameters like ";jsessionid=x"), trailing '.' and ' ' are
//     removed (IIS ignores them), and the result is lower-cased. A
//     segment that becomes empty is refused.
//
// Anything refused returns ErrAmbiguousPath.
func Normalize(raw string) (Path, error) {
	if !precheck(raw) {
		return Path{}, ErrAmbiguousPath
	}
	if p, ok := fastPath(raw); ok {
		return p, nil
	}
	return normalizeSlow(raw)
}

// precheck is step 1: an absolute, bounded path of printable ASCII
// without backslash, '#' or '?'.
func precheck(raw string) bool {
	if raw == "" || raw[0] != '/' || len(raw) > MaxPathLen {
		return false
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c <= 0x20 || c >= 0x7f || c == '\\' || c == '#' || c == '?' {
			return false
		}
	}
	return true
}

// fastPath handles the common already-canonical path without allocating:
// lower case, nothing to decode, no ";", no empty, dot or trailing-dot
// segment, nothing that needs escaping.
func fastPath(raw string) (Path, bool) {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '/':
			if i > 0 && raw[i-1] == '/' {
				return Path{}, false
			}
		case c == '.':
			if i+1 == len(raw) || raw[i+1] == '/' {
				return Path{}, false
			}
		case 'A' <= c && c <= 'Z', c == ';', shouldEscape(c):
			return Path{}, false
		}
	}
	m := raw
	if len(m) > 1 {
		m = strings.TrimSuffix(m, "/")
	}
	return Path{Clean: raw, Match: m}, true
}

func normalizeSlow(raw string) (Path, error) {
	var segs []string
	var b strings.Builder
	start := 1
	for i := 1; i <= len(raw); i++ {
		if i < len(raw) && raw[i] != '/' {
			continue
		}
		seg, err := decodeSegment(raw[start:i], &b)
		if err != nil {
			return Path{}, err
		}
		start = i + 1
		switch seg {
		case "", ".":
			continue
		case "..":
			if len(segs) == 0 {
				return Path{}, ErrAmbiguousPath
			}
			segs = segs[:len(segs)-1]
			continue
		}
		segs = append(segs, seg)
	}
	trailing := len(raw) > 1 && raw[len(raw)-1] == '/'
	var clean, match strings.Builder
	clean.Grow(len(raw))
	match.Grow(len(raw))
	for _, s := range segs {
		clean.WriteByte('/')
		writeEscaped(&clean, s)
		m := s
		if j := strings.IndexByte(m, ';'); j >= 0 {
			m = m[:j]
		}
		m = strings.TrimRight(m, ". ")
		if m == "" {
			return Path{}, ErrAmbiguousPath
		}
		match.WriteByte('/')
		match.WriteString(strings.ToLower(m))
	}
	if len(segs) == 0 {
		return Path{Clean: "/", Match: "/"}, nil
	}
	if trailing {
		clean.WriteByte('/')
	}
	return Path{Clean: clean.String(), Match: match.String()}, nil
}

// decodeSegment percent-decodes one raw segment, refusing escapes that
// make the path ambiguous.
func decodeSegment(s string, b *strings.Builder) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	b.Reset()
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(s) {
			return "", ErrAmbiguousPath
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", ErrAmbiguousPath
		}
		d := hi<<4 | lo
		switch {
		case d < 0x20, d == 0x7f, d == '/', d == '\\', d == '%', d == ';', d == '?', d == '#':
			return "", ErrAmbiguousPath
		}
		b.WriteByte(d)
		i += 2
	}
	out := b.String()
	if !utf8.ValidString(out) {
		return "", ErrAmbiguousPath
	}
	return out, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// writeEscaped writes a decoded segment back in a form every server reads
// the same way: unreserved bytes and sub-delims as is, the rest escaped.
func writeEscaped(b *strings.Builder, s string) {
	const hexd = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if shouldEscape(c) {
			b.WriteByte('%')
			b.WriteByte(hexd[c>>4])
			b.WriteByte(hexd[c&15])
			continue
		}
		b.WriteByte(c)
	}
}

func shouldEscape(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return false
	}
	switch c {
	case '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@':
		return false
	}
	return true
}
