package provider

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	pgstandin "github.com/postgis-platform/deployer/internal/standin/postgresql"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/internal/testkit/testenv"
)

// rolesProgram builds the least-privilege roles of an application database
// from YAML; the default postgresql provider (the stand-in, on the real local
// PostgreSQL) logs in as a non-superuser admin with verify-full TLS.
const rolesProgram = `name: postgis-yaml-roles
runtime: yaml
config:
  database: { type: string }
  owner: { type: string }
  workflowName: { type: string }
  workflowPassword: { type: string, secret: true }
resources:
  roles:
    type: postgis:dbroles:Roles
    properties:
      database: ${database}
      tableOwner: ${owner}
      workflow:
        name: ${workflowName}
        password: ${workflowPassword}
outputs:
  workflowRole: ${roles.workflowRole}
`

// The roles component works from YAML against a real PostgreSQL: the
// workflow role logs in over TLS with its password and has no CREATEDB; a
// role name built to inject SQL is refused by the component, naming
// workflow.name, and creates nothing.
func TestYAMLProgramBuildsTheDatabaseRoles(t *testing.T) {
	e := enginetest.New(t)
	pg := pgtest.New(t)
	plugin := testenv.BuiltDir(t, "bin", "pulumi-resource-postgis", "make plugin")
	yamlHost := testenv.BuiltDir(t, filepath.Join(".tools", "pulumi-language-yaml"), "pulumi-language-yaml", "make yaml-host")
	admin, adminPass, db := pgtest.Name("admin"), "adm-"+pgtest.Name("pw"), pgtest.Name("gis")
	pg.CreateAdmin(t, admin, adminPass)
	super := pg.Super(t, "postgres")
	pgtest.Exec(t, super, "CREATE DATABASE "+db+" OWNER "+admin)
	t.Cleanup(func() { _, _ = super.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)") })

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte(rolesProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PULUMI_BACKEND_URL": e.Settings.BackendURL, "PULUMI_SKIP_UPDATE_CHECK": "true",
		pgstandin.SuperuserEnv: pg.SuperUser, pgstandin.SuperuserPasswordFileEnv: filepath.Join(pg.Dir, "superpass")}
	for k, v := range e.Settings.Env {
		env[k] = v
	}
	env["PATH"] = plugin + string(os.PathListSeparator) + yamlHost + string(os.PathListSeparator) + env["PATH"]
	ctx := context.Background()
	st, err := auto.UpsertStackLocalSource(ctx, "roles", dir, auto.Pulumi(e.Settings.CLI.Command), auto.EnvVars(env))
	if err != nil {
		t.Fatal(err)
	}
	etl, etlPass := pgtest.Name("etl"), "etl-"+pgtest.Name("pw")
	cfg := pg.ProviderConfig(admin, adminPass, db)
	for k, v := range (auto.ConfigMap{
		"database": {Value: db}, "owner": {Value: admin}, "workflowName": {Value: etl}, "workflowPassword": {Value: etlPass, Secret: true},
	}) {
		cfg[k] = v
	}
	if err := st.SetAllConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	conn := pgtest.Connect(t, pg.Config(db, etl, etlPass))
	var createDB bool
	if err := conn.QueryRow(ctx, "SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user").Scan(&createDB); err != nil || createDB {
		t.Errorf("the workflow role: CREATEDB %v (err %v), want a login without it", createDB, err)
	}

	evil := `x"; DROP ROLE ` + admin + `; --`
	if err := st.SetConfig(ctx, "workflowName", auto.ConfigValue{Value: evil}); err != nil {
		t.Fatal(err)
	}
	_, err = st.Up(ctx)
	if err == nil || !strings.Contains(err.Error(), "workflow.name") {
		t.Fatalf("an injected role name: %v, want a refusal naming workflow.name", err)
	}
	var admins int
	if err := super.QueryRow(ctx, "SELECT count(*) FROM pg_roles WHERE rolname = $1", admin).Scan(&admins); err != nil || admins != 1 {
		t.Errorf("the admin role after the refused update: %d (err %v)", admins, err)
	}
}
