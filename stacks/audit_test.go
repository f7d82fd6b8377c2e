package stacks_test

import (
	"context"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/baseline"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/policypack"
	"github.com/postgis-platform/deployer/sqlfuncs"
	"github.com/postgis-platform/deployer/stacks"
)

// Settings made by hand that no provider resource reads (a managed role's
// search_path in one database, a platform database's own setting), a member
// or a setting given to the admin, and a database of the cluster the stack
// does not name, made by the superuser and open to PUBLIC, and a managed
// role's password changed by hand are mandatory drift findings, and up
// refuses until they are undone.
func TestHandSettingsAndForeignOpenDatabasesBlockUp(t *testing.T) {
	l := enginetest.NewLocal(t)
	l.Deploy(t)
	ctx := context.Background()
	super := l.PG.Super(t, "postgres")
	foreign, spy := pgtest.Name("foreign"), pgtest.Name("spy")
	l.PG.DropDatabaseAtCleanup(t, foreign)
	etl, tiles, app := l.Names["etlRole"], l.Names["tileReaderRole"], l.Names["appDatabase"]
	key := stacks.DeriveVerifierKey(stacks.Project, l.Name, l.Secrets["etlPassword"], l.Secrets["tileReaderPassword"], l.Secrets["utilityRolePassword"])
	tilesVerifier, err := sqlfuncs.StableSCRAMVerifier(key, tiles, l.Secrets["tileReaderPassword"])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ edit, undo, rule, want string }{
		{"ALTER ROLE " + etl + " IN DATABASE " + app + " SET search_path = evil, public", "ALTER ROLE " + etl + " IN DATABASE " + app + " RESET ALL",
			baseline.PGNoHandSettings, "database " + app + ", role " + etl + ": search_path=evil, public"},
		{"ALTER DATABASE " + app + " SET statement_timeout = 0", "ALTER DATABASE " + app + " RESET ALL",
			baseline.PGNoHandSettings, "database " + app + ", every role: statement_timeout=0"},
		{"CREATE DATABASE " + foreign, "DROP DATABASE " + foreign, baseline.PGNoOpenDatabase, `"` + foreign + `"`},
		{"CREATE ROLE " + spy + " LOGIN; GRANT " + l.Admin + " TO " + spy, "DROP ROLE " + spy, baseline.PGAdminIntact, "granted to " + spy},
		{"ALTER ROLE " + l.Admin + " SET log_statement = 'all'", "ALTER ROLE " + l.Admin + " RESET ALL", baseline.PGAdminIntact, "set log_statement=all"},
		{"ALTER ROLE " + tiles + " PASSWORD 'backdoor1'", "ALTER ROLE " + tiles + " PASSWORD " + pgtest.QuoteLiteral(tilesVerifier),
			baseline.PGRoleLogsIn, "role " + tiles + " cannot log in to " + app + " with the stack's password"},
	}
	for _, tc := range tests {
		pgtest.Exec(t, super, tc.edit)
		r := automation.Drift(ctx, l.Settings, l.Name)
		found := ""
		for _, v := range r.Violations {
			if v.Rule == tc.rule && v.Level == policypack.Mandatory && strings.Contains(v.Message, tc.want) {
				found = v.Message
			}
		}
		if r.ExitCode != automation.ExitChanges || found == "" {
			t.Fatalf("drift after %q: want exit 2 with a mandatory %s naming %q, got exit %d %+v", tc.edit, tc.rule, tc.want, r.ExitCode, r.Violations)
		}
		if r := automation.Up(ctx, l.Settings, l.Name); r.ExitCode != automation.ExitBlocked || r.Step != "database" {
			t.Fatalf("up after %q: want blocked at step database, got %+v", tc.edit, r)
		}
		pgtest.Exec(t, super, tc.undo)
		if r := automation.Drift(ctx, l.Settings, l.Name); r.ExitCode != automation.ExitOK {
			t.Fatalf("drift after %q: %+v", tc.undo, r)
		}
	}
}
