package utilitydb_test

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/components/pgprovider"
	"github.com/postgis-platform/deployer/components/utilitydb"
	"github.com/postgis-platform/deployer/dbconn"
	"github.com/postgis-platform/deployer/internal/testkit/pulumimock"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

const (
	roleType    = "postgresql:index/role:Role"
	dbType      = "postgresql:index/database:Database"
	grantType   = "postgresql:index/grant:Grant"
	extType     = "postgresql:index/extension:Extension"
	schemaType  = "postgresql:index/schema:Schema"
	serverType  = "postgresql:index/server:Server"
	mappingType = "postgresql:index/userMapping:UserMapping"
	fnType      = "postgresql:index/function:Function"
	provType    = "pulumi:providers:postgresql"
)

// loopbackWrite is one call of the loopback login writer.
type loopbackWrite struct {
	cfg      dbconn.Config
	options  sqlfuncs.Options
	rotation sqlfuncs.Rotation
}

// recordWrites makes args record the writer's calls instead of connecting.
func recordWrites(args *utilitydb.Args, fail error) *[]loopbackWrite {
	var calls []loopbackWrite
	var mu sync.Mutex
	args.Loopback = func(_ context.Context, cfg dbconn.Config, o sqlfuncs.Options, r sqlfuncs.Rotation) (string, bool, error) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, loopbackWrite{cfg, o, r})
		return o.LoopbackLogins()[0], true, fail
	}
	return &calls
}

func baseArgs() utilitydb.Args {
	args := utilitydb.Args{
		Admin: pgprovider.Connection{
			Host: pulumi.String("db.internal"), Port: pulumi.Int(5432), Username: "postgis_admin",
			Password: pulumi.String("admin-secret-XYZ"), SSLRootCert: "/etc/ssl/rds-global-bundle.pem",
		},
		UtilityRolePassword: pulumi.String("utility-secret-XYZ"),
		LoopbackRootCert:    "/rdsdbdata/rds-metadata/ca-cert.pem",
	}
	recordWrites(&args, nil)
	return args
}

func run(t *testing.T, args utilitydb.Args) (*pulumimock.Recorder, error) {
	return pulumimock.Run(t, func(ctx *pulumi.Context) error {
		_, err := utilitydb.New(ctx, "util", args)
		return err
	}, nil)
}

func TestUtilityDatabaseGraph(t *testing.T) {
	rec, err := run(t, baseArgs())
	if err != nil {
		t.Fatal(err)
	}
	role := rec.Get(t, roleType, "util-role")
	if role.Str("name") != sqlfuncs.DefaultUtilityRole || !role.IsSecret("password") {
		t.Fatalf("utility role: %v", role.Inputs)
	}
	for _, attr := range []string{"superuser", "createDatabase", "createRole", "replication", "bypassRowLevelSecurity"} {
		if v, ok := role.Bool(attr); !ok || v {
			t.Errorf("utility role %s = %v", attr, v)
		}
	}
	for name, want := range map[string]string{"util-db": "utility", "util-template": sqlfuncs.DefaultTemplateDB} {
		d := rec.Get(t, dbType, name)
		if d.Str("name") != want || d.Str("owner") != "postgis_admin" || !d.Protected() {
			t.Fatalf("%s: %v protected=%v", name, d.Inputs, d.Protected())
		}
	}
	if v, ok := rec.Get(t, dbType, "util-template").Bool("isTemplate"); !ok || !v {
		t.Fatal("the template is not marked as a template: the owner's logins could not clone it")
	}
	for _, r := range rec.OfType(roleType) {
		if n := r.Str("name"); strings.HasPrefix(n, sqlfuncs.DefaultUtilityRole+sqlfuncs.OwnerSuffix) {
			t.Errorf("role %s is a provider resource: create_role makes the owner a member of each tenant, which every read would report as drift", n)
		}
	}
	postgis := rec.Get(t, extType, "util-template-postgis")
	if postgis.Str("name") != "postgis" || postgis.Str("database") != sqlfuncs.DefaultTemplateDB {
		t.Fatalf("template postgis: %v", postgis.Inputs)
	}
	dblink := rec.Get(t, extType, "util-dblink")
	if dblink.Str("schema") != sqlfuncs.DefaultDblinkSchema || dblink.Str("database") != "utility" {
		t.Fatalf("dblink: %v", dblink.Inputs)
	}

	server := rec.Get(t, serverType, "util-server")
	wantOpts := map[string]string{"host": "db.internal", "port": "5432", "dbname": "utility", "sslmode": "verify-full", "sslrootcert": "/rdsdbdata/rds-metadata/ca-cert.pem"}
	if got := server.Map("options"); !reflect.DeepEqual(got, wantOpts) || server.Str("fdwName") != "dblink_fdw" {
		t.Fatalf("server options %v", got)
	}
	if n := len(rec.OfType(mappingType)); n != 0 {
		t.Fatalf("%d user mapping resources: the provider's DDL would log the password; the program writes the mapping", n)
	}
	if !strings.Contains(server.ProviderRef(), "util-provider") {
		t.Fatalf("server not on the utility database's provider: %q", server.ProviderRef())
	}
	prov := rec.Get(t, provType, "util-provider")
	if prov.Str("database") != "utility" || prov.Str("sslmode") != "verify-full" || !prov.IsSecret("password") {
		t.Fatalf("utility provider: %v", prov.Inputs)
	}
	if v, ok := prov.Bool("superuser"); !ok || v {
		t.Fatal("provider does not declare superuser: false")
	}
}

