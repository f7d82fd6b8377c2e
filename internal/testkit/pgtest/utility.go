package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/postgis-platform/deployer/dbconn"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// Utility is a utility database installed the way production gets it: the
// functions owned by a non-superuser admin (CREATEDB, CREATEROLE, as on RDS),
// only the privileged extension steps done by the superuser.
type Utility struct {
	Server
	Options   sqlfuncs.Options
	DB        string // the utility database
	Admin     string // the functions' owner
	AdminPass string
	// Caller is the utility role (login; USAGE + EXECUTE only).
	Caller     string
	CallerPass string
}

// NewUtility creates fresh admin and utility roles, the utility and template
// databases, and installs the functions. Every name is unique to this call.
func NewUtility(t testing.TB, s Server) *Utility {
	t.Helper()
	ctx := context.Background()
	u := &Utility{
		Server:     s,
		DB:         Name("utility"),
		Admin:      Name("admin"),
		AdminPass:  "adm'in:p@ss/" + Name("x"),
		Caller:     Name("utility_app"),
		CallerPass: Name("caller_pw"),
	}
	u.Options = sqlfuncs.Options{TemplateDB: Name("tenant_template"), UtilityRole: u.Caller}
	s.CreateAdmin(t, u.Admin, u.AdminPass)
	Exec(t, s.Super(t, "postgres"), "CREATE ROLE "+u.Caller+" LOGIN PASSWORD "+literal(u.CallerPass))

	admin := Connect(t, s.Config("postgres", u.Admin, u.AdminPass))
	Exec(t, admin, "CREATE DATABASE "+u.DB)
	Exec(t, admin, "CREATE DATABASE "+u.Options.TemplateDB)
	t.Cleanup(func() {
		c, err := connectQuiet(s.SuperConfig("postgres"))
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		for _, db := range []string{u.DB, u.Options.TemplateDB} {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
		}
	})

	// Each step on its own short connection: CREATE DATABASE … TEMPLATE
	// refuses while anyone is connected to the template.
	steps := []struct {
		cfg dbconn.Config
		run func(*pgx.Conn) error
	}{
		{s.SuperConfig(u.DB), func(c *pgx.Conn) error { return sqlfuncs.Bootstrap(ctx, c, u.Options, u.Admin) }},
		{s.SuperConfig(u.Options.TemplateDB), func(c *pgx.Conn) error { return sqlfuncs.BootstrapTemplate(ctx, c) }},
		{s.Config(u.Options.TemplateDB, u.Admin, u.AdminPass), func(c *pgx.Conn) error { return sqlfuncs.LockTemplate(ctx, c) }},
		{s.Config(u.DB, u.Admin, u.AdminPass), func(c *pgx.Conn) error { return sqlfuncs.Install(ctx, c, u.Options, u.Loopback()) }},
	}
	for _, st := range steps {
		c, err := dbconn.Connect(ctx, st.cfg)
		if err != nil {
			t.Fatal(err)
		}
		err = st.run(c)
		_ = c.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sqlfuncs.WriteUserMapping(ctx, s.Config(u.DB, u.Admin, u.AdminPass), u.Options.WithDefaults().Server, u.Admin, u.AdminPass); err != nil {
		t.Fatal(err)
	}
	return u
}

// Loopback is the dblink connection back into the cluster, as the admin.
func (u *Utility) Loopback() sqlfuncs.Loopback {
	return sqlfuncs.Loopback{Host: u.Host, Port: u.Port, DBName: u.DB, RootCert: u.CAFile, User: u.Admin, Password: u.AdminPass}
}

// AdminConn connects as the functions' owner to db.
func (u *Utility) AdminConn(t testing.TB, db string) *pgx.Conn {
	t.Helper()
	return Connect(t, u.Config(db, u.Admin, u.AdminPass))
}

// CallerConn connects as the utility role to the utility database.
func (u *Utility) CallerConn(t testing.TB) *pgx.Conn {
	t.Helper()
	return Connect(t, u.Config(u.DB, u.Caller, u.CallerPass))
}

// DropDatabaseAtCleanup drops db (forcefully) when the test ends.
func (u *Utility) DropDatabaseAtCleanup(t testing.TB, db string) {
	u.Server.DropDatabaseAtCleanup(t, db)
}

// DropDatabaseAtCleanup drops db (forcefully) when the test ends.
func (s Server) DropDatabaseAtCleanup(t testing.TB, db string) {
	t.Cleanup(func() {
		c, err := connectQuiet(s.SuperConfig("postgres"))
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
	})
}

func literal(s string) string {
	out := "'"
	for _, c := range s {
		if c == '\'' {
			out += "''"
		} else {
			out += string(c)
		}
	}
	return out + "'"
}

// DedicatedOwner readies the utility database for the owner a stack gives
// it (components/utilitydb): the template marked as a template so the
// owner's logins may clone it, and dblink granted to the owner (a NOLOGIN
// role made here, with the attributes sqlfuncs.PrepareOwner gives it) as the
// superuser owns dblink here. sqlfuncs.RotateLoopbackLogin then makes the
// logins and hands the functions over.
func (u *Utility) DedicatedOwner(t testing.TB) sqlfuncs.Options {
	t.Helper()
	o := u.Options.WithDefaults()
	admin := Connect(t, u.Config("postgres", u.Admin, u.AdminPass))
	Exec(t, admin, "CREATE ROLE "+o.Owner+" NOLOGIN CREATEDB CREATEROLE")
	Exec(t, admin, "ALTER DATABASE "+o.TemplateDB+" IS_TEMPLATE true")
	// dblink's schema and functions belong to the superuser here (on RDS,
	// to the admin, which grants them on): Bootstrap grants them.
	if err := sqlfuncs.Bootstrap(context.Background(), Connect(t, u.SuperConfig(u.DB)), o, o.Owner); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := connectQuiet(u.SuperConfig("postgres"))
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "ALTER DATABASE "+o.TemplateDB+" IS_TEMPLATE false")
	})
	return o
}
