package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
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

	// Decoding problems come from walking the node tree against dst's type,
	// so each has the key path and line of its node; yaml then fills dst,
	// going on past problems so that validation below sees every value that
	// did decode.
	root := rv.Type().Elem()
	problems := diagnose(&doc, root)
	if len(doc.Content) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		err := dec.Decode(dst)
		var te *yaml.TypeError
		switch {
		case errors.As(err, &te):
			if len(problems) == 0 {
				// A problem the walk does not model (a merge key "<<"):
				// report yaml's own words rather than nothing.
				for _, msg := range te.Errors {
					problems = append(problems, &Problem{Msg: msg, Err: err})
				}
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

// syntaxProblem reports a document yaml cannot parse. go.yaml.in/yaml/v3
// gives syntax errors as text only, already naming the line ("yaml: line 3:
// did not find expected key"); it is shown as it is, not parsed.
func syntaxProblem(err error) *Problem {
	return &Problem{Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: "), Err: err}
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

// lineIndex maps key paths to the lines of their nodes, for validation
// problems (a Validator knows the path, not the line).
type lineIndex struct {
	lines map[string]int // path → line of its key (or item)
}

func newLineIndex(doc *yaml.Node) *lineIndex {
	idx := &lineIndex{lines: map[string]int{}}
	if len(doc.Content) > 0 {
		idx.walk(doc.Content[0], "", 0)
	}
	return idx
}

func (idx *lineIndex) walk(n *yaml.Node, path string, depth int) {
	if depth > maxDepth {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := joinKey(path, k.Value)
			if _, ok := idx.lines[p]; !ok {
				idx.lines[p] = k.Line
			}
			idx.walk(v, p, depth+1)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
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
