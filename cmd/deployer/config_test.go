package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"

	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
	"github.com/postgis-platform/deployer/internal/testkit/testenv"
	"github.com/postgis-platform/deployer/stacks"
)

const ns = stacks.Project + ":"

// stackFile writes stacks/Pulumi.<stack>.yaml as the CLI would: plain values
// and secrets encrypted with the passphrase (a fresh salt).
type stackFile struct {
	salt    string
	crypter config.Crypter
	plain   map[string]string // full key -> YAML text of the value
	secrets map[string]string // full key -> plaintext
}

func newStackFile(t *testing.T, passphrase string) *stackFile {
	t.Helper()
	salt := make([]byte, 8)
	_, _ = rand.Read(salt)
	c := config.NewSymmetricCrypterFromPassphrase(passphrase, salt)
	check, err := c.EncryptValue(context.Background(), "pulumi")
	if err != nil {
		t.Fatal(err)
	}
	return &stackFile{salt: "v1:" + base64.StdEncoding.EncodeToString(salt) + ":" + check, crypter: c,
		plain: map[string]string{}, secrets: map[string]string{}}
}

func (f *stackFile) write(t *testing.T, path string) {
	t.Helper()
	var keys []string
	for k := range f.plain {
		keys = append(keys, k)
	}
	for k := range f.secrets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "encryptionsalt: %s\nconfig:\n", f.salt)
	for _, k := range keys {
		if v, ok := f.plain[k]; ok {
			fmt.Fprintf(&b, "  %s: %s\n", k, v)
			continue
		}
		enc, err := f.crypter.EncryptValue(context.Background(), f.secrets[k])
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "  %s:\n    secure: %s\n", k, enc)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *stackFile) clone() *stackFile {
	c := &stackFile{salt: f.salt, crypter: f.crypter, plain: map[string]string{}, secrets: map[string]string{}}
	for k, v := range f.plain {
		c.plain[k] = v
	}
	for k, v := range f.secrets {
		c.secrets[k] = v
	}
	return c
}

// configRows has one row per config key (TestConfigRowsCoverEveryKey), then
// the audit's unknown keys. yaml is the value as written in the file ("" with
// secret: an empty secret; drop: the key removed).
var configRows = []struct {
	key, yaml string
	secret    bool
	drop      bool
	want      string
}{
	{key: "environment", yaml: "staging", want: "use dev, prod or local"},
	{key: "costCenter", yaml: `"gis#42"`, want: "not an AWS tag value"},
	{key: "production", yaml: "yes", want: "not true or false"},
	{key: "offline", yaml: "maybe", want: "not true or false"},
	{key: "vpcId", yaml: "vpc_0local", want: "not a VPC ID"},
	{key: "subnetIds", yaml: `",,,"`, want: "has an empty entry"},
	{key: "tileServerSecurityGroupId", yaml: "0.0.0.0/0", want: "not a security group ID"},
	{key: "etlCidr", yaml: "0.0.0.0/0", want: "opens the database port to the internet"},
	{key: "egressCidr", yaml: "10.0.0.1/8", want: "host bits set"},
	{key: "kmsKeyId", yaml: "alias/postgis", want: "not a KMS key ARN"},
	{key: "engineVersion", yaml: "16.10", want: "is written 16.10, which YAML reads as the number 16.1"},
	{key: "instanceClass", yaml: "m5.large", want: "not an RDS instance class"},
	{key: "applyImmediately", yaml: "soon", want: "not true or false"},
	{key: "loopbackLoginMaxAgeDays", yaml: "a month", want: "not a number of days"},
	{key: "tenantConnectionLimit", yaml: "unlimited", want: "not a number of sessions each new tenant role may hold at once (1-10000)"},
	{key: "tenantConnectionLimit", yaml: "1_000", want: "write the number in plain decimal digits"},
	{key: "backupRetentionDays", yaml: "36", want: "(1-35)"},
	{key: "dbPort", yaml: "70000", want: "not a port (1-65535)"},
	{key: "adminUsername", yaml: `"adm'in"`, want: `invalid role name "adm'in"`},
	{key: "tableOwner", yaml: `""`, want: "is empty"},
	{key: "appDatabase", yaml: "postgres", want: "reserved"},
	{key: "etlRole", yaml: "ETL-Writer", want: "lower-case"},
	{key: "tileReaderRole", yaml: "etl_writer", want: "the same as etlRole"},
	{key: "utilityDatabase", yaml: "gis", want: "the same as appDatabase"},
	{key: "utilityRole", yaml: "postgis_admin", want: "the same as adminUsername"},
	{key: "templateDatabase", yaml: "gis", want: "the same as appDatabase"},
	{key: "caBundle", yaml: "$DEPLOYER_TEST_UNSET_CA", want: "the variable is not set"},
	{key: "loopbackRootCert", yaml: `""`, want: "is empty"},
	{key: "exempt", yaml: "rds-storage-encrypted", want: "cannot be relaxed"},
	{key: "policyLevels", yaml: "rds-iam-auth=strict", want: "use mandatory, advisory or disabled"},
	{key: "securityGroupName", yaml: `"postgis db/1"`, want: "letters, digits and hyphens"},
	{key: "etlPassword", secret: true, want: "is an empty secret"},
	{key: "tileReaderPassword", yaml: "hunter2-plain", want: "is stored in plain text"},
	{key: "utilityRolePassword", drop: true, want: "is missing"},

	{key: ns + "etlCIDR", yaml: "0.0.0.0/0", want: "(did you mean etlCidr?)"},
	{key: ns + "publiclyAccessible", yaml: "true", want: "never publicly accessible"},
	{key: ns + "storageEncrypted", yaml: "false", want: "always encrypted"},
	{key: ns + "minTlsVersion", yaml: "TLSv1", want: "TLS floor"},
	{key: "postgis-platfrom:etlCidr", yaml: "0.0.0.0/0", want: "(did you mean postgis-platform:etlCidr?)"},
}

