// Package enginetest runs programs through the real Pulumi engine (the CLI
// built from source, driven by the Automation API) with the offline provider
// stand-ins on PATH, a throwaway project folder and a local file backend.
package enginetest

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
	pgstandin "github.com/postgis-platform/deployer/internal/standin/postgresql"
	"github.com/postgis-platform/deployer/internal/testkit/testenv"
	"github.com/postgis-platform/deployer/stacks"
)

// Passphrase encrypts the test stacks' secrets.
const Passphrase = "engine-test-passphrase"

// Env is one test's engine environment.
type Env struct {
	Settings automation.Settings
	// AWSDir holds the AWS stand-in's cloud file.
	AWSDir string
	// StateDir is the file backend's folder.
	StateDir string
	// PolicyPack is the folder of the policy pack (PulumiPolicy.yaml).
	PolicyPack string
}

// New prepares a project copy (Pulumi.yaml and an empty stacks/), a file
// backend, a private PULUMI_HOME, and PATH with the stand-ins and the policy
// analyzer. It skips or fails (see testenv) when the CLI or the stand-ins are
// missing.
func New(t testing.TB) *Env {
	t.Helper()
	providers := testenv.ToolsDir(t, "providers", "pulumi-resource-aws")
	policy := testenv.ToolsDir(t, "policy", "pulumi-analyzer-policy-go")
	settings := NewProject(t)
	dir := settings.ProjectDir
	e := &Env{
		Settings:   settings,
		AWSDir:     filepath.Join(dir, "aws-cloud"),
		StateDir:   filepath.Join(dir, "state"),
		PolicyPack: filepath.Join(testenv.RepoRoot(t), "policypack", "pack"),
	}
	// The networks the test stacks land in exist before them, as in an
	// AWS account: the placeholder IDs of SmallStack and of the local stack.
	must(t, e.AWSCloud().Update(func(c *standin.Cloud) error { return aws.Seed(c, Networks...) }))
	for k, v := range map[string]string{
		"PATH":                providers + string(os.PathListSeparator) + policy + string(os.PathListSeparator) + os.Getenv("PATH"),
		aws.DirEnv:            e.AWSDir,
		standin.EnableEnv:     "1",
		pgstandin.StateDirEnv: filepath.Join(dir, "pg-standin"),
		"PULUMI_EXPERIMENTAL": "true",
	} {
		e.Settings.Env[k] = v
	}
	return e
}

// Networks are the VPCs, subnets and peer groups every test cloud starts
// with: the IDs in SmallStack's config and in stacks/Pulumi.local.yaml.
var Networks = []aws.Network{
	{VpcID: "vpc-1", Subnets: map[string]string{"subnet-a": "eu-west-1a", "subnet-b": "eu-west-1b"}, Groups: []string{"sg-t"}},
	{VpcID: "vpc-0local", Subnets: map[string]string{"subnet-0a": "eu-west-1a", "subnet-0b": "eu-west-1b"}, Groups: []string{"sg-0tileservers"}},
}

// Seeded tells whether id is one of the objects of Networks.
func Seeded(id string) bool {
	for _, n := range Networks {
		if _, ok := n.Subnets[id]; ok || id == n.VpcID || slices.Contains(n.Groups, id) {
			return true
		}
	}
	return false
}

// ManagedGroups are the cloud's security groups that a stack made, not the
// peer groups of Networks.
func ManagedGroups(c *standin.Cloud) []*standin.Object {
	var out []*standin.Object
	for _, g := range c.OfType(aws.TypeSecurityGroup) {
		if !Seeded(g.ID) {
			out = append(out, g)
		}
	}
	return out
}

// NewProject returns settings for a throwaway copy of the project (its
// Pulumi.yaml and an empty stacks/ folder, under ProjectDir) with a file
// backend in ProjectDir/state, a passphrase and a private PULUMI_HOME. It
// needs only the CLI.
func NewProject(t testing.TB) automation.Settings {
	t.Helper()
	cli, err := automation.OpenCLI(context.Background(), testenv.PulumiRoot(t), "test")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	proj, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "Pulumi.yaml"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), proj, 0o644))
	must(t, os.Mkdir(filepath.Join(dir, "stacks"), 0o755))
	must(t, os.Mkdir(filepath.Join(dir, "state"), 0o700))
	return automation.Settings{
		ProjectDir: dir,
		BackendURL: "file://" + filepath.Join(dir, "state"),
		Env: map[string]string{
			"PULUMI_CONFIG_PASSPHRASE": Passphrase,
			"PULUMI_HOME":              filepath.Join(dir, "pulumi-home"),
		},
		CLI: cli,
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Stack creates (or selects) a stack running program.
func (e *Env) Stack(t testing.TB, name string, program pulumi.RunFunc) auto.Stack {
	t.Helper()
	st, err := e.Settings.UpsertStack(context.Background(), name, program)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// SmallConfig is the platform config of SmallStack: placeholder values
// that pass the deployer's config checks, secrets included.
func SmallConfig() auto.ConfigMap {
	cfg := auto.ConfigMap{}
	for k, v := range map[string]string{
		"environment": "dev", "costCenter": "test", "vpcId": "vpc-1", "subnetIds": "subnet-a,subnet-b", "tileServerSecurityGroupId": "sg-t",
		"etlCidr": "10.0.0.0/24", "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/test", "caBundle": "/ca.pem", "loopbackRootCert": "/ca.pem",
	} {
		cfg[stacks.Project+":"+k] = auto.ConfigValue{Value: v}
	}
	for _, k := range stacks.SecretKeys {
		cfg[stacks.Project+":"+k] = auto.ConfigValue{Value: "x", Secret: true}
	}
	return cfg
}

// IngressRules lists the cloud's ingress rules as "id=cidrIpv4;" in
// order: equal before and after a step that must change none.
func (e *Env) IngressRules(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	err := e.AWSCloud().View(func(c *standin.Cloud) error {
		for _, r := range c.OfType(aws.TypeIngressRule) {
			b.WriteString(r.ID + "=" + standin.Str(r.Props, "cidrIpv4") + ";")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// AWSCloud is the AWS stand-in's cloud file.
func (e *Env) AWSCloud() standin.Store { return standin.Store{Dir: e.AWSDir} }

// SmallStack configures a stack whose program does not read the platform
// config with placeholder values that pass the deployer's config checks, so
// the deployer's commands run on it, and deploys it.
func (e *Env) SmallStack(t testing.TB, st auto.Stack) {
	t.Helper()
	cfg := SmallConfig()
	ctx := context.Background()
	if err := st.SetAllConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Up(ctx); err != nil {
		t.Fatal(err)
	}
}
