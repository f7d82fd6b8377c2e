package stacks_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

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
	owner := sqlfuncs.Options{UtilityRole: l.Names["utilityRole"]}.WithDefaults()
	tests := []struct{ edit, undo, rule, want string }{
		{"ALTER ROLE " + etl + " IN DATABASE " + app + " SET search_path = evil, public", "ALTER ROLE " + etl + " IN DATABASE " + app + " RESET ALL",
			baseline.PGNoHandSettings, "database " + app + ", role " + etl + ": search_path=evil, public"},
		{"ALTER DATABASE " + app + " SET statement_timeout = 0", "ALTER DATABASE " + app + " RESET ALL",
			baseline.PGNoHandSettings, "database " + app + ", every role: statement_timeout=0"},
		{"CREATE DATABASE " + foreign, "DROP DATABASE " + foreign, baseline.PGNoOpenDatabase, `"` + foreign + `"`},
		{"CREATE ROLE " + spy + " LOGIN; GRANT " + l.Admin + " TO " + spy, "DROP ROLE " + spy, baseline.PGAdminIntact, "granted to " + spy},
		{"ALTER ROLE " + l.Admin + " SET log_statement = 'all'", "ALTER ROLE " + l.Admin + " RESET ALL", baseline.PGAdminIntact, "set log_statement=all"},
		// A managed role's own setting, and one on the functions' owner's
		// login: no provider resource reads either.
		{"ALTER ROLE " + etl + " SET default_transaction_read_only = on", "ALTER ROLE " + etl + " RESET ALL",
			baseline.PGNoHandSettings, "every database, role " + etl + ": default_transaction_read_only=on"},
		{"ALTER ROLE " + owner.LoopbackLogins()[1] + " SET default_transaction_read_only = on", "ALTER ROLE " + owner.LoopbackLogins()[1] + " RESET ALL",
			baseline.PGNoHandSettings, "every database, role " + owner.LoopbackLogins()[1] + ": default_transaction_read_only=on"},
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

// A managed role whose every session slot is taken (a pool as large as its
// CONNECTION LIMIT) gives the audit no answer about its password: drift
// fails naming it (exit 1), never a clean result and never a password
// "changed by hand". A login age removed by hand is noted as due.
func TestBusyRoleFailsTheAuditNotThePassword(t *testing.T) {
	l := enginetest.NewLocal(t)
	l.Deploy(t)
	ctx := context.Background()
	tiles, app := l.Names["tileReaderRole"], l.Names["appDatabase"]
	var limit int
	if err := l.PG.Super(t, "postgres").QueryRow(ctx, "SELECT rolconnlimit FROM pg_roles WHERE rolname = $1", tiles).Scan(&limit); err != nil || limit < 1 {
		t.Fatalf("the tile role's connection limit: %d %v", limit, err)
	}
	var pool []*pgx.Conn
	for i := 0; i < limit; i++ {
		pool = append(pool, pgtest.Connect(t, l.PG.Config(app, tiles, l.Secrets["tileReaderPassword"])))
	}
	r := automation.Drift(ctx, l.Settings, l.Name)
	if r.ExitCode != automation.ExitError || !strings.Contains(r.Error, "could not check that role "+tiles) || !strings.Contains(r.Error, "53300") ||
		len(r.Violations) > 0 && strings.Contains(fmt.Sprint(r.Violations), "changed by hand") {
		t.Fatalf("drift while %s holds all %d of its sessions: want exit 1 naming the role and 53300, got %+v", tiles, limit, r)
	}
	_ = pool[0].Close(ctx)
	if r := automation.Drift(ctx, l.Settings, l.Name); r.ExitCode != automation.ExitOK {
		t.Fatalf("drift with one session free: %+v", r)
	}

	owner := sqlfuncs.Options{UtilityRole: l.Names["utilityRole"]}.WithDefaults().Owner
	pgtest.Exec(t, l.PG.Super(t, "postgres"), "COMMENT ON ROLE "+owner+" IS NULL")
	r = automation.Drift(ctx, l.Settings, l.Name)
	if r.ExitCode != automation.ExitOK || !strings.Contains(strings.Join(r.Notes, "\n"), "new loopback login: the login's age is not recorded") {
		t.Fatalf("drift after the login's age was removed by hand: want clean with a note, got %+v", r)
	}
}