func TestConfigRowsCoverEveryKey(t *testing.T) {
	rows := map[string]bool{}
	for _, r := range configRows {
		rows[r.key] = true
	}
	for _, k := range stacks.Keys {
		if !rows[k.Name] {
			t.Errorf("no row for %s", k.Name)
		}
	}
}

// Bad config stops every command before the engine, with one message naming
// the key and its fix, and nothing changes: `up` does not even create the
// stack. Needs only the CLI.
func TestBadConfigStopsBeforeTheEngine(t *testing.T) {
	s := enginetest.NewProject(t)
	for k, v := range s.Env {
		t.Setenv(k, v)
	}
	t.Setenv("DEPLOYER_PULUMI_ROOT", testenv.PulumiRoot(t))
	t.Setenv("DEPLOYER_PG_CA", filepath.Join(s.ProjectDir, "ca.pem"))
	t.Setenv("DEPLOYER_PG_PORT", "25432")

	// The committed local stack, its secrets set.
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "stacks", "Pulumi.local.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	values, err := stacks.ReadStackFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	base := newStackFile(t, enginetest.Passphrase)
	for k, v := range values {
		base.plain[k] = strconv.Quote(v.Value)
	}
	for _, k := range stacks.SecretKeys {
		base.secrets[ns+k] = k + "-" + pgtest.Name("pw")
	}
	path := filepath.Join(s.ProjectDir, "stacks", "Pulumi.local.yaml")
	stackState := filepath.Join(s.ProjectDir, "state", ".pulumi", "stacks", stacks.Project, "local.json")
	run := func(t *testing.T, command string) (int, string) {
		t.Helper()
		code, out, errOut := runDeployer(t, command, "--stack", "local", "--project-dir", s.ProjectDir, "--backend", s.BackendURL)
		return code, out + errOut
	}

	// The good file passes the checks: the command goes on to look for the stack.
	base.write(t, path)
	if code, text := run(t, "preview"); code != 1 || !strings.Contains(text, `stack "local" does not exist`) || strings.Contains(text, "invalid stack config") {
		t.Fatalf("good config: exit %d\n%s", code, text)
	}

	commands := []string{"up", "preview", "drift"}
	for i, row := range configRows {
		command := commands[i%len(commands)]
		t.Run(command+"/"+row.key, func(t *testing.T) {
			f := base.clone()
			full := row.key
			if !strings.Contains(full, ":") {
				full = ns + full
			}
			delete(f.plain, full)
			delete(f.secrets, full)
			switch {
			case row.drop:
			case row.secret:
				f.secrets[full] = row.yaml
			default:
				f.plain[full] = row.yaml
			}
			f.write(t, path)

			code, text := run(t, command)
			line := "config " + full + " "
			if code != 1 || strings.Count(text, line) != 1 || strings.Count(text, "; fix: ") != 1 || !strings.Contains(text, row.want) {
				t.Fatalf("exit %d, want 1 with %q and %q once:\n%s", code, line, row.want, text)
			}
			if !strings.Contains(text, "--stack local`") && !strings.Contains(text, "stacks/Pulumi.local.yaml:") &&
				!strings.Contains(text, "in stacks/Pulumi.local.yaml") {
				t.Fatalf("no fix for stack local:\n%s", text)
			}
			for _, noise := range []string{"an unhandled error occurred", "warning:", "error:", "panic", "Args.", "hunter2-plain"} {
				if strings.Contains(text, noise) {
					t.Fatalf("output has %q:\n%s", noise, text)
				}
			}
			for _, v := range base.secrets {
				if strings.Contains(text, v) {
					t.Fatal("a secret was printed")
				}
			}
			if _, err := os.Stat(stackState); !os.IsNotExist(err) {
				t.Fatalf("the stack was created (%v)", err)
			}
		})
	}
}

