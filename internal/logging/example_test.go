package logging_test

import (
	"log/slog"
	"os"
	"time"

	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/logging"
)

// Even a careless log call does not write the national number.
func ExampleMask() {
	h := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // keep the example's output stable
			}
			return a
		},
	})
	log := slog.New(logging.Mask(h))
	n, _ := nrn.Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), true, 3)
	log.Info("login refused for "+n.Digits(), "username", n.Format(), "nrn", n)
	// Output:
	// level=INFO msg="login refused for 85.07.30-***.**" username=85.07.30-***.** nrn=85.07.30-***.**
}
