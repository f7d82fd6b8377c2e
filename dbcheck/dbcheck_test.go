package dbcheck_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/postgis-platform/deployer/dbcheck"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
)

type fixture struct {
	u      *pgtest.Utility
	owner  string
	tenant string
	spec   dbcheck.Spec
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	srv := pgtest.New(t)
	u := pgtest.NewUtility(t, srv)
	owner, tenant := pgtest.Name("tenant_owner"), pgtest.Name("tenant")
	u.DropDatabaseAtCleanup(t, tenant)
	caller := u.CallerConn(t)
	for _, q := range []string{"SELECT utility.create_role($1)", "SELECT utility.create_database($2, $1)"} {
		args := []any{owner}
		if strings.Contains(q, "$2") {
			args = append(args, tenant)
		}
		if _, err := caller.Exec(context.Background(), q, args...); err != nil {
			t.Fatal(err)
		}
	}
	return fixture{u: u, owner: owner, tenant: tenant, spec: dbcheck.Spec{
		PostGISDatabases: []string{tenant},
		Roles: []dbcheck.Role{
			{Name: owner, Login: true, MemberOf: []string{u.Options.WithDefaults().TenantGroup}},
			{Name: u.Caller, Login: true},
			{Name: u.Admin, Login: true, Admin: true},
		},
		SecuredDatabases: []string{tenant, u.DB},
		Utility:          &dbcheck.Utility{Database: u.DB, Owner: u.Admin, Options: u.Options},
	}}
}

func (f fixture) run(t *testing.T) dbcheck.Report {
	t.Helper()
	rep, err := dbcheck.Run(context.Background(), f.u.Config("postgres", f.u.Admin, f.u.AdminPass), f.spec)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestPassingDatabase(t *testing.T) {
	f := newFixture(t)
	rep := f.run(t)
	if !rep.OK() {
		t.Fatalf("checks fail on a healthy database: %+v", rep.Failed())
	}
	names := ""
	for _, r := range rep.Results {
		names += r.Name + "\n"
	}
	for _, want := range []string{"tls:", "role " + f.owner, "database " + f.tenant + ": PostGIS installed (POSTGIS=", "database " + f.tenant + ": PUBLIC", "utility utility.create_database: search_path pinned"} {
		if !strings.Contains(names, want) {
			t.Errorf("no check %q in:\n%s", want, names)
		}
	}
}

func TestFailuresProvokedByHand(t *testing.T) {
	f := newFixture(t)
	super := f.u.Super(t, "postgres")
	plain := pgtest.Name("plain")
	f.u.DropDatabaseAtCleanup(t, plain)
	pgtest.Exec(t, super, "ALTER ROLE "+f.owner+" CREATEDB")
	pgtest.Exec(t, super, "ALTER ROLE "+f.u.Caller+" BYPASSRLS")
	pgtest.Exec(t, super, "GRANT CONNECT ON DATABASE "+f.tenant+" TO PUBLIC")
	pgtest.Exec(t, super, "CREATE DATABASE "+plain+" TEMPLATE template0")
	pgtest.Exec(t, super, "GRANT CONNECT ON DATABASE "+plain+" TO "+f.u.Admin)
	pgtest.Exec(t, f.u.AdminConn(t, f.u.DB), "GRANT EXECUTE ON FUNCTION utility.create_database(text, text) TO PUBLIC")
	f.spec.PostGISDatabases = append(f.spec.PostGISDatabases, plain)

	rep := f.run(t)
	got := map[string]dbcheck.Result{}
	for _, r := range rep.Failed() {
		got[r.Name] = r
	}
	want := map[string][2]string{ // check -> found, fix fragments
		"role " + f.owner + ": intended attributes":                     {"has CREATEDB", "NOCREATEDB"},
		"role " + f.u.Caller + ": intended attributes":                  {"has BYPASSRLS", "NOBYPASSRLS"},
		"database " + f.tenant + ": PUBLIC has no CONNECT or TEMPORARY": {"PUBLIC has CONNECT", "REVOKE CONNECT"},
		"database " + plain + ": PostGIS installed":                     {"no postgis extension", "CREATE EXTENSION postgis"},
		"utility utility.create_database: not executable by PUBLIC":     {"PUBLIC has EXECUTE", "REVOKE ALL ON FUNCTION"},
	}
	if len(got) != len(want) {
		t.Errorf("failed checks: %v", keys(got))
	}
	for name, frag := range want {
		r, ok := got[name]
		if !ok {
			t.Errorf("check %q did not fail", name)
			continue
		}
		if !strings.Contains(r.Found, frag[0]) || !strings.Contains(r.Fix, frag[1]) {
			t.Errorf("%s: found %q fix %q, want %q / %q", name, r.Found, r.Fix, frag[0], frag[1])
		}
	}

	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "FAIL role "+f.owner) || !strings.Contains(text.String(), "5 failed") {
		t.Errorf("text report:\n%s", text.String())
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back dbcheck.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Failed()) != 5 {
		t.Errorf("JSON round trip: %v, %d failed", err, len(back.Failed()))
	}
	for _, secret := range []string{f.u.AdminPass, f.u.CallerPass} {
		if strings.Contains(text.String()+js.String(), secret) {
			t.Fatal("a password reached the report")
		}
	}
}

