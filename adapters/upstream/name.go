package upstream

import "strings"

// EncodeName writes a display name for an HTTP header: its UTF-8 bytes,
// every byte outside the RFC 3986 unreserved set (A-Z a-z 0-9 - . _ ~)
// percent-encoded with upper-case hex digits. The value is plain ASCII, so
// no proxy or app server mangles it (non-ASCII header bytes are obs-text,
// read as Latin-1 by some servers), and every URL decoder gives the exact
// name back: rawurldecode and urldecode in PHP, url.PathUnescape and
// url.QueryUnescape in Go, and any other percent-decoder. Space and "+"
// are encoded too, so a form decoder's "+ means space" rule never changes
// a name. Example: "Zoë Françoise" → "Zo%C3%AB%20Fran%C3%A7oise".
func EncodeName(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
