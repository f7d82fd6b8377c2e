package sqlfuncs_test

import (
	"context"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

const saltKey = "a-secret-salt-key-of-the-stack"

// A role's declared verifier must not change between runs (or every run
// would update the role), must differ per role, password and key (the salt,
// which PostgreSQL shows any client before login, must not be a function of
// the password alone), and must let the password log in.
func TestStableSCRAMVerifier(t *testing.T) {
	a, err := sqlfuncs.StableSCRAMVerifier(saltKey, "etl", "pw")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := sqlfuncs.StableSCRAMVerifier(saltKey, "etl", "pw")
	otherRole, _ := sqlfuncs.StableSCRAMVerifier(saltKey, "tiles", "pw")
	otherPw, _ := sqlfuncs.StableSCRAMVerifier(saltKey, "etl", "pw2")
	otherKey, _ := sqlfuncs.StableSCRAMVerifier(saltKey+"2", "etl", "pw")
	salt := func(v string) string { return strings.SplitN(strings.SplitN(v, ":", 2)[1], "$", 2)[0] }
	if a != again || a == otherRole || a == otherPw || salt(a) == salt(otherKey) || !strings.HasPrefix(a, "SCRAM-SHA-256$4096:") || strings.Contains(a, "pw") {
		t.Fatalf("verifiers: %q %q %q %q %q", a, again, otherRole, otherPw, otherKey)
	}
	if _, err := sqlfuncs.StableSCRAMVerifier(saltKey, "etl", ""); err == nil {
		t.Fatal("an empty password got a verifier")
	}
	if _, err := sqlfuncs.StableSCRAMVerifier("short", "etl", "pw"); err == nil {
		t.Fatal("a short salt key was accepted")
	}

	srv := pgtest.New(t)
	role, password := pgtest.Name("stable"), "st'able p@ss:/"+pgtest.Name("x")
	v, err := sqlfuncs.StableSCRAMVerifier(saltKey, role, password)
	if err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, srv.Super(t, "postgres"), "CREATE ROLE "+role+" LOGIN PASSWORD "+pgtest.QuoteLiteral(v))
	t.Cleanup(func() {
		if c, err := pgtest.ConnectQuiet(srv.SuperConfig("postgres")); err == nil {
			_, _ = c.Exec(context.Background(), "DROP ROLE IF EXISTS "+role)
			_ = c.Close(context.Background())
		}
	})
	pgtest.Exec(t, pgtest.Connect(t, srv.Config("postgres", role, password)), "SELECT 1")
}
