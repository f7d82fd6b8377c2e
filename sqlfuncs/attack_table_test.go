package sqlfuncs_test

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/postgis-platform/deployer/dbconn"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

func pgxConnect(cfg dbconn.Config) (*pgx.Conn, error) {
	return dbconn.Connect(context.Background(), cfg)
}

func fn(as, name, call string, args ...any) attack {
	return attack{as: as, name: name, sql: "SELECT utility." + call, args: args}
}

func sql(as, name, stmt string) attack { return attack{as: as, name: name, sql: stmt} }

// attackTable lists the attacks, by class: bad input to each function,
// every reserved and platform name as an argument, passwords that are not
// proper verifiers, direct use of what the functions use, and what a tenant
// and an application role try from their own databases.
func attackTable(w *attackWorld) []attack {
	var out []attack
	out = append(out, badInputAttacks(w)...)
	out = append(out, reservedNameAttacks(w)...)
	out = append(out, passwordAttacks(w)...)
	out = append(out, directAttacks(w)...)
	out = append(out, tenantAttacks(w)...)
	out = append(out, appAttacks(w)...)
	return out
}

func badInputAttacks(w *attackWorld) []attack {
	tok := w.Token
	bad := []string{"x'" + tok, tok + ";DROP ROLE postgres", tok + "$$x", strings.Repeat("a", 64), "pg_" + tok, "rds" + tok,
		"Evil" + tok, "é" + tok, " " + tok, "", "1" + tok, `x\` + tok, "x%" + tok, "x\n" + tok, "x-" + tok, "x." + tok,
		`x"` + tok, "x " + tok, strings.Repeat(tok, 1<<15)}
	var out []attack
	for _, n := range bad {
		label := n
		if len(label) > 40 {
			label = label[:40] + "…"
		}
		out = append(out,
			fn("utility", "create_role("+label+")", "create_role($1, NULL)", n),
			fn("utility", "create_database("+label+")", "create_database($1, $2)", n, w.Tenant),
		)
	}
	return append(out,
		fn("utility", "create_role(NULL)", "create_role(NULL, NULL)"),
		fn("utility", "create_database(NULL, tenant)", "create_database(NULL, $1)", w.Tenant),
		fn("utility", "create_database(name, NULL)", "create_database($1, NULL)", tok+"_db"),
		fn("utility", "secure_database(NULL, NULL)", "secure_database(NULL, NULL)"),
	)
}

func reservedNameAttacks(w *attackWorld) []attack {
	o := w.Options.WithDefaults()
	tok := w.Token
	var out []attack
	for _, r := range []string{"public", "postgres", "none", "user", "current_user", "current_role", "session_user", "template0",
		"template1", "rdsadmin", "utility", o.TemplateDB, o.TenantGroup, w.Caller, w.Admin} {
		out = append(out, fn("utility", "create_role(reserved "+r+")", "create_role($1, NULL)", r))
	}
	for _, r := range []string{w.ETL, w.Tiles} {
		out = append(out, fn("utility", "create_role(platform role "+r+")", "create_role($1, NULL)", r))
	}
	for _, owner := range []string{w.Admin, w.Caller, o.TenantGroup, w.ETL, w.Tiles, "postgres", "public", "pg_read_all_data"} {
		out = append(out, fn("utility", "create_database owned by "+owner, "create_database($1, $2)", tok+"_own", owner))
	}
	for _, db := range []string{"postgres", "template0", "template1", w.DB, o.TemplateDB, w.AppDB, w.OtherDB, "rdsadmin"} {
		out = append(out, fn("utility", "create_database(taken "+db+")", "create_database($1, $2)", db, w.Tenant))
	}
	for _, s := range []struct{ db, owner string }{
		{w.AppDB, w.Admin}, {w.DB, w.Admin}, {w.OtherDB, w.Tenant}, {o.TemplateDB, w.Admin}, {"postgres", "postgres"}, {w.AppDB, w.ETL},
	} {
		out = append(out, fn("utility", "secure_database("+s.db+", "+s.owner+")", "secure_database($1, $2)", s.db, s.owner))
	}
	return out
}

func passwordAttacks(w *attackWorld) []attack {
	good, _ := sqlfuncs.SCRAMVerifier("correct horse battery staple")
	_, rest, _ := strings.Cut(good, ":") // salt$stored:server
	key := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	var out []attack
	for i, v := range []string{
		"hunter2",
		"md5" + strings.Repeat("0", 32),
		"SCRAM-SHA-256$1:" + rest,
		"SCRAM-SHA-256$4095:" + rest,
		"SCRAM-SHA-256$4096:" + strings.ReplaceAll(rest, "=", "=="),
		"SCRAM-SHA-256$4096:c2FsdA==$" + key + ":" + key, // 4-byte salt
		"SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$AAAA:AAAA",
		good + "\n",
		"SCRAM-SHA-256$4096:",
		good + "$x",
		"SCRAM-SHA-256$99999999999:" + rest,
		strings.Repeat("x", 1<<20),
	} {
		out = append(out, fn("utility", "create_role with bad verifier "+string(rune('a'+i)), "create_role($1, $2)", w.Token+"_pw", v))
	}
	return out
}

func directAttacks(w *attackWorld) []attack {
	o := w.Options.WithDefaults()
	tok := w.Token
	u := func(name, stmt string) attack { return sql("utility", name, stmt) }
	return []attack{
		u("dblink_exec on the server", "SELECT utility_dblink.dblink_exec('utility_loopback', 'CREATE ROLE "+tok+" SUPERUSER')"),
		u("dblink_exec with a connection string", "SELECT utility_dblink.dblink_exec('host=localhost dbname=postgres', 'CREATE ROLE "+tok+"')"),
		u("dblink_connect", "SELECT utility_dblink.dblink_connect('utility_loopback')"),
		u("dblink query", "SELECT * FROM utility_dblink.dblink('utility_loopback', 'SELECT 1') AS t(x int)"),
		u("dblink_connect_u", "SELECT utility_dblink.dblink_connect_u('dbname=postgres')"),
		u("SET ROLE to the owner", "SET ROLE "+w.Admin),
		u("SET ROLE to the tenant group", "SET ROLE "+o.TenantGroup),
		u("SET ROLE to a tenant", "SET ROLE "+w.Tenant),
		u("SET SESSION AUTHORIZATION", "SET SESSION AUTHORIZATION "+w.Admin),
		u("read pg_user_mapping", "SELECT * FROM pg_catalog.pg_user_mapping"),
		u("create a function in the utility schema", "CREATE FUNCTION utility."+tok+"() RETURNS int LANGUAGE sql AS 'SELECT 1'"),
		u("replace create_role", "CREATE OR REPLACE FUNCTION utility.create_role(role_name text, password_verifier text DEFAULT NULL) RETURNS boolean LANGUAGE sql AS 'SELECT true'"),
		u("make create_role invoker", "ALTER FUNCTION utility.create_role(text, text) SECURITY INVOKER"),
		u("take create_database", "ALTER FUNCTION utility.create_database(text, text) OWNER TO "+w.Caller),
		u("drop secure_database", "DROP FUNCTION utility.secure_database(text, text)"),
		u("create a database", "CREATE DATABASE "+tok+"_direct"),
		u("create a role", "CREATE ROLE "+tok+"_direct"),
		u("create a schema", "CREATE SCHEMA "+tok),
		u("create a temp table", "CREATE TEMP TABLE "+tok+" (x int)"),
		u("shadow text with a temporary domain", "CREATE DOMAIN pg_temp.text AS pg_catalog.text CHECK (true)"),
		u("shadow boolean with a temporary domain", "CREATE DOMAIN pg_temp.bool AS pg_catalog.bool"),
		u("a temporary function for the functions to call", "CREATE FUNCTION pg_temp.evil() RETURNS boolean LANGUAGE sql AS 'SELECT true'"),
		u("create a table in public", "CREATE TABLE public."+tok+" (x int)"),
		u("shadow an operator in public", "CREATE OPERATOR public.!~ (LEFTARG = text, RIGHTARG = text, FUNCTION = pg_catalog.textregexeq)"),
		{as: "utility", name: "open create_database to PUBLIC", sql: "GRANT EXECUTE ON FUNCTION utility.create_database(text, text) TO PUBLIC", warnOnly: true},
		{as: "utility", name: "open the utility schema", sql: "GRANT USAGE ON SCHEMA utility TO PUBLIC", warnOnly: true},
		u("default privileges for the owner", "ALTER DEFAULT PRIVILEGES FOR ROLE "+w.Admin+" GRANT EXECUTE ON FUNCTIONS TO "+w.Caller),
		u("grant itself CREATEDB", "ALTER ROLE "+w.Caller+" CREATEDB"),
		u("change the owner's password", "ALTER ROLE "+w.Admin+" PASSWORD 'x'"),
		u("move the loopback server", "ALTER SERVER utility_loopback OPTIONS (SET host 'evil.example')"),
		u("change the owner's mapping", "ALTER USER MAPPING FOR "+w.Admin+" SERVER utility_loopback OPTIONS (SET user 'postgres')"),
		u("map itself to the server", "CREATE USER MAPPING FOR "+w.Caller+" SERVER utility_loopback OPTIONS (user '"+w.Admin+"', password 'x')"),
		u("join the tenant group", "GRANT "+o.TenantGroup+" TO "+w.Caller),
		u("call check_identifier", "SELECT utility.check_identifier('role', 'x')"),
		u("call is_tenant_role", "SELECT utility.is_tenant_role('x')"),
		u("call check_tenant_owner", "SELECT utility.check_tenant_owner('x')"),
		u("call check_verifier", "SELECT utility.check_verifier('x')"),
		u("COPY TO PROGRAM", "COPY (SELECT 1) TO PROGRAM 'true'"),
		u("read a server file", "SELECT pg_catalog.pg_read_file('/etc/passwd')"),
		u("server-side lo_import", "SELECT pg_catalog.lo_import('/etc/passwd')"),
		u("ALTER SYSTEM", "ALTER SYSTEM SET log_statement = 'none'"),
		{as: "utility", name: "log in to the tenant database", connect: w.TenantDB},
		{as: "utility", name: "log in to the application database", connect: w.AppDB},
		{as: "utility", name: "log in to the template", connect: o.TemplateDB},
	}
}

func tenantAttacks(w *attackWorld) []attack {
	o := w.Options.WithDefaults()
	tok := w.Token
	tn := func(name, stmt string) attack { return sql("tenant", name, stmt) }
	return []attack{
		tn("create a database", "CREATE DATABASE "+tok+"_tenant"),
		tn("create a role", "CREATE ROLE "+tok+"_tenant"),
		tn("grant itself CREATEDB", "ALTER ROLE "+w.Tenant+" CREATEDB"),
		tn("grant itself SUPERUSER", "ALTER ROLE "+w.Tenant+" SUPERUSER"),
		tn("grant itself BYPASSRLS", "ALTER ROLE "+w.Tenant+" BYPASSRLS"),
		tn("lift its own connection limit", "ALTER ROLE "+w.Tenant+" CONNECTION LIMIT -1"),
		tn("raise its own connection limit", "ALTER ROLE "+w.Tenant+" CONNECTION LIMIT 10000"),
		tn("change another tenant's password", "ALTER ROLE "+w.Other+" PASSWORD 'x'"),
		tn("leave the tenant group", "REVOKE "+o.TenantGroup+" FROM "+w.Tenant),
		tn("add a role to the tenant group", "GRANT "+o.TenantGroup+" TO "+w.Other),
		tn("SET ROLE to the owner", "SET ROLE "+w.Admin),
		tn("SET ROLE to another tenant", "SET ROLE "+w.Other),
		tn("create dblink", "CREATE EXTENSION dblink"),
		tn("create a C function", "CREATE FUNCTION "+tok+"() RETURNS int LANGUAGE c AS 'libc', 'getpid'"),
		tn("COPY TO PROGRAM", "COPY (SELECT 1) TO PROGRAM 'true'"),
		tn("read a server file", "SELECT pg_catalog.pg_read_file('/etc/passwd')"),
		tn("list a server folder", "SELECT pg_catalog.pg_ls_dir('/')"),
		tn("server-side lo_import", "SELECT pg_catalog.lo_import('/etc/passwd')"),
		tn("ALTER SYSTEM", "ALTER SYSTEM SET log_statement = 'none'"),
		tn("event trigger", "CREATE EVENT TRIGGER "+tok+" ON ddl_command_start EXECUTE FUNCTION pg_catalog.now()"),
		tn("take another tenant's database", "ALTER DATABASE "+w.OtherDB+" OWNER TO "+w.Tenant),
		tn("drop another tenant's database", "DROP DATABASE "+w.OtherDB),
		tn("open another tenant's database", "GRANT CONNECT ON DATABASE "+w.OtherDB+" TO "+w.Tenant),
		tn("give its schema away", "ALTER SCHEMA public OWNER TO "+w.Other),
		tn("publication for all tables", "CREATE PUBLICATION "+tok+" FOR ALL TABLES"),
		tn("subscription", "CREATE SUBSCRIPTION "+tok+" CONNECTION 'dbname=postgres' PUBLICATION p"),
		tn("rename the template", "ALTER DATABASE "+o.TemplateDB+" RENAME TO "+tok),
		{as: "tenant", name: "log in to another tenant's database", connect: w.OtherDB},
		{as: "tenant", name: "log in to the utility database", connect: w.DB},
		{as: "tenant", name: "log in to the application database", connect: w.AppDB},
		{as: "tenant", name: "log in to the template", connect: o.TemplateDB},
	}
}

func appAttacks(w *attackWorld) []attack {
	tok := w.Token
	ap := func(name, stmt string) attack { return sql("app", name, stmt) }
	return []attack{
		ap("create a database", "CREATE DATABASE "+tok+"_app"),
		ap("create a role", "CREATE ROLE "+tok+"_app"),
		ap("grant itself CREATEDB", "ALTER ROLE "+w.ETL+" CREATEDB"),
		ap("change the tile role's password", "ALTER ROLE "+w.Tiles+" PASSWORD 'x'"),
		ap("SET ROLE to the admin", "SET ROLE "+w.Admin),
		ap("create a schema", "CREATE SCHEMA "+tok),
		ap("create a table in public", "CREATE TABLE public."+tok+" (x int)"),
		ap("create a temp table", "CREATE TEMP TABLE "+tok+" (x int)"),
		ap("drop a table", "DROP TABLE public.parcels"),
		ap("take a table", "ALTER TABLE public.parcels OWNER TO "+w.ETL),
		ap("delete rows without DELETE", "DELETE FROM public.parcels"),
		ap("truncate without TRUNCATE", "TRUNCATE public.parcels"),
		{as: "app", name: "re-grant a table to PUBLIC", sql: "GRANT SELECT ON public.parcels TO PUBLIC", warnOnly: true},
		ap("default privileges for the admin", "ALTER DEFAULT PRIVILEGES FOR ROLE "+w.Admin+" GRANT SELECT ON TABLES TO "+w.ETL),
		ap("create a function in public", "CREATE FUNCTION public."+tok+"() RETURNS int LANGUAGE sql AS 'SELECT 1'"),
		ap("COPY TO PROGRAM", "COPY (SELECT 1) TO PROGRAM 'true'"),
		ap("read a server file", "SELECT pg_catalog.pg_read_file('/etc/passwd')"),
		{as: "app", name: "log in to the utility database", connect: w.DB},
		{as: "app", name: "log in to a tenant database", connect: w.TenantDB},
	}
}
