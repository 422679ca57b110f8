package sqlstore

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A filter is a restricted WHERE expression from the configuration, e.g.
//
//	realm = 'citizens' AND deleted_at IS NULL AND (kind IN (1, 2) OR legacy = TRUE)
//
// Grammar: conditions "column op literal" (op: = <> != < <= > >=),
// "column IS [NOT] NULL", "column [NOT] IN (literal, ...)", combined with
// AND, OR, NOT and parentheses. Literals are integers, 'strings' ('' for a
// quote) and TRUE/FALSE. Columns are validated and quoted; literals become
// placeholders. Nothing else (functions, sub-queries, comments) is accepted,
// so a filter cannot smuggle SQL in.

const (
	maxFilterLen   = 2048
	maxFilterDepth = 16
	maxFilterArgs  = 64
)

type pieceKind uint8

const (
	pText  pieceKind = iota // safe SQL text
	pIdent                  // column to quote
	pArg                    // literal value to bind
)

type piece struct {
	kind pieceKind
	text string
	arg  any
}

// filter is a parsed filter expression.
type filter struct{ pieces []piece }

// render writes the filter with the dialect's quoting, calling ph for each
// placeholder, and returns the SQL and the bound values in order.
func (f *filter) render(d dialect, ph func() string) (string, []any) {
	if f == nil || len(f.pieces) == 0 {
		return "", nil
	}
	var b strings.Builder
	var args []any
	for _, p := range f.pieces {
		switch p.kind {
		case pText:
			b.WriteString(p.text)
		case pIdent:
			b.WriteString(d.quote(p.text))
		case pArg:
			b.WriteString(ph())
			args = append(args, p.arg)
		}
	}
	return b.String(), args
}

type token struct {
	kind string // ident, int, str, op, ( , ) ,
	val  string
}

func tokenize(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == ',':
			out = append(out, token{kind: string(c)})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, errors.New("unterminated string literal")
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			out = append(out, token{kind: "str", val: b.String()})
			i = j + 1
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if s[i:j] == "-" {
				return nil, fmt.Errorf("unexpected %q", "-")
			}
			out = append(out, token{kind: "int", val: s[i:j]})
			i = j
		case c == '=' || c == '<' || c == '>' || c == '!':
			j := i + 1
			if j < len(s) && (s[j] == '=' || (c == '<' && s[j] == '>')) {
				j++
			}
			op := s[i:j]
			if op == "!" {
				return nil, errors.New(`unexpected "!"`)
			}
			out = append(out, token{kind: "op", val: op})
			i = j
		case c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z'):
			j := i + 1
			for j < len(s) && (s[j] == '_' || (s[j]|0x20 >= 'a' && s[j]|0x20 <= 'z') || (s[j] >= '0' && s[j] <= '9')) {
				j++
			}
			out = append(out, token{kind: "ident", val: s[i:j]})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q at %d", c, i)
		}
	}
	return out, nil
}

type parser struct {
	toks  []token
	i     int
	out   []piece
	depth int
	args  int
}

// parseFilter parses a restricted filter expression; "" gives nil.
func parseFilter(s string) (*filter, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	if len(s) > maxFilterLen {
		return nil, fmt.Errorf("longer than %d bytes", maxFilterLen)
	}
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if err := p.expr(); err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		t := p.toks[p.i]
		if t.val == "" {
			t.val = t.kind
		}
		return nil, fmt.Errorf("unexpected %q", t.val)
	}
	return &filter{pieces: p.out}, nil
}

func (p *parser) peekKW(kw string) bool {
	return p.i < len(p.toks) && p.toks[p.i].kind == "ident" && strings.EqualFold(p.toks[p.i].val, kw)
}

func (p *parser) text(s string) { p.out = append(p.out, piece{kind: pText, text: s}) }

