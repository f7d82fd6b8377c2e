package postgresql

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/postgis-platform/deployer/internal/standin"
)

// Foreign servers and user mappings: postgresql_server, postgresql_user_mapping.

type server struct{ b *backend }

func optionsClause(opts map[string]any, verb func(k string) string) string {
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = verb(k) + qi(k) + " " + ql(fmt.Sprint(opts[k]))
	}
	return strings.Join(parts, ", ")
}

// alterOptions renders ADD/SET/DROP for an options change.
func alterOptions(old, new map[string]any) string {
	var parts []string
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range new {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		ov, inOld := old[k]
		nv, inNew := new[k]
		switch {
		case inOld && !inNew:
			parts = append(parts, "DROP "+qi(k))
		case !inOld && inNew:
			parts = append(parts, "ADD "+qi(k)+" "+ql(fmt.Sprint(nv)))
		case fmt.Sprint(ov) != fmt.Sprint(nv):
			parts = append(parts, "SET "+qi(k)+" "+ql(fmt.Sprint(nv)))
		}
	}
	return strings.Join(parts, ", ")
}

func mapOf(m map[string]any, k string) map[string]any {
	v, _ := m[k].(map[string]any)
	if v == nil {
		return map[string]any{}
	}
	return v
}

// optionsFromCatalog turns {k=v,…} into a map.
func optionsFromCatalog(opts []string) map[string]any {
	out := map[string]any{}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		out[k] = v
	}
	return out
}

func (s *server) Create(ctx context.Context, _ resource.URN, in map[string]any) (string, map[string]any, error) {
	name := str(in, "serverName")
	stmt := "CREATE SERVER " + qi(name) + " FOREIGN DATA WRAPPER " + qi(str(in, "fdwName"))
	if opts := mapOf(in, "options"); len(opts) > 0 {
		stmt += " OPTIONS (" + optionsClause(opts, func(string) string { return "" }) + ")"
	}
	if err := s.b.exec(ctx, "", stmt); err != nil {
		return "", nil, err
	}
	out, _, err := s.Read(ctx, name, in, in)
	return name, out, err
}

func (s *server) Read(ctx context.Context, id string, _, oldOut map[string]any) (map[string]any, bool, error) {
	name := str(oldOut, "serverName")
	if name == "" {
		name = id
	}
	var owner, fdw string
	var opts []string
	ok, err := s.b.queryRow(ctx, "", `SELECT pg_catalog.pg_get_userbyid(s.srvowner)::text, w.fdwname::text, COALESCE(s.srvoptions, '{}')
		FROM pg_catalog.pg_foreign_server s JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw WHERE s.srvname = $1`,
		[]any{name}, &owner, &fdw, &opts)
	if !ok || err != nil {
		return nil, false, err
	}
	out := standin.Copy(oldOut)
	out["serverName"], out["serverOwner"], out["fdwName"], out["options"] = name, owner, fdw, optionsFromCatalog(opts)
	return out, true, nil
}

func (s *server) Update(ctx context.Context, id string, oldOut, in map[string]any) (map[string]any, error) {
	name := str(in, "serverName")
	var stmts []string
	if old := str(oldOut, "serverName"); old != "" && old != name {
		stmts = append(stmts, "ALTER SERVER "+qi(old)+" RENAME TO "+qi(name))
	}
	if alt := alterOptions(mapOf(oldOut, "options"), mapOf(in, "options")); alt != "" {
		stmts = append(stmts, "ALTER SERVER "+qi(name)+" OPTIONS ("+alt+")")
	}
	if o := str(in, "serverOwner"); o != "" && o != str(oldOut, "serverOwner") {
		stmts = append(stmts, "ALTER SERVER "+qi(name)+" OWNER TO "+qi(o))
	}
	if err := s.b.exec(ctx, "", stmts...); err != nil {
		return nil, err
	}
	out, _, err := s.Read(ctx, id, in, in)
	return out, err
}

func (s *server) Delete(ctx context.Context, id string, oldOut map[string]any) error {
	mode := flag(boolOr(oldOut, "dropCascade", false), " CASCADE", "")
	return s.b.exec(ctx, "", "DROP SERVER IF EXISTS "+qi(str(oldOut, "serverName"))+mode)
}

type userMapping struct{ b *backend }

func (u *userMapping) Create(ctx context.Context, _ resource.URN, in map[string]any) (string, map[string]any, error) {
	stmt := "CREATE USER MAPPING FOR " + grantee(str(in, "userName")) + " SERVER " + qi(str(in, "serverName"))
	if opts := mapOf(in, "options"); len(opts) > 0 {
		stmt += " OPTIONS (" + optionsClause(opts, func(string) string { return "" }) + ")"
	}
	if err := u.b.exec(ctx, "", stmt); err != nil {
		return "", nil, err
	}
	out, _, err := u.Read(ctx, "", in, in)
	return str(in, "userName") + "." + str(in, "serverName"), out, err
}

func (u *userMapping) Read(ctx context.Context, _ string, _, oldOut map[string]any) (map[string]any, bool, error) {
	var opts []string
	ok, err := u.b.queryRow(ctx, "", `SELECT COALESCE(umoptions, '{}') FROM pg_catalog.pg_user_mappings WHERE srvname = $1 AND usename = $2`,
		[]any{str(oldOut, "serverName"), str(oldOut, "userName")}, &opts)
	if !ok || err != nil {
		return nil, false, err
	}
	out := standin.Copy(oldOut)
	out["options"] = optionsFromCatalog(opts)
	return out, true, nil
}

func (u *userMapping) Update(ctx context.Context, id string, oldOut, in map[string]any) (map[string]any, error) {
	if alt := alterOptions(mapOf(oldOut, "options"), mapOf(in, "options")); alt != "" {
		stmt := "ALTER USER MAPPING FOR " + grantee(str(in, "userName")) + " SERVER " + qi(str(in, "serverName")) + " OPTIONS (" + alt + ")"
		if err := u.b.exec(ctx, "", stmt); err != nil {
			return nil, err
		}
	}
	out, _, err := u.Read(ctx, id, in, in)
	return out, err
}

func (u *userMapping) Delete(ctx context.Context, _ string, oldOut map[string]any) error {
	return u.b.exec(ctx, "", "DROP USER MAPPING IF EXISTS FOR "+grantee(str(oldOut, "userName"))+" SERVER "+qi(str(oldOut, "serverName")))
}