func TestFunctionsMatchSQLDefinitions(t *testing.T) {
	rec, err := run(t, baseArgs())
	if err != nil {
		t.Fatal(err)
	}
	defs, _ := sqlfuncs.Definitions(sqlfuncs.Options{})
	if len(rec.OfType(fnType)) != len(defs) {
		t.Fatalf("%d functions registered, want %d", len(rec.OfType(fnType)), len(defs))
	}
	for _, d := range defs {
		f := rec.Get(t, fnType, "util-fn-"+d.Name)
		if f.Str("body") != d.Body || f.Str("schema") != "utility" || f.Str("database") != "utility" || f.Str("returns") != d.Returns {
			t.Fatalf("%s: %v", d.Name, f.Inputs)
		}
		if v, _ := f.Bool("securityDefiner"); !v {
			t.Fatalf("%s is not SECURITY DEFINER", d.Name)
		}
		if err := sqlfuncs.CheckPinned(f.Str("body")); err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		for _, dep := range []string{"util-schema", "util-dblink", "util-server", "util-template-postgis"} {
			if !f.DependsOnName(dep) {
				t.Errorf("%s does not depend on %s", d.Name, dep)
			}
		}
	}
}

func TestPublicRevokedAndOnlyTheRoleGranted(t *testing.T) {
	rec, err := run(t, baseArgs())
	if err != nil {
		t.Fatal(err)
	}
	var revokes []string
	for _, g := range rec.OfType(grantType) {
		if g.Str("role") == "public" {
			if len(g.Strings("privileges")) != 0 {
				t.Errorf("%s grants %v to PUBLIC", g.Name, g.Strings("privileges"))
			}
			revokes = append(revokes, g.Str("database")+"/"+g.Str("objectType")+"/"+g.Str("schema"))
		} else if g.Str("role") != sqlfuncs.DefaultUtilityRole {
			t.Errorf("%s grants to %s", g.Name, g.Str("role"))
		}
	}
	sort.Strings(revokes)
	want := []string{
		"tenant_template/database/", "tenant_template/schema/public",
		"utility/database/", "utility/function/utility", "utility/function/utility_dblink",
		"utility/schema/public", "utility/schema/utility", "utility/schema/utility_dblink",
	}
	if !reflect.DeepEqual(revokes, want) {
		t.Fatalf("revokes from PUBLIC:\n%v\nwant\n%v", revokes, want)
	}
	exec := rec.Get(t, grantType, "util-functions-execute")
	if got := exec.Strings("objects"); !reflect.DeepEqual(got, []string{"create_database", "create_role", "secure_database"}) {
		t.Fatalf("EXECUTE granted on %v", got)
	}
	if !exec.DependsOnName("util-fn-create_role") || !rec.Get(t, grantType, "util-functions-public").DependsOnName("util-fn-secure_database") {
		t.Fatal("function grants do not wait for the functions")
	}
}

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*utilitydb.Args)
		want []string
	}{
		{"no root cert while TLS required", func(a *utilitydb.Args) { a.LoopbackRootCert = "" }, []string{"LoopbackRootCert", "verify-full"}},
		{"provider without root cert", func(a *utilitydb.Args) { a.Admin.SSLRootCert = "" }, []string{"Admin.SSLRootCert"}},
		{"provider weak TLS", func(a *utilitydb.Args) { a.Admin.SSLMode = "require" }, []string{"Admin.SSLMode"}},
		{"no admin password", func(a *utilitydb.Args) { a.Admin.Password = nil }, []string{"Admin.Password", "--secret"}},
		{"no utility password", func(a *utilitydb.Args) { a.UtilityRolePassword = nil }, []string{"UtilityRolePassword"}},
		{"bad database name", func(a *utilitydb.Args) { a.Database = "utility-db" }, []string{"Database", "lower-case"}},
		{"bad role name", func(a *utilitydb.Args) { a.Options.UtilityRole = "Utility" }, []string{"UtilityRole"}},
		{"reserved template", func(a *utilitydb.Args) { a.Options.TemplateDB = "template1" }, []string{"TemplateDB", "reserved"}},
		{"utility role is the admin", func(a *utilitydb.Args) { a.Options.UtilityRole = "postgis_admin" }, []string{"UtilityRole", "separate role"}},
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

// The owner's user mapping is written by the program, not by a provider
// resource: once, as the admin, on the utility database, over the provider's
// TLS settings, with the rotation the args ask for; a failed write fails the
// program without the password in its error.
func TestUserMappingWrittenByTheProgram(t *testing.T) {
	args := baseArgs()
	calls := recordWrites(&args, nil)
	if _, err := run(t, args); err != nil {
		t.Fatal(err)
	}
	if len(*calls) != 1 {
		t.Fatalf("writer called %d times, want once", len(*calls))
	}
	c := (*calls)[0]
	pw, err := c.cfg.Password.Secret(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.options.WithDefaults().Owner != sqlfuncs.DefaultUtilityRole+sqlfuncs.OwnerSuffix || c.rotation != (sqlfuncs.Rotation{}) || pw != "admin-secret-XYZ" {
		t.Fatalf("writer called with options %+v rotation %+v", c.options, c.rotation)
	}
	asked := baseArgs()
	asked.RotateLoopbackLogin, asked.LoopbackLoginMaxAge = true, 720*time.Hour
	calls = recordWrites(&asked, nil)
	if _, err := run(t, asked); err != nil || len(*calls) != 1 || (*calls)[0].rotation != (sqlfuncs.Rotation{Force: true, MaxAge: 720 * time.Hour}) {
		t.Fatalf("a rotation asked for: %v %+v", err, *calls)
	}
	if c.cfg.Host != "db.internal" || c.cfg.Port != 5432 || c.cfg.Database != "utility" || c.cfg.User != "postgis_admin" ||
		c.cfg.RootCert != "/etc/ssl/rds-global-bundle.pem" || c.cfg.SSLMode != dbconn.VerifyFull {
		t.Fatalf("writer's connection: %s", c.cfg)
	}

	failing := baseArgs()
	recordWrites(&failing, errors.New("user mapping: statement logging cannot be turned off for this session: log_statement"))
	_, err = run(t, failing)
	if err == nil || !strings.Contains(err.Error(), "log_statement") || strings.Contains(err.Error(), "admin-secret-XYZ") {
		t.Fatalf("a failed write: want the program to fail naming the setting, got %v", err)
	}
}
