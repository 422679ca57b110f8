package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/overstap/overstap/migrate/hash"
)

// hashMaxLine bounds one input line of the hash commands; longer lines are
// answered "unsupported" and skipped, never buffered whole.
const hashMaxLine = 16 << 10

func newHashCmd(s stdio) *cobra.Command {
	c := &cobra.Command{Use: "hash", Short: "Identify and check legacy password hashes"}
	var hint string
	var withSalt bool
	c.PersistentFlags().StringVar(&hint, "hint", "", "store hint for bare values: "+strings.Join(hash.Hints(), ", "))
	check := &cobra.Command{
		Use:   "check",
		Short: "Check hash<TAB>password lines read from stdin",
		Long: `Reads lines "hash<TAB>password" from stdin (the password is everything after
the first TAB) and prints, in input order, one tab-separated line per input:

  line-number  match|mismatch|unsupported  scheme

The scheme is "-" when the value is not recognised. Locked and empty markers
answer "mismatch". Lines longer than 16 KiB or without a TAB answer
"unsupported". Passwords are never printed. With --with-salt the lines are
"hash<TAB>salt<TAB>password" (for the salted --hint forms, whose salt is a
separate column). Exit status 0 when every line was read and answered
(whatever the answers), 1 on a read or write error, 2 on a bad --hint.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return hashRun(cmd.Context(), s, hint, withSalt, true)
		},
	}
	check.Flags().BoolVar(&withSalt, "with-salt", false, "lines are hash<TAB>salt<TAB>password")
	c.AddCommand(check)
	c.AddCommand(&cobra.Command{
		Use:   "identify",
		Short: "Name the scheme and strength of hashes read from stdin",
		Long: `Reads one stored value per line from stdin and prints, in input order:

  line-number  scheme|unsupported|locked|empty  none|weak|acceptable|strong|-  cost-or-reason

Exit status 0 when every line was read and answered, 1 on a read or write
error, 2 on a bad --hint.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return hashRun(cmd.Context(), s, hint, false, false)
		},
	})
	return c
}

type hashLine struct {
	n      int
	text   string
	tooBig bool
	out    string
}

func hashRun(ctx context.Context, s stdio, hint string, withSalt, check bool) error {
	if err := hash.ValidateHint(hint); err != nil {
		fmt.Fprintln(s.err, "overstap hash:", err)
		return exitError{code: 2}
	}
	h, err := hash.New(hash.Config{})
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	p := hash.Params{Hint: hint}
	r := bufio.NewReaderSize(s.in, hashMaxLine)
	w := bufio.NewWriter(s.out)
	batch := make([]hashLine, 0, 64)
	flush := func() error {
		answer(ctx, h, p, withSalt, check, batch)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("hash: %w", err)
		}
		for _, l := range batch {
			if _, err := w.WriteString(l.out); err != nil {
				return fmt.Errorf("hash: writing stdout: %w", err)
			}
		}
		batch = batch[:0]
		return w.Flush()
	}
	for n := 1; ; n++ {
		text, tooBig, err := readLine(r)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("hash: reading stdin: %w", err)
		}
		batch = append(batch, hashLine{n: n, text: text, tooBig: tooBig})
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// readLine returns the next line without its "\n" or "\r\n"; a line over
// hashMaxLine is discarded and reported as tooBig.
func readLine(r *bufio.Reader) (string, bool, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = r.ReadSlice('\n')
		}
		if err != nil && err != io.EOF {
			return "", false, err
		}
		return "", true, nil
	}
	if err == io.EOF && len(line) == 0 {
		return "", false, io.EOF
	}
	if err != nil && err != io.EOF {
		return "", false, err
	}
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	return string(line), false, nil
}

// answer fills out for every line, using all cores; the Hasher's own limiter
// bounds the expensive work.
func answer(ctx context.Context, h *hash.Hasher, p hash.Params, withSalt, check bool, lines []hashLine) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				l := &lines[i]
				if check {
					l.out = checkLine(ctx, h, p, withSalt, l)
				} else {
					l.out = identifyLine(h, p, l)
				}
			}
		}()
	}
	for i := range lines {
		next <- i
	}
	close(next)
	wg.Wait()
}

func checkLine(ctx context.Context, h *hash.Hasher, p hash.Params, withSalt bool, l *hashLine) string {
	prefix := strconv.Itoa(l.n) + "\t"
	stored, password, ok := strings.Cut(l.text, "\t")
	if ok && withSalt {
		p.Salt, password, ok = strings.Cut(password, "\t")
	}
	if l.tooBig || !ok {
		return prefix + "unsupported\t-\n"
	}
	res, err := h.Verify(ctx, stored, password, p)
	scheme := res.Scheme
	if scheme == "" {
		scheme = "-"
	}
	switch {
	case err != nil:
		return prefix + "unsupported\t" + scheme + "\n"
	case res.Match:
		return prefix + "match\t" + scheme + "\n"
	}
	return prefix + "mismatch\t" + scheme + "\n"
}

func identifyLine(h *hash.Hasher, p hash.Params, l *hashLine) string {
	prefix := strconv.Itoa(l.n) + "\t"
	if l.tooBig {
		return prefix + "unsupported\t-\tline too long\n"
	}
	info, err := h.Identify(l.text, p)
	if err != nil {
		return prefix + "unsupported\t-\t" + oneLine(err.Error()) + "\n"
	}
	cost := info.Cost
	if cost == "" {
		cost = "-"
	}
	return prefix + info.Scheme + "\t" + info.Strength.String() + "\t" + cost + "\n"
}

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}
