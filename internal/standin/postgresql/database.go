package postgresql

import (
	"context"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/postgis-platform/deployer/internal/standin"
)

// Databases: postgresql_database.

type database struct{ b *backend }

// Create issues the provider's statement: OWNER (the login's own name when
// none is given), TEMPLATE template0 and ENCODING 'UTF8' unless set,
// ALLOW_CONNECTIONS, CONNECTION LIMIT and IS_TEMPLATE always; a login that
// is not a member of the owner role is granted it for the statement and
// loses it again.
// Upstream: cyrilgdn/terraform-provider-postgresql v1.26.0
// postgresql/resource_postgresql_database.go createDatabase
// (grantRoleMembership / revokeRoleMembership around CREATE DATABASE).
func (d *database) Create(ctx context.Context, _ resource.URN, in map[string]any) (string, map[string]any, error) {
	name, owner := str(in, "name"), str(in, "owner")
	if owner == "" {
		owner = d.b.cfg.User
	}
	stmt := "CREATE DATABASE " + qi(name) + " OWNER " + qi(owner)
	if t := str(in, "template"); t != "" {
		stmt += " TEMPLATE " + qi(t)
	} else {
		stmt += " TEMPLATE template0"
	}
	if e := str(in, "encoding"); e != "" {
		stmt += " ENCODING " + ql(e)
	} else {
		stmt += " ENCODING 'UTF8'"
	}
	for _, o := range []struct{ key, kw string }{{"lcCollate", "LC_COLLATE"}, {"lcCtype", "LC_CTYPE"}} {
		if v := str(in, o.key); v != "" {
			stmt += " " + o.kw + " " + ql(v)
		}
	}
	stmt += fmt.Sprintf(" ALLOW_CONNECTIONS %t CONNECTION LIMIT %d IS_TEMPLATE %t",
		boolOr(in, "allowConnections", true), connLimit(in), boolOr(in, "isTemplate", false))
	granted, err := d.b.grantMembership(ctx, owner)
	if err != nil {
		return "", nil, err
	}
	err = d.b.execNoTx(ctx, "", stmt)
	if granted {
		if rerr := d.b.exec(ctx, "", "REVOKE "+qi(owner)+" FROM "+qi(d.b.cfg.User)); err == nil {
			err = rerr
		}
	}
	if err != nil {
		return "", nil, err
	}
	out, _, err := d.Read(ctx, name, in, in)
	return name, out, err
}

// grantMembership grants role to the provider's login unless it is a member
// already (upstream grantRoleMembership); granted says whether it did.
func (b *backend) grantMembership(ctx context.Context, role string) (granted bool, err error) {
	if role == b.cfg.User {
		return false, nil
	}
	var member bool
	if _, err := b.queryRow(ctx, "", "SELECT pg_catalog.pg_has_role($1, $2, 'MEMBER')", []any{b.cfg.User, role}, &member); err != nil {
		return false, err
	}
	if member {
		return false, nil
	}
	return true, b.exec(ctx, "", "GRANT "+qi(role)+" TO "+qi(b.cfg.User))
}

func (d *database) alter(ctx context.Context, name string, in map[string]any) error {
	var stmts []string
	if v, ok := in["connectionLimit"].(float64); ok {
		stmts = append(stmts, fmt.Sprintf("ALTER DATABASE %s CONNECTION LIMIT %d", qi(name), int(v)))
	}
	if v, ok := in["allowConnections"].(bool); ok {
		stmts = append(stmts, fmt.Sprintf("ALTER DATABASE %s ALLOW_CONNECTIONS %t", qi(name), v))
	}
	if v, ok := in["isTemplate"].(bool); ok {
		stmts = append(stmts, fmt.Sprintf("ALTER DATABASE %s IS_TEMPLATE %t", qi(name), v))
	}
	if len(stmts) == 0 {
		return nil
	}
	return d.b.exec(ctx, "", stmts...)
}

func (d *database) Read(ctx context.Context, id string, _, oldOut map[string]any) (map[string]any, bool, error) {
	name := str(oldOut, "name")
	if name == "" {
		name = id
	}
	var owner, enc, collate, ctype string
	var limit int
	var allow, tmpl bool
	ok, err := d.b.queryRow(ctx, "", `SELECT pg_catalog.pg_get_userbyid(datdba)::text, pg_catalog.pg_encoding_to_char(encoding)::text,
		datcollate::text, datctype::text, datconnlimit, datallowconn, datistemplate FROM pg_catalog.pg_database WHERE datname = $1`,
		[]any{name}, &owner, &enc, &collate, &ctype, &limit, &allow, &tmpl)
	if !ok || err != nil {
		return nil, false, err
	}
	out := standin.Copy(oldOut)
	for k, v := range map[string]any{"name": name, "owner": owner, "encoding": enc, "lcCollate": collate, "lcCtype": ctype,
		"connectionLimit": float64(limit), "allowConnections": allow, "isTemplate": tmpl} {
		out[k] = v
	}
	return out, true, nil
}

func (d *database) Update(ctx context.Context, id string, oldOut, in map[string]any) (map[string]any, error) {
	oldName, name := str(oldOut, "name"), str(in, "name")
	var stmts []string
	if oldName != "" && oldName != name {
		stmts = append(stmts, "ALTER DATABASE "+qi(oldName)+" RENAME TO "+qi(name))
	}
	if o := str(in, "owner"); o != "" && o != str(oldOut, "owner") {
		stmts = append(stmts, "ALTER DATABASE "+qi(name)+" OWNER TO "+qi(o))
	}
	for _, s := range stmts {
		if err := d.b.execNoTx(ctx, "", s); err != nil {
			return nil, err
		}
	}
	if err := d.alter(ctx, name, in); err != nil {
		return nil, err
	}
	out, _, err := d.Read(ctx, id, in, in)
	return out, err
}

func (d *database) Delete(ctx context.Context, id string, oldOut map[string]any) error {
	name := str(oldOut, "name")
	if name == "" {
		name = id
	}
	return d.b.execNoTx(ctx, "", "DROP DATABASE IF EXISTS "+qi(name)+" WITH (FORCE)")
}
