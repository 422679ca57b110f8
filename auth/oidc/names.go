package oidc

import (
	"encoding/json"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// maxName bounds a display name (bytes, after cleaning): longer is not a
// name, and it travels in a header on every request.
const maxName = 256

// citizenName is the display name a login asserts: the profile's name
// claim, else given and family name, from the ID token (a) or userinfo
// (b), cleaned by cleanName. "" when the provider gave none.
func citizenName(a, b map[string]json.RawMessage, p *Profile) string {
	if n := cleanName(rawClaim(a, b, p.NameClaim)); n != "" {
		return n
	}
	given := cleanName(rawClaim(a, b, p.GivenNameClaim))
	family := cleanName(rawClaim(a, b, p.FamilyNameClaim))
	return cleanName(given + " " + family)
}

// rawClaim returns the string claim name from a, else b ("" when absent or
// not a string).
func rawClaim(a, b map[string]json.RawMessage, name string) string {
	if name == "" {
		return ""
	}
	for _, m := range []map[string]json.RawMessage{a, b} {
		if raw, ok := m[name]; ok {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				return s
			}
		}
	}
	return ""
}

// cleanName makes a provider's name safe to show and to compare: Unicode
// NFC (a provider may send "e" + combining accent where the app stored
// "é"), control characters and the bidirectional overrides and isolates
// (which can make a name display as another) removed, runs of white space
// folded to one space, trimmed. A name longer than maxName bytes after
// that is dropped (""), not cut.
func cleanName(s string) string {
	if len(s) > 4*maxName {
		return ""
	}
	s = norm.NFC.String(s)
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == unicode.ReplacementChar, unicode.IsControl(r), bidiControl(r):
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if b.Len() > maxName {
		return ""
	}
	return b.String()
}

// bidiControl reports whether r is a bidirectional embedding, override or
// isolate (U+202A-U+202E, U+2066-U+2069). The marks U+200E/U+200F stay:
// Arabic and Hebrew names may need them.
func bidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}
