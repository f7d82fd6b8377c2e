package sqlfuncs

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// LoopbackLogins are the two login roles the functions' owner reaches the
// loopback server as (Owner + "_a" and "_b"). The owner's user mapping names
// one of them; a rotation gives the other a new password and moves the
// mapping to it in one transaction, so a call that read the mapping just
// before still logs in with the login it read.
func (o Options) LoopbackLogins() [2]string {
	o = o.WithDefaults()
	return [2]string{o.Owner + "_a", o.Owner + "_b"}
}

// TenantShaped is an SQL condition on a pg_roles row aliased t: a login
// with no attribute, no pg_/rds name, member of one role alone (the tenant
// group, as create_role makes them). A role granted the tenant group by hand
// (a predefined role, say) is not shaped so, and is neither granted onwards
// to the owner nor excused by the checks.
const TenantShaped = "t.rolcanlogin AND NOT (t.rolsuper OR t.rolcreatedb OR t.rolcreaterole OR t.rolreplication OR t.rolbypassrls)" +
	" AND t.rolname !~ '^(pg_|rds)' AND (SELECT pg_catalog.count(*) FROM pg_catalog.pg_auth_members o WHERE o.member = t.oid) = 1"

// step is a statement PrepareOwner runs when its condition (SQL) is true;
// what says it in words where the statement is a DO block.
type step struct{ missing, stmt, what string }

// describe is what the step puts back, for OwnerGaps.
func (s step) describe() string {
	if s.what != "" {
		return s.what
	}
	return firstLine(s.stmt)
}

// Attributes of the owner and its logins: at creation, and the ones a
// non-superuser may put back (PostgreSQL lets only a superuser name
// SUPERUSER, REPLICATION or BYPASSRLS in ALTER ROLE). The owner holds
// CREATEDB for ALTER DATABASE … OWNER (create_database hands a new
// database from a login to its tenant).
const (
	ownerCreate = "NOLOGIN NOSUPERUSER CREATEDB CREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"
	ownerAlter  = "NOLOGIN CREATEDB CREATEROLE INHERIT"
	loginCreate = "LOGIN NOSUPERUSER CREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT CONNECTION LIMIT 40"
	loginAlter  = "LOGIN CREATEDB NOCREATEROLE NOINHERIT CONNECTION LIMIT 40"
)

// ownerRoleSteps make the owner (NOLOGIN; CREATEROLE, as create_role runs as
// it; CREATEDB) and its logins (CREATEDB for the dblink session; members of
// no role at all, NOINHERIT: a login can neither read the owner's mapping,
// grant itself anything, act as a tenant nor own objects in a tenant's
// database), put their attributes back when changed, take every membership
// from the logins, make the owner a member of both (it hands their new
// databases over) and grant every tenant role (a member of the tenant group)
// to the owner: roles made before the dedicated owner were granted to the
// admin alone.
func ownerRoleSteps(o Options) []step {
	role := func(name string) string {
		return "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = " + quoteLiteral(name)
	}
	own := quoteIdent(o.Owner)
	steps := []step{
		{"NOT EXISTS (" + role(o.Owner) + ")", "CREATE ROLE " + own + " " + ownerCreate, ""},
		{"EXISTS (" + role(o.Owner) + " AND (rolcanlogin OR NOT rolcreatedb OR NOT rolcreaterole OR NOT rolinherit))",
			"ALTER ROLE " + own + " " + ownerAlter, ""},
	}
	for _, l := range o.LoopbackLogins() {
		memberships := "SELECT pg_catalog.pg_get_userbyid(m.roleid)::pg_catalog.text FROM pg_catalog.pg_auth_members m WHERE m.member = " + quoteLiteral(l) + "::pg_catalog.regrole"
		steps = append(steps,
			step{"NOT EXISTS (" + role(l) + ")", "CREATE ROLE " + quoteIdent(l) + " " + loginCreate, ""},
			step{"EXISTS (" + role(l) + " AND (NOT rolcanlogin OR NOT rolcreatedb OR rolcreaterole OR rolinherit OR rolconnlimit <> 40))",
				"ALTER ROLE " + quoteIdent(l) + " " + loginAlter, ""},
			step{"EXISTS (" + memberships + ")",
				"DO $$DECLARE g pg_catalog.text; BEGIN FOR g IN " + memberships + " LOOP EXECUTE pg_catalog.format('REVOKE %I FROM %I', g, " + quoteLiteral(l) + "); END LOOP; END$$",
				"REVOKE every role FROM " + l + " (a login is a member of no role)"},
			step{"NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m WHERE m.roleid = " + quoteLiteral(l) + "::pg_catalog.regrole AND m.member = " + quoteLiteral(o.Owner) + "::pg_catalog.regrole)",
				"GRANT " + quoteIdent(l) + " TO " + own, ""})
	}
	tenants := "SELECT t.rolname FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles t ON t.oid = m.member WHERE m.roleid = " +
		quoteLiteral(o.TenantGroup) + "::pg_catalog.regrole AND " + TenantShaped + " AND NOT pg_catalog.pg_has_role(" + quoteLiteral(o.Owner) + ", t.oid, 'MEMBER')"
	steps = append(steps, step{"EXISTS (" + tenants + ")",
		"DO $$DECLARE t pg_catalog.text; BEGIN FOR t IN " + tenants + " LOOP EXECUTE pg_catalog.format('GRANT %I TO %I', t, " +
			quoteLiteral(o.Owner) + "); END LOOP; END$$",
		"GRANT each tenant role TO " + o.Owner + " (a tenant is not granted to it)"})
	return steps
}

