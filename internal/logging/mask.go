package logging

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"

	"github.com/overstap/overstap/auth/nrn"
)

// Mask wraps h so that no national number reaches it: the message, attribute
// keys, group names and attribute values are scrubbed as the package
// documentation describes. It is safe for concurrent use when h is.
func Mask(h slog.Handler) slog.Handler {
	if m, ok := h.(*maskHandler); ok {
		return m
	}
	return &maskHandler{h: h}
}

type maskHandler struct{ h slog.Handler }

func (m *maskHandler) Enabled(ctx context.Context, l slog.Level) bool { return m.h.Enabled(ctx, l) }

func (m *maskHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, nrn.Scrub(r.Message), r.PC)
	attrs := make([]slog.Attr, 0, r.NumAttrs())
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, scrubAttr(a, 0))
		return true
	})
	out.AddAttrs(attrs...)
	return m.h.Handle(ctx, out)
}

func (m *maskHandler) WithAttrs(as []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(as))
	for i, a := range as {
		clean[i] = scrubAttr(a, 0)
	}
	return &maskHandler{h: m.h.WithAttrs(clean)}
}

func (m *maskHandler) WithGroup(name string) slog.Handler {
	return &maskHandler{h: m.h.WithGroup(nrn.Scrub(name))}
}

// maxDepth bounds nested groups and LogValuer chains.
const maxDepth = 16

func scrubAttr(a slog.Attr, depth int) slog.Attr {
	a.Key = nrn.Scrub(a.Key)
	a.Value = scrubValue(a.Value, depth)
	return a
}

func scrubValue(v slog.Value, depth int) slog.Value {
	if depth > maxDepth {
		return slog.StringValue("[too deep]")
	}
	v = v.Resolve() // LogValuers (nrn.Number logs its mask)
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(nrn.Scrub(v.String()))
	case slog.KindInt64:
		if s := strconv.FormatInt(v.Int64(), 10); isElevenDigits(strings.TrimPrefix(s, "-")) {
			return slog.StringValue(nrn.Scrub(s))
		}
	case slog.KindUint64:
		if s := strconv.FormatUint(v.Uint64(), 10); isElevenDigits(s) {
			return slog.StringValue(nrn.Scrub(s))
		}
	case slog.KindFloat64:
		f := math.Abs(v.Float64())
		if f >= 1e10 && f < 1e11 && f == math.Trunc(f) {
			return slog.StringValue(nrn.Scrub(strconv.FormatFloat(f, 'f', 0, 64)))
		}
	case slog.KindGroup:
		as := v.Group()
		clean := make([]slog.Attr, len(as))
		for i, a := range as {
			clean[i] = scrubAttr(a, depth+1)
		}
		return slog.GroupValue(clean...)
	case slog.KindAny:
		return scrubAny(v)
	}
	return v
}

func isElevenDigits(s string) bool { return len(s) == 11 }

// scrubAny handles errors, Stringers, byte slices and arbitrary values. A
// value is kept as it is (so a JSON handler still writes a struct as an
// object) unless one of its renderings holds a national number; then it is
// replaced by its scrubbed text.
func scrubAny(v slog.Value) slog.Value {
	x := v.Any()
	switch t := x.(type) {
	case nil:
		return v
	case error:
		return slog.StringValue(nrn.Scrub(t.Error()))
	case fmt.Stringer:
		return slog.StringValue(nrn.Scrub(safeString(t)))
	case []byte:
		return slog.StringValue(nrn.Scrub(string(t)))
	}
	// The text handler prints %+v, the JSON handler marshals: check both.
	text := fmt.Sprintf("%+v", x)
	if s := nrn.Scrub(text); s != text {
		return slog.StringValue(s)
	}
	if b, err := json.Marshal(x); err == nil {
		if s := nrn.Scrub(string(b)); s != string(b) {
			return slog.StringValue(s)
		}
	}
	return v
}

func safeString(s fmt.Stringer) (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = "[String panicked]"
		}
	}()
	return s.String()
}
