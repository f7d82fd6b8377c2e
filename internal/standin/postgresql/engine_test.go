package postgresql_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pulumi/pulumi-postgresql/sdk/v3/go/postgresql"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/components/pgprovider"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// world is the test's PostgreSQL: an admin (CREATEDB, CREATEROLE; never a
// superuser) for the provider, and a fixture database where the superuser
// installed dblink (the rds_superuser part).
type world struct {
	srv                   pgtest.Server
	admin, adminPw, fixDB string
	names                 map[string]string
}

func newWorld(t *testing.T) *world {
	srv := pgtest.New(t)
	w := &world{srv: srv, admin: pgtest.Name("admin"), adminPw: "adm:pw/" + pgtest.Name("x"), fixDB: pgtest.Name("fixture"), names: map[string]string{}}
	srv.CreateAdmin(t, w.admin, w.adminPw)
	super := srv.Super(t, "postgres")
	pgtest.Exec(t, super, "CREATE DATABASE "+w.fixDB+" OWNER "+w.admin)
	fx := srv.Super(t, w.fixDB)
	if err := sqlfuncs.Bootstrap(context.Background(), fx, sqlfuncs.Options{}, w.admin); err != nil {
		t.Fatal(err)
	}
	_ = fx.Close(context.Background())
	for _, k := range []string{"role", "db", "server"} {
		w.names[k] = pgtest.Name(k)
	}
	t.Cleanup(func() {
		c := srv.Super(t, "postgres")
		for _, db := range []string{w.fixDB, w.names["db"], w.names["db"] + "_renamed"} {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
		}
	})
	return w
}

type spec struct {
	roleName     string
	connLimit    int
	dbLimit      int
	tablePrivs   []string
	serverPort   string
	functionBody string
	template     string
	extension    string
}

func (w *world) program(s *spec) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		prov, err := pgprovider.New(ctx, "pg", pgprovider.Connection{
			Host: pulumi.String(w.srv.Host), Port: pulumi.Int(w.srv.Port), Username: w.admin,
			Password: pulumi.String(w.adminPw), SSLRootCert: w.srv.CAFile,
		}, w.fixDB)
		if err != nil {
			return err
		}
		p := pulumi.Provider(prov)
		role, err := postgresql.NewRole(ctx, "etl", &postgresql.RoleArgs{
			Name: pulumi.String(s.roleName), Login: pulumi.Bool(true), Password: pulumi.ToSecret(pulumi.String("role-pw-XYZ")).(pulumi.StringOutput),
			ConnectionLimit: pulumi.Int(s.connLimit), CreateDatabase: pulumi.Bool(false),
		}, p)
		if err != nil {
			return err
		}
		dbArgs := &postgresql.DatabaseArgs{Name: pulumi.String(w.names["db"]), Owner: pulumi.String(w.admin), ConnectionLimit: pulumi.Int(s.dbLimit)}
		if s.template != "" {
			dbArgs.Template = pulumi.String(s.template)
		}
		db, err := postgresql.NewDatabase(ctx, "app", dbArgs, p)
		if err != nil {
			return err
		}
		sch, err := postgresql.NewSchema(ctx, "etl", &postgresql.SchemaArgs{Name: pulumi.String("etl"), Database: db.Name, Owner: pulumi.String(w.admin)}, p)
		if err != nil {
			return err
		}
		if _, err := postgresql.NewExtension(ctx, "ext", &postgresql.ExtensionArgs{Name: pulumi.String(s.extension), Database: db.Name}, p); err != nil {
			return err
		}
		if _, err := postgresql.NewGrant(ctx, "connect", &postgresql.GrantArgs{Database: db.Name, Role: role.Name, ObjectType: pulumi.String("database"),
			Privileges: pulumi.ToStringArray([]string{"CONNECT"})}, p); err != nil {
			return err
		}
		if _, err := postgresql.NewGrant(ctx, "public-db", &postgresql.GrantArgs{Database: db.Name, Role: pulumi.String("public"), ObjectType: pulumi.String("database"),
			Privileges: pulumi.StringArray{}}, p); err != nil {
			return err
		}
		if _, err := postgresql.NewDefaultPrivileges(ctx, "tables", &postgresql.DefaultPrivilegesArgs{Database: db.Name, Schema: sch.Name, Owner: pulumi.String(w.admin),
			Role: role.Name, ObjectType: pulumi.String("table"), Privileges: pulumi.ToStringArray(s.tablePrivs)}, p); err != nil {
			return err
		}
		srvr, err := postgresql.NewServer(ctx, "loop", &postgresql.ServerArgs{ServerName: pulumi.String(w.names["server"]), FdwName: pulumi.String("dblink_fdw"),
			Options: pulumi.StringMap{"host": pulumi.String("localhost"), "port": pulumi.String(s.serverPort), "dbname": pulumi.String(w.fixDB)}}, p)
		if err != nil {
			return err
		}
		if _, err := postgresql.NewUserMapping(ctx, "map", &postgresql.UserMappingArgs{ServerName: srvr.ServerName, UserName: pulumi.String(w.admin),
			Options: pulumi.ToSecret(pulumi.StringMap{"user": pulumi.String(w.admin), "password": pulumi.String("mapping-pw-XYZ")}).(pulumi.StringMapOutput)}, p); err != nil {
			return err
		}
		_, err = postgresql.NewFunction(ctx, "fn", &postgresql.FunctionArgs{Name: pulumi.String("answer"), Schema: pulumi.String("public"), Database: pulumi.String(w.fixDB),
			Returns: pulumi.String("integer"), Language: pulumi.String("plpgsql"), SecurityDefiner: pulumi.Bool(true), Body: pulumi.String(s.functionBody)}, p)
		return err
	}
}

