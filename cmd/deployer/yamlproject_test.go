package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
	pgstandin "github.com/postgis-platform/deployer/internal/standin/postgresql"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/internal/testkit/testenv"
	"github.com/postgis-platform/deployer/stacks"
)

// yamlProject is the platform project as a Pulumi YAML program: the security
// group and a standalone rule from the component provider, configured by
// the platform's own stack config (so the deployer's config checks hold).
const yamlProject = `name: ` + stacks.Project + `
runtime: yaml
stackConfigDir: stacks
config:
  vpcId:
    type: string
  etlCidr:
    type: string
  tileServerSecurityGroupId:
    type: string
resources:
  db:
    type: postgis:securitygroup:SecurityGroup
    properties:
      vpcId: ${vpcId}
      description: PostGIS from YAML
      ingress:
        - key: etl
          description: ETL hosts
          fromPort: 5432
          cidrIpv4: ${etlCidr}
      tags: { environment: dev, costCenter: test }
  tiles:
    type: postgis:securitygroup:Rule
    properties:
      securityGroupId: ${db.securityGroupId}
      rule: { key: tiles, description: tile servers, fromPort: 5432, securityGroupId: "${tileServerSecurityGroupId}" }
      tags: { environment: dev, costCenter: test }
outputs:
  groupId: ${db.securityGroupId}
`

