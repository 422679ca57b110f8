package main

import (
	"encoding"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/overstap/overstap/internal/config"
)

var update = flag.Bool("update", false, "rewrite the generated key reference in docs/configuration.md")

const (
	refBegin = "<!-- BEGIN GENERATED KEY REFERENCE: go test ./cmd/overstap -run TestConfigurationReference -update -->"
	refEnd   = "<!-- END GENERATED KEY REFERENCE -->"
	module   = "github.com/overstap/overstap/"
)

// fieldDocs reads the doc comments of struct fields from the Go sources of
// the module: owner type → field name → comment.
type fieldDocs map[string]map[string]string

func (fd fieldDocs) load(t *testing.T, pkgPath string) {
	if _, done := fd[pkgPath+"."]; done {
		return
	}
	fd[pkgPath+"."] = nil
	dir := filepath.Join("..", "..", strings.TrimPrefix(pkgPath, module))
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		var declDoc string
		ast.Inspect(f, func(n ast.Node) bool {
			if gd, ok := n.(*ast.GenDecl); ok {
				declDoc = gd.Doc.Text()
				return true
			}
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			m := map[string]string{}
			if d := ts.Doc.Text(); d != "" {
				m[""] = d
			} else {
				m[""] = declDoc
			}
			for _, fl := range st.Fields.List {
				doc := fl.Doc.Text()
				if doc == "" {
					doc = fl.Comment.Text()
				}
				for _, name := range fl.Names {
					m[name.Name] = doc
				}
				if len(fl.Names) == 0 { // embedded
					if se, ok := fl.Type.(*ast.SelectorExpr); ok {
						m[se.Sel.Name] = doc
					} else if id, ok := fl.Type.(*ast.Ident); ok {
						m[id.Name] = doc
					}
				}
			}
			fd[pkgPath+"."+ts.Name.Name] = m
			return true
		})
	}
}

// typeName is the reference's short type description.
func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeOf(config.Secret{}):
		return "secret"
	case t.String() == "time.Duration":
		return "duration"
	case t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()):
		return "string" // written as text in YAML (identity.Level: low, substantial, high)
	case t.Kind() == reflect.Pointer:
		return typeName(t.Elem())
	case t.Kind() == reflect.Slice:
		return "list of " + typeName(t.Elem())
	case t.Kind() == reflect.Map:
		return "map of " + typeName(t.Elem())
	case t.Kind() == reflect.Struct:
		return "section"
	}
	return t.Kind().String()
}

// firstSentence is the first sentence of a doc comment.
func firstSentence(doc string) string {
	doc = strings.Join(strings.Fields(doc), " ")
	if i := strings.Index(doc, ". "); i > 0 {
		return doc[:i+1]
	}
	return doc
}

// docCell turns a doc comment into a table cell.
func docCell(doc string) string {
	doc = strings.Join(strings.Fields(doc), " ")
	return strings.ReplaceAll(doc, "|", `\|`)
}

func generateReference(t *testing.T) string {
	fd := fieldDocs{}
	var b strings.Builder
	b.WriteString(refBegin + "\n\n| Key | Type | Meaning |\n|---|---|---|\n")
	for _, f := range config.Fields(fileConfig{}) {
		fd.load(t, f.Owner.PkgPath())
		owner := fd[f.Owner.PkgPath()+"."+f.Owner.Name()]
		doc := owner[f.GoName]
		if strings.TrimSpace(doc) == "" {
			// A field documented by its struct's comment (column maps,
			// query overrides): say so.
			parent := f.Key[:strings.LastIndex(f.Key, ".")]
			doc = "The " + f.GoName + " entry of `" + parent + "`: " + firstSentence(owner[""])
		}
		if strings.TrimSpace(owner[""]) == "" && strings.TrimSpace(owner[f.GoName]) == "" {
			t.Errorf("%s (%s.%s): neither the field nor its struct has a doc comment", f.Key, f.Owner, f.GoName)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", f.Key, typeName(f.Type), docCell(doc))
	}
	b.WriteString("\n" + refEnd)
	return b.String()
}

// TestConfigurationReference: docs/configuration.md ends with a reference
// of every key, generated from the configuration structs and their field
// comments, so that it cannot go stale.
func TestConfigurationReference(t *testing.T) {
	const path = "../../docs/configuration.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := generateReference(t)
	s := string(doc)
	i, j := strings.Index(s, refBegin), strings.Index(s, refEnd)
	if *update {
		if i < 0 || j < 0 {
			s = strings.TrimRight(s, "\n") + "\n\n## Every key\n\n" + want + "\n"
		} else {
			s = s[:i] + want + s[j+len(refEnd):]
		}
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if i < 0 || j < 0 || s[i:j+len(refEnd)] != want {
		t.Fatal("docs/configuration.md's key reference is stale: go test ./cmd/overstap -run TestConfigurationReference -update")
	}
}
