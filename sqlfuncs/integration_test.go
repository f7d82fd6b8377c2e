package sqlfuncs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/postgis-platform/deployer/dbconn"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// call runs utility.<fn>(args…) and returns its boolean result.
func call(conn *pgx.Conn, fn string, args ...any) (bool, error) {
	ph := make([]string, len(args))
	for i := range args {
		ph[i] = fmt.Sprintf("$%d", i+1)
	}
	var changed bool
	err := conn.QueryRow(context.Background(), "SELECT utility."+fn+"("+strings.Join(ph, ", ")+")", args...).Scan(&changed)
	return changed, err
}

func mustCall(t *testing.T, conn *pgx.Conn, fn string, args ...any) bool {
	t.Helper()
	changed, err := call(conn, fn, args...)
	if err != nil {
		t.Fatalf("%s%v: %v", fn, args, err)
	}
	return changed
}

func sqlstate(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

func TestInstalledFunctionsPassTheChecker(t *testing.T) {
	u := pgtest.NewUtility(t, pgtest.New(t))
	ctx := context.Background()
	conn := u.AdminConn(t, u.DB)
	findings, err := sqlfuncs.Check(ctx, conn, u.Options, u.Admin)
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) < 4*7 {
		t.Fatalf("only %d findings", len(findings))
	}
	if bad := sqlfuncs.Failed(findings); len(bad) > 0 {
		t.Fatalf("fresh install fails checks: %+v", bad)
	}
	// Installing again changes nothing and still passes.
	if err := sqlfuncs.Install(ctx, u.AdminConn(t, u.DB), u.Options, u.Loopback()); err != nil {
		t.Fatalf("second install: %v", err)
	}

	// Tamper the way a console session would, and the checker names each change.
	pgtest.Exec(t, conn, "GRANT EXECUTE ON FUNCTION utility.create_role(text, text) TO PUBLIC")
	pgtest.Exec(t, conn, "ALTER FUNCTION utility.secure_database(text, text) SECURITY INVOKER")
	fns, _ := sqlfuncs.Definitions(u.Options)
	for _, f := range fns {
		if f.Name == "create_database" {
			f.Body = strings.Replace(f.Body, sqlfuncs.PinStatement+";", "", 1)
			pgtest.Exec(t, conn, f.CreateSQL(true))
		}
	}
	findings, err = sqlfuncs.Check(ctx, conn, u.Options, u.Admin)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range sqlfuncs.Failed(findings) {
		got = append(got, f.Check)
		if f.Fix == "" || f.Found == "" {
			t.Errorf("finding without found/fix: %+v", f)
		}
	}
	want := []string{
		"utility.create_database: body matches the definition",
		"utility.create_database: search_path pinned",
		"utility.create_role: not executable by PUBLIC",
		"utility.secure_database: security definer",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("failed checks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A dropped function is named missing, and only that is said of it; the
	// others are still read (the catalog is read in one query).
	pgtest.Exec(t, conn, "DROP FUNCTION utility.secure_database(text, text)")
	findings, err = sqlfuncs.Check(ctx, conn, u.Options, u.Admin)
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, f := range sqlfuncs.Failed(findings) {
		got = append(got, f.Check+" ("+f.Found+")")
	}
	want = []string{
		"utility.create_database: body matches the definition (the body differs (edited outside the deployer?))",
		"utility.create_database: search_path pinned (" + sqlfuncs.Failed(findings)[1].Found + ")",
		"utility.create_role: not executable by PUBLIC (PUBLIC has EXECUTE)",
		"utility.secure_database: present (missing)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("after a drop, failed checks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Functions added by hand, one an overload of a utility function's name,
	// are named, and nothing else is (the utility functions, the one
	// dropped included, are known by signature).
	pgtest.Exec(t, conn, "CREATE FUNCTION utility.rt_exec(q text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$BEGIN EXECUTE q; END$$")
	pgtest.Exec(t, conn, "CREATE FUNCTION utility.create_role(r text) RETURNS boolean LANGUAGE sql AS $$SELECT true$$")
	findings, err = sqlfuncs.Check(ctx, conn, u.Options, u.Admin)
	if err != nil {
		t.Fatal(err)
	}
	extra := findings[len(findings)-1]
	if extra.OK || extra.Found != "also holds utility.create_role(text), utility.rt_exec(text)" {
		t.Fatalf("functions added by hand: %+v", extra)
	}
}

func TestCreateRoleAndDatabaseAsUtilityRole(t *testing.T) {
	srv := pgtest.New(t)
	u := pgtest.NewUtility(t, srv)
	ctx := context.Background()
	caller := u.CallerConn(t)
	pgtest.Exec(t, caller, "SET search_path = caller_schema, public")

	owner, ownerPw := pgtest.Name("tenant_owner"), "tenant pw with spaces"
	verifier, err := sqlfuncs.SCRAMVerifier(ownerPw)
	if err != nil {
		t.Fatal(err)
	}
	if !mustCall(t, caller, "create_role", owner, verifier) {
		t.Fatal("first create_role reported no change")
	}
	if mustCall(t, caller, "create_role", owner, verifier) {
		t.Fatal("second create_role reported a change")
	}
	super := srv.Super(t, "postgres")
	var attrs string
	if err := super.QueryRow(ctx, `SELECT format('%s%s%s%s%s%s', rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin)
		FROM pg_roles WHERE rolname = $1`, owner).Scan(&attrs); err != nil {
		t.Fatal(err)
	}
	if attrs != "ffffft" {
		t.Fatalf("role attributes (super, createdb, createrole, replication, bypassrls, login) = %s", attrs)
	}
	// Granted to the functions' owner with the role, so create_database needs
	// no dblink session for the grant.
	var member bool
	if err := super.QueryRow(ctx, "SELECT pg_has_role($1, $2, 'MEMBER')", u.Admin, owner).Scan(&member); err != nil || !member {
		t.Fatalf("functions' owner a member of the new role: %v, %v", member, err)
	}

	db := pgtest.Name("tenant")
	u.DropDatabaseAtCleanup(t, db)
	if !mustCall(t, caller, "create_database", db, owner) {
		t.Fatal("first create_database reported no change")
	}
	if mustCall(t, caller, "create_database", db, owner) {
		t.Fatal("second create_database reported a change")
	}
	if mustCall(t, caller, "secure_database", db, owner) {
		t.Fatal("secure_database on a secured database reported a change")
	}

	// The caller's search_path is unchanged, also inside a transaction.
	tx, err := caller.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var inTx bool
	if err := tx.QueryRow(ctx, "SELECT utility.create_role($1)", owner).Scan(&inTx); err != nil {
		t.Fatal(err)
	}
	var path string
	if err := tx.QueryRow(ctx, "SHOW search_path").Scan(&path); err != nil || path != "caller_schema, public" {
		t.Fatalf("caller's search_path inside the transaction = %q, %v", path, err)
	}
	_ = tx.Commit(ctx)
	if err := caller.QueryRow(ctx, "SHOW search_path").Scan(&path); err != nil || path != "caller_schema, public" {
		t.Fatalf("caller's search_path after the calls = %q, %v", path, err)
	}

	// Owned by the owner, PostGIS present, PUBLIC locked out.
	var dbOwner, acl string
	if err := super.QueryRow(ctx, "SELECT pg_get_userbyid(datdba), datacl::text FROM pg_database WHERE datname = $1", db).Scan(&dbOwner, &acl); err != nil {
		t.Fatal(err)
	}
	if dbOwner != owner || strings.Contains(acl, "=c") && strings.HasPrefix(acl, "{=") || strings.Contains(acl, ",=") {
		t.Fatalf("owner %s acl %s", dbOwner, acl)
	}
	ownerConn := pgtest.Connect(t, srv.Config(db, owner, ownerPw))
	var postgis string
	if err := ownerConn.QueryRow(ctx, "SELECT postgis_lib_version()").Scan(&postgis); err != nil || postgis == "" {
		t.Fatalf("PostGIS in the tenant database: %q, %v", postgis, err)
	}
	pgtest.Exec(t, ownerConn, "CREATE TABLE public.parcels (id int, geom geometry(Polygon, 4326))")

	// A third role: no CONNECT; and even with CONNECT granted, no CREATE in public.
	third, thirdPw := pgtest.Name("third"), "third-pw"
	pgtest.Exec(t, super, "CREATE ROLE "+third+" LOGIN PASSWORD '"+thirdPw+"'")
	_, err = dbconnConnect(srv.Config(db, third, thirdPw))
	if sqlstate(err) != "42501" {
		t.Fatalf("third role connecting: want 42501, got %v", err)
	}
	pgtest.Exec(t, ownerConn, "GRANT CONNECT ON DATABASE "+db+" TO "+third)
	thirdConn := pgtest.Connect(t, srv.Config(db, third, thirdPw))
	if _, err := thirdConn.Exec(ctx, "CREATE TABLE public.evil (x int)"); sqlstate(err) != "42501" {
		t.Fatalf("third role CREATE in public: want 42501, got %v", err)
	}
}

func TestConcurrentCreateDatabase(t *testing.T) {
	srv := pgtest.New(t)
	u := pgtest.NewUtility(t, srv)
	owner := pgtest.Name("tenant_owner")
	mustCall(t, u.CallerConn(t), "create_role", owner, nil)
	db := pgtest.Name("tenant")
	u.DropDatabaseAtCleanup(t, db)

	const callers = 8
	conns := make([]*pgx.Conn, callers)
	for i := range conns {
		conns[i] = u.CallerConn(t)
	}
	var wg sync.WaitGroup
	results := make([]bool, callers)
	errs := make([]error, callers)
	start := make(chan struct{})
	for i := range conns {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			results[i], errs[i] = call(conns[i], "create_database", db, owner)
		}(i)
	}
	close(start)
	wg.Wait()
	created := 0
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if results[i] {
			created++
		}
	}
	if created != 1 {
		t.Fatalf("%d callers report creating the database, want exactly 1", created)
	}
	var n int
	if err := srv.Super(t, "postgres").QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", db).Scan(&n); err != nil || n != 1 {
		t.Fatalf("databases named %s: %d, %v", db, n, err)
	}
}