func TestTLSFloor(t *testing.T) {
	srv := pgtest.New(t)
	ctx := context.Background()
	cc, err := srv.SuperConfig("postgres").ConnConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cc.TLSConfig.MaxVersion = tls.VersionTLS12
	for _, fb := range cc.Fallbacks {
		if fb.TLSConfig != nil {
			fb.TLSConfig.MaxVersion = tls.VersionTLS12
		}
	}
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if r := dbcheck.CheckTLS(ctx, conn, "TLSv1.2"); !r.OK {
		t.Fatalf("TLS 1.2 connection fails the 1.2 floor: %+v", r)
	}
	r := dbcheck.CheckTLS(ctx, conn, "TLSv1.3")
	if r.OK || !strings.Contains(r.Found, "TLSv1.2") || !strings.Contains(r.Fix, "ssl_min_protocol_version") {
		t.Fatalf("TLS 1.2 connection passes the 1.3 floor: %+v", r)
	}
	if r := dbcheck.CheckTLS(ctx, conn, "TLSv9"); r.OK {
		t.Fatal("unknown floor passed")
	}
}

func TestUnreachableIsAnError(t *testing.T) {
	srv := pgtest.New(t)
	cfg := srv.SuperConfig("postgres")
	cfg.Port = 1
	if _, err := dbcheck.Run(context.Background(), cfg, dbcheck.Spec{}); err == nil {
		t.Fatal("want an error for an unreachable server")
	}
}

func keys(m map[string]dbcheck.Result) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Memberships, per-role settings and databases open to PUBLIC, made by hand,
// each fail their check; a database the stack never named is found too.
func TestLiveCatalogChecks(t *testing.T) {
	f := newFixture(t)
	f.spec.Admin = f.u.Admin
	if rep := f.run(t); !rep.OK() {
		t.Fatalf("healthy database fails: %+v", rep.Failed())
	}
	super := f.u.Super(t, "postgres")
	rogue := pgtest.Name("rogue")
	f.u.DropDatabaseAtCleanup(t, rogue)
	pgtest.Exec(t, f.u.AdminConn(t, "postgres"), "CREATE DATABASE "+rogue)
	pgtest.Exec(t, super, "GRANT "+f.u.Admin+" TO "+f.u.Caller)
	pgtest.Exec(t, super, "ALTER ROLE "+f.owner+" SET search_path = evil")
	pgtest.Exec(t, super, "GRANT CONNECT ON DATABASE "+f.tenant+" TO PUBLIC")
	failed := map[string]string{}
	for _, r := range f.run(t).Failed() {
		failed[r.Name] = r.Found + " | " + r.Fix
	}
	for name, want := range map[string]string{
		"role " + f.u.Caller + ": member of no other role": "member of " + f.u.Admin,
		"role " + f.owner + ": no per-role settings":       "search_path=evil",
		dbcheck.OpenDatabasesCheck:                         rogue + " (owner " + f.u.Admin + "): PUBLIC has CONNECT, TEMPORARY",
	} {
		if !strings.Contains(failed[name], want) {
			t.Errorf("check %q: got %q, want it to contain %q (all failures: %v)", name, failed[name], want, failed)
		}
	}
	if !strings.Contains(failed[dbcheck.OpenDatabasesCheck], f.tenant+" (owner "+f.owner+"): PUBLIC has CONNECT") {
		t.Errorf("the re-opened tenant database is not reported: %v", failed)
	}

	// A role granted a managed role; pgaudit turned off for one role; the
	// admin's grant of the tenant role revoked (its open database is still
	// found through the tenant group).
	utilConn := f.u.Super(t, f.u.DB)
	pgtest.Exec(t, utilConn, "ALTER DEFAULT PRIVILEGES IN SCHEMA utility GRANT EXECUTE ON FUNCTIONS TO PUBLIC")
	pgtest.Exec(t, super, "GRANT CONNECT ON DATABASE "+f.u.DB+" TO "+f.owner)
	grantee := pgtest.Name("grantee")
	pgtest.Exec(t, super, "CREATE ROLE "+grantee+" LOGIN; GRANT "+f.u.Caller+" TO "+grantee)
	t.Cleanup(func() { pgtest.Exec(t, f.u.Super(t, "postgres"), "DROP ROLE IF EXISTS "+grantee) })
	pgtest.Exec(t, super, "ALTER ROLE "+f.u.Caller+" SET pgaudit.log = 'none'")
	t.Cleanup(func() { pgtest.Exec(t, f.u.Super(t, "postgres"), "ALTER ROLE "+f.u.Caller+" RESET pgaudit.log") })
	pgtest.Exec(t, super, "REVOKE "+f.owner+" FROM "+f.u.Admin)
	f.spec.Audit, f.spec.TenantGroup = true, f.u.Options.WithDefaults().TenantGroup
	failed = map[string]string{}
	for _, r := range f.run(t).Failed() {
		failed[r.Name] = r.Found
	}
	for name, want := range map[string]string{
		"role " + f.u.Caller + ": no role is a member of it": "granted to " + grantee,
		"audit: pgaudit logs role and DDL statements":        "role " + f.u.Caller + ": pgaudit.log=none",
		dbcheck.OpenDatabasesCheck:                           f.tenant + " (owner " + f.owner + ")",
		"utility database " + f.u.DB + ": CONNECT for the utility role and the functions' owner's logins only": "CONNECT held by " + f.owner,
		"utility database " + f.u.DB + ": no default privileges":                                               "in utility",
	} {
		if !strings.Contains(failed[name], want) {
			t.Errorf("check %q: got %q, want %q", name, failed[name], want)
		}
	}
}