func (p *parser) expr() error {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxFilterDepth {
		return errors.New("nested too deeply")
	}
	if err := p.and(); err != nil {
		return err
	}
	for p.peekKW("OR") {
		p.i++
		p.text(" OR ")
		if err := p.and(); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) and() error {
	if err := p.atom(); err != nil {
		return err
	}
	for p.peekKW("AND") {
		p.i++
		p.text(" AND ")
		if err := p.atom(); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) atom() error {
	if p.i >= len(p.toks) {
		return errors.New("unexpected end")
	}
	t := p.toks[p.i]
	switch {
	case t.kind == "(":
		p.i++
		p.text("(")
		if err := p.expr(); err != nil {
			return err
		}
		if p.i >= len(p.toks) || p.toks[p.i].kind != ")" {
			return errors.New("missing )")
		}
		p.i++
		p.text(")")
		return nil
	case p.peekKW("NOT"):
		p.i++
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxFilterDepth {
			return errors.New("nested too deeply")
		}
		p.text("NOT ")
		return p.atom()
	case t.kind == "ident":
		return p.cond()
	}
	return fmt.Errorf("unexpected %s", t.kind)
}

var reserved = map[string]bool{"AND": true, "OR": true, "NOT": true, "IS": true, "NULL": true, "IN": true, "TRUE": true, "FALSE": true}

func (p *parser) cond() error {
	col := p.toks[p.i].val
	if reserved[strings.ToUpper(col)] || !validIdent(col, false) {
		return fmt.Errorf("invalid column %q", col)
	}
	p.i++
	p.out = append(p.out, piece{kind: pIdent, text: col})
	switch {
	case p.peekKW("IS"):
		p.i++
		not := ""
		if p.peekKW("NOT") {
			p.i++
			not = "NOT "
		}
		if !p.peekKW("NULL") {
			return errors.New("IS must be followed by [NOT] NULL")
		}
		p.i++
		p.text(" IS " + not + "NULL")
		return nil
	case p.peekKW("IN") || p.peekKW("NOT"):
		not := ""
		if p.peekKW("NOT") {
			p.i++
			not = "NOT "
			if !p.peekKW("IN") {
				return errors.New("NOT after a column must be NOT IN")
			}
		}
		p.i++
		if p.i >= len(p.toks) || p.toks[p.i].kind != "(" {
			return errors.New("IN needs a list")
		}
		p.i++
		p.text(" " + not + "IN (")
		for n := 0; ; n++ {
			if n > 0 {
				p.text(", ")
			}
			if err := p.literal(); err != nil {
				return err
			}
			if p.i < len(p.toks) && p.toks[p.i].kind == "," {
				p.i++
				continue
			}
			break
		}
		if p.i >= len(p.toks) || p.toks[p.i].kind != ")" {
			return errors.New("IN list: missing )")
		}
		p.i++
		p.text(")")
		return nil
	}
	if p.i >= len(p.toks) || p.toks[p.i].kind != "op" {
		return fmt.Errorf("column %q must be followed by an operator", col)
	}
	op := p.toks[p.i].val
	switch op {
	case "=", "<>", "!=", "<", "<=", ">", ">=":
	default:
		return fmt.Errorf("operator %q not allowed", op)
	}
	if op == "!=" {
		op = "<>"
	}
	p.i++
	p.text(" " + op + " ")
	return p.literal()
}

func (p *parser) literal() error {
	if p.i >= len(p.toks) {
		return errors.New("missing literal")
	}
	if p.args++; p.args > maxFilterArgs {
		return fmt.Errorf("more than %d literals", maxFilterArgs)
	}
	t := p.toks[p.i]
	p.i++
	switch {
	case t.kind == "int":
		v, err := strconv.ParseInt(t.val, 10, 64)
		if err != nil {
			return fmt.Errorf("integer %q out of range", t.val)
		}
		p.out = append(p.out, piece{kind: pArg, arg: v})
	case t.kind == "str":
		p.out = append(p.out, piece{kind: pArg, arg: t.val})
	case t.kind == "ident" && strings.EqualFold(t.val, "TRUE"):
		p.out = append(p.out, piece{kind: pArg, arg: true})
	case t.kind == "ident" && strings.EqualFold(t.val, "FALSE"):
		p.out = append(p.out, piece{kind: pArg, arg: false})
	default:
		return fmt.Errorf("expected a literal, got %s %q", t.kind, t.val)
	}
	return nil
}