// An owner role made outside create_role (by hand, or a platform role) is
// refused, and nothing is granted or created on the way.
func TestCreateDatabaseRefusesRoleMadeElsewhere(t *testing.T) {
	srv := pgtest.New(t)
	u := pgtest.NewUtility(t, srv)
	ctx := context.Background()
	owner := pgtest.Name("tenant_owner")
	super := srv.Super(t, "postgres")
	pgtest.Exec(t, super, "CREATE ROLE "+owner+" LOGIN")
	db := pgtest.Name("tenant")
	u.DropDatabaseAtCleanup(t, db)
	_, err := call(u.CallerConn(t), "create_database", db, owner)
	if code := sqlstate(err); code != "42501" {
		t.Fatalf("create_database for a role made elsewhere: %v (SQLSTATE %q), want 42501", err, code)
	}
	var exists, member bool
	if err := super.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1), pg_has_role($2, $3, 'MEMBER')",
		db, u.Admin, owner).Scan(&exists, &member); err != nil || exists || member {
		t.Fatalf("after the refusal: database exists %v, functions' owner a member %v, %v", exists, member, err)
	}
}

// A tenant role whose grant to the functions' owner was revoked by hand is
// granted again through dblink, in the same session as the CREATE.
func TestCreateDatabaseRegrantsTenantRole(t *testing.T) {
	srv := pgtest.New(t)
	u := pgtest.NewUtility(t, srv)
	ctx := context.Background()
	owner := pgtest.Name("tenant_owner")
	caller := u.CallerConn(t)
	if !mustCall(t, caller, "create_role", owner, nil) {
		t.Fatal("create_role reported no change")
	}
	super := srv.Super(t, "postgres")
	pgtest.Exec(t, super, "REVOKE "+owner+" FROM "+u.Admin)
	db := pgtest.Name("tenant")
	u.DropDatabaseAtCleanup(t, db)
	if !mustCall(t, caller, "create_database", db, owner) {
		t.Fatal("create_database reported no change")
	}
	var dbOwner string
	var member bool
	if err := super.QueryRow(ctx, "SELECT pg_get_userbyid(datdba), pg_has_role($2, $3, 'MEMBER') FROM pg_database WHERE datname = $1",
		db, u.Admin, owner).Scan(&dbOwner, &member); err != nil || dbOwner != owner || !member {
		t.Fatalf("database owner %q, functions' owner a member: %v, %v", dbOwner, member, err)
	}
}

