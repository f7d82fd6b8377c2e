package postgresql

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/postgis-platform/deployer/internal/standin"
)

// Roles: postgresql_role.

type role struct{ b *backend }

// roleAttrs are the attributes in CREATE/ALTER ROLE order, with defaults.
var roleAttrs = []struct {
	key, yes, no string
	def          bool
}{
	{"login", "LOGIN", "NOLOGIN", false},
	{"superuser", "SUPERUSER", "NOSUPERUSER", false},
	{"createDatabase", "CREATEDB", "NOCREATEDB", false},
	{"createRole", "CREATEROLE", "NOCREATEROLE", false},
	{"inherit", "INHERIT", "NOINHERIT", true},
	{"replication", "REPLICATION", "NOREPLICATION", false},
	{"bypassRowLevelSecurity", "BYPASSRLS", "NOBYPASSRLS", false},
}

func connLimit(m map[string]any) int {
	if v, ok := m["connectionLimit"].(float64); ok {
		return int(v)
	}
	return -1
}

// roleOptions renders the attributes of in; with old set, only those that
// differ (a non-superuser may not even restate SUPERUSER, REPLICATION or
// BYPASSRLS, as the real provider knows).
func roleOptions(in, old map[string]any) string {
	var parts []string
	for _, a := range roleAttrs {
		v := boolOr(in, a.key, a.def)
		if old != nil && boolOr(old, a.key, a.def) == v {
			continue
		}
		parts = append(parts, flag(v, a.yes, a.no))
	}
	if old == nil || connLimit(old) != connLimit(in) {
		parts = append(parts, fmt.Sprintf("CONNECTION LIMIT %d", connLimit(in)))
	}
	if v := str(in, "validUntil"); v != "" && (old == nil || v != str(old, "validUntil")) {
		parts = append(parts, "VALID UNTIL "+ql(v))
	}
	return strings.Join(parts, " ")
}

func (r *role) Create(ctx context.Context, _ resource.URN, in map[string]any) (string, map[string]any, error) {
	name := str(in, "name")
	stmt := "CREATE ROLE " + qi(name) + " WITH " + roleOptions(in, nil)
	if pw := str(in, "password"); pw != "" {
		stmt += " PASSWORD " + ql(pw)
	}
	stmts := append([]string{stmt}, liveStatements(name, nil, in)...)
	if err := r.b.exec(ctx, "", stmts...); err != nil {
		return "", nil, err
	}
	out, _, err := r.Read(ctx, name, in, in)
	return name, out, err
}

func (r *role) Read(ctx context.Context, id string, oldIn, oldOut map[string]any) (map[string]any, bool, error) {
	name := str(oldOut, "name")
	if name == "" {
		name = id
	}
	var super, inherit, createrole, createdb, login, repl, bypass bool
	var limit int
	ok, err := r.b.queryRow(ctx, "", `SELECT rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconnlimit
		FROM pg_catalog.pg_roles WHERE rolname = $1`, []any{name}, &super, &inherit, &createrole, &createdb, &login, &repl, &bypass, &limit)
	if !ok || err != nil {
		return nil, false, err
	}
	out := standin.Copy(oldOut)
	for k, v := range map[string]any{
		"name": name, "superuser": super, "inherit": inherit, "createRole": createrole, "createDatabase": createdb,
		"login": login, "replication": repl, "bypassRowLevelSecurity": bypass, "connectionLimit": float64(limit),
	} {
		out[k] = v
	}
	if pw, ok := oldIn["password"]; ok {
		out["password"] = pw // the catalog holds only the verifier
	}
	live, err := r.readLive(ctx, name)
	if err != nil {
		return nil, false, err
	}
	live.into(out)
	out["encryptedPassword"] = true // upstream sets it on every read
	return out, true, nil
}

func (r *role) Update(ctx context.Context, id string, oldOut, in map[string]any) (map[string]any, error) {
	oldName, name := str(oldOut, "name"), str(in, "name")
	var stmts []string
	if oldName != "" && oldName != name {
		stmts = append(stmts, "ALTER ROLE "+qi(oldName)+" RENAME TO "+qi(name))
	}
	alter := roleOptions(in, oldOut)
	if pw := str(in, "password"); pw != "" && (pw != str(oldOut, "password") || oldName != name) {
		alter += " PASSWORD " + ql(pw)
	}
	if strings.TrimSpace(alter) != "" {
		stmts = append(stmts, "ALTER ROLE "+qi(name)+" WITH "+alter)
	}
	stmts = append(stmts, liveStatements(name, oldOut, in)...)
	if err := r.b.exec(ctx, "", stmts...); err != nil {
		return nil, err
	}
	out, _, err := r.Read(ctx, id, in, in)
	return out, err
}

func (r *role) Delete(ctx context.Context, id string, oldOut map[string]any) error {
	name := str(oldOut, "name")
	if name == "" {
		name = id
	}
	return r.b.exec(ctx, "", "DROP ROLE IF EXISTS "+qi(name))
}
