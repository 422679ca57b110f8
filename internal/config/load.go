package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxSize bounds a configuration document. Real files are a few KiB; the
// bound keeps a wrong path (a log file, /dev/zero) from eating memory.
const MaxSize = 1 << 20

// Validator is implemented by configuration sections. Validate returns
// errors.Join of every problem, each message starting with the section's
// relative yaml key ("issuer: must be an absolute https URL"); the loader
// prefixes the section's path.
type Validator interface {
	Validate() error
}

// SubtreeValidator is a Validator whose Validate checks every section below
// it itself, choosing which apply: a store section whose backend settings
// count only when that backend is selected. The loader calls its Validate
// and does not descend into its fields (so an unselected backend's section
// is not required, and no problem is reported twice).
type SubtreeValidator interface {
	Validator
	// ValidatesSubtree is a marker; it does nothing.
	ValidatesSubtree()
}

// Problem is one thing wrong with a configuration: the yaml key path it is
// about ("providers[1].issuer"), the line in the file when known, and what is
// wrong with a hint how to fix it.
type Problem struct {
	Path string // yaml key path; empty for the document as a whole
	Line int    // 1-based line in the file, 0 when unknown
	Msg  string // what is wrong, without the path
	Err  error  // the underlying error, for errors.Is/As; may be nil

	subtree string // for decoding problems: the part of dst left undecoded
}

// Error returns "path: msg (line N)".
func (p *Problem) Error() string {
	var b strings.Builder
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	if p.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", p.Line)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (p *Problem) Unwrap() error { return p.Err }

// Error is every problem found in one configuration document.
type Error struct {
	Source   string // file name, or "" for a reader
	Problems []*Problem
}

// Error lists every problem, one per line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteString(": ")
	}
	if len(e.Problems) == 1 {
		b.WriteString(e.Problems[0].Error())
		return b.String()
	}
	fmt.Fprintf(&b, "%d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns the problems, so errors.Is and errors.As see each of them.
func (e *Error) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p
	}
	return out
}

// Load reads the YAML file at path into dst (a pointer to the top-level
// config struct) with [Decode]'s rules.
func Load(path string, dst any) error {
	f, err := openRegular(path)
	if err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	defer f.Close()
	err = Decode(f, dst)
	var ce *Error
	if errors.As(err, &ce) {
		ce.Source = path
	}
	return err
}

// Decode reads one YAML document from r into dst (a pointer to a struct):
// unknown keys are errors, the document is bounded by [MaxSize], secrets are
// resolved, and then every value in dst whose type implements [Validator] is
// validated (structs, pointers, slice, array and map elements). All problems
// are returned together as an *[Error], each with its yaml key path and, where
// known, its line.
func Decode(r io.Reader, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("config: Decode needs a non-nil pointer")
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return fmt.Errorf("config: reading: %w", err)
	}
	if len(data) > MaxSize {
		return &Error{Problems: []*Problem{{Msg: fmt.Sprintf("larger than %d bytes; is this the right file?", MaxSize)}}}
	}

	// The node tree gives key paths for line numbers, and the syntax errors.
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return &Error{Problems: []*Problem{syntaxProblem(err)}}
	}
	idx := newLineIndex(&doc)

	var problems []*Problem
	if len(doc.Content) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		err := dec.Decode(dst)
		var te *yaml.TypeError
		switch {
		case errors.As(err, &te):
			for _, msg := range te.Errors {
				problems = append(problems, decodeProblem(msg, idx, rv.Type().Elem()))
			}
		case err != nil && !errors.Is(err, io.EOF):
			return &Error{Problems: []*Problem{syntaxProblem(err)}}
		}
		var extra yaml.Node
		if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
			return &Error{Problems: []*Problem{{Msg: "more than one YAML document; put everything in one"}}}
		}
	}

	// Validate even after decoding problems, so that everything is reported
	// at once; but what is under a key that failed to decode is not reported
	// again (a missing env var is not also "required").
	var failed []string
	for _, p := range problems {
		failed = append(failed, p.subtree)
	}
	for _, p := range collect(dst) {
		if under(p.Path, failed) {
			continue
		}
		p.Line = idx.lineOf(p.Path)
		problems = append(problems, p)
	}
	if len(problems) == 0 {
		return nil
	}
	// In file order; problems without a line (a missing top-level key) last.
	sort.SliceStable(problems, func(i, j int) bool {
		li, lj := problems[i].Line, problems[j].Line
		return li != 0 && (lj == 0 || li < lj)
	})
	return &Error{Problems: problems}
}

var (
	reLine      = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	reNotFound  = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	reDuplicate = regexp.MustCompile(`^mapping key "([^"]*)" already defined at line \d+$`)
)

func syntaxProblem(err error) *Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	p := &Problem{Msg: "invalid YAML: " + msg, Err: err}
	if m := reLine.FindStringSubmatch(err.Error()); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Msg = "invalid YAML: " + m[2]
	}
	return p
}