// On a deployed stack, the audit's findings stop `up` before the engine:
// the state, its history and the role's password stay as they were.
func TestBadConfigLeavesDeployedStackAlone(t *testing.T) {
	d := deployLocal(t)
	st := d.Stack(t, d.Name, stacks.Platform)
	ctx := context.Background()
	path := filepath.Join(d.Settings.ProjectDir, "stacks", "Pulumi.local.yaml")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	before, history := d.state(t), d.history(t)
	tests := []struct {
		name, key, value string
		secret           bool
		want             string
	}{
		{"empty secret", "etlPassword", "", true, "config postgis-platform:etlPassword is an empty secret"},
		{"typo of etlCidr", "etlCIDR", "0.0.0.0/0", false, "config postgis-platform:etlCIDR is not a config key of this project (did you mean etlCidr?)"},
		{"open tile servers", "tileServerSecurityGroupId", "0.0.0.0/0", false, "config postgis-platform:tileServerSecurityGroupId is \"0.0.0.0/0\", not a security group ID"},
		{"instance class", "instanceClass", "m5.large", false, "config postgis-platform:instanceClass is \"m5.large\""},
		{"empty subnets", "subnetIds", ",,,", false, "config postgis-platform:subnetIds is \",,,\", which has an empty entry"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() { _ = os.WriteFile(path, good, 0o644) })
			if err := st.SetConfig(ctx, ns+tc.key, auto.ConfigValue{Value: tc.value, Secret: tc.secret}); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := d.deployer(t, "up")
			text := out + errOut
			if code != 1 || strings.Count(text, tc.want) != 1 || strings.Contains(text, "an unhandled error occurred") {
				t.Fatalf("exit %d, want 1 with %q once:\n%s", code, tc.want, text)
			}
			d.noSecrets(t, text)
			if d.state(t) != before || d.history(t) != history {
				t.Fatal("a refused config changed the stack")
			}
		})
	}
	// The ETL role still logs in with its password.
	c, err := pgtest.ConnectQuiet(d.PG.Config(d.Names["appDatabase"], d.Names["etlRole"], d.Secrets["etlPassword"]))
	if err != nil {
		t.Fatalf("the ETL role's password changed: %v", err)
	}
	_ = c.Close(ctx)
	// The file the CLI wrote, its secrets encrypted with the passphrase, passes
	// the checks: a secret's length is read from the CLI's own ciphertext.
	values, err := stacks.ReadStackFile(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range stacks.SecretKeys {
		if v := values[ns+k]; !v.Secret || v.SecretLen != len(d.Secrets[k]) {
			t.Fatalf("%s: read %+v from the CLI's ciphertext, want a secret of %d bytes", k, v, len(d.Secrets[k]))
		}
	}
	if _, errs := stacks.Check(d.Name, values); len(errs) != 0 {
		t.Fatalf("the deployed stack's own config: %v", errs)
	}
}
