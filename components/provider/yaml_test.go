package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/internal/testkit/testenv"
)

// yamlStack is testdata/yaml as a stack of its own, run by the real engine
// with the YAML language host, the built plugin (make plugin) and the AWS
// stand-in.
func yamlStack(t *testing.T) (auto.Stack, *enginetest.Env) {
	t.Helper()
	e := enginetest.New(t)
	plugin := testenv.BuiltDir(t, "bin", "pulumi-resource-postgis", "make plugin")
	yamlHost := testenv.BuiltDir(t, filepath.Join(".tools", "pulumi-language-yaml"), "pulumi-language-yaml", "make yaml-host")
	dir := t.TempDir()
	src, err := os.ReadFile("testdata/yaml/Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PULUMI_BACKEND_URL": e.Settings.BackendURL, "PULUMI_SKIP_UPDATE_CHECK": "true"}
	for k, v := range e.Settings.Env {
		env[k] = v
	}
	env["PATH"] = plugin + string(os.PathListSeparator) + yamlHost + string(os.PathListSeparator) + env["PATH"]
	st, err := auto.UpsertStackLocalSource(context.Background(), "yaml", dir,
		auto.Pulumi(e.Settings.CLI.Command), auto.EnvVars(env))
	if err != nil {
		t.Fatal(err)
	}
	return st, e
}

// A YAML program gets the Go security group, a standalone rule and the RDS
// instance (its securityGroupIds an output of the group) through the plugin,
// with the Go component's tokens and outputs; a world-open rule is
// refused with the Go component's error, naming the YAML input, and
// changes nothing.
func TestYAMLProgramUsesTheComponents(t *testing.T) {
	st, e := yamlStack(t)
	ctx := context.Background()
	res, err := st.Up(ctx)
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	groupID, _ := res.Outputs["groupId"].Value.(string)
	etl, _ := res.Outputs["etlRuleId"].Value.(string)
	tiles, _ := res.Outputs["tilesRuleId"].Value.(string)
	endpoint, _ := res.Outputs["endpoint"].Value.(string)
	if !strings.HasPrefix(groupID, "sg-") || !strings.HasPrefix(etl, "sgr-") || !strings.HasPrefix(tiles, "sgr-") || !strings.Contains(endpoint, ":5432") {
		t.Fatalf("outputs %v: want a group, two rule IDs and the instance's endpoint", res.Outputs)
	}
	var instanceGroups string
	err = e.AWSCloud().View(func(c *standin.Cloud) error {
		for _, db := range c.OfType(aws.TypeInstance) {
			instanceGroups = fmt.Sprint(db.Props["vpcSecurityGroupIds"])
		}
		return nil
	})
	if err != nil || !strings.Contains(instanceGroups, groupID) {
		t.Errorf("the instance's security groups %s (err %v) do not hold the group %s: an output in securityGroupIds did not arrive", instanceGroups, err, groupID)
	}
	before := e.IngressRules(t)
	if n := strings.Count(before, ";"); n != 2 {
		t.Errorf("cloud has %d ingress rules, want 2: %s", n, before)
	}

	if err := st.SetConfig(ctx, "etlCidr", auto.ConfigValue{Value: "0.0.0.0/0"}); err != nil {
		t.Fatal(err)
	}
	_, err = st.Up(ctx)
	if err == nil {
		t.Fatal("a world-open rule was applied")
	}
	t.Logf("refused: %v", err)
	want := `ingress[0] "etl": cidrIpv4 0.0.0.0/0 opens the database port 5432 to the internet`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error does not say %q:\n%v", want, err)
	}
	if after := e.IngressRules(t); after != before {
		t.Errorf("the refused update changed the cloud's rules:\nbefore %s\nafter  %s", before, after)
	}
}
