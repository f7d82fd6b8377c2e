package dbcheck

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// checkSettings finds settings made by hand that reach the platform's
// sessions without being a managed role's own (checkRoleLive reads those):
// settings on a platform database (ALTER DATABASE … SET search_path reaches
// every session in it), for every role (ALTER ROLE ALL … SET), and for a
// managed or tenant role in one database (ALTER ROLE … IN DATABASE … SET). The
// admin's own settings are its own affair, but pgaudit's are not (checkAudit).
func checkSettings(ctx context.Context, conn *pgx.Conn, spec Spec) (Result, error) {
	r := Result{Name: "settings: none made for the platform's databases, every role, or a managed role in one database"}
	var roles []string
	for _, role := range spec.Roles {
		roles = append(roles, role.Name)
	}
	dbs := append(append([]string{}, spec.SecuredDatabases...), spec.PostGISDatabases...)
	if spec.Utility != nil {
		dbs = append(dbs, spec.Utility.Database)
	}
	found, err := HandSettings(ctx, conn, roles, dbs, spec.TenantGroup)
	if err != nil {
		return r, err
	}
	if r.OK = len(found) == 0; !r.OK {
		r.Found = strings.Join(found, "; ")
		r.Fix = SettingsFix
	}
	return r, nil
}

// SettingsFix is how to remove what HandSettings finds.
const SettingsFix = "ALTER DATABASE … RESET ALL, ALTER ROLE ALL RESET ALL, ALTER ROLE … IN DATABASE … RESET ALL as each applies"

// HandSettings lists, one line each, the settings checkSettings looks for:
// on the databases dbs (and the tenant group's members' databases), for
// every role, for one of roles or a member of tenantGroup in one database,
// and a tenant role's own.
func HandSettings(ctx context.Context, conn *pgx.Conn, roles, dbs []string, tenantGroup string) ([]string, error) {
	found, err := listRows(ctx, conn, `SELECT pg_catalog.format('%s, %s: %s',
			COALESCE('database ' || d.datname, 'every database'), COALESCE('role ' || r.rolname, 'every role'),
			pg_catalog.array_to_string(s.setconfig, ', '))
		FROM pg_catalog.pg_db_role_setting s
		LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
		LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
		WHERE (s.setrole = 0 AND (s.setdatabase = 0 OR d.datname = ANY($2)
		                          OR EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
		                                     WHERE m.member = d.datdba AND g.rolname = $3)))
		   OR (s.setdatabase <> 0 AND (r.rolname = ANY($1)
		       OR EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
		                  WHERE m.member = s.setrole AND g.rolname = $3)))
		   OR (s.setdatabase = 0 AND EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
		                  WHERE m.member = s.setrole AND g.rolname = $3))
		ORDER BY 1`, roles, dbs, tenantGroup)
	if err != nil {
		return nil, fmt.Errorf("check settings: %w", err)
	}
	return found, nil
}

// ProviderRoleSettings are the role-wide settings the postgresql provider's
// Role resource reads back (searchPaths, statementTimeout,
// idleInTransactionSessionTimeout: upstream resourcePostgreSQLRoleReadImpl in
// cyrilgdn/terraform-provider-postgresql postgresql/resource_postgresql_role.go,
// ported by the stand-in's role_live.go): on a role the stack declares, a hand
// change of one is drift that an update puts back.
var ProviderRoleSettings = []string{"search_path", "statement_timeout", "idle_in_transaction_session_timeout"}

// RoleSettings lists, one line each, the role-wide settings of roles (ALTER
// ROLE … SET) but those named in except: a managed role holds none by design
// beyond what its provider resource reads, so each was made by hand
// (default_transaction_read_only, say, which nothing else reads).
func RoleSettings(ctx context.Context, conn *pgx.Conn, roles, except []string) ([]string, error) {
	if except == nil {
		except = []string{} // NULL would hide every setting
	}
	found, err := listRows(ctx, conn, `SELECT pg_catalog.format('every database, role %s: %s', r.rolname, pg_catalog.array_to_string(k.own, ', '))
		FROM pg_catalog.pg_db_role_setting s JOIN pg_catalog.pg_roles r ON r.oid = s.setrole,
		     LATERAL (SELECT ARRAY(SELECT c FROM pg_catalog.unnest(s.setconfig) c WHERE pg_catalog.split_part(c, '=', 1) <> ALL ($2)) AS own) k
		WHERE s.setdatabase = 0 AND r.rolname = ANY ($1) AND pg_catalog.cardinality(k.own) > 0
		ORDER BY 1`, roles, except)
	if err != nil {
		return nil, fmt.Errorf("check the roles' own settings: %w", err)
	}
	return found, nil
}