// PrepareOwner hands the installed functions to the dedicated owner role
// (Options.Owner, made when missing: NOLOGIN, CREATEROLE, CREATEDB), run as the
// admin that installed them, connected to the utility database: the admin
// becomes a member of the owner (PostgreSQL's condition for ALTER … OWNER,
// and what lets a provider replace the functions' bodies later), each utility
// function not owned by it changes owner, and the owner gets what the bodies
// use: USAGE on both schemas and the loopback server, EXECUTE on the three
// dblink functions; its logins get CONNECT on the utility database. A
// new owner needs CREATE on the functions' schema; it holds it only inside
// the transaction that hands them over. The owner and its logins are made
// (and their attributes put back) here rather than by a provider: create_role
// makes the owner a member of every tenant role, which a provider's role
// resource would report as drift on every read. Idempotent: it changes only
// what is missing.
//
// Run it in the transaction that writes the owner's mapping
// (RotateLoopbackLogin does), so no call finds the functions handed over
// without a way back in.
func PrepareOwner(ctx context.Context, tx pgx.Tx, o Options, admin string) error {
	steps, err := ownerSteps(o, admin)
	if err != nil {
		return err
	}
	o = o.WithDefaults()
	own := quoteIdent(o.Owner)
	var handOver []string
	for _, s := range steps {
		var missing bool
		if err := tx.QueryRow(ctx, "SELECT COALESCE("+s.missing+", false)").Scan(&missing); err != nil {
			return fmt.Errorf("prepare the functions' owner %s: check before %q: %w", o.Owner, firstLine(s.stmt), err)
		}
		if missing && strings.HasPrefix(s.stmt, "ALTER FUNCTION") {
			handOver = append(handOver, s.stmt)
		} else if missing {
			if _, err := tx.Exec(ctx, s.stmt); err != nil {
				return fmt.Errorf("prepare the functions' owner %s: %q: %w", o.Owner, firstLine(s.stmt), err)
			}
			// A GRANT by a role without the grant option only warns.
			if err := tx.QueryRow(ctx, "SELECT COALESCE("+s.missing+", false)").Scan(&missing); err != nil || missing {
				return fmt.Errorf("prepare the functions' owner %s: %q granted nothing: %s holds no grant option on it (run sqlfuncs.Bootstrap for %s as a superuser) %v",
					o.Owner, firstLine(s.stmt), admin, o.Owner, err)
			}
		}
	}
	if len(handOver) > 0 {
		schema := quoteIdent(o.Schema)
		stmts := append(append([]string{"GRANT CREATE ON SCHEMA " + schema + " TO " + own}, handOver...), "REVOKE CREATE ON SCHEMA "+schema+" FROM "+own)
		if err := execAll(ctx, tx, "hand the functions to "+o.Owner, stmts...); err != nil {
			return err
		}
	}
	return nil
}

// OwnerGaps lists what PrepareOwner would put back for o and admin (a role
// missing or changed by hand, a tenant not granted to the owner and both
// logins, a grant the functions' bodies need, a function another role owns)
// without changing anything: until deployer up runs PrepareOwner,
// create_database fails for such a tenant, or a login holds more than it
// should. Run it as the admin, connected to the utility database.
func OwnerGaps(ctx context.Context, db DB, o Options, admin string) ([]string, error) {
	steps, err := ownerSteps(o, admin)
	if err != nil {
		return nil, err
	}
	var gaps []string
	for _, s := range steps {
		var missing bool
		if err := db.QueryRow(ctx, "SELECT COALESCE("+s.missing+", false)").Scan(&missing); err != nil {
			return nil, fmt.Errorf("check the functions' owner: %q: %w", s.describe(), err)
		}
		if missing {
			gaps = append(gaps, s.describe())
			if strings.HasPrefix(s.stmt, "CREATE ROLE") {
				return gaps, nil // the later conditions name the role
			}
		}
	}
	return gaps, nil
}

