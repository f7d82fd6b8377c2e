package postgresql

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/postgis-platform/deployer/internal/standin"
)

// Grants and default privileges: postgresql_grant, postgresql_default_privileges.

// lockACLs serialises privilege changes in one database, as the real provider
// does: concurrent GRANTs on one catalog row fail with "tuple concurrently
// updated".
func lockACLs(db string) string {
	return "SELECT pg_catalog.pg_advisory_xact_lock(73542, pg_catalog.hashtext(" + ql(db) + "))"
}

type grant struct{ b *backend }

// target renders the ON clause and the catalog query for the grant's objects.
func grantTarget(in map[string]any) (on string, err error) {
	objs := standin.Strings(in, "objects")
	schemaName := str(in, "schema")
	list := func(prefix string) string {
		q := make([]string, len(objs))
		for i, o := range objs {
			if schemaName != "" && prefix != "" {
				q[i] = qi(schemaName) + "." + qi(o)
			} else {
				q[i] = qi(o)
			}
		}
		return strings.Join(q, ", ")
	}
	switch t := str(in, "objectType"); t {
	case "database":
		return "DATABASE " + qi(str(in, "database")), nil
	case "schema":
		return "SCHEMA " + qi(schemaName), nil
	case "table", "sequence", "function":
		kw := map[string]string{"table": "TABLE", "sequence": "SEQUENCE", "function": "FUNCTION"}[t]
		if len(objs) == 0 {
			return "ALL " + kw + "S IN SCHEMA " + qi(schemaName), nil
		}
		return kw + " " + list("x"), nil
	case "foreign_data_wrapper":
		return "FOREIGN DATA WRAPPER " + list(""), nil
	case "foreign_server":
		return "FOREIGN SERVER " + list(""), nil
	default:
		return "", fmt.Errorf("objectType %q is not supported by the stand-in", t)
	}
}

func (g *grant) apply(ctx context.Context, in map[string]any) error {
	on, err := grantTarget(in)
	if err != nil {
		return err
	}
	to := grantee(str(in, "role"))
	stmts := []string{lockACLs(str(in, "database")), "REVOKE ALL ON " + on + " FROM " + to}
	if privs := standin.Strings(in, "privileges"); len(privs) > 0 {
		s := "GRANT " + strings.Join(privs, ", ") + " ON " + on + " TO " + to
		if boolOr(in, "withGrantOption", false) {
			s += " WITH GRANT OPTION"
		}
		stmts = append(stmts, s)
	}
	return g.b.exec(ctx, str(in, "database"), stmts...)
}

func grantID(in map[string]any) string {
	return strings.Join([]string{str(in, "role"), str(in, "database"), str(in, "schema"), str(in, "objectType"), strings.Join(standin.Strings(in, "objects"), ",")}, "_")
}

func (g *grant) Create(ctx context.Context, _ resource.URN, in map[string]any) (string, map[string]any, error) {
	if err := g.apply(ctx, in); err != nil {
		return "", nil, err
	}
	out, _, err := g.Read(ctx, "", in, in)
	return grantID(in), out, err
}