// A run that died after the database was created but before it was secured
// is completed by calling create_database again.
func TestInterruptedRunIsCompletedByRerun(t *testing.T) {
	srv := pgtest.New(t)
	u := pgtest.NewUtility(t, srv)
	ctx := context.Background()
	caller := u.CallerConn(t)
	owner := pgtest.Name("tenant_owner")
	mustCall(t, caller, "create_role", owner, nil)
	db := pgtest.Name("tenant")
	u.DropDatabaseAtCleanup(t, db)

	// What the dblink session had committed when the caller's run died.
	admin := u.AdminConn(t, "postgres")
	pgtest.Exec(t, admin, "GRANT "+owner+" TO "+u.Admin)
	pgtest.Exec(t, admin, "CREATE DATABASE "+db+" OWNER "+owner+" TEMPLATE "+u.Options.TemplateDB)
	var public bool
	q := "SELECT has_database_privilege('public', $1, 'CONNECT')"
	if err := admin.QueryRow(ctx, q, db).Scan(&public); err != nil || !public {
		t.Fatalf("precondition: PUBLIC should still have CONNECT: %v %v", public, err)
	}
	if !mustCall(t, caller, "create_database", db, owner) {
		t.Fatal("re-run reported no change, but it had to secure the database")
	}
	if err := admin.QueryRow(ctx, q, db).Scan(&public); err != nil || public {
		t.Fatalf("after the re-run PUBLIC still has CONNECT: %v %v", public, err)
	}
	if mustCall(t, caller, "create_database", db, owner) {
		t.Fatal("third run reported a change")
	}
}

