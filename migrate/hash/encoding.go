package hash

import (
	"encoding/base64"
	"strings"
)

// itoa64 is the crypt(3) / phpass base-64 alphabet.
const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// b64From24 appends n characters encoding the 24-bit group b2 b1 b0, least
// significant six bits first (crypt(3) "b64_from_24bit").
func b64From24(out []byte, b2, b1, b0 byte, n int) []byte {
	w := uint32(b2)<<16 | uint32(b1)<<8 | uint32(b0)
	for ; n > 0; n-- {
		out = append(out, itoa64[w&0x3f])
		w >>= 6
	}
	return out
}

// phpassEncode64 is phpass's encode64 (also used by Drupal 7).
func phpassEncode64(in []byte) []byte {
	out := make([]byte, 0, (len(in)*4+2)/3)
	count := len(in)
	i := 0
	for i < count {
		v := uint32(in[i])
		i++
		out = append(out, itoa64[v&0x3f])
		if i < count {
			v |= uint32(in[i]) << 8
		}
		out = append(out, itoa64[(v>>6)&0x3f])
		if i >= count {
			break
		}
		i++
		if i < count {
			v |= uint32(in[i]) << 16
		}
		out = append(out, itoa64[(v>>12)&0x3f])
		if i >= count {
			break
		}
		i++
		out = append(out, itoa64[(v>>18)&0x3f])
	}
	return out
}

func isCrypt64(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(itoa64, s[i]) < 0 {
			return false
		}
	}
	return true
}

// decodeB64 accepts standard base64 with or without padding, strictly.
func decodeB64(s string) ([]byte, bool) {
	if strings.HasSuffix(s, "=") {
		b, err := base64.StdEncoding.Strict().DecodeString(s)
		return b, err == nil
	}
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	return b, err == nil
}

// decodeAB64 decodes passlib's "adapted base64" ('.' for '+', no padding).
func decodeAB64(s string) ([]byte, bool) {
	return decodeB64(strings.ReplaceAll(s, ".", "+"))
}

// atoiStrict parses a decimal without sign or leading zeros, up to 10 digits.
func atoiStrict(s string) (int, bool) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
