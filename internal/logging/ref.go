package logging

import (
	"crypto/rand"
)

// refAlphabet has no digit and no vowel: a reference can never look like a
// national number (so the masker never touches it, and the citizen's
// reference matches the log line letter for letter), never spells a word,
// and has no 0/O or 1/l to misread on the phone. 16 letters: 4 bits each.
const refAlphabet = "bcdfghjkmnpqrstv"

// RefLen is the length of a reference: 12 letters, 48 random bits.
const RefLen = 12

// NewRef returns a random error reference from crypto/rand, shown to the
// citizen on an error page and logged with the cause, so the helpdesk can
// find one from the other.
func NewRef() string {
	var b [RefLen]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics rather)
	for i := range b {
		b[i] = refAlphabet[b[i]&0x0f]
	}
	return string(b[:])
}
