package hash_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/overstap/overstap/migrate/hash"
)

func ExampleHasher_Verify() {
	h, err := hash.New(hash.Config{BcryptCost: 12})
	if err != nil {
		panic(err)
	}
	// Written by `openssl passwd -1 -salt abcdefgh hello`.
	res, err := h.Verify(context.Background(), "$1$abcdefgh$rwnEbRiN0agqVgZBovWNQ/", "hello", hash.Params{})
	fmt.Println(res.Match, res.Scheme, res.NeedsUpgrade, err)
	// Output: true md5-crypt true <nil>
}

func ExampleHasher_Identify() {
	h, _ := hash.New(hash.Config{})
	for _, stored := range []string{
		"{SSHA}aDRlXEwxRhrFoYDe8zUVpIYqv9Rn1cr/0QvbDAsEkVaxkZjtenG0Kw==",
		"$2y$05$lzInMVtcMgiKYE83xkt3kO7PoIFsYX9vNF76oXDhInDqRygT3bCsW",
		"!",
		"$6$rounds=999999999$salt$" + strings.Repeat("a", 86),
	} {
		info, err := h.Identify(stored, hash.Params{})
		fmt.Println(info.Scheme, info.Strength, info.Usable, err)
	}
	// Output:
	// ldap-ssha weak true <nil>
	// bcrypt weak true <nil>
	// locked none false <nil>
	// sha512-crypt none false hash: sha512-crypt rounds 999999999 outside the allowed range (max 1000000)
}

func ExampleHasher_Wrap() {
	h, _ := hash.New(hash.Config{BcryptCost: 10})
	ctx := context.Background()
	// An unsalted MD5 column ("5f4dcc3b..." is md5("password")).
	wrapped, err := h.Wrap(ctx, "5f4dcc3b5aa765d61d8327deb882cf99", hash.Params{Hint: "md5"})
	if err != nil {
		panic(err)
	}
	fmt.Println(wrapped[:len("$osw1$md5$r=0,l=0,h=,s=$$2a$10$")])
	res, _ := h.Verify(ctx, wrapped, "password", hash.Params{})
	fmt.Println(res.Match, res.Scheme, res.NeedsUpgrade)
	// Output:
	// $osw1$md5$r=0,l=0,h=,s=$$2a$10$
	// true wrapped(md5) true
}
