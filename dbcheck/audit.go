package dbcheck

import (
	"context"
	"errors"
	"fmt"
	"github.com/postgis-platform/deployer/sqlfuncs"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// OpenDatabase is a database a role other than its owner can enter: it
// takes connections and PUBLIC holds CONNECT or TEMPORARY on it.
type OpenDatabase struct {
	Name       string   `json:"name"`
	Owner      string   `json:"owner"`
	Privileges []string `json:"privileges"`
}

// OpenDatabases lists every database of the cluster that PUBLIC may enter
// (CONNECT or TEMPORARY), whoever owns it and whether or not a stack names
// it: one that takes connections, or one marked IS_TEMPLATE (any role with
// CREATEDB may clone a template). The maintenance database postgres and the
// cluster's own templates are left out: every login reaches postgres by
// design.
func OpenDatabases(ctx context.Context, conn *pgx.Conn) ([]OpenDatabase, error) {
	rows, err := conn.Query(ctx, `
		SELECT d.datname::text, pg_catalog.pg_get_userbyid(d.datdba)::text,
		       ARRAY(SELECT DISTINCT a.privilege_type FROM pg_catalog.aclexplode(COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))) a
		             WHERE a.grantee = 0 AND a.privilege_type IN ('CONNECT', 'TEMPORARY') ORDER BY 1)
		FROM pg_catalog.pg_database d
		WHERE d.datname NOT IN ('postgres', 'template0', 'template1') AND (d.datallowconn OR d.datistemplate)
		ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("list databases open to PUBLIC: %w", err)
	}
	all, err := pgx.CollectRows(rows, pgx.RowToStructByPos[OpenDatabase])
	if err != nil {
		return nil, fmt.Errorf("list databases open to PUBLIC: %w", err)
	}
	var open []OpenDatabase
	for _, d := range all {
		if len(d.Privileges) > 0 {
			open = append(open, d)
		}
	}
	return open, nil
}

// OpenDatabasesCheck is the name of the check that no database is open to
// PUBLIC.
const OpenDatabasesCheck = "databases: none open to PUBLIC (postgres aside)"

func checkOpenDatabases(ctx context.Context, conn *pgx.Conn) (Result, error) {
	r := Result{Name: OpenDatabasesCheck}
	open, err := OpenDatabases(ctx, conn)
	if err != nil {
		return r, err
	}
	if len(open) == 0 {
		r.OK = true
		return r, nil
	}
	var found, fix []string
	for _, d := range open {
		found = append(found, fmt.Sprintf("%s (owner %s): PUBLIC has %s", d.Name, d.Owner, strings.Join(d.Privileges, ", ")))
		fix = append(fix, fmt.Sprintf("REVOKE CONNECT, TEMPORARY ON DATABASE %s FROM PUBLIC", quoteIdent(d.Name)))
	}
	r.Found = strings.Join(found, "; ")
	r.Fix = strings.Join(fix, "; ") + " (for a tenant database utility.secure_database does it)"
	return r, nil
}

// checkRoleLive checks what a managed role must not have beyond its
// attributes: membership in another role (it would inherit that role's
// rights: an admin's CREATEDB through SET ROLE, the utility role's EXECUTE)
// and per-role settings (a search_path or timeout set by hand).
func checkRoleLive(ctx context.Context, conn *pgx.Conn, want Role, admins []string, tenantGroup string) ([]Result, error) {
	name := want.Name
	var member, members, config []string
	err := conn.QueryRow(ctx, `SELECT ARRAY(SELECT pg_catalog.pg_get_userbyid(m.roleid)::text FROM pg_catalog.pg_auth_members m WHERE m.member = r.oid ORDER BY 1),
			ARRAY(SELECT pg_catalog.pg_get_userbyid(m.member)::text FROM pg_catalog.pg_auth_members m WHERE m.roleid = r.oid ORDER BY 1),
			COALESCE(r.rolconfig, '{}') FROM pg_catalog.pg_roles r WHERE r.rolname = $1`, name).Scan(&member, &members, &config)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil // checkRole reports the missing role
	}
	if err != nil {
		return nil, fmt.Errorf("check role %s: %w", name, err)
	}
	sort.Strings(config)
	var extra []string
	for _, g := range member {
		if !slices.Contains(want.MemberOf, g) {
			extra = append(extra, g)
		}
	}
	if want.Administers && len(extra) > 0 {
		// Members of tenant roles by design: the rest is extra.
		if err := conn.QueryRow(ctx, `SELECT ARRAY(SELECT g FROM pg_catalog.unnest($1::pg_catalog.text[]) g WHERE NOT EXISTS (
				SELECT 1 FROM pg_catalog.pg_roles t JOIN pg_catalog.pg_auth_members m ON m.member = t.oid JOIN pg_catalog.pg_roles tg ON tg.oid = m.roleid
				WHERE t.rolname = g AND tg.rolname = $2 AND `+sqlfuncs.TenantShaped+`))`,
			extra, tenantGroup).Scan(&extra); err != nil {
			return nil, fmt.Errorf("check role %s: %w", name, err)
		}
	}
	m := Result{Name: fmt.Sprintf("role %s: member of no other role", name), OK: len(extra) == 0 || want.Admin}
	if !m.OK {
		m.Found = "member of " + strings.Join(extra, ", ")
		m.Fix = fmt.Sprintf("REVOKE %s FROM %s (or deployer up --refresh)", strings.Join(quoteAll(extra), ", "), quoteIdent(name))
	}
	s := Result{Name: fmt.Sprintf("role %s: no per-role settings", name), OK: len(config) == 0}
	if !s.OK {
		s.Found = "set: " + strings.Join(config, "; ")
		s.Fix = fmt.Sprintf("ALTER ROLE %s RESET ALL (or deployer up --refresh)", quoteIdent(name))
		if len(want.Members) > 0 {
			// The owner's logins: up changes nothing while the mapping
			// logs in; a rotation resets the next login's settings.
			s.Fix = fmt.Sprintf("ALTER ROLE %s RESET ALL as the admin, or deployer rotate", quoteIdent(name))
		}
	}
	out := []Result{m, s}
	members = slices.DeleteFunc(members, func(m string) bool { return slices.Contains(admins, m) || slices.Contains(want.Members, m) }) // admins administer tenant roles
	if want.Admin {
		// Nothing is a member of the admin: a member reaches every tenant
		// database (the admin is a member of each tenant role) and holds
		// its CREATEROLE.
		members = slices.DeleteFunc(members, func(m string) bool { return m == name })
	}
	if !want.Group {
		g := Result{Name: fmt.Sprintf("role %s: no role is a member of it", name), OK: len(members) == 0}
		if !g.OK {
			g.Found = "granted to " + strings.Join(members, ", ") + " (they hold its rights)"
			g.Fix = fmt.Sprintf("REVOKE %s FROM %s", quoteIdent(name), strings.Join(quoteAll(members), ", "))
		}
		out = append(out, g)
	}
	return out, nil
}

// connectors are the roles meant to hold CONNECT on the utility database.
func connectors(u Utility) []string {
	logins := u.Options.LoopbackLogins()
	return []string{u.Options.WithDefaults().UtilityRole, u.Owner, logins[0], logins[1]}
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = quoteIdent(n)
	}
	return out
}

// checkAudit checks the audit trail: pgaudit loaded (its settings exist only
// then) and pgaudit.log covering role and DDL statements.
func checkAudit(ctx context.Context, conn *pgx.Conn, spec Spec) Result {
	r := Result{Name: "audit: pgaudit logs role and DDL statements"}
	var classes *string
	if err := conn.QueryRow(ctx, "SELECT pg_catalog.current_setting('pgaudit.log', true)").Scan(&classes); err != nil {
		r.Found, r.Fix = "could not read pgaudit.log: "+err.Error(), "check the admin's rights"
		return r
	}
	if classes == nil {
		r.Found = "pgaudit is not loaded"
		r.Fix = "add pgaudit to shared_preload_libraries (the rds component's parameter group does) and reboot"
		return r
	}
	has := map[string]bool{}
	for _, c := range strings.Split(*classes, ",") {
		has[strings.ToLower(strings.TrimSpace(c))] = true
	}
	if !has["all"] && (!has["role"] || !has["ddl"]) {
		r.Found = fmt.Sprintf("pgaudit.log is %q", *classes)
		r.Fix = "set pgaudit.log to role,ddl in the parameter group (deployer up --refresh restores it)"
		return r
	}
	overrides, err := auditOverrides(ctx, conn, spec)
	if err != nil {
		r.Found, r.Fix = "could not read per-database and per-role settings: "+err.Error(), "check the admin's rights"
		return r
	}
	if len(overrides) > 0 {
		r.Found = "pgaudit settings overridden for " + strings.Join(overrides, "; ")
		r.Fix = "ALTER DATABASE … RESET pgaudit.log / ALTER ROLE … [IN DATABASE …] RESET pgaudit.log for each"
		return r
	}
	r.OK = true
	return r
}

// auditOverrides lists the databases and roles of the platform whose own
// settings change pgaudit's (ALTER DATABASE/ROLE … SET pgaudit.log = 'none'
// turns the trail off for them): the spec's roles, the admins, every tenant
// role, and the databases the admins administer.
func auditOverrides(ctx context.Context, conn *pgx.Conn, spec Spec) ([]string, error) {
	var roles []string
	for _, r := range spec.Roles {
		roles = append(roles, r.Name)
	}
	roles = append(roles, spec.administrators()...)
	return listRows(ctx, conn, `SELECT format('%s%s: %s',
			COALESCE('database ' || d.datname, ''), COALESCE(CASE WHEN d.datname IS NULL THEN 'role ' ELSE ', role ' END || r.rolname, ''),
			pg_catalog.array_to_string(ARRAY(SELECT c FROM pg_catalog.unnest(s.setconfig) c WHERE c LIKE 'pgaudit.%'), ', '))
		FROM pg_catalog.pg_db_role_setting s
		LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
		LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
		WHERE EXISTS (SELECT 1 FROM pg_catalog.unnest(s.setconfig) c WHERE c LIKE 'pgaudit.%')
		  AND (r.rolname IS NULL OR r.rolname = ANY($1)
		       OR EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
		                  WHERE m.member = r.oid AND g.rolname = $2))
		  AND (d.datname IS NULL OR EXISTS (SELECT 1 FROM pg_catalog.unnest($1::text[]) a
		                                    WHERE pg_catalog.pg_has_role(a, d.datdba, 'MEMBER')))
		ORDER BY 1`, roles, spec.TenantGroup)
}

// admins are the roles that administer tenant roles (members of each): the
// spec's Admin and its roles marked Admin.
// administrators are the admins and the roles that administer tenants for
// the utility functions (Administers): members of every tenant role.
func (s Spec) administrators() []string {
	out := s.admins()
	for _, r := range s.Roles {
		if r.Administers {
			out = append(out, r.Name)
		}
	}
	return out
}

func (s Spec) admins() []string {
	out := []string{}
	if s.Admin != "" {
		out = append(out, s.Admin)
	}
	for _, r := range s.Roles {
		if r.Admin {
			out = append(out, r.Name)
		}
	}
	return out
}

// utilityAccess checks who may reach the utility database beyond the
// functions: CONNECT held by a role other than the utility role, the
// functions' owner and its loopback logins (they connect there) and the
// database's owner, and default privileges set in it (they would hand future
// functions to someone).
func utilityAccess(ctx context.Context, conn *pgx.Conn, u Utility) ([]Result, error) {
	var connect, temp, defaults []string
	err := conn.QueryRow(ctx, `SELECT
		ARRAY(SELECT pg_catalog.pg_get_userbyid(a.grantee)::text FROM pg_catalog.pg_database d,
		      pg_catalog.aclexplode(COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))) a
		      WHERE d.datname = pg_catalog.current_database() AND a.privilege_type = 'CONNECT'
		        AND a.grantee NOT IN (0, d.datdba) AND NOT pg_catalog.pg_get_userbyid(a.grantee) = ANY($1) ORDER BY 1),
		ARRAY(SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee)::text END || ' ' || a.privilege_type
		      FROM pg_catalog.pg_database d, pg_catalog.aclexplode(COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))) a
		      WHERE d.datname = pg_catalog.current_database() AND a.privilege_type IN ('TEMPORARY', 'CREATE')
		        AND a.grantee <> d.datdba ORDER BY 1),
		ARRAY(SELECT pg_catalog.format('for %s in %s: %s', pg_catalog.pg_get_userbyid(x.defaclrole),
		             COALESCE(n.nspname, 'every schema'), x.defaclacl) FROM pg_catalog.pg_default_acl x
		      LEFT JOIN pg_catalog.pg_namespace n ON n.oid = x.defaclnamespace ORDER BY 1)`,
		connectors(u)).Scan(&connect, &temp, &defaults)
	if err != nil {
		return nil, fmt.Errorf("check access to the utility database: %w", err)
	}
	c := Result{Name: "utility database " + u.Database + ": CONNECT for the utility role and the functions' owner's logins only", OK: len(connect) == 0}
	if !c.OK {
		c.Found = "CONNECT held by " + strings.Join(connect, ", ")
		c.Fix = fmt.Sprintf("REVOKE CONNECT ON DATABASE %s FROM %s", quoteIdent(u.Database), strings.Join(quoteAll(connect), ", "))
	}
	tmp := Result{Name: "utility database " + u.Database + ": TEMPORARY and CREATE for its owner only", OK: len(temp) == 0}
	if !tmp.OK {
		// A temporary schema lets a caller shadow types and tables for the
		// functions' code; CREATE, plant schemas beside them.
		tmp.Found = "held: " + strings.Join(temp, ", ")
		tmp.Fix = fmt.Sprintf("REVOKE TEMPORARY, CREATE ON DATABASE %s FROM each of them", quoteIdent(u.Database))
	}
	d := Result{Name: "utility database " + u.Database + ": no default privileges", OK: len(defaults) == 0}
	if !d.OK {
		d.Found = "default privileges " + strings.Join(defaults, "; ")
		d.Fix = "ALTER DEFAULT PRIVILEGES … REVOKE each of them"
	}
	return []Result{c, tmp, d}, nil
}