// A project in another language runs its own program under the deployer:
// `deployer up` creates the YAML program's components through the plugin,
// `deployer drift` finds it clean, a world-open rule is refused with the
// component's error and changes nothing, and the live checks, which only
// the platform program runs, are an error unless skipped.
func TestYAMLProjectUpAndDrift(t *testing.T) {
	e := enginetest.New(t)
	plugin := testenv.BuiltDir(t, "bin", "pulumi-resource-postgis", "make plugin")
	host := testenv.BuiltDir(t, filepath.Join(".tools", "pulumi-language-yaml"), "pulumi-language-yaml", "make yaml-host")
	e.Settings.Env["PATH"] = plugin + string(os.PathListSeparator) + host + string(os.PathListSeparator) + e.Settings.Env["PATH"]
	dir := e.Settings.ProjectDir
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte(yamlProject), 0o644); err != nil {
		t.Fatal(err)
	}
	st := yamlStack(t, e)
	run := runsIn(t, e, nil)

	code, out, errOut := run("up", "--stack", "yaml", "--skip-verify")
	if code != 0 {
		t.Fatalf("up: exit %d\n%s\n%s", code, out, errOut)
	}
	before := e.IngressRules(t)
	if strings.Count(before, ";") != 2 {
		t.Fatalf("cloud's ingress rules after up: %q, want the etl and tiles rules", before)
	}
	if code, out, errOut := run("drift", "--stack", "yaml"); code != 0 {
		t.Fatalf("drift after up: exit %d, want 0 (clean)\n%s\n%s", code, out, errOut)
	}
	// A hand edit in the console is drift of the YAML program's rule.
	err := e.AWSCloud().Update(func(c *standin.Cloud) error {
		for _, r := range c.OfType(aws.TypeIngressRule) {
			if standin.Str(r.Props, "cidrIpv4") == "10.0.0.0/24" {
				r.Props["cidrIpv4"] = "10.9.0.0/16"
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run("drift", "--stack", "yaml"); code != automation.ExitChanges || !strings.Contains(out+errOut, "cidrIpv4") {
		t.Fatalf("drift after a console edit: exit %d, want %d naming cidrIpv4\n%s\n%s", code, automation.ExitChanges, out, errOut)
	}
	if code, out, errOut := run("up", "--stack", "yaml", "--skip-verify", "--refresh"); code != 0 {
		t.Fatalf("up --refresh repairing the edit: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := run("drift", "--stack", "yaml"); code != 0 {
		t.Fatalf("drift after the repair: exit %d, want 0\n%s\n%s", code, out, errOut)
	}
	before = e.IngressRules(t)

	// A world-open CIDR in the config is refused by the deployer's own
	// config check; the same rule written into the program, by the component.
	if err := st.SetConfig(context.Background(), stacks.Project+":etlCidr", auto.ConfigValue{Value: "0.0.0.0/0"}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run("up", "--stack", "yaml", "--skip-verify")
	if code != 1 || !strings.Contains(out+errOut, "config "+stacks.Project+":etlCidr is 0.0.0.0/0") {
		t.Fatalf("up with a world-open etlCidr: exit %d, want 1 from the config check\n%s\n%s", code, out, errOut)
	}
	if err := st.SetConfig(context.Background(), stacks.Project+":etlCidr", auto.ConfigValue{Value: "10.0.0.0/24"}); err != nil {
		t.Fatal(err)
	}
	worldOpen := strings.Replace(yamlProject, "          cidrIpv4: ${etlCidr}\n",
		"          cidrIpv4: ${etlCidr}\n        - { key: anyone, description: anyone, fromPort: 5432, cidrIpv4: 0.0.0.0/0 }\n", 1)
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte(worldOpen), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run("up", "--stack", "yaml", "--skip-verify")
	want := `ingress[1] "anyone": cidrIpv4 0.0.0.0/0 opens the database port 5432 to the internet`
	if code == 0 || !strings.Contains(out+errOut, want) {
		t.Fatalf("world-open rule in the program: exit %d, want non-zero with %q\n%s\n%s", code, want, out, errOut)
	}
	if after := e.IngressRules(t); after != before {
		t.Errorf("the refused up changed the rules:\nbefore %s\nafter  %s", before, after)
	}
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte(yamlProject), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run("up", "--stack", "yaml")
	if code != 1 || !strings.Contains(out+errOut, "--skip-verify") {
		t.Errorf("up with the live checks on a YAML project: exit %d, want 1 naming --skip-verify\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run("rotate", "--stack", "yaml")
	if code != 1 || !strings.Contains(out+errOut, "rotateLoopbackLogin") {
		t.Errorf("rotate on a YAML project: exit %d, want 1 naming the component's rotateLoopbackLogin\n%s\n%s", code, out, errOut)
	}
}

// yamlStack creates the stack "yaml" of the YAML project with the platform
// config SmallStack uses, without deploying it.
func yamlStack(t *testing.T, e *enginetest.Env) auto.Stack {
	t.Helper()
	env := map[string]string{"PULUMI_BACKEND_URL": e.Settings.BackendURL, "PULUMI_SKIP_UPDATE_CHECK": "true"}
	for k, v := range e.Settings.Env {
		env[k] = v
	}
	ctx := context.Background()
	st, err := auto.UpsertStackLocalSource(ctx, "yaml", e.Settings.ProjectDir, auto.Pulumi(e.Settings.CLI.Command), auto.EnvVars(env))
	if err != nil {
		t.Fatal(err)
	}
	cfg := enginetest.SmallConfig()
	if err := st.SetAllConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	return st
}

// yamlRolesProject is yamlProject with the roles of the application
// database on PostgreSQL, read from the platform's own config keys; the
// project's default postgresql provider is configured by postgresql: keys.
var yamlRolesProject = strings.Replace(strings.Replace(yamlProject, "resources:\n", `  appDatabase:
    type: string
  adminUsername:
    type: string
  etlRole:
    type: string
  etlPassword:
    type: string
    secret: true
resources:
  roles:
    type: postgis:dbroles:Roles
    properties:
      database: ${appDatabase}
      tableOwner: ${adminUsername}
      workflow: { name: "${etlRole}", password: "${etlPassword}" }
`, 1), "outputs:\n", "outputs:\n  workflowRole: ${roles.workflowRole}\n", 1)

// A YAML project with the roles component runs under deployer up and drift
// against the local PostgreSQL: its postgresql: keys pass the config check
// (they configure the project's own provider), the role can log in, and
// drift finds the stack clean.
func TestYAMLProjectRolesOnPostgreSQL(t *testing.T) {
	e := enginetest.New(t)
	pg := pgtest.New(t)
	plugin := testenv.BuiltDir(t, "bin", "pulumi-resource-postgis", "make plugin")
	host := testenv.BuiltDir(t, filepath.Join(".tools", "pulumi-language-yaml"), "pulumi-language-yaml", "make yaml-host")
	e.Settings.Env["PATH"] = plugin + string(os.PathListSeparator) + host + string(os.PathListSeparator) + e.Settings.Env["PATH"]
	e.Settings.Env[pgstandin.SuperuserEnv] = pg.SuperUser
	e.Settings.Env[pgstandin.SuperuserPasswordFileEnv] = filepath.Join(pg.Dir, "superpass")
	admin, adminPass, db := pgtest.Name("admin"), "adm-"+pgtest.Name("pw"), pgtest.Name("gis")
	pg.CreateAdmin(t, admin, adminPass)
	super := pg.Super(t, "postgres")
	pgtest.Exec(t, super, "CREATE DATABASE "+db+" OWNER "+admin)
	t.Cleanup(func() { _, _ = super.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)") })
	if err := os.WriteFile(filepath.Join(e.Settings.ProjectDir, "Pulumi.yaml"), []byte(yamlRolesProject), 0o644); err != nil {
		t.Fatal(err)
	}
	st := yamlStack(t, e)
	etl, etlPass := pgtest.Name("etl"), "etl-"+pgtest.Name("pw")
	cfg := pg.ProviderConfig(admin, adminPass, db)
	for k, v := range (auto.ConfigMap{
		stacks.Project + ":appDatabase": {Value: db}, stacks.Project + ":adminUsername": {Value: admin},
		stacks.Project + ":etlRole": {Value: etl}, stacks.Project + ":etlPassword": {Value: etlPass, Secret: true},
	}) {
		cfg[k] = v
	}
	if err := st.SetAllConfig(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	run := runsIn(t, e, nil)
	if code, out, errOut := run("up", "--stack", "yaml", "--skip-verify"); code != 0 {
		t.Fatalf("up: exit %d\n%s\n%s", code, out, errOut)
	}
	pgtest.Connect(t, pg.Config(db, etl, etlPass)).Close(context.Background())
	if code, out, errOut := run("drift", "--stack", "yaml"); code != 0 {
		t.Fatalf("drift after up: exit %d, want 0\n%s\n%s", code, out, errOut)
	}
}
