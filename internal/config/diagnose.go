package config

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxDiagnoseNodes bounds the nodes diagnose visits, aliases followed
// included, so that an alias bomb costs a bounded walk (yaml refuses the
// bomb itself when it decodes).
const maxDiagnoseNodes = 100_000

// nodeChecker is implemented by types that decode themselves and can say
// why a node does not decode, as a typed error without a line (the node has
// it). [Secret] implements it.
type nodeChecker interface {
	checkYAML(n *yaml.Node) error
}

var (
	nodeCheckerType = reflect.TypeFor[nodeChecker]()
	yamlNodeType    = reflect.TypeFor[yaml.Node]()
)

// diagnose walks the document's node tree against the type root, as yaml
// will decode it with KnownFields, and returns one problem per key that
// does not fit: an unknown key (with the nearest known key, or the list of
// known keys), a duplicate key, a value of the wrong type, a value its
// type's own decoder refuses. Each problem has the key path and the line of
// its node, and subtree set to the part of the document left undecoded.
func diagnose(doc *yaml.Node, root reflect.Type) []*Problem {
	d := &diagnosis{budget: maxDiagnoseNodes}
	if len(doc.Content) > 0 {
		d.node(doc.Content[0], root, "", 0)
	}
	return d.problems
}

type diagnosis struct {
	problems []*Problem
	budget   int
}

func (d *diagnosis) add(p *Problem) { d.problems = append(d.problems, p) }

func (d *diagnosis) node(n *yaml.Node, t reflect.Type, path string, depth int) {
	for n.Kind == yaml.AliasNode && n.Alias != nil && d.budget > 0 {
		d.budget--
		n = n.Alias
	}
	d.budget--
	if d.budget < 0 || depth > maxDepth || n.Kind == yaml.AliasNode {
		return
	}
	t = deref(t)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // yaml leaves the zero value; a Validator says if it is required
	}
	if reflect.PointerTo(t).Implements(nodeCheckerType) {
		if err := reflect.New(t).Interface().(nodeChecker).checkYAML(n); err != nil {
			d.add(&Problem{Path: path, Line: n.Line, Msg: err.Error(), Err: err, subtree: path})
		}
		return
	}
	switch {
	case t == yamlNodeType || t.Kind() == reflect.Interface || isUnmarshaler(t):
		// Anything goes, or a decoder of its own: ask yaml.
		d.leaf(n, t, path)
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		if d.duplicates(n, path) {
			return
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.ShortTag() == "!!merge" {
				continue // yaml merges it; Decode reports what remains
			}
			p := joinKey(path, k.Value)
			f, ok := fieldNamed(fields, k.Value)
			if !ok {
				if msg, moved := movedKey(t, k.Value); moved {
					d.add(&Problem{Path: p, Line: k.Line, Msg: msg, subtree: p})
					continue
				}
				d.add(unknownKey(p, k, fields))
				continue
			}
			d.node(v, f.typ, p, depth+1)
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		if d.duplicates(n, path) {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.ShortTag() == "!!merge" {
				continue
			}
			p := joinKey(path, k.Value)
			d.leaf(k, t.Key(), p)
			d.node(v, t.Elem(), p, depth+1)
		}
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && n.Kind == yaml.SequenceNode:
		if t.Kind() == reflect.Array && len(n.Content) != t.Len() {
			d.leaf(n, t, path)
			return
		}
		for i, c := range n.Content {
			d.node(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), depth+1)
		}
	default:
		d.leaf(n, t, path)
	}
}

// leaf decodes n into a fresh value of type t, the way yaml decodes it into
// the configuration, and records why it does not fit.
func (d *diagnosis) leaf(n *yaml.Node, t reflect.Type, path string) {
	err := n.Decode(reflect.New(t).Interface())
	if err == nil {
		return
	}
	p := &Problem{Path: path, Line: n.Line, Err: err, subtree: path}
	var te *yaml.TypeError
	if errors.As(err, &te) && !isUnmarshaler(t) {
		p.Msg = "wrong type: cannot decode " + describe(n) + " into " + t.String()
	} else {
		p.Msg = err.Error()
	}
	d.add(p)
}

// describe names a node the way yaml's own type errors do: its tag, and for
// a scalar its value, shortened ("!!str `eighty`", "!!seq").
func describe(n *yaml.Node) string {
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode {
		return tag
	}
	v := n.Value
	if len(v) > 10 {
		v = v[:7] + "..."
	}
	return tag + " `" + v + "`"
}

// duplicates records every key of mapping n written more than once and
// reports whether there was one; yaml then skips the whole mapping.
func (d *diagnosis) duplicates(n *yaml.Node, path string) bool {
	found := false
	first := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode {
			continue
		}
		prev, seen := first[k.Value]
		if !seen {
			first[k.Value] = k
			continue
		}
		found = true
		d.add(&Problem{
			Path:    joinKey(path, k.Value),
			Line:    k.Line,
			Msg:     fmt.Sprintf("mapping key %q already defined at line %d", k.Value, prev.Line),
			subtree: path,
		})
	}
	return found
}

// KeyMover is implemented by a section whose keys moved elsewhere: a
// moved key is answered with where it went, not "unknown key".
type KeyMover interface {
	// MovedKeys maps a key that is no longer here to what to do instead.
	MovedKeys() map[string]string
}

var keyMoverType = reflect.TypeFor[KeyMover]()

// movedKey is the message for key of struct type t when it moved.
func movedKey(t reflect.Type, key string) (string, bool) {
	if !t.Implements(keyMoverType) {
		return "", false
	}
	msg, ok := reflect.Zero(t).Interface().(KeyMover).MovedKeys()[key]
	return msg, ok
}

// unknownKey is the problem for key k (at path p) among fields: with the
// nearest known key when one is close, else the list of known keys.
func unknownKey(p string, k *yaml.Node, fields []field) *Problem {
	known := make([]string, len(fields))
	for i, f := range fields {
		known[i] = f.key
	}
	sort.Strings(known)
	msg := "unknown key"
	if s := closest(k.Value, known); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else if len(known) > 0 {
		msg += "; known keys here: " + strings.Join(known, ", ")
	}
	return &Problem{Path: p, Line: k.Line, Msg: msg, subtree: p}
}

func fieldNamed(fields []field, key string) (field, bool) {
	for _, f := range fields {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

func isUnmarshaler(t reflect.Type) bool {
	return t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType)
}