// decodeProblem turns one of yaml.v3's "line N: ..." messages into a
// Problem with the key path at that line.
func decodeProblem(msg string, idx *lineIndex, root reflect.Type) *Problem {
	m := reLine.FindStringSubmatch(msg)
	if m == nil {
		return &Problem{Msg: msg}
	}
	line, _ := strconv.Atoi(m[1])
	rest := m[2]
	if nf := reNotFound.FindStringSubmatch(rest); nf != nil {
		path := idx.keyNamed(line, nf[1])
		p := &Problem{Path: path, Line: line, Msg: "unknown key"}
		if known := knownKeysAt(root, parentPath(path)); len(known) > 0 {
			if s := closest(nf[1], known); s != "" {
				p.Msg += fmt.Sprintf("; did you mean %q?", s)
			} else {
				p.Msg += "; known keys here: " + strings.Join(known, ", ")
			}
		}
		p.subtree = path
		return p
	}
	if dup := reDuplicate.FindStringSubmatch(rest); dup != nil {
		// yaml.v3 skips the whole mapping holding a duplicate key.
		path := idx.keyNamed(line, dup[1])
		return &Problem{Path: path, Line: line, Msg: rest, subtree: parentPath(path)}
	}
	// Secret and other unmarshalers report "line N: pkg: ..."; yaml.v3
	// reports "cannot unmarshal !!str `abc` into int".
	rest = strings.Replace(rest, "cannot unmarshal", "wrong type: cannot decode", 1)
	path := idx.pathAt(line)
	return &Problem{Path: path, Line: line, Msg: rest, subtree: path}
}

// under reports whether path is one of roots or below one of them.
func under(path string, roots []string) bool {
	for _, r := range roots {
		if r == "" || path == r || strings.HasPrefix(path, r+".") || strings.HasPrefix(path, r+"[") {
			return true
		}
	}
	return false
}

// parentPath strips the last segment of a key path.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// closest returns the known key nearest to s (edit distance ≤ 2), if any.
func closest(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// lineIndex maps lines of the document to key paths.
type lineIndex struct {
	keys  map[int][]string // paths of mapping keys starting on a line, in order
	items map[int]string   // path of the first sequence item on a line
	lines map[string]int   // path → line of its key (or item)
}

func newLineIndex(doc *yaml.Node) *lineIndex {
	idx := &lineIndex{keys: map[int][]string{}, items: map[int]string{}, lines: map[string]int{}}
	if len(doc.Content) > 0 {
		idx.walk(doc.Content[0], "", 0)
	}
	return idx
}

func (idx *lineIndex) walk(n *yaml.Node, path string, depth int) {
	if depth > 64 {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := joinKey(path, k.Value)
			idx.keys[k.Line] = append(idx.keys[k.Line], p)
			if _, ok := idx.lines[p]; !ok {
				idx.lines[p] = k.Line
			}
			idx.walk(v, p, depth+1)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if _, ok := idx.items[c.Line]; !ok {
				idx.items[c.Line] = p
			}
			idx.lines[p] = c.Line
			idx.walk(c, p, depth+1)
		}
	}
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// keyNamed returns the path of the key named name on line.
func (idx *lineIndex) keyNamed(line int, name string) string {
	for _, p := range idx.keys[line] {
		if p == name || strings.HasSuffix(p, "."+name) {
			return p
		}
	}
	return name
}

// pathAt returns the path of the first key on line, else of the sequence
// item there.
func (idx *lineIndex) pathAt(line int) string {
	if ks := idx.keys[line]; len(ks) > 0 {
		return ks[0]
	}
	return idx.items[line]
}

// lineOf returns the line of path, or of its nearest ancestor present in the
// document (a required key that is missing is reported at its section).
func (idx *lineIndex) lineOf(path string) int {
	for path != "" {
		if l, ok := idx.lines[path]; ok {
			return l
		}
		path = parentPath(path)
	}
	return 0
}

// knownKeysAt lists the yaml keys accepted at path in the type root.
func knownKeysAt(root reflect.Type, path string) []string {
	t := root
	for _, seg := range splitPath(path) {
		t = deref(t)
		switch {
		case seg.index:
			if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
				return nil
			}
			t = t.Elem()
		case t.Kind() == reflect.Map:
			t = t.Elem()
		case t.Kind() == reflect.Struct:
			f, ok := fieldByKey(t, seg.key)
			if !ok {
				return nil
			}
			t = f.typ
		default:
			return nil
		}
	}
	t = deref(t)
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for _, f := range yamlFields(t) {
		out = append(out, f.key)
	}
	sort.Strings(out)
	return out
}

type segment struct {
	key   string
	index bool
}

func splitPath(p string) []segment {
	var out []segment
	for p != "" {
		switch {
		case p[0] == '.':
			p = p[1:]
		case p[0] == '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return out
			}
			out = append(out, segment{index: true})
			p = p[end+1:]
		default:
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			out = append(out, segment{key: p[:end]})
			p = p[end:]
		}
	}
	return out
}