// snapshot is everything an attack could change: the attributes of this
// test's roles, roles or databases an attack would create, the ACLs of this
// test's databases, and the utility schema's functions. (Other packages'
// tests share the cluster, so it does not look at everything.)
func snapshot(t *testing.T, u *pgtest.Utility, owner string) string {
	t.Helper()
	ctx := context.Background()
	var roles, dbs, fns string
	super := u.Super(t, "postgres")
	if err := super.QueryRow(ctx, `SELECT coalesce(string_agg(format('%s:%s%s%s', rolname, rolsuper, rolcreatedb, rolcreaterole), ',' ORDER BY rolname), '')
		FROM pg_roles WHERE rolname = ANY($1) OR rolname ILIKE '%evil%' OR rolname LIKE 'x\_%'`, []string{u.Admin, u.Caller, owner, "postgres"}).Scan(&roles); err != nil {
		t.Fatal(err)
	}
	if err := super.QueryRow(ctx, `SELECT coalesce(string_agg(datname || coalesce(datacl::text, ''), ',' ORDER BY datname), '')
		FROM pg_database WHERE datname = ANY($1) OR datname ILIKE '%evil%' OR datname LIKE 'x\_%'`, []string{u.DB, u.Options.TemplateDB, "postgres"}).Scan(&dbs); err != nil {
		t.Fatal(err)
	}
	if err := u.Super(t, u.DB).QueryRow(ctx, `SELECT string_agg(p.oid::regprocedure::text || md5(p.prosrc) || p.prosecdef || coalesce(p.proacl::text, ''), ',' ORDER BY 1)
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'utility'`).Scan(&fns); err != nil {
		t.Fatal(err)
	}
	return roles + "\n" + dbs + "\n" + fns
}

