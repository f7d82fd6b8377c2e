package sqlfuncs_test

import (
	"context"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/internal/pgtest"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// A role's declared verifier must not change between runs (or every run
// would update the role), must differ per role and password, and must let
// the password log in.
func TestStableSCRAMVerifier(t *testing.T) {
	a, err := sqlfuncs.StableSCRAMVerifier("etl", "pw")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := sqlfuncs.StableSCRAMVerifier("etl", "pw")
	otherRole, _ := sqlfuncs.StableSCRAMVerifier("tiles", "pw")
	otherPw, _ := sqlfuncs.StableSCRAMVerifier("etl", "pw2")
	if a != again || a == otherRole || a == otherPw || !strings.HasPrefix(a, "SCRAM-SHA-256$4096:") || strings.Contains(a, "pw") {
		t.Fatalf("verifiers: %q %q %q %q", a, again, otherRole, otherPw)
	}
	if _, err := sqlfuncs.StableSCRAMVerifier("etl", ""); err == nil {
		t.Fatal("an empty password got a verifier")
	}

	srv := pgtest.New(t)
	role, password := pgtest.Name("stable"), "st'able p@ss:/"+pgtest.Name("x")
	v, err := sqlfuncs.StableSCRAMVerifier(role, password)
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
