package logging

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Config is the `log` section of the configuration file.
type Config struct {
	// Format of log lines on stderr: "json" (one JSON object per line, for
	// production and log collectors) or "text" (key=value, for people).
	// Default: json.
	Format string `yaml:"format"`
	// Level is the least severe level written: debug, info, warn or error.
	// Default: info.
	Level string `yaml:"level"`
}

// Validate checks the format and level names.
func (c Config) Validate() error {
	var errs []error
	if _, err := parseFormat(c.Format); err != nil {
		errs = append(errs, fmt.Errorf("format: %w", err))
	}
	if _, err := ParseLevel(c.Level); err != nil {
		errs = append(errs, fmt.Errorf("level: %w", err))
	}
	return errors.Join(errs...)
}

// New returns a logger writing format ("json" or "text"; "" means json) at
// level ("debug", "info", "warn", "error"; "" means info) to w, with every
// record passed through [Mask].
func New(w io.Writer, format, level string) (*slog.Logger, error) {
	f, err := parseFormat(format)
	if err != nil {
		return nil, fmt.Errorf("logging: %w", err)
	}
	lvl, err := ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("logging: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	if f == "text" {
		h = slog.NewTextHandler(w, opts)
	} else {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(Mask(h)), nil
}

// Discard returns a logger that writes nothing, for a nil logger passed to a
// constructor.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// OrDiscard returns l, or a discarding logger when l is nil.
func OrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return Discard()
	}
	return l
}

func parseFormat(s string) (string, error) {
	switch strings.ToLower(s) {
	case "", "json":
		return "json", nil
	case "text":
		return "text", nil
	}
	return "", fmt.Errorf("unknown format %q: use json or text", s)
}

// ParseLevel parses debug, info, warn or error (any case); "" is info.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("unknown level %q: use debug, info, warn or error", s)
}
