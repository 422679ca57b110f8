package hash

import "strings"

// lockedScheme recognises values that hold no usable password: the empty
// string, "!" and "!!" (shadow), "*", "*LK*", "*NP*" (Solaris, MySQL
// accounts), and any value prefixed with "!" (a locked shadow hash). They
// are reported as "empty" or "locked" with Usable false, never as garbage.
// A "*" followed only by hex digits is a MySQL 4.1 hash (or a truncated one),
// not a marker. In a store declared plaintext only the exact markers count
// ("*Secret1" is a password there, not a lock).
func lockedScheme() *scheme {
	return &scheme{
		name:  "locked",
		match: isLockedMarker,
		parse: func(_ *Hasher, stored string, _ Params) (*decoded, error) {
			d := &decoded{strength: StrengthNone}
			if strings.TrimSpace(stored) == "" {
				d.name = "empty"
			}
			return d, nil
		},
	}
}

var exactMarkers = map[string]bool{"!": true, "!!": true, "*": true, "*LK*": true, "*NP*": true}

func isLockedMarker(stored string, p Params) bool {
	switch {
	case p.Hint == "plaintext":
		return strings.TrimSpace(stored) == "" || exactMarkers[stored]
	case strings.TrimSpace(stored) == "":
		return true
	case stored[0] == '!':
		return true
	case stored[0] == '*':
		return len(stored) == 1 || !isHex(stored[1:])
	}
	return false
}
