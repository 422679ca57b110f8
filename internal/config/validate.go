package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxDepth bounds the reflective walks; configuration types are shallow.
const maxDepth = 32

// Validate calls Validate on every value in v whose type implements
// [Validator] — v itself, nested structs, pointers, slice, array and map
// elements — and returns all problems together as an *[Error], each prefixed
// with its yaml key path. It returns nil when there is none. [Decode] calls
// it; use it directly for configurations built in code.
func Validate(v any) error {
	ps := collect(v)
	if len(ps) == 0 {
		return nil
	}
	return &Error{Problems: ps}
}

func collect(v any) []*Problem {
	var out []*Problem
	walkValue(reflect.ValueOf(v), "", 0, &out)
	return out
}

var validatorType = reflect.TypeFor[Validator]()

func walkValue(v reflect.Value, path string, depth int, out *[]*Problem) {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return // an absent optional section; its parent checks presence
		}
		v = v.Elem()
	}
	if !v.IsValid() || depth > maxDepth {
		return
	}
	callValidate(v, path, out)
	if validatesSubtree(v) {
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for _, f := range yamlFields(v.Type()) {
			walkValue(v.FieldByIndex(f.index), joinKey(path, f.key), depth+1, out)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			walkValue(v.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1, out)
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			walkValue(v.MapIndex(k), joinKey(path, fmt.Sprint(k)), depth+1, out)
		}
	}
}

// callValidate calls v's Validate method, whether declared on the value or
// the pointer receiver, and records the problems under path. A pointer
// receiver on a value that is not addressable (a map element) is called on a
// copy.
func callValidate(v reflect.Value, path string, out *[]*Problem) {
	var val Validator
	t := v.Type()
	switch {
	case v.CanAddr() && reflect.PointerTo(t).Implements(validatorType):
		val = v.Addr().Interface().(Validator)
	case t.Implements(validatorType):
		val = v.Interface().(Validator)
	case reflect.PointerTo(t).Implements(validatorType):
		c := reflect.New(t)
		c.Elem().Set(v)
		val = c.Interface().(Validator)
	default:
		return
	}
	if err := safeValidate(val); err != nil {
		for _, leaf := range flatten(err) {
			*out = append(*out, problemAt(path, leaf))
		}
	}
}

var subtreeType = reflect.TypeFor[SubtreeValidator]()

// validatesSubtree reports whether v's type (or a pointer to it) is a
// SubtreeValidator.
func validatesSubtree(v reflect.Value) bool {
	t := v.Type()
	return t.Implements(subtreeType) || reflect.PointerTo(t).Implements(subtreeType)
}

// safeValidate turns a panicking Validate (a nil pointer inside a section)
// into a problem instead of crashing start-up.
func safeValidate(v Validator) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("validation failed: %v", r)
		}
	}()
	return v.Validate()
}

// flatten expands errors.Join trees into their leaves.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			if e != nil {
				out = append(out, flatten(e)...)
			}
		}
		return out
	}
	return []error{err}
}

// reKeyPrefix matches a message that starts with a relative key path, as the
// Validator contract asks: "issuer: ...", "scopes[2]: ...", "tls.cert: ...".
var reKeyPrefix = regexp.MustCompile(`^([a-z0-9_]+(?:\[[0-9]+\]|\.[a-z0-9_]+)*): `)

func problemAt(path string, err error) *Problem {
	var p *Problem
	if errors.As(err, &p) { // a nested Error's problem: keep its path
		return &Problem{Path: joinKey(path, p.Path), Msg: p.Msg, Err: p.Err}
	}
	msg := err.Error()
	if m := reKeyPrefix.FindStringSubmatch(msg); m != nil {
		rel := m[1]
		full := rel
		if path != "" {
			full = path + "." + rel
		}
		return &Problem{Path: full, Msg: msg[len(m[0]):], Err: err}
	}
	return &Problem{Path: path, Msg: msg, Err: err}
}

// field is an exported struct field as yaml sees it.
type field struct {
	key   string
	index []int
	typ   reflect.Type
}

// yamlFields lists the fields yaml decodes into t, with inline structs
// flattened, in declaration order.
func yamlFields(t reflect.Type) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",inline,") {
			if ft := f.Type; ft.Kind() == reflect.Struct {
				for _, sub := range yamlFields(ft) {
					sub.index = append([]int{i}, sub.index...)
					out = append(out, sub)
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out = append(out, field{key: name, index: []int{i}, typ: f.Type})
	}
	return out
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// Keys lists every yaml key path of the configuration type of v, sections
// included, in declaration order: "log", "log.format", "providers[].issuer",
// "apps.<name>.upstream". Types that decode themselves (such as [Secret])
// and non-struct types are leaves. docs/configuration.md is tested against
// it.
func Keys(v any) []string {
	fs := Fields(v)
	if fs == nil {
		return nil
	}
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Key
	}
	return out
}

func isLeaf(t reflect.Type) bool {
	if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return true
	}
	switch t.Kind() {
	case reflect.Struct:
		return len(yamlFields(t)) == 0
	case reflect.Slice, reflect.Array, reflect.Map:
		return false
	}
	return true
}
