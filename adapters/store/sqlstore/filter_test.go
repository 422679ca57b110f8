package sqlstore

import (
	"strings"
	"testing"
)

func TestParseFilter(t *testing.T) {
	pg, _ := dialectFor("postgres")
	my, _ := dialectFor("mysql")
	cases := []struct {
		in, pg, my string
		args       int
	}{
		{"realm = 'citizens'", `"realm" = $1`, "`realm` = ?", 1},
		{"a IS NULL AND b IS NOT NULL", `"a" IS NULL AND "b" IS NOT NULL`, "`a` IS NULL AND `b` IS NOT NULL", 0},
		{"kind in (1, -2,'x') or not (x != 'it''s')", `"kind" IN ($1, $2, $3) OR NOT ("x" <> $4)`, "`kind` IN (?, ?, ?) OR NOT (`x` <> ?)", 4},
		{"active = TRUE AND n NOT IN (3)", `"active" = $1 AND "n" NOT IN ($2)`, "`active` = ? AND `n` NOT IN (?)", 2},
		{"x >= 10 and y<>'a'", `"x" >= $1 AND "y" <> $2`, "`x` >= ? AND `y` <> ?", 2},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			f, err := parseFilter(c.in)
			if err != nil {
				t.Fatal(err)
			}
			b := &builder{d: pg}
			got, args := f.render(pg, b.ph)
			if got != c.pg || len(args) != c.args {
				t.Fatalf("postgres: %s %v", got, args)
			}
			b = &builder{d: my}
			if got, _ := f.render(my, b.ph); got != c.my {
				t.Fatalf("mysql: %s", got)
			}
		})
	}
	bad := []string{
		"1=1; DROP TABLE users", "a = b", "x = 'a' --", "f(x) = 1", "x = 'unterminated",
		"x = 1 /* c */", "x LIKE 'a%'", "x = ", "(x = 1", "x = 1)", "AND = 1", "x ! 1",
		"x = 99999999999999999999", "x IS 1", "x NOT = 1", "x = 1 AND", `"x" = 1`, "x = 1 OR y",
		strings.Repeat("(", 40) + "x = 1" + strings.Repeat(")", 40), strings.Repeat("x = 1 AND ", 300) + "x = 1",
		"x IN ()", "x = -", "x = 'a' UNION SELECT 1",
	}
	for _, in := range bad {
		t.Run("reject "+in[:min(len(in), 30)], func(t *testing.T) {
			if _, err := parseFilter(in); err == nil {
				t.Fatalf("accepted %q", in)
			}
		})
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"realm = 'c'", "a IS NULL AND (b IN (1,2) OR NOT c <> 'x')", "x = 'it''s'", "((("} {
		f.Add(s)
	}
	pg, _ := dialectFor("postgres")
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := parseFilter(s)
		if err != nil || flt == nil {
			return
		}
		b := &builder{d: pg}
		out, _ := flt.render(pg, b.ph)
		// Rendered SQL holds only quoted identifiers, keywords, operators
		// and placeholders: never a quote character or a comment.
		if strings.ContainsAny(out, "';") || strings.Contains(out, "--") || strings.Contains(out, "/*") {
			t.Fatalf("unsafe render %q from %q", out, s)
		}
	})
}

func TestPlaceholders(t *testing.T) {
	pg, _ := dialectFor("postgres")
	my, _ := dialectFor("mysql")
	lite, _ := dialectFor("sqlite")
	cases := []struct {
		d    dialect
		q    string
		want int
	}{
		{pg, "SELECT 1 WHERE a IN ($1,$2,$3,$4) OR b IN ($1,$2,$3,$4)", 4},
		{my, "SELECT 1 WHERE a IN (?,?,?,?) OR b IN (?, ?, ?, ?)", 8},
		{my, "SELECT '?' WHERE a IN (?,?,?,?)", 4},
		{lite, "SELECT 1 WHERE a IN (?1, ?2, ?3, ?4) OR b IN (?1, ?2, ?3, ?4)", 4},
		{lite, "SELECT 1 WHERE a = ?", 1},
	}
	for _, c := range cases {
		if got := placeholders(c.d, c.q); got != c.want {
			t.Errorf("%s: %d, want %d", c.q, got, c.want)
		}
	}
}