func TestAttacksFailAndChangeNothing(t *testing.T) {
	srv := pgtest.New(t)
	u := pgtest.NewUtility(t, srv)
	ctx := context.Background()
	owner := pgtest.Name("tenant_owner")
	mustCall(t, u.CallerConn(t), "create_role", owner, nil)
	other := pgtest.Name("other")
	u.DropDatabaseAtCleanup(t, other)
	pgtest.Exec(t, u.AdminConn(t, "postgres"), "CREATE DATABASE "+other)

	type attack struct {
		name  string
		run   func(c *pgx.Conn) error
		codes []string // acceptable SQLSTATEs
	}
	callFn := func(fn string, args ...any) func(*pgx.Conn) error {
		return func(c *pgx.Conn) error { _, err := call(c, fn, args...); return err }
	}
	exec := func(sql string) func(*pgx.Conn) error {
		return func(c *pgx.Conn) error { _, err := c.Exec(ctx, sql); return err }
	}
	badName := []string{"42602", "42622", "42939"}
	attacks := []attack{
		{"quote in role name", callFn("create_role", "x'; CREATE ROLE evil SUPERUSER; --", nil), badName},
		{"semicolon in database name", callFn("create_database", "x; DROP DATABASE postgres", owner), badName},
		{"dollar quotes", callFn("create_database", "x$$y", owner), badName},
		{"64-byte name", callFn("create_role", strings.Repeat("a", 64), nil), badName},
		{"pg_ prefix", callFn("create_role", "pg_evil", nil), badName},
		{"rds prefix", callFn("create_database", "rdsadmin2", owner), badName},
		{"upper case", callFn("create_role", "Evil", nil), badName},
		{"template database name", callFn("create_database", u.Options.TemplateDB, owner), badName},
		{"owner is the admin", callFn("create_database", pgtest.Name("x"), u.Admin), badName},
		{"owner is a superuser", callFn("create_database", pgtest.Name("x"), "postgres"), badName},
		{"owner has CREATEROLE", callFn("create_database", pgtest.Name("x"), u.Admin), badName},
		{"cleartext password", callFn("create_role", pgtest.Name("x"), "hunter2"), []string{"28P01"}},
		{"secure someone else's database", callFn("secure_database", other, owner), []string{"42501"}},
		{"secure the utility database", callFn("secure_database", u.DB, owner), badName},
		{"call the helper", exec("SELECT utility.check_identifier('role', 'x')"), []string{"42501"}},
		{"dblink directly", exec("SELECT utility_dblink.dblink_exec('utility_loopback', 'CREATE ROLE evil SUPERUSER')"), []string{"42501"}},
		{"dblink with a connection string", exec("SELECT utility_dblink.dblink_exec('host=localhost dbname=postgres', 'CREATE ROLE evil')"), []string{"42501"}},
		{"SET ROLE to the owner", exec("SET ROLE " + u.Admin), []string{"42501"}},
		{"read the user mapping catalog", exec("SELECT * FROM pg_catalog.pg_user_mapping"), []string{"42501"}},
		{"create a function in the utility schema", exec("CREATE FUNCTION utility.evil() RETURNS int LANGUAGE sql AS 'SELECT 1'"), []string{"42501"}},
		{"replace a utility function", exec("CREATE OR REPLACE FUNCTION utility.create_role(role_name text, password_verifier text DEFAULT NULL) RETURNS boolean LANGUAGE sql AS 'SELECT true'"), []string{"42501"}},
		{"alter a utility function", exec("ALTER FUNCTION utility.create_role(text, text) SECURITY INVOKER"), []string{"42501"}},
		{"create a database directly", exec("CREATE DATABASE evil"), []string{"42501"}},
		{"create a role directly", exec("CREATE ROLE evil"), []string{"42501"}},
		{"create a schema", exec("CREATE SCHEMA evil"), []string{"42501"}},
		{"create a temp table", exec("CREATE TEMP TABLE evil (x int)"), []string{"42501"}},
	}
	before := snapshot(t, u, owner)
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			c := u.CallerConn(t)
			err := a.run(c)
			code := sqlstate(err)
			ok := false
			for _, want := range a.codes {
				ok = ok || code == want
			}
			if !ok {
				t.Fatalf("want SQLSTATE in %v, got %q (%v)", a.codes, code, err)
			}
		})
	}
	if after := snapshot(t, u, owner); after != before {
		t.Fatalf("attacks changed the cluster:\nbefore %s\nafter  %s", before, after)
	}

	t.Run("the mapping's password is not readable", func(t *testing.T) {
		c := u.CallerConn(t)
		var opts *string
		err := c.QueryRow(ctx, "SELECT umoptions::text FROM pg_catalog.pg_user_mappings WHERE srvname = 'utility_loopback'").Scan(&opts)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		if opts != nil && strings.Contains(*opts, u.AdminPass) {
			t.Fatalf("caller reads the mapping's options: %s", *opts)
		}
	})
}

