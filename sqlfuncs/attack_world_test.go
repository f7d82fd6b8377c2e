package sqlfuncs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// attackWorld is a small platform on the test cluster, as the attack suite
// sees it: the utility database with its functions, a tenant made by the
// functions, and an application database with an ETL role and a tile role
// made the way the stack makes them. Every name is unique to the world, and
// every name an attack makes up carries Token, so the catalog snapshot can
// see what an attack created without looking at other tests' objects.
type attackWorld struct {
	*pgtest.Utility
	Token              string
	Tenant, TenantPass string
	TenantDB           string
	Other, OtherPass   string // a second tenant
	OtherDB            string
	AppDB              string
	ETL, ETLPass       string
	Tiles, TilesPass   string
	PlatformRoles      []string // every role the platform made
	PlatformDatabases  []string
	supers             map[string]*pgx.Conn
}

// super returns the world's superuser connection to db, opened once.
func (w *attackWorld) super(t *testing.T, db string) *pgx.Conn {
	t.Helper()
	if c, ok := w.supers[db]; ok && !c.IsClosed() {
		return c
	}
	if w.supers == nil {
		w.supers = map[string]*pgx.Conn{}
	}
	w.supers[db] = w.Super(t, db)
	return w.supers[db]
}

func newAttackWorld(t *testing.T) *attackWorld {
	t.Helper()
	srv := pgtest.New(t)
	w := &attackWorld{Utility: pgtest.NewUtility(t, srv), Token: pgtest.Name("atk")}
	w.Tenant, w.TenantPass = pgtest.Name("tenant"), "tenant-"+pgtest.Name("pw")
	w.Other, w.OtherPass = pgtest.Name("other"), "other-"+pgtest.Name("pw")
	w.TenantDB, w.OtherDB, w.AppDB = pgtest.Name("tenantdb"), pgtest.Name("otherdb"), pgtest.Name("gis")
	w.ETL, w.ETLPass = pgtest.Name("etl"), "etl-"+pgtest.Name("pw")
	w.Tiles, w.TilesPass = pgtest.Name("tiles"), "tiles-"+pgtest.Name("pw")
	for _, db := range []string{w.TenantDB, w.OtherDB, w.AppDB} {
		w.DropDatabaseAtCleanup(t, db)
	}
	t.Cleanup(func() { w.dropTokenObjects() })

	caller := w.CallerConn(t)
	for _, tn := range []struct{ role, pass, db string }{{w.Tenant, w.TenantPass, w.TenantDB}, {w.Other, w.OtherPass, w.OtherDB}} {
		v, err := sqlfuncs.SCRAMVerifier(tn.pass)
		if err != nil {
			t.Fatal(err)
		}
		mustCall(t, caller, "create_role", tn.role, v)
		mustCall(t, caller, "create_database", tn.db, tn.role)
	}
	// The application database and its roles, as the stack makes them.
	admin := w.AdminConn(t, "postgres")
	for _, s := range []string{
		"CREATE DATABASE " + w.AppDB,
		"REVOKE ALL ON DATABASE " + w.AppDB + " FROM PUBLIC",
		fmt.Sprintf("CREATE ROLE %s LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE CONNECTION LIMIT 20 PASSWORD %s", w.ETL, pgtest.QuoteLiteral(w.ETLPass)),
		fmt.Sprintf("CREATE ROLE %s LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE CONNECTION LIMIT 20 PASSWORD %s", w.Tiles, pgtest.QuoteLiteral(w.TilesPass)),
		"GRANT CONNECT ON DATABASE " + w.AppDB + " TO " + w.ETL + ", " + w.Tiles,
	} {
		pgtest.Exec(t, admin, s)
	}
	app := w.AdminConn(t, w.AppDB)
	for _, s := range []string{
		"REVOKE ALL ON SCHEMA public FROM PUBLIC",
		"GRANT USAGE ON SCHEMA public TO " + w.ETL + ", " + w.Tiles,
		"CREATE TABLE public.parcels (id int PRIMARY KEY, name text)",
		"GRANT SELECT, INSERT, UPDATE ON public.parcels TO " + w.ETL,
		"GRANT SELECT ON public.parcels TO " + w.Tiles,
	} {
		pgtest.Exec(t, app, s)
	}
	t.Cleanup(func() {
		c, err := pgtest.ConnectQuiet(w.SuperConfig("postgres"))
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		for _, r := range []string{w.ETL, w.Tiles, w.Tenant, w.Other} {
			_, _ = c.Exec(context.Background(), "DROP ROLE IF EXISTS "+r)
		}
	})
	w.PlatformRoles = []string{w.Admin, w.Caller, w.Options.WithDefaults().TenantGroup, w.ETL, w.Tiles, w.Tenant, w.Other}
	w.PlatformDatabases = []string{w.DB, w.Options.TemplateDB, w.AppDB, w.TenantDB, w.OtherDB, "postgres"}
	return w
}

