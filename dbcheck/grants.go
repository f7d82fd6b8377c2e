package dbcheck

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/postgis-platform/deployer/dbconn"
)

// checkDatabaseGrantees checks that the platform's databases are granted to
// nobody beyond their owner, the admins and the platform's roles: a tenant
// role given CONNECT on the application database, or on the template (a
// session there makes create_database wait and fail), is a hand change.
// PUBLIC is checkSecured's.
func checkDatabaseGrantees(ctx context.Context, conn *pgx.Conn, spec Spec) (Result, error) {
	r := Result{Name: "platform databases: granted to their owner, the admin and the platform's roles only"}
	allowed := append(spec.admins(), spec.platformRoles()...)
	found, err := listRows(ctx, conn, `SELECT pg_catalog.format('%s: %s holds %s', d.datname, pg_catalog.pg_get_userbyid(a.grantee),
			pg_catalog.string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type))
		FROM pg_catalog.pg_database d, pg_catalog.aclexplode(COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))) a
		WHERE d.datname = ANY($1) AND a.grantee NOT IN (0, d.datdba) AND NOT pg_catalog.pg_get_userbyid(a.grantee) = ANY($2)
		GROUP BY d.datname, a.grantee ORDER BY 1`, spec.SecuredDatabases, allowed)
	if err != nil {
		return r, fmt.Errorf("check the platform databases' grants: %w", err)
	}
	if r.OK = len(found) == 0; !r.OK {
		r.Found = strings.Join(found, "; ")
		r.Fix = "REVOKE ALL ON DATABASE … FROM each of them"
	}
	return r, nil
}

// checkPublicSchema checks, in db, that PUBLIC cannot create in the public
// schema (PostgreSQL 15's default): with CREATE there, any role could plant
// a function or operator that another role's unqualified name reaches.
func checkPublicSchema(ctx context.Context, cfg dbconn.Config, db string) Result {
	r := Result{Name: "database " + db + ": PUBLIC cannot create in schema public"}
	cfg.Database = db
	conn, err := dbconn.Connect(ctx, cfg)
	if err != nil {
		r.Found, r.Fix = "could not connect: "+err.Error(), "grant the checking role CONNECT on "+db
		return r
	}
	defer conn.Close(ctx)
	var create bool
	if err := conn.QueryRow(ctx, "SELECT COALESCE(pg_catalog.has_schema_privilege('public', n.oid, 'CREATE'), false) FROM pg_catalog.pg_namespace n WHERE n.nspname = 'public'").Scan(&create); err != nil && err != pgx.ErrNoRows {
		r.Found, r.Fix = "could not read the schema: "+err.Error(), "check the admin's rights"
		return r
	}
	if r.OK = !create; !r.OK {
		r.Found = "PUBLIC has CREATE on schema public"
		r.Fix = "REVOKE CREATE ON SCHEMA public FROM PUBLIC (in " + db + ")"
	}
	return r
}
