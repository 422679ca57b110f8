package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/nrn"
)

func TestHashCheck(t *testing.T) {
	n, err := nrn.Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), true, 4)
	if err != nil {
		t.Fatal(err)
	}
	md5hex := func(s string) string { m := md5.Sum([]byte(s)); return hex.EncodeToString(m[:]) }
	// Produced by openssl passwd -1 -salt abcdefgh hello and htpasswd -nbB -C 5 u té.
	const md5crypt = "$1$abcdefgh$rwnEbRiN0agqVgZBovWNQ/"
	const bcryptTe = "$2y$05$lzInMVtcMgiKYE83xkt3kO7PoIFsYX9vNF76oXDhInDqRygT3bCsW"
	in := strings.Join([]string{
		md5crypt + "\thello",
		md5crypt + "\thellO",
		bcryptTe + "\tté",
		md5hex(n.Format()) + "\t" + n.Format(),
		"zzz\tx",
		"!\tx",
		"no-tab-here",
		"$6$rounds=999999999$salt$" + strings.Repeat("a", 86) + "\tx",
		md5hex("pass\tword") + "\tpass\tword",
		strings.Repeat("a", 20000) + "\tx",
		md5crypt + "\thello\r",
	}, "\n")
	want := strings.Join([]string{
		"1\tmatch\tmd5-crypt",
		"2\tmismatch\tmd5-crypt",
		"3\tmatch\tbcrypt",
		"4\tmatch\tmd5",
		"5\tunsupported\t-",
		"6\tmismatch\tlocked",
		"7\tunsupported\t-",
		"8\tunsupported\tsha512-crypt",
		"9\tmatch\tmd5",
		"10\tunsupported\t-",
		"11\tmatch\tmd5-crypt",
	}, "\n") + "\n"
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"hash", "check"}, strings.NewReader(in), &out, &errb); err != nil {
		t.Fatalf("run: %v (%s)", err, errb.String())
	}
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	if strings.Contains(out.String(), n.Digits()) || strings.Contains(out.String(), "hello") {
		t.Fatal("a password was printed")
	}
}

func TestHashCheckOrderAcrossBatches(t *testing.T) {
	var in, want strings.Builder
	for i := 1; i <= 300; i++ {
		if i%3 == 0 {
			in.WriteString("garbage\tx\n")
			want.WriteString(strconv.Itoa(i) + "\tunsupported\t-\n")
		} else {
			in.WriteString("$1$abcdefgh$rwnEbRiN0agqVgZBovWNQ/\thello\n")
			want.WriteString(strconv.Itoa(i) + "\tmatch\tmd5-crypt\n")
		}
	}
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"hash", "check"}, strings.NewReader(in.String()), &out, &errb); err != nil {
		t.Fatal(err)
	}
	if out.String() != want.String() {
		t.Fatal("output out of order or wrong")
	}
}

func TestHashCheckHint(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"hash", "check", "--hint", "plaintext"}, strings.NewReader("geheim\tgeheim\ngeheim\tGeheim\n"), &out, &errb)
	if err != nil || out.String() != "1\tmatch\tplaintext\n2\tmismatch\tplaintext\n" {
		t.Fatalf("run = %v, %q", err, out.String())
	}
	out.Reset()
	// Salted store: salt in its own column.
	m := md5.Sum([]byte("zoutgeheim"))
	in := hex.EncodeToString(m[:]) + "\tzout\tgeheim\n" + hex.EncodeToString(m[:]) + "\tzout\tgeheiM\n" + hex.EncodeToString(m[:]) + "\tno-password-column\n"
	err = run(context.Background(), []string{"hash", "check", "--hint", "md5(salt+password)", "--with-salt"}, strings.NewReader(in), &out, &errb)
	if err != nil || out.String() != "1\tmatch\tmd5(salt+password)\n2\tmismatch\tmd5(salt+password)\n3\tunsupported\t-\n" {
		t.Fatalf("--with-salt: %v, %q", err, out.String())
	}
	out.Reset()
	err = run(context.Background(), []string{"hash", "check", "--hint", "rot13"}, strings.NewReader("x\tx\n"), &out, &errb)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(errb.String(), "rot13") {
		t.Fatalf("bad hint: %v, %q", err, errb.String())
	}
}

func TestHashIdentify(t *testing.T) {
	in := "$1$abcdefgh$rwnEbRiN0agqVgZBovWNQ/\n" +
		"$2y$05$lzInMVtcMgiKYE83xkt3kO7PoIFsYX9vNF76oXDhInDqRygT3bCsW\n" +
		"\n" +
		"*LK*\n" +
		"{SSHA}!!!\n" +
		"$2a$31$" + strings.Repeat("a", 53) + "\n"
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"hash", "identify"}, strings.NewReader(in), &out, &errb); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{
		"1\tmd5-crypt\tweak\t1000 md5 rounds",
		"2\tbcrypt\tweak\tbcrypt cost 5",
		"3\tempty\tnone\t-",
		"4\tlocked\tnone\t-",
		"5\tunsupported\t-\thash: unsupported ldap-ssha: bad base64",
		"6\tunsupported\t-\thash: bcrypt cost 31 outside the allowed range (max 16)",
	}
	if len(lines) != len(want) {
		t.Fatalf("got %q", lines)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d = %q, want %q", i+1, lines[i], want[i])
		}
	}
}