// Name resolution inside the functions cannot be hijacked: neither by a
// schema the caller owns put first in search_path (operators and functions
// that would bypass the name check), nor by temporary tables shadowing the
// catalogs.
func TestNameResolutionCannotBeHijacked(t *testing.T) {
	srv := pgtest.New(t)
	u := pgtest.NewUtility(t, srv)
	ctx := context.Background()
	super := u.Super(t, u.DB)
	evil := pgtest.Name("evil")
	// Give the caller what an attacker would need: its own schema and TEMP.
	pgtest.Exec(t, super, "CREATE SCHEMA "+evil+" AUTHORIZATION "+u.Caller)
	pgtest.Exec(t, super, "GRANT TEMPORARY ON DATABASE "+u.DB+" TO "+u.Caller)
	caller := u.CallerConn(t)
	for _, s := range []string{
		"CREATE TABLE " + evil + ".log (what text)",
		"GRANT USAGE ON SCHEMA " + evil + " TO PUBLIC",
		"GRANT INSERT, SELECT ON " + evil + ".log TO PUBLIC",
		"CREATE FUNCTION " + evil + ".never(text, text) RETURNS boolean LANGUAGE sql AS $$INSERT INTO " + evil + ".log VALUES ('regex'); SELECT false$$",
		"CREATE OPERATOR " + evil + ".!~ (LEFTARG = text, RIGHTARG = text, FUNCTION = " + evil + ".never)",
		"CREATE FUNCTION " + evil + ".octet_length(text) RETURNS int LANGUAGE sql AS $$INSERT INTO " + evil + ".log VALUES ('length'); SELECT 1$$",
		"CREATE FUNCTION " + evil + ".format(text, text) RETURNS text LANGUAGE sql AS $$INSERT INTO " + evil + ".log VALUES ('format'); SELECT 'SELECT 1'$$",
		"CREATE FUNCTION " + evil + ".format(text, text, text) RETURNS text LANGUAGE sql AS $$INSERT INTO " + evil + ".log VALUES ('format'); SELECT 'SELECT 1'$$",
		"SET search_path = " + evil + ", pg_catalog, public",
	} {
		pgtest.Exec(t, caller, s)
	}
	// The overridden !~ would let a quote through; it must still be refused.
	if _, err := call(caller, "create_role", "x'y", nil); sqlstate(err) != "42602" {
		t.Fatalf("hijacked validation: want 42602, got %v", err)
	}
	// Temporary tables shadowing the catalogs the functions read.
	pgtest.Exec(t, caller, "SET search_path = pg_temp, "+evil+", pg_catalog")
	pgtest.Exec(t, caller, "CREATE TEMP TABLE pg_roles (rolname name, rolsuper bool, rolcreatedb bool, rolcreaterole bool, rolreplication bool, rolbypassrls bool)")
	owner := pgtest.Name("tenant_owner")
	pgtest.Exec(t, caller, "INSERT INTO pg_temp.pg_roles VALUES ('"+owner+"', false, false, false, false, false)")
	if !mustCall(t, caller, "create_role", owner, nil) {
		t.Fatal("a temp table named pg_roles made create_role think the role exists")
	}
	db := pgtest.Name("tenant")
	u.DropDatabaseAtCleanup(t, db)
	if !mustCall(t, caller, "create_database", db, owner) {
		t.Fatal("create_database under a hostile search_path did nothing")
	}
	var hits int
	if err := caller.QueryRow(ctx, "SELECT count(*) FROM "+evil+".log").Scan(&hits); err != nil || hits != 0 {
		t.Fatalf("hijack functions ran %d times (%v)", hits, err)
	}
}