// ownerSteps are PrepareOwner's steps in order: the roles, the grants the
// bodies use, and the hand-over of each function.
func ownerSteps(o Options, admin string) ([]step, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.WithDefaults()
	fns, err := Definitions(o)
	if err != nil {
		return nil, err
	}
	own, dl := quoteIdent(o.Owner), quoteIdent(o.DblinkSchema)
	dblinkFns := dl + ".dblink_connect(pg_catalog.text), " + dl + ".dblink_exec(pg_catalog.text), " + dl + ".dblink_disconnect()"
	steps := ownerRoleSteps(o)
	steps = append(steps, []step{
		{"NOT pg_catalog.pg_has_role(" + quoteLiteral(admin) + ", " + quoteLiteral(o.Owner) + ", 'MEMBER')",
			"GRANT " + own + " TO " + quoteIdent(admin), ""},
		{"NOT pg_catalog.has_schema_privilege(" + quoteLiteral(o.Owner) + ", " + quoteLiteral(o.Schema) + ", 'USAGE')",
			"GRANT USAGE ON SCHEMA " + quoteIdent(o.Schema) + " TO " + own, ""},
		{"NOT pg_catalog.has_schema_privilege(" + quoteLiteral(o.Owner) + ", " + quoteLiteral(o.DblinkSchema) + ", 'USAGE')",
			"GRANT USAGE ON SCHEMA " + dl + " TO " + own, ""},
		{"NOT pg_catalog.has_function_privilege(" + quoteLiteral(o.Owner) + ", " + quoteLiteral(o.DblinkSchema+".dblink_connect(pg_catalog.text)") + ", 'EXECUTE')" +
			" OR NOT pg_catalog.has_function_privilege(" + quoteLiteral(o.Owner) + ", " + quoteLiteral(o.DblinkSchema+".dblink_exec(pg_catalog.text)") + ", 'EXECUTE')" +
			" OR NOT pg_catalog.has_function_privilege(" + quoteLiteral(o.Owner) + ", " + quoteLiteral(o.DblinkSchema+".dblink_disconnect()") + ", 'EXECUTE')",
			"GRANT EXECUTE ON FUNCTION " + dblinkFns + " TO " + own, ""},
		{"NOT pg_catalog.has_database_privilege(" + quoteLiteral(o.LoopbackLogins()[0]) + ", pg_catalog.current_database(), 'CONNECT')",
			"DO $$BEGIN EXECUTE pg_catalog.format('GRANT CONNECT ON DATABASE %I TO %I', pg_catalog.current_database(), " + quoteLiteral(o.LoopbackLogins()[0]) + "); END$$",
			"GRANT CONNECT ON the utility database TO " + o.LoopbackLogins()[0]},
		{"NOT pg_catalog.has_database_privilege(" + quoteLiteral(o.LoopbackLogins()[1]) + ", pg_catalog.current_database(), 'CONNECT')",
			"DO $$BEGIN EXECUTE pg_catalog.format('GRANT CONNECT ON DATABASE %I TO %I', pg_catalog.current_database(), " + quoteLiteral(o.LoopbackLogins()[1]) + "); END$$",
			"GRANT CONNECT ON the utility database TO " + o.LoopbackLogins()[1]},
		{"NOT pg_catalog.has_server_privilege(" + quoteLiteral(o.Owner) + ", " + quoteLiteral(o.Server) + ", 'USAGE')",
			"GRANT USAGE ON FOREIGN SERVER " + quoteIdent(o.Server) + " TO " + own, ""},
	}...)
	for _, f := range fns {
		steps = append(steps, step{
			"(SELECT p.proowner <> r.oid FROM pg_catalog.pg_proc p, pg_catalog.pg_roles r WHERE p.oid = pg_catalog.to_regprocedure(" +
				quoteLiteral(f.Signature()) + ") AND r.rolname = " + quoteLiteral(o.Owner) + ")",
			"ALTER FUNCTION " + f.Signature() + " OWNER TO " + own, ""})
	}
	return steps, nil
}
