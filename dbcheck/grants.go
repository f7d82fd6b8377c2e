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
	var allowed []string
	for _, r := range append(spec.administrators(), spec.platformRoles()...) {
		if r != spec.TenantGroup { // granted to the group, a database is every tenant's
			allowed = append(allowed, r)
		}
	}
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

// checkPublicSchema checks, in db, what would let one role plant code or
// data for another: PUBLIC may create in no schema (with a schema named after
// the admin, $user comes first in its search_path), PUBLIC holds no write
// privilege on a table and no default privileges, and no function outside an
// extension runs as its owner (SECURITY DEFINER).
func checkPublicSchema(ctx context.Context, cfg dbconn.Config, db string) Result {
	r := Result{Name: "database " + db + ": PUBLIC can create and write nothing, and no function of no extension is SECURITY DEFINER"}
	return inDatabase(ctx, cfg, db, r, func(conn *pgx.Conn) Result {
		found, err := listRows(ctx, conn, `SELECT x FROM (
			SELECT 'PUBLIC may create in schema ' || n.nspname::text AS x FROM pg_catalog.pg_namespace n
			 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND pg_catalog.has_schema_privilege('public', n.oid, 'CREATE')
			UNION ALL
			SELECT 'PUBLIC holds ' || a.privilege_type || ' on ' || c.oid::pg_catalog.regclass::text
			  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, pg_catalog.aclexplode(c.relacl) a
			 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND a.grantee = 0 AND a.privilege_type <> 'SELECT'
			UNION ALL
			SELECT 'default privileges for ' || pg_catalog.pg_get_userbyid(x.defaclrole)::text || ' grant PUBLIC ' || a.privilege_type
			  FROM pg_catalog.pg_default_acl x, pg_catalog.aclexplode(x.defaclacl) a WHERE a.grantee = 0
			UNION ALL
			SELECT 'SECURITY DEFINER function ' || p.oid::pg_catalog.regprocedure::text || ' of no extension'
			  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
			 WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
			   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid AND d.deptype = 'e')
			) f ORDER BY 1`)
		return listed(r, found, err, "undo each in "+db+" (REVOKE …, ALTER DEFAULT PRIVILEGES … REVOKE …, DROP FUNCTION …)")
	})
}