// TenantConn logs in as the tenant to its own database.
func (w *attackWorld) TenantConn(t *testing.T) *pgx.Conn {
	t.Helper()
	return pgtest.Connect(t, w.Config(w.TenantDB, w.Tenant, w.TenantPass))
}

// AppConn logs in as the ETL role to the application database.
func (w *attackWorld) AppConn(t *testing.T) *pgx.Conn {
	t.Helper()
	return pgtest.Connect(t, w.Config(w.AppDB, w.ETL, w.ETLPass))
}

// dropTokenObjects removes whatever a successful attack left behind.
func (w *attackWorld) dropTokenObjects() {
	ctx := context.Background()
	c, err := pgtest.ConnectQuiet(w.SuperConfig("postgres"))
	if err != nil {
		return
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, "SELECT datname FROM pg_database WHERE strpos(datname, $1) > 0", w.Token)
	if err == nil {
		dbs, _ := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, db := range dbs {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
		}
	}
	rows, err = c.Query(ctx, "SELECT rolname FROM pg_roles WHERE strpos(rolname, $1) > 0", w.Token)
	if err == nil {
		roles, _ := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, r := range roles {
			_, _ = c.Exec(ctx, "DROP ROLE IF EXISTS "+r)
		}
	}
}

// snapshotQueries read, as the superuser, everything an attack could change:
// the attributes, settings, passwords and memberships of the world's roles
// and of any role named with the token; the ACLs, owners and connection
// flags of the world's databases and of any database named with the token;
// per-database role settings; and in each of the world's databases the
// functions, schemas, default privileges, extensions, user mappings, foreign
// servers, operators, casts and relations outside the system schemas.
var clusterQueries = []string{
	`SELECT coalesce(string_agg(format('%s:%s%s%s%s%s%s%s:%s:%s', a.rolname, a.rolsuper, a.rolinherit, a.rolcreaterole, a.rolcreatedb,
		a.rolcanlogin, a.rolreplication, a.rolbypassrls, a.rolconnlimit, md5(coalesce(a.rolpassword, ''))), E'\n' ORDER BY a.rolname), '')
	 FROM pg_authid a WHERE a.rolname = ANY($1) OR strpos(a.rolname, $2) > 0`,
	`SELECT coalesce(string_agg(format('%s member of %s (admin %s)', pg_get_userbyid(m.member), pg_get_userbyid(m.roleid), m.admin_option), E'\n' ORDER BY 1), '')
	 FROM pg_auth_members m WHERE pg_get_userbyid(m.member) = ANY($1) OR pg_get_userbyid(m.roleid) = ANY($1)
	    OR strpos(pg_get_userbyid(m.member), $2) > 0 OR strpos(pg_get_userbyid(m.roleid), $2) > 0`,
	`SELECT coalesce(string_agg(format('%s owner %s acl %s allow %s template %s limit %s', d.datname, pg_get_userbyid(d.datdba), d.datacl,
		d.datallowconn, d.datistemplate, d.datconnlimit), E'\n' ORDER BY d.datname), '')
	 FROM pg_database d WHERE d.datname = ANY($3) OR strpos(d.datname, $2) > 0 OR $1::text[] IS NULL`,
	`SELECT coalesce(string_agg(format('%s/%s: %s', s.setdatabase, s.setrole, s.setconfig), E'\n' ORDER BY 1), '')
	 FROM pg_db_role_setting s WHERE s.setrole IN (SELECT oid FROM pg_roles WHERE rolname = ANY($1) OR strpos(rolname, $2) > 0)
	    OR s.setdatabase IN (SELECT oid FROM pg_database WHERE datname = ANY($3))`,
}

