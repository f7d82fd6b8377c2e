package enginetest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/postgis-platform/deployer/dbconn"

	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
	pgstandin "github.com/postgis-platform/deployer/internal/standin/postgresql"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/internal/testkit/testenv"
	"github.com/postgis-platform/deployer/stacks"
)

// Local is the local stack on the real test PostgreSQL: a fresh admin role
// (CREATEDB, CREATEROLE, as the RDS master user) and names unique to the test,
// so tests in parallel packages never collide.
type Local struct {
	*Env
	PG        pgtest.Server
	Name      string
	Admin     string
	AdminPass string
	Names     map[string]string // config key -> unique value
	Secrets   map[string]string
}

// NewLocal prepares the local stack's config in the test's project copy.
func NewLocal(t testing.TB) *Local {
	t.Helper()
	e := New(t)
	srv := pgtest.New(t)
	l := &Local{Env: e, PG: srv, Name: "local", Admin: pgtest.Name("admin"), AdminPass: "adm:in/" + pgtest.Name("pw")}
	l.Names = map[string]string{
		"appDatabase": pgtest.Name("gis"), "utilityDatabase": pgtest.Name("utility"), "templateDatabase": pgtest.Name("tmpl"),
		"etlRole": pgtest.Name("etl"), "tileReaderRole": pgtest.Name("tiles"), "utilityRole": pgtest.Name("util"),
		"adminUsername": l.Admin, "caBundle": srv.CAFile, "dbPort": itoa(srv.Port), "loopbackRootCert": srv.CAFile,
	}
	l.Secrets = map[string]string{"etlPassword": "etl-" + pgtest.Name("pw"), "tileReaderPassword": "tiles-" + pgtest.Name("pw"), "utilityRolePassword": "util-" + pgtest.Name("pw")}
	srv.CreateAdmin(t, l.Admin, l.AdminPass)
	t.Cleanup(func() {
		c, err := dbconnSuper(srv)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		for _, k := range []string{"appDatabase", "utilityDatabase", "templateDatabase"} {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+l.Names[k]+" WITH (FORCE)")
		}
	})

	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "stacks", "Pulumi.local.yaml"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(e.Settings.ProjectDir, "stacks", "Pulumi.local.yaml"), raw, 0o644))
	for k, v := range map[string]string{
		aws.DBEndpointEnv:                  "localhost:" + itoa(srv.Port),
		aws.DBMasterPasswordEnv:            l.AdminPass,
		pgstandin.SuperuserEnv:             srv.SuperUser,
		pgstandin.SuperuserPasswordFileEnv: filepath.Join(srv.Dir, "superpass"),
		"DEPLOYER_PG_CA":                   srv.CAFile,
	} {
		e.Settings.Env[k] = v
	}
	return l
}

// Configure creates the stack (with program) and sets the unique names and
// the secrets.
func (l *Local) Configure(t testing.TB, st auto.Stack) {
	t.Helper()
	ctx := context.Background()
	cfg := auto.ConfigMap{}
	for k, v := range l.Names {
		cfg[stacks.Project+":"+k] = auto.ConfigValue{Value: v}
	}
	for k, v := range l.Secrets {
		cfg[stacks.Project+":"+k] = auto.ConfigValue{Value: v, Secret: true}
	}
	must(t, st.SetAllConfig(ctx, cfg))
}

func itoa(i int) string { return strconv.Itoa(i) }

func dbconnSuper(s pgtest.Server) (*pgx.Conn, error) {
	return dbconn.Connect(context.Background(), s.SuperConfig("postgres"))
}

// ExportEnv puts the engine environment into the test process's own
// environment, for code that runs the CLI with the process environment (the
// deployer command): the CLI and stand-ins locations, the passphrase, the
// stand-ins' settings. PATH is left alone: the deployer adds the stand-ins
// for an offline stack itself.
func (e *Env) ExportEnv(t testing.TB) {
	t.Helper()
	for k, v := range e.Settings.Env {
		if k != "PATH" {
			t.Setenv(k, v)
		}
	}
	t.Setenv("DEPLOYER_PULUMI_ROOT", testenv.PulumiRoot(t))
	t.Setenv("DEPLOYER_STANDIN_DIR", testenv.ToolsDir(t, "providers", "pulumi-resource-aws"))
}

// Deploy creates the local stack with the platform program, configures it,
// runs up and exports the stand-ins' environment to this process (for the
// deployer's own calls); it returns the stack.
func (l *Local) Deploy(t testing.TB) auto.Stack {
	t.Helper()
	st := l.Stack(t, l.Name, stacks.Platform)
	l.Configure(t, st)
	if _, err := st.Up(context.Background()); err != nil {
		t.Fatalf("initial up of the local stack: %v", err)
	}
	l.ExportEnv(t)
	return st
}

// RotateMasterSecret rotates the managed master secret of the local stack's
// only DB instance as Secrets Manager does (aws.RotateMasterSecret): the
// admin's password changes on the server and in a new secret version. It
// sets AdminPass to the new password and returns the version's ID.
func (l *Local) RotateMasterSecret(t testing.TB) string {
	t.Helper()
	var id string
	must(t, l.AWSCloud().View(func(c *standin.Cloud) error {
		for oid, o := range c.Objects {
			if o.Type == aws.TypeInstance {
				if id != "" {
					return fmt.Errorf("more than one DB instance (%s, %s)", id, oid)
				}
				id = oid
			}
		}
		if id == "" {
			return fmt.Errorf("no DB instance: deploy the stack first")
		}
		return nil
	}))
	super := l.PG.Super(t, "postgres")
	version, err := aws.RotateMasterSecret(l.AWSCloud(), id, func(user, password string) error {
		_, err := super.Exec(context.Background(), "ALTER ROLE "+pgx.Identifier{user}.Sanitize()+" PASSWORD "+pgtest.QuoteLiteral(password))
		return err
	})
	must(t, err)
	must(t, l.AWSCloud().View(func(c *standin.Cloud) error {
		for _, s := range c.Secrets {
			var v struct{ Password string }
			if err := json.Unmarshal([]byte(s), &v); err != nil {
				return err
			}
			l.AdminPass = v.Password
		}
		return nil
	}))
	return version
}
