package postgresql

import (
	"context"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/postgis-platform/deployer/internal/standin"
)

// Schemas and extensions: postgresql_schema, postgresql_extension.

type schema struct{ b *backend }

func (s *schema) Create(ctx context.Context, _ resource.URN, in map[string]any) (string, map[string]any, error) {
	name, db := str(in, "name"), str(in, "database")
	stmt := "CREATE SCHEMA "
	if boolOr(in, "ifNotExists", true) {
		stmt += "IF NOT EXISTS "
	}
	stmt += qi(name)
	if o := str(in, "owner"); o != "" {
		stmt += " AUTHORIZATION " + qi(o)
	}
	if err := s.b.exec(ctx, db, stmt); err != nil {
		return "", nil, err
	}
	out, _, err := s.Read(ctx, "", in, in)
	return db + "." + name, out, err
}

func (s *schema) Read(ctx context.Context, _ string, _, oldOut map[string]any) (map[string]any, bool, error) {
	var owner string
	ok, err := s.b.queryRow(ctx, str(oldOut, "database"), `SELECT pg_catalog.pg_get_userbyid(nspowner)::text FROM pg_catalog.pg_namespace WHERE nspname = $1`,
		[]any{str(oldOut, "name")}, &owner)
	if !ok || err != nil {
		return nil, false, err
	}
	out := standin.Copy(oldOut)
	out["owner"] = owner
	return out, true, nil
}

func (s *schema) Update(ctx context.Context, id string, oldOut, in map[string]any) (map[string]any, error) {
	db, name := str(in, "database"), str(in, "name")
	var stmts []string
	if old := str(oldOut, "name"); old != name {
		stmts = append(stmts, "ALTER SCHEMA "+qi(old)+" RENAME TO "+qi(name))
	}
	if o := str(in, "owner"); o != "" {
		stmts = append(stmts, "ALTER SCHEMA "+qi(name)+" OWNER TO "+qi(o))
	}
	if err := s.b.exec(ctx, db, stmts...); err != nil {
		return nil, err
	}
	out, _, err := s.Read(ctx, id, in, in)
	return out, err
}

func (s *schema) Delete(ctx context.Context, _ string, oldOut map[string]any) error {
	mode := flag(boolOr(oldOut, "dropCascade", false), " CASCADE", " RESTRICT")
	return s.b.exec(ctx, str(oldOut, "database"), "DROP SCHEMA IF EXISTS "+qi(str(oldOut, "name"))+mode)
}

type extension struct{ b *backend }

func (e *extension) Create(ctx context.Context, _ resource.URN, in map[string]any) (string, map[string]any, error) {
	name, db := str(in, "name"), str(in, "database")
	stmt := "CREATE EXTENSION IF NOT EXISTS " + qi(name)
	if s := str(in, "schema"); s != "" {
		stmt += " SCHEMA " + qi(s)
	}
	if v := str(in, "version"); v != "" {
		stmt += " VERSION " + ql(v)
	}
	if boolOr(in, "createCascade", false) {
		stmt += " CASCADE"
	}
	err := e.b.exec(ctx, db, stmt)
	if err != nil && strings.HasPrefix(err.Error(), "SQLSTATE 42501") {
		err = e.b.asRDSSuperuser(ctx, db, name, stmt)
	}
	if err != nil {
		return "", nil, err
	}
	out, _, err := e.Read(ctx, "", in, in)
	return db + "." + name, out, err
}

func (e *extension) Read(ctx context.Context, _ string, _, oldOut map[string]any) (map[string]any, bool, error) {
	var schemaName, version string
	ok, err := e.b.queryRow(ctx, str(oldOut, "database"), `SELECT n.nspname::text, x.extversion FROM pg_catalog.pg_extension x
		JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace WHERE x.extname = $1`, []any{str(oldOut, "name")}, &schemaName, &version)
	if !ok || err != nil {
		return nil, false, err
	}
	out := standin.Copy(oldOut)
	out["schema"], out["version"] = schemaName, version
	return out, true, nil
}

func (e *extension) Update(ctx context.Context, id string, oldOut, in map[string]any) (map[string]any, error) {
	name := str(in, "name")
	var stmts []string
	if s := str(in, "schema"); s != "" && s != str(oldOut, "schema") {
		stmts = append(stmts, "ALTER EXTENSION "+qi(name)+" SET SCHEMA "+qi(s))
	}
	if v := str(in, "version"); v != "" && v != str(oldOut, "version") {
		stmts = append(stmts, "ALTER EXTENSION "+qi(name)+" UPDATE TO "+ql(v))
	}
	if err := e.b.exec(ctx, str(in, "database"), stmts...); err != nil {
		return nil, err
	}
	out, _, err := e.Read(ctx, id, in, in)
	return out, err
}

func (e *extension) Delete(ctx context.Context, _ string, oldOut map[string]any) error {
	mode := flag(boolOr(oldOut, "dropCascade", false), " CASCADE", "")
	return e.b.exec(ctx, str(oldOut, "database"), "DROP EXTENSION IF EXISTS "+qi(str(oldOut, "name"))+mode)
}