func dbconnConnect(cfg dbconn.Config) (*pgx.Conn, error) {
	return dbconn.Connect(context.Background(), cfg)
}

// plpgsql resolves declared variable types when it compiles a function,
// under the caller's search_path, where pg_temp comes first for types: a
// caller with TEMPORARY on the utility database (a hand grant) could shadow
// text or boolean with a domain whose check runs its code as the functions'
// owner. The declared types are qualified, so nothing of the caller's runs.
func TestDeclaredTypesCannotBeShadowed(t *testing.T) {
	srv := pgtest.New(t)
	u := pgtest.NewUtility(t, srv)
	pgtest.Exec(t, srv.Super(t, u.DB), "GRANT TEMPORARY ON DATABASE "+u.DB+" TO "+u.Caller)
	caller := u.CallerConn(t)
	for typ, base := range map[string]string{"text": "text", "bool": "bool", "boolean": "bool", "aclitem": "aclitem"} {
		pgtest.Exec(t, caller, "CREATE OR REPLACE FUNCTION pg_temp.evil() RETURNS boolean LANGUAGE plpgsql AS $$BEGIN "+
			"IF current_user <> session_user THEN RAISE EXCEPTION 'caller code ran as %', current_user; END IF; RETURN true; END$$")
		if _, err := caller.Exec(context.Background(), "CREATE DOMAIN pg_temp."+typ+" AS pg_catalog."+base+" CHECK (pg_temp.evil())"); err != nil {
			t.Fatalf("the attack's domain pg_temp.%s: %v", typ, err)
		}
		owner, db := pgtest.Name("shadow_owner"), pgtest.Name("shadow_db")
		u.DropDatabaseAtCleanup(t, db)
		for _, q := range []string{"SELECT utility.create_role($1::pg_catalog.text), $2::pg_catalog.text", "SELECT utility.create_database($2::pg_catalog.text, $1::pg_catalog.text)",
			"SELECT utility.secure_database($2::pg_catalog.text, $1::pg_catalog.text)"} {
			if _, err := caller.Exec(context.Background(), q, owner, db); err != nil {
				t.Fatalf("%s with pg_temp.%s shadowed: %v", q, typ, err)
			}
		}
		pgtest.Exec(t, caller, "DROP DOMAIN pg_temp."+typ)
	}
}

