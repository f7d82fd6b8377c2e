package dbcheck

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// checkTenants checks what create_database and create_role leave and a hand
// GRANT or ALTER ROLE would widen: a tenant database is open to its owner
// alone (PUBLIC is checkOpenDatabases'), and a tenant role holds no
// attribute beyond LOGIN, belongs to the tenant group alone and is granted to
// nobody but the admins (who administer tenants).
func checkTenants(ctx context.Context, conn *pgx.Conn, spec Spec) ([]Result, error) {
	grants, err := listRows(ctx, conn, `SELECT pg_catalog.format('%s: %s holds %s', d.datname, pg_catalog.pg_get_userbyid(a.grantee),
			pg_catalog.string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type))
		FROM pg_catalog.pg_database d
		JOIN pg_catalog.pg_auth_members m ON m.member = d.datdba
		JOIN pg_catalog.pg_roles g ON g.oid = m.roleid AND g.rolname = $1
		CROSS JOIN LATERAL pg_catalog.aclexplode(COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))) a
		WHERE a.grantee NOT IN (0, d.datdba)
		GROUP BY d.datname, a.grantee ORDER BY 1`, spec.TenantGroup)
	if err != nil {
		return nil, fmt.Errorf("check tenant databases: %w", err)
	}
	marked, err := listRows(ctx, conn, `SELECT d.datname::text || ' is a template (any role with CREATEDB may clone it)'
		FROM pg_catalog.pg_database d
		JOIN pg_catalog.pg_auth_members m ON m.member = d.datdba
		JOIN pg_catalog.pg_roles g ON g.oid = m.roleid AND g.rolname = $1
		WHERE d.datistemplate ORDER BY 1`, spec.TenantGroup)
	if err != nil {
		return nil, fmt.Errorf("check tenant databases: %w", err)
	}
	grants = append(grants, marked...)
	platform, err := listRows(ctx, conn, `SELECT d.datname::text || ' is owned by the platform role ' || pg_catalog.pg_get_userbyid(d.datdba)::text
		FROM pg_catalog.pg_database d WHERE pg_catalog.pg_get_userbyid(d.datdba) = ANY($1) ORDER BY 1`, spec.platformRoles())
	if err != nil {
		return nil, fmt.Errorf("check database owners: %w", err)
	}
	grants = append(grants, platform...)
	roles, err := listRows(ctx, conn, `SELECT pg_catalog.format('%s: %s', r.rolname, x.what)
		FROM pg_catalog.pg_roles r
		JOIN pg_catalog.pg_auth_members m ON m.member = r.oid
		JOIN pg_catalog.pg_roles g ON g.oid = m.roleid AND g.rolname = $1
		CROSS JOIN LATERAL (SELECT pg_catalog.concat_ws('; ',
			CASE WHEN r.rolsuper THEN 'SUPERUSER' END, CASE WHEN r.rolcreatedb THEN 'CREATEDB' END,
			CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END, CASE WHEN r.rolreplication THEN 'REPLICATION' END,
			CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END,
			(SELECT 'member of ' || pg_catalog.string_agg(pg_catalog.pg_get_userbyid(o.roleid), ', ' ORDER BY 1)
			   FROM pg_catalog.pg_auth_members o WHERE o.member = r.oid AND o.roleid <> g.oid),
			(SELECT 'granted to ' || pg_catalog.string_agg(pg_catalog.pg_get_userbyid(o.member), ', ' ORDER BY 1)
			   FROM pg_catalog.pg_auth_members o WHERE o.roleid = r.oid AND NOT pg_catalog.pg_get_userbyid(o.member) = ANY($2))) AS what) x
		WHERE x.what <> '' ORDER BY 1`, spec.TenantGroup, spec.administrators())
	if err != nil {
		return nil, fmt.Errorf("check tenant roles: %w", err)
	}
	d := Result{Name: "tenant databases: open to their owners alone", OK: len(grants) == 0}
	if !d.OK {
		d.Found = strings.Join(grants, "; ")
		d.Fix = "REVOKE ALL ON DATABASE … FROM each grantee (utility.secure_database re-locks a tenant database), ALTER DATABASE … IS_TEMPLATE false, and a database owned by a platform role: ALTER DATABASE … OWNER TO a tenant role, or drop it"
	}
	r := Result{Name: "tenant roles: no attributes, memberships or members beyond the tenant group", OK: len(roles) == 0}
	if !r.OK {
		r.Found = strings.Join(roles, "; ")
		r.Fix = "ALTER ROLE … NOCREATEDB NOCREATEROLE …, REVOKE … FROM … as each applies"
	}
	return []Result{d, r}, nil
}

