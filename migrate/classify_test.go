package migrate

import (
	"strings"
	"testing"
)

func TestSafeIDMasksNationalNumbers(t *testing.T) {
	n := synth(t, 3)
	for _, id := range []string{n.Digits(), n.Format(), "user-" + n.Digits()} {
		got := safeID(id)
		if strings.Contains(got, n.Digits()) || strings.Contains(got, n.Format()) {
			t.Errorf("safeID(%s) = %q shows the number", n.Mask(), got)
		}
	}
	if got := safeID("u000123"); got != "u000123" {
		t.Errorf("plain id changed: %q", got)
	}
}
