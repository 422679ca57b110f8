package config

import "reflect"

// Field is one key of a configuration type, for generated reference
// documentation: the key path as Keys writes it, the struct that declares
// the field (its doc comment is the key's documentation), the Go field
// name and the field's type.
type Field struct {
	Key    string
	Owner  reflect.Type
	GoName string
	Type   reflect.Type
}

// Fields lists every key of v's type like Keys, with where it is declared.
func Fields(v any) []Field {
	t := reflect.TypeOf(v)
	if t == nil {
		return nil
	}
	var out []Field
	fieldsOf(deref(t), "", map[reflect.Type]bool{}, &out)
	return out
}

func fieldsOf(t reflect.Type, path string, onPath map[reflect.Type]bool, out *[]Field) {
	t = deref(t)
	if onPath[t] || len(onPath) > maxDepth || isLeaf(t) {
		return
	}
	onPath[t] = true
	defer delete(onPath, t)
	switch t.Kind() {
	case reflect.Struct:
		for _, f := range yamlFields(t) {
			owner := t
			if len(f.index) > 1 {
				owner = deref(t.FieldByIndex(f.index[:len(f.index)-1]).Type)
			}
			p := joinKey(path, f.key)
			*out = append(*out, Field{Key: p, Owner: owner, GoName: t.FieldByIndex(f.index).Name, Type: f.typ})
			fieldsOf(f.typ, p, onPath, out)
		}
	case reflect.Slice, reflect.Array:
		fieldsOf(t.Elem(), path+"[]", onPath, out)
	case reflect.Map:
		fieldsOf(t.Elem(), path+".<name>", onPath, out)
	}
}
