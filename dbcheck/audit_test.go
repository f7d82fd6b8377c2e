package dbcheck_test

import (
	"context"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/dbcheck"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
)

// The audit trail on the local PostgreSQL (pgaudit, loaded by scripts/pg as
// the rds component's parameter group loads it on RDS): verify's check
// passes, a hand GRANT and ALTER ROLE land in the server log with the role
// that ran them, and no password does, neither from CREATE/ALTER ROLE nor
// from the utility functions' own statements.
func TestAuditTrailRecordsGrantsWithoutPasswords(t *testing.T) {
	f := newFixture(t)
	f.spec.Audit = true
	for _, r := range f.run(t).Results {
		if strings.HasPrefix(r.Name, "audit:") && !r.OK {
			t.Fatalf("audit check fails: %+v", r)
		}
	}
	victim := pgtest.Name("victim")
	password := "pw-" + pgtest.Name("audited")
	admin := f.u.AdminConn(t, "postgres")
	for _, s := range []string{
		"CREATE ROLE " + victim + " LOGIN PASSWORD " + pgtest.QuoteLiteral(password),
		"ALTER ROLE " + victim + " PASSWORD " + pgtest.QuoteLiteral(password+"2"),
		"GRANT CONNECT ON DATABASE " + f.tenant + " TO " + victim,
		"ALTER ROLE " + victim + " SET search_path = evil",
	} {
		pgtest.Exec(t, admin, s)
	}
	t.Cleanup(func() {
		c, err := pgtest.ConnectQuiet(f.u.SuperConfig("postgres"))
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP OWNED BY "+victim)
			_, _ = c.Exec(context.Background(), "DROP ROLE IF EXISTS "+victim)
			_ = c.Close(context.Background())
		}
	})
	log := f.u.ServerLog(t, "GRANT CONNECT ON DATABASE "+f.tenant+" TO "+victim)
	for _, want := range []string{
		"GRANT CONNECT ON DATABASE " + f.tenant + " TO " + victim,
		"ALTER ROLE " + victim + " SET search_path = evil",
		"CREATE ROLE " + victim + " LOGIN PASSWORD <REDACTED>",
	} {
		line := lineWith(log, want)
		if line == "" || !strings.Contains(line, "AUDIT: SESSION") || !strings.Contains(line, "user="+f.u.Admin+" ") {
			t.Errorf("no audit line with the admin for %q (got %q)", want, line)
		}
	}
	if lineWith(log, "GRANT "+f.owner+" TO "+f.u.Admin) == "" && lineWith(log, "CREATE DATABASE "+f.tenant) == "" {
		t.Errorf("the utility functions' statements are not on record")
	}
	for _, secret := range []string{password, f.u.AdminPass, f.u.CallerPass} {
		if pgtest.SecretIn(log, secret) {
			t.Errorf("a password is in the server log")
		}
	}
	var check dbcheck.Result
	for _, r := range f.run(t).Results {
		if strings.HasPrefix(r.Name, "audit:") {
			check = r
		}
	}
	if !check.OK {
		t.Fatalf("audit check: %+v", check)
	}
}

func lineWith(log, s string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
