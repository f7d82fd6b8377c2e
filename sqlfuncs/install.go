package sqlfuncs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DB is what the installer and checker need: a *pgx.Conn, *pgxpool.Pool or pgx.Tx.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Loopback is the connection dblink makes back into the same cluster, as the
// functions' owner. Its password goes into the owner's USER MAPPING only.
type Loopback struct {
	Host     string
	Port     int
	DBName   string // any database on the cluster; usually the utility database
	RootCert string // CA file path as the server sees it (sslmode=verify-full)
	User     string // the functions' owner
	Password string
}

func (l Loopback) validate() error {
	switch {
	case l.Host == "" || l.DBName == "" || l.User == "":
		return errors.New("loopback: Host, DBName and User are required")
	case l.RootCert == "":
		return errors.New("loopback: RootCert is required: dblink connects with sslmode=verify-full")
	case l.Password == "":
		return errors.New("loopback: Password is required: a non-superuser owner's user mapping needs one")
	case l.Port < 1 || l.Port > 65535:
		return fmt.Errorf("loopback: Port %d out of range", l.Port)
	}
	return nil
}

// ServerOptions are the foreign server's options (no secrets).
func (l Loopback) ServerOptions() map[string]string {
	return map[string]string{
		"host":        l.Host,
		"port":        strconv.Itoa(l.Port),
		"dbname":      l.DBName,
		"sslmode":     "verify-full",
		"sslrootcert": l.RootCert,
	}
}

// Bootstrap runs the privileged steps in the utility database, the ones a
// non-superuser cannot do (on RDS the master user does them through
// rds_superuser): dblink in a locked schema with its functions revoked from
// PUBLIC, EXECUTE on the unnamed-connection dblink_connect, dblink_exec and
// dblink_disconnect and USAGE on the dblink_fdw wrapper for the
// owner. Run it as a superuser (or rds_superuser member). Idempotent.
func Bootstrap(ctx context.Context, db DB, o Options, owner string) error {
	if err := o.Validate(); err != nil {
		return err
	}
	o = o.WithDefaults()
	s := quoteIdent(o.DblinkSchema)
	own := quoteIdent(owner)
	return execAll(ctx, db, "bootstrap",
		"CREATE SCHEMA IF NOT EXISTS "+s,
		"REVOKE ALL ON SCHEMA "+s+" FROM PUBLIC",
		"GRANT USAGE ON SCHEMA "+s+" TO "+own,
		"CREATE EXTENSION IF NOT EXISTS dblink SCHEMA "+s,
		"REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA "+s+" FROM PUBLIC",
		"GRANT EXECUTE ON FUNCTION "+s+".dblink_connect(text), "+s+".dblink_exec(text), "+s+".dblink_disconnect() TO "+own,
		"GRANT USAGE ON FOREIGN DATA WRAPPER dblink_fdw TO "+own,
	)
}

// BootstrapTemplate installs PostGIS in the template database (privileged,
// like Bootstrap). PostGIS refuses to install while pgaudit logs DDL, so
// pgaudit.log is set to none for this session around the CREATE EXTENSION
// (a superuser, or rds_superuser on RDS, may). Run it on a connection, not a
// pool. Idempotent.
func BootstrapTemplate(ctx context.Context, db DB) error {
	return execAll(ctx, db, "bootstrap template",
		"SELECT pg_catalog.set_config('pgaudit.log', 'none', false)",
		"CREATE EXTENSION IF NOT EXISTS postgis",
		"RESET pgaudit.log")
}

// LockTemplate locks the template database down; run it as the template's
// owner connected to the template. Every database cloned from it starts with
// a public schema nobody but its owner can use.
func LockTemplate(ctx context.Context, db DB) error {
	return execAll(ctx, db, "lock template",
		"REVOKE ALL ON SCHEMA public FROM PUBLIC",
		"DO $$BEGIN EXECUTE pg_catalog.format('REVOKE ALL ON DATABASE %I FROM PUBLIC', pg_catalog.current_database()); END$$",
	)
}

// Install creates, as the functions' owner connected to the utility
// database, the tenant group role, the locked utility schema, the loopback
// server, the functions (in the provider's statement shape) and their
// grants: EXECUTE revoked from PUBLIC, granted to the utility role only. The
// utility role must exist. It runs in one transaction and is idempotent.
// The owner's user mapping is not written here: WriteUserMapping does it on
// a session whose statement logging is off.
func Install(ctx context.Context, conn *pgx.Conn, o Options, lb Loopback) error {
	if err := lb.validate(); err != nil {
		return err
	}
	fns, err := Definitions(o)
	if err != nil {
		return err
	}
	o = o.WithDefaults()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	schema, role, server := quoteIdent(o.Schema), quoteIdent(o.UtilityRole), quoteIdent(o.Server)
	stmts := []string{
		"DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = " + quoteLiteral(o.TenantGroup) + ") THEN " +
			"CREATE ROLE " + quoteIdent(o.TenantGroup) + " NOLOGIN NOINHERIT; END IF; END$$",
		"DO $$BEGIN EXECUTE pg_catalog.format('REVOKE ALL ON DATABASE %I FROM PUBLIC', pg_catalog.current_database()); " +
			"EXECUTE pg_catalog.format('GRANT CONNECT ON DATABASE %I TO " + role + "', pg_catalog.current_database()); END$$",
		"REVOKE ALL ON SCHEMA public FROM PUBLIC",
		"CREATE SCHEMA IF NOT EXISTS " + schema,
		"REVOKE ALL ON SCHEMA " + schema + " FROM PUBLIC",
		"GRANT USAGE ON SCHEMA " + schema + " TO " + role,
	}
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_foreign_server WHERE srvname = $1)", o.Server).Scan(&exists); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	if exists {
		stmts = append(stmts, "ALTER SERVER "+server+" OPTIONS ("+optionList(lb.ServerOptions(), "SET ")+")")
	} else {
		stmts = append(stmts, "CREATE SERVER "+server+" FOREIGN DATA WRAPPER dblink_fdw OPTIONS ("+optionList(lb.ServerOptions(), "")+")")
	}
	if err := execAll(ctx, tx, "install", stmts...); err != nil {
		return err
	}
	for _, f := range fns {
		grants := []string{f.CreateSQL(true), "REVOKE ALL ON FUNCTION " + f.Signature() + " FROM PUBLIC"}
		if f.Callable {
			grants = append(grants, "GRANT EXECUTE ON FUNCTION "+f.Signature()+" TO "+role)
		}
		if err := execAll(ctx, tx, "install "+f.Name, grants...); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("install: commit: %w", err)
	}
	return nil
}

func optionList(opts map[string]string, verb string) string {
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := ""
	for i, k := range keys {
		if i > 0 {
			out += ", "
		}
		out += verb + k + " " + quoteLiteral(opts[k])
	}
	return out
}

func execAll(ctx context.Context, db DB, step string, stmts ...string) error {
	for _, s := range stmts {
		if _, err := db.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %q: %w", step, firstLine(s), err)
		}
	}
	return nil
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i] + " …"
		}
	}
	return s
}