// platformRoles are the spec's managed roles but the admins and tenants: the
// ETL, tile and utility roles and the tenant group, which own no database (a
// database owned by the tenant group would be every tenant's).
func (s Spec) platformRoles() []string {
	out := []string{}
	for _, r := range s.Roles {
		if !r.Admin && (len(r.MemberOf) == 0 || r.Administers) {
			out = append(out, r.Name)
		}
	}
	if s.TenantGroup != "" && !slices.Contains(out, s.TenantGroup) {
		out = append(out, s.TenantGroup)
	}
	return out
}

func listRows(ctx context.Context, conn *pgx.Conn, sql string, args ...any) ([]string, error) {
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// AdminProblems lists what a hand change gave the admin role beyond what RDS
// gives its master user: members (a member reaches every tenant database and
// holds CREATEROLE), SUPERUSER, REPLICATION or BYPASSRLS, membership (direct
// or through rds_superuser) of a superuser or of the roles that run programs
// or touch server files, and settings of its own in any database. A member that is one of managed (the provider reads
// and repairs its memberships) is left to the drift of that role.
func AdminProblems(ctx context.Context, conn *pgx.Conn, admin string, managed []string) ([]string, error) {
	found, err := listRows(ctx, conn, `SELECT x FROM (
		SELECT 'granted to ' || pg_catalog.pg_get_userbyid(m.member)::text AS x
		  FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles r ON r.oid = m.roleid
		 WHERE r.rolname = $1 AND NOT pg_catalog.pg_get_userbyid(m.member) = ANY($2)
		UNION ALL
		SELECT 'can become ' || r.rolname::text || CASE WHEN r.rolsuper THEN ' (a superuser)' ELSE ' (runs programs or reads and writes server files)' END
		  FROM pg_catalog.pg_roles r
		 WHERE (r.rolsuper OR r.rolname IN ('pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files'))
		   AND r.rolname <> $1 AND pg_catalog.pg_has_role($1, r.oid, 'MEMBER')
		UNION ALL
		SELECT pg_catalog.concat_ws(', ', CASE WHEN rolsuper THEN 'SUPERUSER' END, CASE WHEN rolreplication THEN 'REPLICATION' END,
		       CASE WHEN rolbypassrls THEN 'BYPASSRLS' END) FROM pg_catalog.pg_roles WHERE rolname = $1
		UNION ALL
		SELECT COALESCE('in database ' || d.datname || ': ', '') || 'set ' || pg_catalog.array_to_string(s.setconfig, ', ')
		  FROM pg_catalog.pg_db_role_setting s JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
		  LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase WHERE r.rolname = $1
		) p WHERE x <> '' ORDER BY 1`, admin, managed)
	if err != nil {
		return nil, fmt.Errorf("check the admin %s: %w", admin, err)
	}
	return found, nil
}

// checkAdmin is AdminProblems as a verify check; managed roles' memberships
// are checkRoleLive's.
func checkAdmin(ctx context.Context, conn *pgx.Conn, spec Spec) (Result, error) {
	r := Result{Name: "admin " + spec.Admin + ": nothing beyond what RDS gives its master user"}
	var managed []string
	for _, role := range spec.Roles {
		managed = append(managed, role.Name)
	}
	found, err := AdminProblems(ctx, conn, spec.Admin, managed)
	if err != nil {
		return r, err
	}
	if r.OK = len(found) == 0; !r.OK {
		r.Found = strings.Join(found, "; ")
		r.Fix = "undo each: REVOKE …, ALTER ROLE … NOSUPERUSER/NOBYPASSRLS, ALTER ROLE … RESET ALL"
	}
	return r, nil
}