var databaseQueries = []string{
	`SELECT coalesce(string_agg(format('%s %s definer %s config %s owner %s acl %s', p.oid::regprocedure, md5(p.prosrc), p.prosecdef,
		p.proconfig, pg_get_userbyid(p.proowner), p.proacl), E'\n' ORDER BY 1), '')
	 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
	   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')`,
	`SELECT coalesce(string_agg(format('%s owner %s acl %s', n.nspname, pg_get_userbyid(n.nspowner), n.nspacl), E'\n' ORDER BY 1), '')
	 FROM pg_namespace n WHERE n.nspname NOT LIKE 'pg\_temp%' AND n.nspname NOT LIKE 'pg\_toast\_temp%'`,
	`SELECT coalesce(string_agg(format('%s %s %s %s', pg_get_userbyid(a.defaclrole), a.defaclnamespace, a.defaclobjtype, a.defaclacl), E'\n' ORDER BY 1), '')
	 FROM pg_default_acl a`,
	`SELECT coalesce(string_agg(format('%s %s %s', e.extname, e.extversion, e.extnamespace::regnamespace), E'\n' ORDER BY 1), '') FROM pg_extension e`,
	`SELECT coalesce(string_agg(format('%s %s %s', s.srvname, s.srvacl, s.srvoptions), E'\n' ORDER BY 1), '') FROM pg_foreign_server s`,
	`SELECT coalesce(string_agg(format('%s %s %s', m.umuser, m.umserver, md5(coalesce(m.umoptions::text, ''))), E'\n' ORDER BY 1), '') FROM pg_user_mapping m`,
	`SELECT coalesce(string_agg(format('%s %s %s', w.fdwname, w.fdwacl, pg_get_userbyid(w.fdwowner)), E'\n' ORDER BY 1), '') FROM pg_foreign_data_wrapper w`,
	`SELECT count(*)::text || ' operators outside pg_catalog: ' || coalesce(string_agg(o.oid::regoperator::text, ',' ORDER BY 1), '')
	 FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
	 WHERE n.nspname <> 'pg_catalog' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = o.oid AND d.deptype = 'e')`,
	`SELECT count(*)::text || ' casts' FROM pg_cast`,
	`SELECT coalesce(string_agg(format('%s.%s %s owner %s acl %s', n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner), c.relacl), E'\n' ORDER BY 1), '')
	 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
	   AND c.relpersistence <> 't'`,
}

// snapshot returns the catalog as the queries above see it.
func (w *attackWorld) snapshot(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	super := w.super(t, "postgres")
	for _, q := range clusterQueries {
		var s string
		args := []any{w.PlatformRoles, w.Token, w.PlatformDatabases}
		if !strings.Contains(q, "$3") {
			args = args[:2]
		}
		if err := super.QueryRow(ctx, q, args...).Scan(&s); err != nil {
			t.Fatalf("snapshot: %v\n%s", err, q)
		}
		b.WriteString(s + "\n")
	}
	for _, db := range []string{w.DB, w.TenantDB, w.AppDB} {
		c := w.super(t, db)
		for _, q := range databaseQueries {
			var s string
			if err := c.QueryRow(ctx, q).Scan(&s); err != nil {
				t.Fatalf("snapshot %s: %v\n%s", db, err, q)
			}
			b.WriteString(db + ": " + s + "\n")
		}
	}
	return b.String()
}

// openDatabases lists the databases of the world and of the token that a
// role other than their owner could enter: connections allowed and CONNECT
// held by PUBLIC (explicitly or through a NULL ACL).
func (w *attackWorld) openDatabases(t *testing.T) []string {
	t.Helper()
	var open []string
	rows, err := w.super(t, "postgres").Query(context.Background(), `
		SELECT d.datname FROM pg_database d
		WHERE (d.datname = ANY($1) OR strpos(d.datname, $2) > 0) AND d.datname <> 'postgres' AND d.datallowconn
		  AND EXISTS (SELECT 1 FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
		              WHERE a.grantee = 0 AND a.privilege_type IN ('CONNECT', 'TEMPORARY'))
		ORDER BY 1`, w.PlatformDatabases, w.Token)
	if err != nil {
		t.Fatal(err)
	}
	open, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return open
}
