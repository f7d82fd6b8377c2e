package dbroles_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/components/dbroles"
	"github.com/postgis-platform/deployer/internal/testkit/pulumimock"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

const (
	roleType    = "postgresql:index/role:Role"
	grantType   = "postgresql:index/grant:Grant"
	defPrivType = "postgresql:index/defaultPrivileges:DefaultPrivileges"
	extType     = "postgresql:index/extension:Extension"
)

func baseArgs() dbroles.Args {
	return dbroles.Args{
		Database:   "gis",
		Schemas:    []string{"public", "etl"},
		TableOwner: "gis_owner",
		Workflow:   dbroles.Role{Name: "etl_writer", Password: pulumi.String("etl-secret-XYZ"), ConnectionLimit: 15},
		ReadOnly:   &dbroles.Role{Name: "tile_reader", Password: pulumi.String("ro-secret-XYZ")},
		PostGIS:    true,
	}
}

func run(t *testing.T, args dbroles.Args) (*pulumimock.Recorder, error) {
	return pulumimock.Run(t, func(ctx *pulumi.Context) error {
		_, err := dbroles.New(ctx, "app", args)
		return err
	}, nil)
}

func TestWorkflowRoleIsLeastPrivilege(t *testing.T) {
	rec, err := run(t, baseArgs())
	if err != nil {
		t.Fatal(err)
	}
	wf := rec.Get(t, roleType, "app-workflow")
	for _, attr := range []string{"superuser", "createDatabase", "createRole", "replication", "bypassRowLevelSecurity"} {
		if v, ok := wf.Bool(attr); !ok || v {
			t.Errorf("%s = %v (set %v), want explicitly false", attr, v, ok)
		}
	}
	if v, _ := wf.Bool("login"); !v || wf.Str("name") != "etl_writer" || wf.Num("connectionLimit") != 15 {
		t.Fatalf("workflow role: %v", wf.Inputs)
	}
	if !wf.IsSecret("password") || wf.Str("password") != "etl-secret-XYZ" {
		t.Fatal("password: without a verifier key, want the configured password as a secret")
	}
	if ro := rec.Get(t, roleType, "app-readonly"); !ro.IsSecret("password") || ro.Num("connectionLimit") != dbroles.DefaultConnectionLimit {
		t.Fatalf("read-only role: %v", ro.Inputs)
	}

	privs := func(typ, name string) []string { return rec.Get(t, typ, name).Strings("privileges") }
	cases := map[string][]string{
		"app-workflow-connect":          {"CONNECT"},
		"app-workflow-etl-usage":        {"USAGE"},
		"app-workflow-etl-tables":       {"SELECT", "INSERT", "UPDATE"},
		"app-workflow-public-sequences": {"USAGE", "SELECT"},
		"app-readonly-public-tables":    {"SELECT"},
	}
	for name, want := range cases {
		if got := privs(grantType, name); !reflect.DeepEqual(got, want) {
			t.Errorf("%s privileges = %v, want %v", name, got, want)
		}
	}
	d := rec.Get(t, defPrivType, "app-workflow-etl-default-tables")
	if d.Str("owner") != "gis_owner" || d.Str("schema") != "etl" || !reflect.DeepEqual(d.Strings("privileges"), []string{"SELECT", "INSERT", "UPDATE"}) {
		t.Fatalf("default privileges: %v", d.Inputs)
	}
	for _, g := range rec.OfType(grantType) {
		if g.Str("database") != "gis" || g.Str("role") == "public" {
			t.Errorf("grant %s: %v", g.Name, g.Inputs)
		}
	}
	ext := rec.Get(t, extType, "app-postgis")
	if ext.Str("name") != "postgis" || ext.Str("database") != "gis" {
		t.Fatalf("postgis extension: %v", ext.Inputs)
	}
	if !rec.Get(t, grantType, "app-workflow-etl-tables").DependsOnName("app-postgis") {
		t.Fatal("grants do not wait for the extension")
	}
}

