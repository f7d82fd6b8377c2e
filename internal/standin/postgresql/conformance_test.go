package postgresql

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
)

// conformance is the provider connected as the superuser to a database of
// its own, for rows that need the catalog.
type conformance struct {
	p   *standin.Provider
	b   *backend
	srv pgtest.Server
	db  string
}

func newConformance(t *testing.T) *conformance {
	t.Helper()
	srv := pgtest.New(t)
	c := &conformance{srv: srv, db: pgtest.Name("conf")}
	pgtest.Exec(t, srv.Super(t, "postgres"), "CREATE DATABASE "+c.db)
	t.Cleanup(func() {
		if sc, err := pgtest.ConnectQuiet(srv.SuperConfig("postgres")); err == nil {
			_, _ = sc.Exec(context.Background(), "DROP DATABASE IF EXISTS "+c.db+" WITH (FORCE)")
			_ = sc.Close(context.Background())
		}
	})
	p, err := NewProvider()
	if err != nil {
		t.Fatal(err)
	}
	c.p = p
	c.b = p.Types[TypeRole].Impl.(*role).b
	if err := c.b.configure(resource.NewPropertyMapFromMap(map[string]any{"host": srv.Host, "port": float64(srv.Port),
		"username": srv.SuperUser, "password": srv.SuperPassword(), "sslrootcert": srv.CAFile})); err != nil {
		t.Fatal(err)
	}
	return c
}

