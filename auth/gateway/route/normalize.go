package route

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// ErrAmbiguousPath is returned by Normalize for a path the gateway refuses
// to interpret (the HTTP layer answers 400).
var ErrAmbiguousPath = errors.New("route: ambiguous request path")

// MaxPathLen bounds the raw path Normalize accepts.
const MaxPathLen = 8192

// Path is the canonical request path: computed once per request by
// Normalize and used, unchanged, by route matching, by every hook and as
// the path forwarded to the app, so the gateway judges exactly the path
// the app routes.
type Path struct {
	// Clean is the canonical path, the one the app receives: each segment
	// cut at its first ';' (path parameters), percent-decoded once, dot
	// segments resolved, empty segments dropped, trailing '.' and ' '
	// removed from every segment, and re-escaped so that every server reads
	// it the same way. Case and a final slash are kept.
	Clean string
	// Match is Clean decoded and lower-cased, without a final slash (except
	// "/"): the form route patterns are compared with (case-insensitive, so
	// a path differing only in case gets the same, never a weaker, class).
	Match string
	// Ambiguous reports that the raw path was not already in canonical
	// form in a way that servers read differently: path parameters, dot
	// segments, repeated slashes, or trailing dots or spaces on a segment.
	// An app whose path_policy is refuse (the default) answers such
	// requests with 400; with normalize they are forwarded as Clean.
	Ambiguous bool
}

// Normalize turns the raw (still percent-encoded) path of a request into
// its canonical form. The steps, in order:
//
//  1. The raw path must start with "/", be at most MaxPathLen bytes and
//     contain no control byte, space, backslash, '#', '?' or non-ASCII
//     byte (clients must percent-encode those).
//  2. The path is split at '/' and each raw segment cut at its first ';'
//     (servlet path parameters like ";jsessionid=x": Tomcat removes them
//     before decoding, so "..;" is a dot segment there, and here).
//  3. Percent-escapes are decoded exactly once. An invalid escape ("%zz",
//     a lone "%"), or an escape that decodes to '/', '\', '%', ';', '?',
//     '#', a control byte or NUL is refused: such a path means something
//     different to different servers (encoded slash, double encoding).
//  4. The decoded bytes must be valid UTF-8 (refuses overlong encodings
//     such as %c0%af), and no character may fold or normalise (NFKC, case
//     mapping) to an ASCII one other than itself ("ſ", the Kelvin sign,
//     full-width letters): servers that fold them would route elsewhere.
//  5. Empty segments (from "//") and "." are dropped; ".." removes the
//     previous segment (and is refused above the root, rather than
//     silently clamped).
//  6. Trailing '.' and ' ' are removed from every segment (IIS and
//     Windows ignore them); a segment that becomes empty is refused.
//
// Steps 2, 5 and 6 mark the path Ambiguous when they change anything.
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
	ambiguous := false
	start := 1
	for i := 1; i <= len(raw); i++ {
		if i < len(raw) && raw[i] != '/' {
			continue
		}
		rs := raw[start:i]
		last := i == len(raw)
		start = i + 1
		if j := strings.IndexByte(rs, ';'); j >= 0 {
			rs, ambiguous = rs[:j], true
		}
		seg, err := decodeSegment(rs, &b)
		if err != nil {
			return Path{}, err
		}
		switch seg {
		case "":
			// Only a final slash ("/a/") is an empty segment that every
			// server reads the same way.
			ambiguous = ambiguous || !last
			continue
		case ".":
			ambiguous = true
			continue
		case "..":
			if len(segs) == 0 {
				return Path{}, ErrAmbiguousPath
			}
			segs, ambiguous = segs[:len(segs)-1], true
			continue
		}
		if t := strings.TrimRight(seg, ". "); t != seg {
			if t == "" {
				return Path{}, ErrAmbiguousPath
			}
			seg, ambiguous = t, true
		}
		segs = append(segs, seg)
	}
	if len(segs) == 0 {
		return Path{Clean: "/", Match: "/", Ambiguous: ambiguous}, nil
	}
	var clean, match strings.Builder
	clean.Grow(len(raw))
	match.Grow(len(raw))
	for _, s := range segs {
		clean.WriteByte('/')
		writeEscaped(&clean, s)
		match.WriteByte('/')
		match.WriteString(strings.ToLower(s))
	}
	if raw[len(raw)-1] == '/' {
		clean.WriteByte('/')
	}
	return Path{Clean: clean.String(), Match: match.String(), Ambiguous: ambiguous}, nil
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
	if !utf8.ValidString(out) || foldsToASCII(out) {
		return "", ErrAmbiguousPath
	}
	return out, nil
}

// foldsToASCII reports whether s holds a non-ASCII character that a
// server could read as a different ASCII one: its NFKC form or a case
// mapping of it contains ASCII ("ſ" upper-cases to "S", the Kelvin sign
// lower-cases to "k", "ｆ" is NFKC "f").
func foldsToASCII(s string) bool {
	for _, r := range s {
		if r < utf8.RuneSelf {
			continue
		}
		if unicode.ToUpper(r) < utf8.RuneSelf || unicode.ToLower(r) < utf8.RuneSelf {
			return true
		}
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < utf8.RuneSelf {
				return true
			}
		}
		for _, n := range norm.NFKC.String(string(r)) {
			if n < utf8.RuneSelf {
				return true
			}
		}
	}
	return false
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