func TestDeleteAndTruncateOnlyWhenAsked(t *testing.T) {
	args := baseArgs()
	args.AllowDelete, args.AllowTruncate = true, true
	rec, err := run(t, args)
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Get(t, grantType, "app-workflow-public-tables").Strings("privileges"); !reflect.DeepEqual(got, []string{"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"}) {
		t.Fatalf("privileges = %v", got)
	}
	if got := rec.Get(t, grantType, "app-readonly-public-tables").Strings("privileges"); !reflect.DeepEqual(got, []string{"SELECT"}) {
		t.Fatalf("read-only widened: %v", got)
	}
}

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*dbroles.Args)
		want []string
	}{
		{"bad database", func(a *dbroles.Args) { a.Database = "GIS" }, []string{"Database", "lower-case"}},
		{"reserved database", func(a *dbroles.Args) { a.Database = "postgres" }, []string{"Database", "reserved"}},
		{"bad schema", func(a *dbroles.Args) { a.Schemas = []string{"etl;drop"} }, []string{"Schemas[0]"}},
		{"no owner", func(a *dbroles.Args) { a.TableOwner = "" }, []string{"TableOwner"}},
		{"workflow is the owner", func(a *dbroles.Args) { a.Workflow.Name = "gis_owner" }, []string{"Workflow.Name", "never run as the owner"}},
		{"bad workflow name", func(a *dbroles.Args) { a.Workflow.Name = "pg_etl" }, []string{"Workflow.Name", "reserved prefix"}},
		{"superuser workflow", func(a *dbroles.Args) { a.Workflow.Attributes.Superuser = true }, []string{"Workflow.Attributes", "SUPERUSER"}},
		{"createdb workflow", func(a *dbroles.Args) { a.Workflow.Attributes.CreateDB = true; a.Workflow.Attributes.BypassRLS = true }, []string{"CREATEDB, BYPASSRLS"}},
		{"replication read-only", func(a *dbroles.Args) { a.ReadOnly.Attributes.Replication = true }, []string{"ReadOnly.Attributes", "REPLICATION"}},
		{"missing password", func(a *dbroles.Args) { a.Workflow.Password = nil }, []string{"Workflow.Password", "--secret"}},
		{"same names", func(a *dbroles.Args) { a.ReadOnly.Name = "etl_writer" }, []string{"ReadOnly.Name"}},
		{"negative limit", func(a *dbroles.Args) { a.Workflow.ConnectionLimit = -2 }, []string{"ConnectionLimit"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := baseArgs()
			tc.edit(&args)
			rec, err := run(t, args)
			pulumimock.Refused(t, rec, err, tc.want...)
		})
	}
}

// With a verifier key, each role's password reaches the provider as its SCRAM
// verifier, salted from the key: never the cleartext.
func TestRolePasswordsAsVerifiers(t *testing.T) {
	const key = "0123456789abcdef-stack-key"
	rec, err := pulumimock.Run(t, func(ctx *pulumi.Context) error {
		_, err := dbroles.New(ctx, "app", dbroles.Args{
			Database: "gis", TableOwner: "gis_owner",
			Workflow:    dbroles.Role{Name: "etl_writer", Password: pulumi.String("etl-secret-XYZ")},
			VerifierKey: pulumi.String(key),
		})
		return err
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := sqlfuncs.StableSCRAMVerifier(key, "etl_writer", "etl-secret-XYZ")
	if err != nil {
		t.Fatal(err)
	}
	if wf := rec.Get(t, roleType, "app-workflow"); !wf.IsSecret("password") || wf.Str("password") != want {
		t.Fatal("password: want the secret SCRAM verifier of the configured password")
	}
}

// An empty password (a plain "" or a config value left empty) fails the
// update before any role is written, with or without a verifier key.
func TestEmptyPasswordRefused(t *testing.T) {
	for _, key := range []pulumi.StringInput{nil, pulumi.String("stack-key")} {
		args := baseArgs()
		args.Workflow.Password = pulumi.String("")
		args.VerifierKey = key
		_, err := run(t, args)
		if err == nil || !strings.Contains(err.Error(), `role "etl_writer": the password is empty`) {
			t.Errorf("key %v: err %v, want the empty password named", key != nil, err)
		}
	}
}
