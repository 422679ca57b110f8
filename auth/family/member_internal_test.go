package family

import "testing"

// TestMemberPathClaims: a path under the member tree that the pattern
// cannot place is claimed (the credential hook denies it), a path outside
// the tree is not (the citizen's own route).
func TestMemberPathClaims(t *testing.T) {
	m, err := compileMemberPath("/users/{member}/profile")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path          string
		member        string
		match, claims bool
	}{
		{"/users/3/profile", "3", true, true},
		{"/USERS/3/profile", "3", true, true},
		{"/users/3/password", "", false, true},
		{"/users/3", "", false, true},
		{"/users", "", false, false},
		{"/users/", "", false, false},
		{"/password", "", false, false},
		{"/usersx/3/password", "", false, false},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			id, ok := m.match(c.path)
			if id != c.member || ok != c.match || m.claims(c.path) != c.claims {
				t.Fatalf("match %q %v claims %v", id, ok, m.claims(c.path))
			}
		})
	}
}
