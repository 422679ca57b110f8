package nrn

// Span is the byte range [Start, End) of a national number found in text.
type Span struct {
	Start, End int
	Number     Number
}

// Find returns the valid national numbers written in text in any accepted
// form, left to right, non-overlapping. A run of digits longer than 11 is not
// a national number and is skipped whole, so account numbers and the like are
// not reported by accident.
func Find(text string) []Span {
	var out []Span
	for i := 0; i < len(text); {
		if !isDigit(text[i]) || (i > 0 && isDigit(text[i-1])) {
			i++
			continue
		}
		found := false
		for _, f := range forms {
			end := i + len(f)
			if end > len(text) || (end < len(text) && isDigit(text[end])) {
				continue
			}
			d, err := normalize(text[i:end])
			if err != nil {
				continue
			}
			if n, err := fromDigits(d); err == nil {
				out = append(out, Span{Start: i, End: end, Number: n})
				i = end
				found = true
				break
			}
		}
		if !found {
			i++
		}
	}
	return out
}

// Contains reports whether text contains a valid national number in any
// accepted form.
func Contains(text string) bool { return len(Find(text)) > 0 }

// Redact replaces every national number in text by its masked form.
func Redact(text string) string {
	spans := Find(text)
	if len(spans) == 0 {
		return text
	}
	b := make([]byte, 0, len(text))
	last := 0
	for _, s := range spans {
		b = append(b, text[last:s.Start]...)
		b = append(b, s.Number.Mask()...)
		last = s.End
	}
	b = append(b, text[last:]...)
	return string(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