// live returns the grant role's privileges on the grant's objects as the
// real provider reads them: every object of the type in the schema (or the
// listed ones) is read, and when any object's privileges differ from the
// state's, that object's privileges are returned, so a hand GRANT on one
// function to PUBLIC is drift. found is false when no object matches.
// Upstream: cyrilgdn/terraform-provider-postgresql v1.26.0
// postgresql/resource_postgresql_grant.go readRolePrivileges ("If any object
// doesn't have the same privileges as saved in the state, we return its
// privileges to force an update") and readDatabaseRolePriviges.
func (g *grant) live(ctx context.Context, in map[string]any) ([]string, bool, error) {
	db, schemaName, role := str(in, "database"), str(in, "schema"), str(in, "role")
	objs := standin.Strings(in, "objects")
	if objs == nil {
		objs = []string{} // a nil slice is sent as NULL, which matches nothing
	}
	var q string
	args := []any{role}
	switch str(in, "objectType") {
	case "database":
		q = `SELECT d.datname::text, COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba)) FROM pg_catalog.pg_database d WHERE d.datname = $2`
		args = append(args, db)
	case "schema":
		q = `SELECT n.nspname::text, COALESCE(n.nspacl, pg_catalog.acldefault('n', n.nspowner)) FROM pg_catalog.pg_namespace n WHERE n.nspname = $2`
		args = append(args, schemaName)
	case "table", "sequence":
		kinds := map[string]string{"table": "'r','v','m','f','p'", "sequence": "'S'"}[str(in, "objectType")]
		q = `SELECT c.relname::text, COALESCE(c.relacl, pg_catalog.acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner)) FROM pg_catalog.pg_class c
			JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $2 AND c.relkind IN (` + kinds + `) AND ($3::text[] = '{}' OR c.relname = ANY($3))`
		args = append(args, schemaName, objs)
	case "function":
		q = `SELECT p.proname::text, COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner)) FROM pg_catalog.pg_proc p
			JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $2 AND ($3::text[] = '{}' OR p.proname = ANY($3))`
		args = append(args, schemaName, objs)
	case "foreign_data_wrapper":
		q = `SELECT w.fdwname::text, COALESCE(w.fdwacl, pg_catalog.acldefault('F', w.fdwowner)) FROM pg_catalog.pg_foreign_data_wrapper w WHERE w.fdwname = ANY($2)`
		args = append(args, objs)
	case "foreign_server":
		q = `SELECT s.srvname::text, COALESCE(s.srvacl, pg_catalog.acldefault('S', s.srvowner)) FROM pg_catalog.pg_foreign_server s WHERE s.srvname = ANY($2)`
		args = append(args, objs)
	default:
		return nil, false, fmt.Errorf("objectType %q is not supported by the stand-in", str(in, "objectType"))
	}
	full := `SELECT o.name, ARRAY(SELECT DISTINCT e.privilege_type FROM pg_catalog.aclexplode(o.acl) e
			WHERE e.grantee = CASE WHEN lower($1) = 'public' THEN 0 ELSE (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1) END ORDER BY 1)
		FROM (` + q + `) o(name, acl) ORDER BY 1`
	p, err := g.b.pool(ctx, db)
	if err != nil {
		return nil, false, err
	}
	rows, err := p.Query(ctx, full, args...)
	if err != nil {
		return nil, false, sqlErr(err)
	}
	defer rows.Close()
	want := standin.Strings(in, "privileges")
	var first []string
	n := 0
	for rows.Next() {
		var name string
		var privs []string
		if err := rows.Scan(&name, &privs); err != nil {
			return nil, false, sqlErr(err)
		}
		if n == 0 {
			first = privs
		}
		n++
		if !sameSet(privs, want) {
			return privs, true, nil
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, sqlErr(err)
	}
	if n == 0 {
		return nil, false, nil
	}
	return first, true, nil
}

func (g *grant) Read(ctx context.Context, _ string, _, oldOut map[string]any) (map[string]any, bool, error) {
	privs, found, err := g.live(ctx, oldOut)
	if err != nil {
		return nil, false, err
	}
	out := standin.Copy(oldOut)
	if found || str(oldOut, "objectType") == "database" || str(oldOut, "objectType") == "schema" {
		out["privileges"] = livePrivileges(privs, oldOut)
	}
	return out, true, nil
}

func (g *grant) Update(ctx context.Context, id string, _, in map[string]any) (map[string]any, error) {
	if err := g.apply(ctx, in); err != nil {
		return nil, err
	}
	out, _, err := g.Read(ctx, id, in, in)
	return out, err
}

func (g *grant) Delete(ctx context.Context, _ string, oldOut map[string]any) error {
	on, err := grantTarget(oldOut)
	if err != nil {
		return err
	}
	err = g.b.exec(ctx, str(oldOut, "database"), lockACLs(str(oldOut, "database")), "REVOKE ALL ON "+on+" FROM "+grantee(str(oldOut, "role")))
	return goneIsDone(err)
}

// goneIsDone treats "the database, role or object is already gone" as a
// completed revoke or drop.
func goneIsDone(err error) error {
	if err == nil {
		return nil
	}
	for _, code := range []string{"SQLSTATE 3D000", "SQLSTATE 42704", "SQLSTATE 3F000", "SQLSTATE 42P01", "SQLSTATE 42883"} {
		if strings.HasPrefix(err.Error(), code) {
			return nil
		}
	}
	return err
}

type defaultPrivileges struct{ b *backend }

var defaclType = map[string]struct{ kw, code string }{
	"table": {"TABLES", "r"}, "sequence": {"SEQUENCES", "S"}, "function": {"FUNCTIONS", "f"}, "type": {"TYPES", "T"}, "schema": {"SCHEMAS", "n"},
}

func (d *defaultPrivileges) apply(ctx context.Context, in map[string]any) error {
	t, ok := defaclType[str(in, "objectType")]
	if !ok {
		return fmt.Errorf("objectType %q is not supported", str(in, "objectType"))
	}
	prefix := "ALTER DEFAULT PRIVILEGES FOR ROLE " + qi(str(in, "owner"))
	if s := str(in, "schema"); s != "" {
		prefix += " IN SCHEMA " + qi(s)
	}
	to := grantee(str(in, "role"))
	stmts := []string{lockACLs(str(in, "database")), prefix + " REVOKE ALL ON " + t.kw + " FROM " + to}
	if privs := standin.Strings(in, "privileges"); len(privs) > 0 {
		stmts = append(stmts, prefix+" GRANT "+strings.Join(privs, ", ")+" ON "+t.kw+" TO "+to)
	}
	return d.b.exec(ctx, str(in, "database"), stmts...)
}

func (d *defaultPrivileges) Create(ctx context.Context, _ resource.URN, in map[string]any) (string, map[string]any, error) {
	if err := d.apply(ctx, in); err != nil {
		return "", nil, err
	}
	out, _, err := d.Read(ctx, "", in, in)
	return strings.Join([]string{str(in, "role"), str(in, "database"), str(in, "schema"), str(in, "owner"), str(in, "objectType")}, "_"), out, err
}

func (d *defaultPrivileges) Read(ctx context.Context, _ string, _, oldOut map[string]any) (map[string]any, bool, error) {
	t := defaclType[str(oldOut, "objectType")]
	var privs []string
	_, err := d.b.queryRow(ctx, str(oldOut, "database"), `SELECT COALESCE(pg_catalog.array_agg(e.privilege_type ORDER BY e.privilege_type), '{}')
		FROM pg_catalog.pg_default_acl a
		LEFT JOIN pg_catalog.pg_namespace n ON n.oid = a.defaclnamespace,
		pg_catalog.aclexplode(a.defaclacl) e
		WHERE a.defaclrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1)
		  AND a.defaclobjtype = $2 AND COALESCE(n.nspname, '') = $3
		  AND e.grantee = CASE WHEN lower($4) = 'public' THEN 0 ELSE (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $4) END`,
		[]any{str(oldOut, "owner"), t.code, str(oldOut, "schema"), str(oldOut, "role")}, &privs)
	if err != nil {
		return nil, false, err
	}
	// "We consider no privileges as 'not exists' unless no privileges were
	// provided as input" (upstream readRoleDefaultPrivileges, v1.26.0): the
	// engine then plans a create, not an update.
	if len(privs) == 0 && len(standin.Strings(oldOut, "privileges")) > 0 {
		return nil, false, nil
	}
	out := standin.Copy(oldOut)
	out["privileges"] = livePrivileges(privs, oldOut)
	return out, true, nil
}

func (d *defaultPrivileges) Update(ctx context.Context, id string, _, in map[string]any) (map[string]any, error) {
	if err := d.apply(ctx, in); err != nil {
		return nil, err
	}
	out, _, err := d.Read(ctx, id, in, in)
	return out, err
}

func (d *defaultPrivileges) Delete(ctx context.Context, _ string, oldOut map[string]any) error {
	in := standin.Copy(oldOut)
	in["privileges"] = []any{}
	return goneIsDone(d.apply(ctx, in))
}