// result is the check named name in a verify run; the test fails without it.
func (f fixture) result(t *testing.T, name string) dbcheck.Result {
	t.Helper()
	for _, r := range f.run(t).Results {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("verify ran no check %q", name)
	return dbcheck.Result{}
}

// handEdit is an edit made in psql (as conn's role), the check it must fail
// with a Found naming want, and its undo.
type handEdit struct{ edit, undo, check, want string }

// tryHandEdits makes each edit, runs verify, undoes it, and checks that each
// failed as it should and that every check passes once all are undone.
func (f fixture) tryHandEdits(t *testing.T, conn *pgx.Conn, edits []handEdit) {
	t.Helper()
	for _, e := range edits {
		pgtest.Exec(t, conn, e.edit)
		got := f.result(t, e.check)
		pgtest.Exec(t, conn, e.undo)
		if got.OK || !strings.Contains(got.Found, e.want) || got.Fix == "" {
			t.Errorf("%s: want %q to fail naming %q, got %+v", e.edit, e.check, e.want, got)
		}
	}
	for _, e := range edits {
		if r := f.result(t, e.check); !r.OK {
			t.Fatalf("after the undo of %q: %+v", e.edit, r)
		}
	}
}

// Settings made by hand that reach the platform's sessions without being a
// managed role's own: on a platform database, for every role in one, for a
// managed role in one database, for a tenant role.
func TestSettingsMadeByHand(t *testing.T) {
	f := newFixture(t)
	f.spec.TenantGroup = f.u.Options.WithDefaults().TenantGroup
	check := "settings: none made for the platform's databases, every role, or a managed role in one database"
	f.tryHandEdits(t, f.u.Super(t, "postgres"), []handEdit{
		{"ALTER DATABASE " + f.u.DB + " SET search_path = evil", "ALTER DATABASE " + f.u.DB + " RESET ALL", check, "database " + f.u.DB + ", every role: search_path=evil"},
		{"ALTER ROLE ALL IN DATABASE " + f.tenant + " SET work_mem = '1MB'", "ALTER ROLE ALL IN DATABASE " + f.tenant + " RESET ALL", check, "database " + f.tenant + ", every role: work_mem=1MB"},
		{"ALTER ROLE " + f.u.Caller + " IN DATABASE " + f.u.DB + " SET search_path = evil", "ALTER ROLE " + f.u.Caller + " IN DATABASE " + f.u.DB + " RESET ALL", check, "role " + f.u.Caller + ": search_path=evil"},
		{"ALTER ROLE " + f.owner + " SET statement_timeout = 0", "ALTER ROLE " + f.owner + " RESET ALL", check, "every database, role " + f.owner + ": statement_timeout=0"},
	})
}

// A tenant database granted to another role or marked a template, a database
// owned by a platform role, and a tenant role given an attribute, a
// membership or a member by hand fail verify.
func TestTenantsWidenedByHand(t *testing.T) {
	f := newFixture(t)
	f.spec.TenantGroup = f.u.Options.WithDefaults().TenantGroup
	f.spec.Admin = f.u.Admin
	other, platformDB := pgtest.Name("other_tenant"), pgtest.Name("platform_db")
	f.u.DropDatabaseAtCleanup(t, platformDB)
	pgtest.Exec(t, f.u.CallerConn(t), "SELECT utility.create_role($1)", other)
	dbs, roles := "tenant databases: open to their owners alone", "tenant roles: no attributes, memberships or members beyond the tenant group"
	f.tryHandEdits(t, f.u.Super(t, "postgres"), []handEdit{
		{"GRANT CONNECT ON DATABASE " + f.tenant + " TO " + f.u.Caller, "REVOKE CONNECT ON DATABASE " + f.tenant + " FROM " + f.u.Caller, dbs, f.tenant + ": " + f.u.Caller + " holds CONNECT"},
		{"ALTER ROLE " + f.owner + " CREATEDB", "ALTER ROLE " + f.owner + " NOCREATEDB", roles, f.owner + ": CREATEDB"},
		{"GRANT " + other + " TO " + f.owner, "REVOKE " + other + " FROM " + f.owner, roles, f.owner + ": member of " + other},
		{"GRANT " + f.owner + " TO " + f.u.Caller, "REVOKE " + f.owner + " FROM " + f.u.Caller, roles, f.owner + ": granted to " + f.u.Caller},
		{"ALTER DATABASE " + f.tenant + " IS_TEMPLATE true", "ALTER DATABASE " + f.tenant + " IS_TEMPLATE false", dbs, f.tenant + " is a template"},
		{"ALTER DATABASE " + f.tenant + " IS_TEMPLATE true; GRANT CONNECT ON DATABASE " + f.tenant + " TO PUBLIC",
			"REVOKE CONNECT ON DATABASE " + f.tenant + " FROM PUBLIC; ALTER DATABASE " + f.tenant + " IS_TEMPLATE false",
			dbcheck.OpenDatabasesCheck, f.tenant + " (owner " + f.owner + "): PUBLIC has CONNECT"},
		{"CREATE DATABASE " + platformDB + " OWNER " + f.u.Caller, "DROP DATABASE " + platformDB, dbs, platformDB + " is owned by the platform role " + f.u.Caller},
		{"ALTER DATABASE " + f.tenant + " OWNER TO " + f.spec.TenantGroup, "ALTER DATABASE " + f.tenant + " OWNER TO " + f.owner, dbs,
			f.tenant + " is owned by the platform role " + f.spec.TenantGroup},
	})
}

// Whatever is planted in the tenant template, every tenant database cloned
// from it inherits: verify names each.
func TestObjectsPlantedInTheTemplate(t *testing.T) {
	f := newFixture(t)
	tmpl := f.u.Options.WithDefaults().TemplateDB
	check := "tenant template " + tmpl + ": nothing but PostGIS and a locked public schema"
	f.tryHandEdits(t, f.u.Super(t, tmpl), []handEdit{
		{"CREATE FUNCTION public.helper() RETURNS int LANGUAGE sql AS 'SELECT 1'", "DROP FUNCTION public.helper()", check, "function helper()"},
		{"CREATE TABLE public.seed (x int)", "DROP TABLE public.seed", check, "relation seed"},
		{"CREATE SCHEMA extra", "DROP SCHEMA extra", check, "schema extra"},
		{"GRANT USAGE ON SCHEMA public TO PUBLIC", "REVOKE USAGE ON SCHEMA public FROM PUBLIC", check, "grant on schema public PUBLIC USAGE"},
		{"ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC", "ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM PUBLIC", check, "default privileges"},
		{"GRANT INSERT ON public.spatial_ref_sys TO PUBLIC", "REVOKE INSERT ON public.spatial_ref_sys FROM PUBLIC", check, "grant to PUBLIC spatial_ref_sys INSERT"},
		{"CREATE FUNCTION public.st_area2(int) RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'; ALTER EXTENSION postgis ADD FUNCTION public.st_area2(int)",
			"ALTER EXTENSION postgis DROP FUNCTION public.st_area2(int); DROP FUNCTION public.st_area2(int)", check, "security definer function st_area2(integer)"},
		{"SELECT lo_from_bytea(424242, 'secret')", "SELECT lo_unlink(424242)", check, "large object 424242"},
		{"CREATE COLLATION public.c2 (locale = 'C')", "DROP COLLATION public.c2", check, "collation c2"},
		{"CREATE TEXT SEARCH CONFIGURATION public.ts (COPY = simple)", "DROP TEXT SEARCH CONFIGURATION public.ts", check, "text search configuration ts"},
		{"CREATE STATISTICS public.st ON srid, auth_srid FROM public.spatial_ref_sys", "DROP STATISTICS public.st", check, "statistics object st"},
		{"ALTER TABLE public.spatial_ref_sys ENABLE ROW LEVEL SECURITY", "ALTER TABLE public.spatial_ref_sys DISABLE ROW LEVEL SECURITY", check, "row security on spatial_ref_sys"},
		{"CREATE TABLE public.x (a int); ALTER EXTENSION postgis ADD TABLE public.x", "ALTER EXTENSION postgis DROP TABLE public.x; DROP TABLE public.x", check, "relation added to an extension x"},
		{"CREATE FUNCTION public.evt() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$; CREATE EVENT TRIGGER evt ON ddl_command_start EXECUTE FUNCTION public.evt()",
			"DROP EVENT TRIGGER evt; DROP FUNCTION public.evt()", check, "event trigger evt"},
	})
}

// The loopback server edited by hand to connect without verified TLS fails
// verify (dblink would send the owner's password in the clear).
func TestLoopbackServerWithoutTLS(t *testing.T) {
	f := newFixture(t)
	server := f.u.Options.WithDefaults().Server
	f.tryHandEdits(t, f.u.AdminConn(t, f.u.DB), []handEdit{{
		"ALTER SERVER " + server + " OPTIONS (SET sslmode 'disable', DROP sslrootcert)",
		"ALTER SERVER " + server + " OPTIONS (SET sslmode 'verify-full', ADD sslrootcert " + pgtest.QuoteLiteral(f.u.CAFile) + ")",
		"loopback server " + server + ": dblink connects with verify-full TLS", `sslmode "disable"`,
	}})
}

// TEMPORARY or CREATE on the utility database for anyone but its owner fails
// verify: a temporary schema lets the caller shadow the functions' types.
func TestUtilityDatabaseTempGrant(t *testing.T) {
	f := newFixture(t)
	f.tryHandEdits(t, f.u.Super(t, "postgres"), []handEdit{
		{"GRANT TEMPORARY ON DATABASE " + f.u.DB + " TO " + f.u.Caller, "REVOKE TEMPORARY ON DATABASE " + f.u.DB + " FROM " + f.u.Caller,
			"utility database " + f.u.DB + ": TEMPORARY and CREATE for its owner only", f.u.Caller + " TEMPORARY"},
		{"GRANT CREATE ON DATABASE " + f.u.DB + " TO PUBLIC", "REVOKE CREATE ON DATABASE " + f.u.DB + " FROM PUBLIC",
			"utility database " + f.u.DB + ": TEMPORARY and CREATE for its owner only", "PUBLIC CREATE"},
	})
}

// The admin widened by hand: a member (it would reach every tenant database
// and hold CREATEROLE), an attribute beyond CREATEDB and CREATEROLE, a
// setting of its own.
func TestAdminWidenedByHand(t *testing.T) {
	f := newFixture(t)
	f.spec.Admin = f.u.Admin
	spy := pgtest.Name("spy")
	super := f.u.Super(t, "postgres")
	pgtest.Exec(t, super, "CREATE ROLE "+spy+" LOGIN")
	t.Cleanup(func() { _, _ = f.u.Super(t, "postgres").Exec(context.Background(), "DROP ROLE IF EXISTS "+spy) })
	a := f.u.Admin
	f.tryHandEdits(t, super, []handEdit{
		{"GRANT " + a + " TO " + spy, "REVOKE " + a + " FROM " + spy, "role " + a + ": no role is a member of it", "granted to " + spy},
		{"ALTER ROLE " + a + " BYPASSRLS", "ALTER ROLE " + a + " NOBYPASSRLS", "role " + a + ": intended attributes", "BYPASSRLS"},
		{"ALTER ROLE " + a + " SET log_statement = 'all'", "ALTER ROLE " + a + " RESET ALL", "role " + a + ": no per-role settings", "log_statement=all"},
		{"GRANT postgres TO " + a, "REVOKE postgres FROM " + a, "admin " + a + ": nothing beyond what RDS gives its master user", "can become postgres (a superuser)"},
		{"GRANT pg_execute_server_program TO rds_superuser", "REVOKE pg_execute_server_program FROM rds_superuser",
			"admin " + a + ": nothing beyond what RDS gives its master user", "can become pg_execute_server_program"},
		{"ALTER ROLE rds_superuser SUPERUSER", "ALTER ROLE rds_superuser NOSUPERUSER", "admin " + a + ": nothing beyond what RDS gives its master user", "can become rds_superuser (a superuser)"},
	})
}

// Grants made by hand on the platform's databases: a tenant given CONNECT on
// one, PUBLIC given CREATE on the public schema of one.
func TestPlatformDatabaseGrants(t *testing.T) {
	f := newFixture(t)
	f.spec.TenantGroup = f.u.Options.WithDefaults().TenantGroup
	f.tryHandEdits(t, f.u.Super(t, "postgres"), []handEdit{
		{"GRANT CONNECT ON DATABASE " + f.u.DB + " TO " + f.owner, "REVOKE CONNECT ON DATABASE " + f.u.DB + " FROM " + f.owner,
			"platform databases: granted to their owner, the admin and the platform's roles only", f.u.DB + ": " + f.owner + " holds CONNECT"},
	})
	check := "database " + f.tenant + ": PUBLIC can create and write nothing, and no function of no extension is SECURITY DEFINER"
	f.tryHandEdits(t, f.u.Super(t, f.tenant), []handEdit{
		{"GRANT CREATE ON SCHEMA public TO PUBLIC", "REVOKE CREATE ON SCHEMA public FROM PUBLIC", check, "PUBLIC may create in schema public"},
		{"CREATE SCHEMA " + f.u.Admin + "; GRANT USAGE, CREATE ON SCHEMA " + f.u.Admin + " TO PUBLIC", "DROP SCHEMA " + f.u.Admin, check, "PUBLIC may create in schema " + f.u.Admin},
		{"CREATE TABLE public.parcels (id int); GRANT ALL ON public.parcels TO PUBLIC", "DROP TABLE public.parcels", check, "PUBLIC holds INSERT on parcels"},
		{"ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO PUBLIC", "ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM PUBLIC", check, "grant PUBLIC INSERT"},
		{"CREATE FUNCTION public.runas(q text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$BEGIN EXECUTE q; END$$", "DROP FUNCTION public.runas(text)",
			check, "SECURITY DEFINER function runas(text) of no extension"},
	})
	f.tryHandEdits(t, f.u.Super(t, "postgres"), []handEdit{
		{"GRANT CONNECT ON DATABASE " + f.u.DB + " TO " + f.u.Options.WithDefaults().TenantGroup, "REVOKE CONNECT ON DATABASE " + f.u.DB + " FROM " + f.u.Options.WithDefaults().TenantGroup,
			"platform databases: granted to their owner, the admin and the platform's roles only", f.u.DB + ": " + f.u.Options.WithDefaults().TenantGroup + " holds CONNECT"},
	})
}

// The utility database holds the utility functions, dblink and the loopback
// server and nothing else: what is planted beside them fails verify.
func TestObjectsPlantedInTheUtilityDatabase(t *testing.T) {
	f := newFixture(t)
	o := f.u.Options.WithDefaults()
	check := "utility database " + f.u.DB + ": nothing but the utility functions, dblink and the loopback server"
	f.tryHandEdits(t, f.u.Super(t, f.u.DB), []handEdit{
		{"CREATE SCHEMA extra; CREATE FUNCTION extra.sd() RETURNS text LANGUAGE sql SECURITY DEFINER AS 'SELECT current_user::text'",
			"DROP SCHEMA extra CASCADE", check, "security definer function extra.sd()"},
		{"GRANT USAGE ON SCHEMA " + o.DblinkSchema + " TO " + f.u.Caller, "REVOKE USAGE ON SCHEMA " + o.DblinkSchema + " FROM " + f.u.Caller,
			check, "grant on schema " + o.DblinkSchema + " " + f.u.Caller + " USAGE"},
		{"CREATE TABLE " + o.Schema + ".notes (x int)", "DROP TABLE " + o.Schema + ".notes", check, "relation " + o.Schema + ".notes"},
		{"CREATE CAST (text AS bool) WITH INOUT AS IMPLICIT", "DROP CAST (text AS bool)", check, "cast text AS boolean"},
	})
}