// A caller's snapshot older than the call (REPEATABLE READ, SERIALIZABLE)
// could show a tenant database that was dropped and made again for another
// tenant since: the checks would pass on the old owner and the grant land on
// the new database. Every function refuses such a transaction (25000) and
// does nothing.
func TestOldSnapshotsAreRefused(t *testing.T) {
	srv := pgtest.New(t)
	u := pgtest.NewUtility(t, srv)
	ctx := context.Background()
	caller := u.CallerConn(t)
	owner, db := pgtest.Name("snap_owner"), pgtest.Name("snap_db")
	u.DropDatabaseAtCleanup(t, db)
	mustCall(t, caller, "create_role", owner)
	mustCall(t, caller, "create_database", db, owner)
	for _, level := range []string{"REPEATABLE READ", "SERIALIZABLE"} {
		for _, q := range []string{"SELECT utility.secure_database($1, $2)", "SELECT utility.create_database($1, $2)", "SELECT utility.create_role($2, NULL::text), $1::text"} {
			tx, err := caller.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, "SET TRANSACTION ISOLATION LEVEL "+level); err != nil {
				t.Fatal(err)
			}
			_, err = tx.Exec(ctx, q, db, owner)
			_ = tx.Rollback(ctx)
			if sqlstate(err) != "25000" || !strings.Contains(err.Error(), "READ COMMITTED") {
				t.Errorf("%s in %s: want 25000 naming READ COMMITTED, got %v", q, level, err)
			}
		}
	}
	if mustCall(t, caller, "secure_database", db, owner) {
		t.Fatal("a READ COMMITTED secure_database of a locked database changed it")
	}
}

// A tenant role create_role makes holds the installation's connection limit:
// its sessions past the limit are refused (53300), the other tenants' and
// the caller's are not.
func TestTenantConnectionLimitHolds(t *testing.T) {
	srv := pgtest.New(t)
	u := pgtest.NewUtility(t, srv)
	ctx := context.Background()
	caller := u.CallerConn(t)
	tenant, pw := pgtest.Name("capped"), "capped pw"
	verifier, err := sqlfuncs.SCRAMVerifier(pw)
	if err != nil {
		t.Fatal(err)
	}
	mustCall(t, caller, "create_role", tenant, verifier)
	db := pgtest.Name("capped_db")
	u.DropDatabaseAtCleanup(t, db)
	mustCall(t, caller, "create_database", db, tenant)

	var limit int
	if err := srv.Super(t, "postgres").QueryRow(ctx, "SELECT rolconnlimit FROM pg_roles WHERE rolname = $1", tenant).Scan(&limit); err != nil {
		t.Fatal(err)
	}
	if limit != sqlfuncs.DefaultTenantConnectionLimit {
		t.Fatalf("rolconnlimit = %d, want %d", limit, sqlfuncs.DefaultTenantConnectionLimit)
	}
	for i := 0; i < limit; i++ {
		pgtest.Connect(t, srv.Config(db, tenant, pw))
	}
	_, err = dbconn.Connect(ctx, srv.Config(db, tenant, pw))
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "53300" {
		t.Fatalf("session %d of a tenant limited to %d: want 53300 (too many connections for role), got %v", limit+1, limit, err)
	}
	// Onboarding goes on meanwhile.
	other := pgtest.Name("uncapped")
	if !mustCall(t, caller, "create_role", other, verifier) {
		t.Fatal("create_role for another tenant while one is at its limit")
	}
}

// Options.Validate bounds the tenant connection limit, naming the field.
func TestTenantConnectionLimitBounds(t *testing.T) {
	for _, c := range []struct {
		limit int
		ok    bool
	}{{0, true}, {1, true}, {sqlfuncs.MaxTenantConnectionLimit, true}, {-1, false}, {sqlfuncs.MaxTenantConnectionLimit + 1, false}} {
		err := sqlfuncs.Options{TenantConnectionLimit: c.limit}.Validate()
		if (err == nil) != c.ok || (err != nil && !strings.Contains(err.Error(), "TenantConnectionLimit")) {
			t.Errorf("TenantConnectionLimit %d: ok %v, got %v", c.limit, c.ok, err)
		}
	}
	fns, err := sqlfuncs.Definitions(sqlfuncs.Options{TenantConnectionLimit: 7})
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range fns {
		if fn.Name == "create_role" && !strings.Contains(fn.Body, "CONNECTION LIMIT 7 IN ROLE") {
			t.Fatalf("create_role does not set the limit asked for:\n%s", fn.Body)
		}
	}
}