const body1 = "\nBEGIN\n  RETURN 42;\nEND;\n"
const body2 = "\nBEGIN\n  RETURN 43;\nEND;\n"

func baseSpec(w *world) spec {
	return spec{roleName: w.names["role"], connLimit: 5, dbLimit: 10, tablePrivs: []string{"SELECT"}, serverPort: "5432", functionBody: body1, extension: "citext"}
}

func query(t *testing.T, c *pgx.Conn, q string, args ...any) string {
	t.Helper()
	var s string
	if err := c.QueryRow(context.Background(), q, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s
}

func TestEveryTypeAgainstTheRealDatabase(t *testing.T) {
	w := newWorld(t)
	e := enginetest.New(t)
	ctx := context.Background()
	s := baseSpec(w)
	st := e.Stack(t, "pg", w.program(&s))
	if _, err := st.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	super := w.srv.Super(t, "postgres")
	check := func(q, want string, args ...any) {
		t.Helper()
		if got := query(t, super, q, args...); got != want {
			t.Errorf("%s = %q, want %q", q, got, want)
		}
	}
	check(`SELECT format('%s/%s/%s', rolcanlogin, rolconnlimit, rolcreatedb) FROM pg_roles WHERE rolname = $1`, "t/5/f", s.roleName)
	check(`SELECT format('%s/%s', pg_get_userbyid(datdba), datconnlimit) FROM pg_database WHERE datname = $1`, w.admin+"/10", w.names["db"])
	check(`SELECT format('%s/%s', has_database_privilege($1, $2, 'CONNECT'), has_database_privilege('public', $2, 'CONNECT'))`, "t/f", s.roleName, w.names["db"])
	app := w.srv.Super(t, w.names["db"])
	check2 := func(c *pgx.Conn, q, want string, args ...any) {
		t.Helper()
		if got := query(t, c, q, args...); got != want {
			t.Errorf("%s = %q, want %q", q, got, want)
		}
	}
	check2(app, `SELECT pg_get_userbyid(nspowner)::text FROM pg_namespace WHERE nspname = 'etl'`, w.admin)
	check2(app, `SELECT extname::text FROM pg_extension WHERE extname = 'citext'`, "citext")
	check2(app, `SELECT defaclacl::text FROM pg_default_acl`, "{"+s.roleName+"=r/"+w.admin+"}")
	fx := w.srv.Super(t, w.fixDB)
	check2(fx, `SELECT array_to_string(srvoptions, ',') FROM pg_foreign_server WHERE srvname = $1`, "dbname="+w.fixDB+",host=localhost,port=5432", w.names["server"])
	check2(fx, `SELECT prosrc FROM pg_proc WHERE proname = 'answer'`, body1)
	check2(fx, `SELECT array_to_string(umoptions, ',') FROM pg_user_mappings WHERE srvname = $1`, "password=mapping-pw-XYZ,user="+w.admin, w.names["server"])

	// Secrets stay secret in the state.
	state, err := os.ReadFile(filepath.Join(e.StateDir, ".pulumi", "stacks", "postgis-platform", "pg.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"role-pw-XYZ", "mapping-pw-XYZ", w.adminPw} {
		if strings.Contains(string(state), secret) {
			t.Errorf("state holds %q in plain text", secret)
		}
	}

	// In-place updates, each checked in the catalog; the role is renamed in place.
	oid := query(t, super, `SELECT oid::text FROM pg_roles WHERE rolname = $1`, s.roleName)
	s.roleName, s.connLimit, s.dbLimit, s.tablePrivs, s.serverPort, s.functionBody = w.names["role"]+"_renamed", 7, 20, []string{"SELECT", "INSERT"}, "5433", body2
	up, err := st.Up(ctx)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	// The grant and default privileges name the role, a force-new property of
	// theirs, so they (and only they) are replaced.
	if rc := *up.Summary.ResourceChanges; rc["replace"] != 2 || rc["delete"] != 0 || rc["update"] != 4 {
		t.Fatalf("update summary %v, want 4 in place and the 2 grants naming the role replaced", rc)
	}
	check(`SELECT oid::text FROM pg_roles WHERE rolname = $1`, oid, s.roleName)
	check(`SELECT rolconnlimit::text FROM pg_roles WHERE rolname = $1`, "7", s.roleName)
	check(`SELECT count(*)::text FROM pg_roles WHERE rolname = $1`, "0", w.names["role"])
	check(`SELECT datconnlimit::text FROM pg_database WHERE datname = $1`, "20", w.names["db"])
	check2(fx, `SELECT array_to_string(srvoptions, ',') FROM pg_foreign_server WHERE srvname = $1`, "dbname="+w.fixDB+",host=localhost,port=5433", w.names["server"])
	check2(app, `SELECT defaclacl::text FROM pg_default_acl`, "{"+s.roleName+"=ar/"+w.admin+"}")
	check2(fx, `SELECT prosrc FROM pg_proc WHERE proname = 'answer'`, body2)

	// Replacements follow the provider: template (database), name (extension).
	for _, tc := range []struct {
		name string
		edit func(*spec)
		want string
	}{
		{"database template", func(s *spec) { s.template = "template0" }, "postgresql:index/database:Database/app"},
		{"extension name", func(s *spec) { s.extension = "hstore" }, "postgresql:index/extension:Extension/ext"},
	} {
		cur := s
		tc.edit(&s)
		ops := enginetest.PreviewOps(t, st)
		if !strings.Contains(strings.Join(ops[tc.want], ","), "replace") {
			t.Errorf("%s: %v, want a replacement of %s", tc.name, ops, tc.want)
		}
		s = cur
	}
	// And nothing on a role forces replacement.
	cur := s
	s.roleName, s.connLimit = s.roleName+"x", 1
	if ops := enginetest.PreviewOps(t, st); strings.Contains(strings.Join(ops["postgresql:index/role:Role"], ","), "replace") {
		t.Errorf("role change replaced it: %v", ops)
	}
	s = cur

	_ = app.Close(ctx) // DROP DATABASE … WITH (FORCE) cannot end a superuser's session
	if _, err := st.Destroy(ctx); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	check(`SELECT count(*)::text FROM pg_roles WHERE rolname = $1`, "0", s.roleName)
	check(`SELECT count(*)::text FROM pg_database WHERE datname = $1`, "0", w.names["db"])
	check2(w.srv.Super(t, w.fixDB), `SELECT count(*)::text FROM pg_foreign_server WHERE srvname = $1`, "0", w.names["server"])
}

// Changes made with psql show as drift in a preview-only refresh, on exactly
// the edited property.
func TestDriftFromTheCatalog(t *testing.T) {
	w := newWorld(t)
	e := enginetest.New(t)
	s := baseSpec(w)
	st := e.Stack(t, "pgdrift", w.program(&s))
	if _, err := st.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	if drift, _ := enginetest.Drift(t, st); len(drift) != 0 {
		t.Fatalf("untouched database drifts: %v", drift)
	}
	super := w.srv.Super(t, "postgres")
	pgtest.Exec(t, super, "ALTER ROLE "+s.roleName+" CREATEDB")
	pgtest.Exec(t, super, "GRANT CONNECT ON DATABASE "+w.names["db"]+" TO PUBLIC")
	fx := w.srv.Super(t, w.fixDB)
	pgtest.Exec(t, fx, "CREATE OR REPLACE FUNCTION public.answer() RETURNS integer LANGUAGE plpgsql SECURITY DEFINER AS $$BEGIN RETURN 666; END;$$")
	drift, res := enginetest.Drift(t, st)
	want := map[string]string{
		"postgresql:index/role:Role/etl":         "createDatabase",
		"postgresql:index/grant:Grant/public-db": "privileges",
		"postgresql:index/function:Function/fn":  "body",
	}
	if len(drift) != len(want) {
		t.Errorf("drift %v, want %v", drift, want)
	}
	for k, prop := range want {
		if got := strings.Join(drift[k], ","); got != prop {
			t.Errorf("%s drifted on %q, want %q", k, got, prop)
		}
	}
	if res.ChangeSummary[apitype.OpUpdate] != 3 {
		t.Errorf("summary %v", res.ChangeSummary)
	}
	// A role dropped by hand shows as deleted.
	pgtest.Exec(t, super, "DROP OWNED BY "+s.roleName)
	app := w.srv.Super(t, w.names["db"])
	pgtest.Exec(t, app, "DROP OWNED BY "+s.roleName)
	pgtest.Exec(t, super, "DROP ROLE "+s.roleName)
	drift, _ = enginetest.Drift(t, st)
	if got := strings.Join(drift["postgresql:index/role:Role/etl"], ","); got != "(deleted)" {
		t.Errorf("dropped role: %v", drift)
	}
}
