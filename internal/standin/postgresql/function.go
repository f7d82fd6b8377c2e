package postgresql

import (
	"context"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// Functions: postgresql_function.

type function struct{ b *backend }

func toFunction(in map[string]any) sqlfuncs.Function {
	f := sqlfuncs.Function{
		Schema: str(in, "schema"), Name: str(in, "name"), Returns: str(in, "returns"), Language: str(in, "language"),
		SecurityDefiner: boolOr(in, "securityDefiner", false), Body: str(in, "body"),
		Volatility: str(in, "volatility"), Parallel: str(in, "parallel"), Strict: boolOr(in, "strict", false),
	}
	if f.Schema == "" {
		f.Schema = "public"
	}
	if f.Language == "" {
		f.Language = "plpgsql"
	}
	if f.Returns == "" {
		f.Returns = "void"
	}
	args, _ := in["args"].([]any)
	for _, a := range args {
		m, _ := a.(map[string]any)
		f.Args = append(f.Args, sqlfuncs.Arg{Name: str(m, "name"), Type: str(m, "type"), Default: str(m, "default")})
	}
	return f
}

func (f *function) Create(ctx context.Context, _ resource.URN, in map[string]any) (string, map[string]any, error) {
	fn := toFunction(in)
	if err := f.b.exec(ctx, str(in, "database"), fn.CreateSQL(false)); err != nil {
		return "", nil, err
	}
	out, _, err := f.Read(ctx, "", in, in)
	return str(in, "database") + "." + fn.Signature(), out, err
}

// Read parses pg_get_functiondef as the provider does
// (resourcePostgreSQLFunctionReadImpl, PGFunction.Parse): what a program
// declares must be what this reads back (a default NULL reads NULL::text).
func (f *function) Read(ctx context.Context, _ string, _, oldOut map[string]any) (map[string]any, bool, error) {
	fn := toFunction(oldOut)
	var def string
	ok, err := f.b.queryRow(ctx, str(oldOut, "database"), `SELECT pg_catalog.pg_get_functiondef(p.oid) FROM pg_catalog.pg_proc p WHERE p.oid = pg_catalog.to_regprocedure($1)`,
		[]any{fn.Signature()}, &def)
	if !ok || err != nil {
		return nil, false, err
	}
	out := standin.Copy(oldOut)
	for k, v := range parseFunctionDef(def) {
		out[k] = v
	}
	return out, true, nil
}

func (f *function) Update(ctx context.Context, id string, _, in map[string]any) (map[string]any, error) {
	if err := f.b.exec(ctx, str(in, "database"), toFunction(in).CreateSQL(true)); err != nil {
		return nil, err
	}
	out, _, err := f.Read(ctx, id, in, in)
	return out, err
}

func (f *function) Delete(ctx context.Context, _ string, oldOut map[string]any) error {
	mode := flag(boolOr(oldOut, "dropCascade", false), " CASCADE", " RESTRICT")
	return goneIsDone(f.b.exec(ctx, str(oldOut, "database"), "DROP FUNCTION IF EXISTS "+toFunction(oldOut).Signature()+mode))
}