func pb(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(resource.NewPropertyMapFromMap(m), plugin.MarshalOptions{KeepUnknowns: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (c *conformance) check(t *testing.T, typ string, news map[string]any) map[string]any {
	t.Helper()
	resp, err := c.p.Check(context.Background(), &pulumirpc.CheckRequest{Urn: "urn:pulumi:s::p::" + typ + "::r", News: pb(t, news)})
	if err != nil {
		t.Fatal(err)
	}
	m, err := plugin.UnmarshalProperties(resp.GetInputs(), plugin.MarshalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return standin.Plain(m)
}

func (c *conformance) diff(t *testing.T, typ string, olds, news map[string]any) *pulumirpc.DiffResponse {
	t.Helper()
	resp, err := c.p.Diff(context.Background(), &pulumirpc.DiffRequest{Urn: "urn:pulumi:s::p::" + typ + "::r", OldInputs: pb(t, olds), News: pb(t, news)})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestPostgreSQLConformance: one row per behaviour ported from
// cyrilgdn/terraform-provider-postgresql v1.26.0 (pulumi-postgresql v3.17.0),
// each naming the upstream function it comes from.
func TestPostgreSQLConformance(t *testing.T) {
	c := newConformance(t)
	ctx := context.Background()
	fnArgs := func(dflt string) []any {
		return []any{map[string]any{"name": "a", "type": "text", "mode": "IN", "default": dflt}}
	}
	fn := map[string]any{"name": "f", "schema": "public", "database": c.db, "returns": "integer", "language": "plpgsql",
		"body": "\nBEGIN\n  RETURN 1;\nEND;\n", "args": fnArgs("NULL::text")}
	rows := []struct {
		name, upstream string
		run            func(t *testing.T)
	}{
		{"role: Check fills the schema defaults", "resourcePostgreSQLRole schema Default: (login false, inherit true, connectionLimit -1, validUntil infinity)", func(t *testing.T) {
			in := c.check(t, TypeRole, map[string]any{"name": "r"})
			for k, want := range map[string]any{"login": false, "inherit": true, "connectionLimit": float64(-1), "validUntil": "infinity", "encryptedPassword": true} {
				if in[k] != want {
					t.Errorf("%s = %v, want %v", k, in[k], want)
				}
			}
		}},
		{"database: Check fills connectionLimit and allowConnections", "resourcePostgreSQLDatabase schema Default: (-1, true)", func(t *testing.T) {
			in := c.check(t, TypeDatabase, map[string]any{"name": "d"})
			if in["connectionLimit"] != float64(-1) || in["allowConnections"] != true {
				t.Errorf("inputs %v", in)
			}
		}},
		{"function: Check fills volatility, parallel, strict, language", "resourcePostgreSQLFunction schema Default: (VOLATILE, UNSAFE, false, plpgsql)", func(t *testing.T) {
			in := c.check(t, TypeFunction, map[string]any{"name": "f", "body": "x"})
			if in["volatility"] != "VOLATILE" || in["parallel"] != "UNSAFE" || in["strict"] != false || in["language"] != "plpgsql" {
				t.Errorf("inputs %v", in)
			}
		}},
		{"function: a changed argument default updates in place", "resourcePostgreSQLFunction schema (arg.default not ForceNew) -> resourcePostgreSQLFunctionUpdate", func(t *testing.T) {
			d := c.diff(t, TypeFunction, fn, with(fn, "args", fnArgs("'x'::text")))
			if len(d.GetReplaces()) != 0 || !slices.Contains(d.GetDiffs(), "args") {
				t.Errorf("diffs %v replaces %v", d.GetDiffs(), d.GetReplaces())
			}
		}},
		{"function: an added argument replaces", "resourcePostgreSQLFunction schema (arg: ForceNew list of blocks)", func(t *testing.T) {
			two := append(fnArgs("NULL::text"), map[string]any{"name": "b", "type": "int", "mode": "IN"})
			if d := c.diff(t, TypeFunction, fn, with(fn, "args", two)); !slices.Contains(d.GetReplaces(), "args") {
				t.Errorf("replaces %v", d.GetReplaces())
			}
		}},
		{"function: a changed argument type replaces", "resourcePostgreSQLFunction schema (arg.type ForceNew)", func(t *testing.T) {
			other := []any{map[string]any{"name": "a", "type": "varchar", "mode": "IN", "default": "NULL::text"}}
			if d := c.diff(t, TypeFunction, fn, with(fn, "args", other)); !slices.Contains(d.GetReplaces(), "args") {
				t.Errorf("replaces %v", d.GetReplaces())
			}
		}},
		{"function: Read parses pg_get_functiondef (a NULL default reads NULL::text)", "resourcePostgreSQLFunctionReadImpl, PGFunction.Parse", func(t *testing.T) {
			in := with(fn, "args", fnArgs("NULL"))
			if _, _, err := c.p.Types[TypeFunction].Impl.Create(ctx, "", in); err != nil {
				t.Fatal(err)
			}
			out, found, err := c.p.Types[TypeFunction].Impl.Read(ctx, "", in, in)
			if err != nil || !found {
				t.Fatalf("read: %v %v", found, err)
			}
			args, _ := out["args"].([]any)
			a, _ := args[0].(map[string]any)
			if a["default"] != "NULL::text" || a["mode"] != "IN" || out["volatility"] != "VOLATILE" || out["returns"] != "integer" || out["body"] != fn["body"] {
				t.Errorf("read back %v", out)
			}
			pgtest.Exec(t, c.srv.Super(t, c.db), "ALTER FUNCTION public.f(text) IMMUTABLE STRICT")
			out, _, _ = c.p.Types[TypeFunction].Impl.Read(ctx, "", in, in)
			if out["volatility"] != "IMMUTABLE" || out["strict"] != true {
				t.Errorf("a hand ALTER FUNCTION is not read back: %v", out)
			}
		}},
		{"role: memberships and settings are read back", "resourcePostgreSQLRoleReadImpl (roles, readSearchPath, readStatementTimeout)", func(t *testing.T) {
			name, group := pgtest.Name("conf_role"), pgtest.Name("conf_group")
			super := c.srv.Super(t, "postgres")
			pgtest.Exec(t, super, "CREATE ROLE "+group)
			t.Cleanup(func() {
				pgtest.Exec(t, c.srv.Super(t, "postgres"), "DROP ROLE IF EXISTS "+name+"; DROP ROLE IF EXISTS "+group)
			})
			in := c.check(t, TypeRole, map[string]any{"name": name})
			if _, _, err := c.p.Types[TypeRole].Impl.Create(ctx, "", in); err != nil {
				t.Fatal(err)
			}
			pgtest.Exec(t, super, "GRANT "+group+" TO "+name+"; ALTER ROLE "+name+" SET search_path = a, b; ALTER ROLE "+name+" SET statement_timeout = '2s'")
			out, _, err := c.p.Types[TypeRole].Impl.Read(ctx, name, in, in)
			if err != nil {
				t.Fatal(err)
			}
			if r, _ := out["roles"].([]any); len(r) != 1 || r[0] != group {
				t.Errorf("roles %v", out["roles"])
			}
			if sp, _ := out["searchPaths"].([]any); len(sp) != 2 || out["statementTimeout"] != float64(2000) {
				t.Errorf("settings %v %v", out["searchPaths"], out["statementTimeout"])
			}
			upd, err := c.p.Types[TypeRole].Impl.Update(ctx, name, out, in)
			if err != nil {
				t.Fatal(err)
			}
			if r, _ := upd["roles"].([]any); len(r) != 0 || len(upd["searchPaths"].([]any)) != 0 || upd["statementTimeout"] != float64(0) {
				t.Errorf("the update did not put the declared role back: %v", upd)
			}
		}},
		{"grant: one object that differs is what Read returns", "readRolePrivileges (\"we return its privileges to force an update\")", func(t *testing.T) {
			pgtest.Exec(t, c.srv.Super(t, c.db), "CREATE FUNCTION public.g() RETURNS int LANGUAGE sql AS 'SELECT 1'; REVOKE ALL ON FUNCTION public.g() FROM PUBLIC; GRANT EXECUTE ON FUNCTION public.g() TO PUBLIC")
			in := map[string]any{"role": "public", "database": c.db, "schema": "public", "objectType": "function", "privileges": []any{}}
			out, found, err := c.p.Types[TypeGrant].Impl.Read(ctx, "", in, in)
			if err != nil || !found || !slices.Contains(standin.Strings(out, "privileges"), "EXECUTE") {
				t.Errorf("read %v %v %v", out, found, err)
			}
		}},
		{"default privileges: none found is missing, not changed", "readRoleDefaultPrivileges (no privileges = not exists)", func(t *testing.T) {
			in := map[string]any{"role": "public", "database": c.db, "schema": "public", "owner": c.srv.SuperUser, "objectType": "table", "privileges": []any{"SELECT"}}
			if _, found, err := c.p.Types[TypeDefaultPrivileges].Impl.Read(ctx, "", in, in); err != nil || found {
				t.Errorf("found %v err %v, want missing", found, err)
			}
		}},
		{"database: created from template0 in UTF8 unless told otherwise", "createDatabase (TEMPLATE template0, ENCODING 'UTF8')", func(t *testing.T) {
			name := pgtest.Name("conf_db")
			t.Cleanup(func() { pgtest.Exec(t, c.srv.Super(t, "postgres"), "DROP DATABASE IF EXISTS "+name) })
			pgtest.Exec(t, c.srv.Super(t, "template1"), "CREATE TABLE IF NOT EXISTS conf_marker (x int)")
			t.Cleanup(func() { pgtest.Exec(t, c.srv.Super(t, "template1"), "DROP TABLE IF EXISTS conf_marker") })
			in := c.check(t, TypeDatabase, map[string]any{"name": name})
			out, err := createOut(ctx, c, in)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if err := c.srv.Super(t, name).QueryRow(ctx, "SELECT count(*) FROM pg_class WHERE relname = 'conf_marker'").Scan(&n); err != nil || n != 0 || !strings.EqualFold(standin.Str(out, "encoding"), "UTF8") {
				t.Errorf("cloned from template1 (%d) or encoding %v (%v)", n, out["encoding"], err)
			}
		}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			t.Logf("upstream: %s", r.upstream)
			r.run(t)
		})
	}
}

func createOut(ctx context.Context, c *conformance, in map[string]any) (map[string]any, error) {
	_, out, err := c.p.Types[TypeDatabase].Impl.Create(ctx, "", in)
	return out, err
}

func with(m map[string]any, k string, v any) map[string]any {
	out := standin.Copy(m)
	out[k] = v
	return out
}
