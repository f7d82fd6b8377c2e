package stacks_test

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"

	"github.com/postgis-platform/deployer/stacks"
)

const ns = stacks.Project + ":"

// secret is a set secret of n bytes, as stacks.ReadStackFile reads one.
func secret(n int) stacks.Value { return stacks.Value{Secret: true, SecretLen: n} }

// valid is a complete, valid prod stack's config.
func valid() map[string]stacks.Value {
	m := map[string]stacks.Value{"aws:region": {Value: "eu-west-1"}, "pulumi:tags": {Value: `{"team":"gis"}`, Structured: true}}
	for k, v := range map[string]string{
		"environment": "prod", "costCenter": "gis-42", "vpcId": "vpc-0abc123", "subnetIds": "subnet-0a, subnet-0b",
		"tileServerSecurityGroupId": "sg-0tiles", "etlCidr": "10.20.30.0/24",
		"kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab", "caBundle": "/ca.pem", "loopbackRootCert": "/ca.pem",
	} {
		m[ns+k] = stacks.Value{Value: v}
	}
	for _, k := range stacks.SecretKeys {
		m[ns+k] = secret(16)
	}
	return m
}

func TestCheckValid(t *testing.T) {
	c, errs := stacks.Check("prod", valid())
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if !c.Production || len(c.SubnetIDs) != 2 || c.SubnetIDs[1] != "subnet-0b" || c.TableOwner != "postgis_admin" ||
		c.BackupRetention != 7 || c.DBPort != 5432 || c.EngineVersion != "16" || c.EgressCIDR != "10.0.0.0/8" {
		t.Fatalf("%+v", c)
	}

	t.Setenv("DEPLOYER_TEST_CA", "/tmp/ca.crt")
	m := valid()
	for k, v := range map[string]string{
		"caBundle": "$DEPLOYER_TEST_CA", "engineVersion": "17", "instanceClass": "db.r6gd.12xlarge", "backupRetentionDays": "3",
		"exempt": "rds-backup-retention, rds-not-public", "policyLevels": "rds-iam-auth=mandatory, sg-descriptions=disabled",
		"securityGroupName": "PostGIS-prod-2", "tableOwner": "gis_owner", "production": "false", "dbPort": "6432",
		"kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:alias/postgis", "egressCidr": "0.0.0.0/0",
	} {
		m[ns+k] = stacks.Value{Value: v}
	}
	c, errs = stacks.Check("prod", m)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if c.CABundle != "/tmp/ca.crt" || c.Production || c.BackupRetention != 3 || len(c.Exempt) != 2 || c.PolicyLevels["sg-descriptions"] != "disabled" {
		t.Fatalf("%+v", c)
	}
}

// Every committed stack, and the local stack as the tests configure it,
// passes the checks once its secrets are set.
func TestCommittedStacksPass(t *testing.T) {
	t.Setenv("DEPLOYER_PG_CA", "/tmp/ca.pem")
	t.Setenv("DEPLOYER_PG_PORT", "25432")
	files, _ := filepath.Glob("Pulumi.*.yaml")
	if len(files) < 3 {
		t.Fatalf("stack files: %v", files)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := stacks.ReadStackFile(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range stacks.SecretKeys {
			m[ns+k] = secret(20)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(f, "Pulumi."), ".yaml")
		if _, errs := stacks.Check(name, m); len(errs) != 0 {
			t.Errorf("%s: %v", f, errs)
		}
		if name == "local" { // as internal/testkit/enginetest configures it
			for k, v := range map[string]string{"appDatabase": "gis_0a1b2c3d4e", "utilityDatabase": "utility_0a1b2c3d4e",
				"templateDatabase": "tmpl_0a1b2c3d4e", "etlRole": "etl_0a1b2c3d4e", "tileReaderRole": "tiles_0a1b2c3d4e",
				"utilityRole": "util_0a1b2c3d4e", "adminUsername": "admin_0a1b2c3d4e", "dbPort": "31234"} {
				m[ns+k] = stacks.Value{Value: v}
			}
			if _, errs := stacks.Check(name, m); len(errs) != 0 {
				t.Errorf("local as the tests configure it: %v", errs)
			}
		}
	}
}

// goFields are Go names that must never reach a config error.
var goFields = regexp.MustCompile(`Args\.|Options\.|\bExempt lists\b|\.Name\b|TableOwner|CIDRIPv4|BackupRetentionDays \d`)

// badValues has one row per config key (TestBadValuesCoverEveryKey), then
// more cases. set replaces values; del removes keys.
var badValues = []struct {
	key  string
	set  map[string]stacks.Value
	del  []string
	want string
}{
	{"environment", plain("environment", "staging"), nil, `is "staging"; use dev, prod or local`},
	{"costCenter", plain("costCenter", "gis#42"), nil, "not an AWS tag value"},
	{"production", plain("production", "yes"), nil, `is "yes", not true or false`},
	{"offline", plain("offline", "true"), nil, "never run production"},
	{"vpcId", plain("vpcId", "vpc_0abc"), nil, `is "vpc_0abc", not a VPC ID (vpc-…)`},
	{"subnetIds", plain("subnetIds", ",,,"), nil, "has an empty entry"},
	{"tileServerSecurityGroupId", plain("tileServerSecurityGroupId", "0.0.0.0/0"), nil, `is "0.0.0.0/0", not a security group ID (sg-…)`},
	{"etlCidr", plain("etlCidr", "0.0.0.0/0"), nil, "opens the database port to the internet"},
	{"egressCidr", plain("egressCidr", "10.0.0.1/8"), nil, "host bits set: the network is 10.0.0.0/8"},
	{"kmsKeyId", plain("kmsKeyId", "alias/postgis"), nil, `is "alias/postgis", not a KMS key ARN`},
	{"engineVersion", plain("engineVersion", "latest"), nil, "not a PostgreSQL version like 16 or 16.4"},
	{"instanceClass", plain("instanceClass", "m5.large"), nil, `is "m5.large", not an RDS instance class (db.<family>.<size>`},
	{"applyImmediately", plain("applyImmediately", "now"), nil, `is "now", not true or false`},
	{"loopbackLoginMaxAgeDays", plain("loopbackLoginMaxAgeDays", "30d"), nil, `is "30d", not a number of days`},
	{"loopbackLoginMaxAgeDays", plain("loopbackLoginMaxAgeDays", "400"), nil, `(0-365)`},
	{"tenantConnectionLimit", plain("tenantConnectionLimit", "0"), nil, `is "0", not a number of sessions each new tenant role may hold at once (1-10000)`},
	{"tenantConnectionLimit", plain("tenantConnectionLimit", "-1"), nil, `(1-10000)`},
	{"backupRetentionDays", plain("backupRetentionDays", "36"), nil, "not a number of days RDS accepts (1-35)"},
	{"dbPort", plain("dbPort", "70000"), nil, "not a port RDS accepts (1150-65535)"},
	{"adminUsername", plain("adminUsername", "adm'in"), nil, `invalid role name "adm'in": use lower-case letters`},
	{"tableOwner", plain("tableOwner", ""), nil, "is empty"},
	{"appDatabase", plain("appDatabase", "postgres"), nil, `database name "postgres" is reserved`},
	{"etlRole", plain("etlRole", "ETL-Writer"), nil, "lower-case"},
	{"tileReaderRole", plain("tileReaderRole", "etl_writer"), nil, `is "etl_writer", the same as etlRole`},
	{"utilityDatabase", plain("utilityDatabase", "gis"), nil, `is "gis", the same as appDatabase`},
	{"utilityRole", plain("utilityRole", "postgis_admin"), nil, `is "postgis_admin", the same as adminUsername`},
	{"templateDatabase", plain("templateDatabase", "gis"), nil, `is "gis", the same as appDatabase`},
	{"caBundle", plain("caBundle", "$DEPLOYER_TEST_UNSET_CA"), nil, "is $DEPLOYER_TEST_UNSET_CA, which is empty: the variable is not set"},
	{"loopbackRootCert", plain("loopbackRootCert", " "), nil, "is empty"},
	{"exempt", plain("exempt", "rds-storage-encrypted"), nil, "lists rds-storage-encrypted, which cannot be relaxed"},
	{"policyLevels", plain("policyLevels", "rds-iam-auth=strict"), nil, `sets rds-iam-auth to "strict": use mandatory, advisory or disabled`},
	{"securityGroupName", plain("securityGroupName", "postgis db/1"), nil, "use 1-63 letters, digits and hyphens"},
	{"etlPassword", map[string]stacks.Value{ns + "etlPassword": secret(0)}, nil, "is an empty secret"},
	{"tileReaderPassword", plain("tileReaderPassword", "hunter2"), nil, "is stored in plain text"},
	{"utilityRolePassword", nil, []string{ns + "utilityRolePassword"}, "is missing"},

	{"vpcId", nil, []string{ns + "vpcId"}, "is missing"},
	{"subnetIds", plain("subnetIds", "subnet-0a"), nil, "lists 1 subnet: an RDS subnet group needs at least 2"},
	{"subnetIds", plain("subnetIds", "subnet-0a,subnet-0a"), nil, "lists subnet-0a twice"},
	{"subnetIds", plain("subnetIds", "subnet-0a,sg-0b"), nil, `lists "sg-0b", not a subnet ID`},
	{"etlCidr", plain("etlCidr", "10.20.30.7/24"), nil, "host bits set"},
	{"etlCidr", plain("etlCidr", "fd00::/64"), nil, "not an IPv4 network CIDR"},
	{"kmsKeyId", plain("kmsKeyId", "arn:aws:kms:us-east-1:123456789012:key/k1"), nil, "is a key in us-east-1, but the stack's aws:region is eu-west-1"},
	{"kmsKeyId", plain("kmsKeyId", "arn:aws:kms:eu-west-1:1234:key/k1"), nil, "not a KMS key ARN"},
	{"engineVersion", plain("engineVersion", "12.22"), nil, "PostgreSQL 12 is out of support on RDS; use 13 or later"},
	{"instanceClass", plain("instanceClass", "db.t4g"), nil, "not an RDS instance class"},
	{"backupRetentionDays", plain("backupRetentionDays", "3"), nil, "below the platform's floor of 7 days (add rds-backup-retention to postgis-platform:exempt"},
	{"backupRetentionDays", plain("backupRetentionDays", "a week"), nil, "not a number of days"},
	{"dbPort", plain("dbPort", "80"), nil, "not a port RDS accepts"},
	{"adminUsername", plain("adminUsername", "_admin"), nil, "starts with a letter"},
	{"tableOwner", plain("tableOwner", "etl_writer"), nil, `is "etl_writer", the same as etlRole: workflows never run as the owner`},
	{"templateDatabase", plain("templateDatabase", "template1"), nil, "reserved"},
	{"exempt", plain("exempt", "rds-not-publik"), nil, `lists "rds-not-publik", which is not a rule; did you mean rds-not-public?`},
	{"policyLevels", plain("policyLevels", "rds-iam-auht=advisory"), nil, `names "rds-iam-auht", which is not a rule; did you mean rds-iam-auth?`},
	{"policyLevels", plain("policyLevels", "rds-iam-auth"), nil, `has the entry "rds-iam-auth", not rule=level`},
	{"policyLevels", plain("policyLevels", "sg-no-public-db-ingress=disabled"), nil, "lowers the mandatory rule sg-no-public-db-ingress to disabled: only the relaxable rules"},
	{"policyLevels", plain("policyLevels", "pg-no-open-database=advisory"), nil, "lowers the mandatory rule pg-no-open-database to advisory"},
	{"securityGroupName", plain("securityGroupName", "sg-postgis"), nil, "not with sg-"},
	{"engineVersion", map[string]stacks.Value{ns + "engineVersion": {Value: "16.1", Written: "16.10"}}, nil, `is written 16.10, which YAML reads as the number 16.1`},
	{"vpcId", map[string]stacks.Value{ns + "vpcId": {Value: `["vpc-1"]`, Structured: true}}, nil, "is a YAML list or map"},
	{"kmsKeyId", map[string]stacks.Value{ns + "kmsKeyId": secret(40)}, nil, "is stored as a secret, but it is plain config"},
	{"aws:region", map[string]stacks.Value{"aws:region": {Value: "Europe"}}, nil, `is "Europe", not an AWS region`},
}

func plain(key, value string) map[string]stacks.Value {
	return map[string]stacks.Value{ns + key: {Value: value}}
}

func TestBadValuesCoverEveryKey(t *testing.T) {
	rows := map[string]bool{}
	for _, tc := range badValues {
		rows[tc.key] = true
	}
	for _, k := range stacks.Keys {
		if !rows[k.Name] {
			t.Errorf("no bad-value row for %s", k.Name)
		}
	}
}

func TestBadValuesNameKeyAndFix(t *testing.T) {
	for _, tc := range badValues {
		t.Run(tc.key+"/"+tc.want, func(t *testing.T) {
			m := valid()
			for k, v := range tc.set {
				m[k] = v
			}
			for _, k := range tc.del {
				delete(m, k)
			}
			_, errs := stacks.Check("prod", m)
			if len(errs) != 1 {
				t.Fatalf("want exactly one error, got %d: %v", len(errs), errs)
			}
			var ce *stacks.ConfigError
			if !errors.As(errs[0], &ce) || ce.Key != tc.key {
				t.Fatalf("error %v: want a *ConfigError for %s", errs[0], tc.key)
			}
			msg := errs[0].Error()
			full := ns + tc.key
			if strings.Contains(tc.key, ":") {
				full = tc.key
			}
			if !strings.HasPrefix(msg, "config "+full+" ") || !strings.Contains(msg, tc.want) {
				t.Fatalf("error:\n  %s\nwant the key %s and %q", msg, full, tc.want)
			}
			// The fix: a command for this stack, or the edit of this stack's file.
			fix := msg[strings.Index(msg, "; fix: ")+1:]
			if !strings.Contains(msg, "; fix: ") || !(strings.Contains(fix, "--stack prod`") || strings.Contains(fix, "stacks/Pulumi.prod.yaml")) {
				t.Fatalf("error names no fix for stack prod:\n  %s", msg)
			}
			if k, ok := keyInfo(tc.key); ok && k.Secret && !strings.Contains(msg, "pulumi config set --secret "+tc.key) {
				t.Fatalf("a secret's fix is `pulumi config set --secret`:\n  %s", msg)
			}
			if goFields.MatchString(msg) || strings.Contains(msg, "hunter2") {
				t.Fatalf("error names Go fields or a secret:\n  %s", msg)
			}
		})
	}
}

func keyInfo(name string) (stacks.Key, bool) {
	for _, k := range stacks.Keys {
		if k.Name == name {
			return k, true
		}
	}
	return stacks.Key{}, false
}

// All problems are reported at once, each once.
func TestAllProblemsAtOnce(t *testing.T) {
	m := valid()
	for k, v := range map[string]string{"instanceClass": "m5.large", "subnetIds": ",,,", "etlCIDR": "0.0.0.0/0"} {
		m[ns+k] = stacks.Value{Value: v}
	}
	m[ns+"etlPassword"] = secret(0)
	_, errs := stacks.Check("local", m)
	if len(errs) != 4 {
		t.Fatalf("want 4 errors, got %v", errs)
	}
	for _, e := range errs {
		if !strings.Contains(e.Error(), "--stack local") && !strings.Contains(e.Error(), "stacks/Pulumi.local.yaml") {
			t.Errorf("fix not for stack local: %v", e)
		}
	}
}

func TestUnknownKeys(t *testing.T) {
	tests := []struct{ key, want, fix string }{
		{ns + "etlCIDR", "is not a config key of this project (did you mean etlCidr?); fix: ", "rename it to postgis-platform:etlCidr in stacks/Pulumi.prod.yaml"},
		{ns + "etlcidr", "did you mean etlCidr?", "rename it to postgis-platform:etlCidr"},
		{ns + "subnets", "did you mean subnetIds?", "rename it"},
		{ns + "tilereaderpasword", "did you mean tileReaderPassword?", "rename it"},
		{ns + "publiclyAccessible", "is not a config key: the instance is never publicly accessible", "`pulumi config rm postgis-platform:publiclyAccessible --stack prod`"},
		{ns + "storageEncrypted", "is not a config key: storage is always encrypted", "pulumi config rm"},
		{ns + "minTlsVersion", "is not a config key: the TLS floor is enforced", "pulumi config rm"},
		{ns + "region", "the region is aws:region", "pulumi config rm"},
		{ns + "colour", "is not a config key of this project (the keys are listed in docs/config.md)", "pulumi config rm"},
		{"etlCidrr", "did you mean etlCidr?", "rename it"},
		{"etlCidr", "is set twice, as etlCidr and as postgis-platform:etlCidr", "keep only postgis-platform:etlCidr in stacks/Pulumi.prod.yaml"},
		{"postgis-platfrom:etlCidr", `is in namespace "postgis-platfrom", which this program does not read (did you mean postgis-platform:etlCidr?)`, "rename it to postgis-platform:etlCidr"},
		{"Postgis_Platform:vpcid", "did you mean postgis-platform:vpcId?", "rename it to postgis-platform:vpcId"},
		{"postgresql:sslmode", "is ignored: the program's postgresql provider is configured from postgis-platform:adminUsername", "pulumi config rm postgresql:sslmode"},
		{"asw:region", "did you mean aws:region?", "pulumi config rm asw:region"},
		{"gcp:project", `is in namespace "gcp", which this program does not read (it reads postgis-platform:, aws:, pulumi:)`, "pulumi config rm gcp:project"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			m := valid()
			m[tc.key] = stacks.Value{Value: "0.0.0.0/0"}
			_, errs := stacks.Check("prod", m)
			if len(errs) != 1 {
				t.Fatalf("want one error, got %v", errs)
			}
			msg := errs[0].Error()
			shown := tc.key
			if !strings.Contains(shown, ":") {
				shown = ns + shown
			}
			if !strings.HasPrefix(msg, "config "+shown+" ") || !strings.Contains(msg, tc.want) || !strings.Contains(msg, tc.fix) {
				t.Fatalf("error:\n  %s\nwant %q and %q", msg, tc.want, tc.fix)
			}
			if strings.Contains(msg, "0.0.0.0/0") {
				t.Fatalf("an unknown key's value is printed (it may be a misplaced secret):\n  %s", msg)
			}
		})
	}
}

// ReadStackFile reads values as the CLI does, and a secret's length from its
// ciphertext alone.
func TestReadStackFile(t *testing.T) {
	key := make([]byte, config.SymmetricCrypterKeyBytes)
	_, _ = rand.Read(key)
	crypter := config.NewSymmetricCrypter(key)
	enc := func(s string) string {
		v, err := crypter.EncryptValue(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	raw := `encryptionsalt: v1:abc
config:
  postgis-platform:etlPassword:
    secure: ` + enc("") + `
  postgis-platform:tileReaderPassword:
    secure: ` + enc("s3cret-päss") + `
  postgis-platform:utilityRolePassword:
    secure: AAABAJ1b2xkbm90cGFyc2U=
  postgis-platform:engineVersion: 16.10
  postgis-platform:dbPort: 5432
  postgis-platform:backupRetentionDays: "14"
  postgis-platform:production: true
  postgis-platform:tableOwner:
  postgis-platform:subnetIds: [subnet-0a, subnet-0b]
  etlCidr: 10.20.30.0/24
  aws:region: eu-west-1
`
	m, err := stacks.ReadStackFile([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]stacks.Value{
		ns + "etlPassword":         {Secret: true, SecretLen: 0},
		ns + "tileReaderPassword":  {Secret: true, SecretLen: len("s3cret-päss")},
		ns + "utilityRolePassword": {Secret: true, SecretLen: -1},
		ns + "engineVersion":       {Value: "16.1", Written: "16.10"},
		ns + "dbPort":              {Value: "5432"},
		ns + "backupRetentionDays": {Value: "14"},
		ns + "production":          {Value: "true"},
		ns + "tableOwner":          {Value: ""},
		ns + "subnetIds":           {Value: `["subnet-0a","subnet-0b"]`, Structured: true},
		"etlCidr":                  {Value: "10.20.30.0/24"},
		"aws:region":               {Value: "eu-west-1"},
	}
	if len(m) != len(want) {
		t.Fatalf("got %v", m)
	}
	for k, w := range want {
		if m[k] != w {
			t.Errorf("%s: got %+v, want %+v", k, m[k], w)
		}
	}
	if !stacks.NeedsDecryption(m) {
		t.Fatal("a secret of unknown format needs the CLI")
	}
	stacks.SecretLengths(m, func(k string) (string, bool) { return "from-the-cli", k == ns+"utilityRolePassword" })
	if m[ns+"utilityRolePassword"].SecretLen != len("from-the-cli") || stacks.NeedsDecryption(m) {
		t.Fatalf("after the CLI: %+v", m[ns+"utilityRolePassword"])
	}

	for _, bad := range []string{"config: [a, b]", "config:\n  a: 1\n  a: 2\n", "config: {a: 1", "- 1\n- 2\n"} {
		if _, err := stacks.ReadStackFile([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// Parse is what the program runs (LoadConfig): the same rules on the values
// the engine passes.
func TestParseInProgram(t *testing.T) {
	m := map[string]string{}
	for k, v := range valid() {
		m[strings.TrimPrefix(k, ns)] = v.Value
	}
	get := func(k string) (string, bool) {
		if k == "etlPassword" || k == "tileReaderPassword" || k == "utilityRolePassword" {
			return "set", true
		}
		v, ok := m[k]
		return v, ok
	}
	c, errs := stacks.Parse(get, nil)
	if len(errs) != 0 || c.KMSKeyID == "" {
		t.Fatalf("%v %+v", errs, c)
	}
	m["instanceClass"] = "m5.large"
	if _, errs := stacks.Parse(get, nil); len(errs) != 1 || !strings.Contains(errs[0].Error(), "--stack <stack>") {
		t.Fatalf("%v", errs)
	}
}

// SecretKeys are exactly the secret Keys.
func TestSecretKeys(t *testing.T) {
	var secrets []string
	for _, k := range stacks.Keys {
		if k.Secret {
			secrets = append(secrets, k.Name)
		}
	}
	if strings.Join(secrets, ",") != strings.Join(stacks.SecretKeys, ",") {
		t.Fatalf("Keys' secrets %v, SecretKeys %v", secrets, stacks.SecretKeys)
	}
}

// docs/config.md documents every key.
func TestDocsListEveryKey(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range stacks.Keys {
		if !regexp.MustCompile(`(?m)^\| ` + "`?" + k.Name + "`?" + ` \|`).Match(raw) {
			t.Errorf("docs/config.md has no row for %s", k.Name)
		}
	}
}

// The checks cost microseconds per run: a stack's file is read and checked
// without the CLI and without decrypting a secret.
func BenchmarkReadAndCheck(b *testing.B) {
	b.Setenv("DEPLOYER_PG_CA", "/tmp/ca.pem")
	b.Setenv("DEPLOYER_PG_PORT", "25432")
	raw, err := os.ReadFile("Pulumi.local.yaml")
	if err != nil {
		b.Fatal(err)
	}
	crypter := config.NewSymmetricCrypter(make([]byte, config.SymmetricCrypterKeyBytes))
	for _, k := range stacks.SecretKeys {
		v, _ := crypter.EncryptValue(context.Background(), "a-password")
		raw = append(raw, "  "+ns+k+":\n    secure: "+v+"\n"...)
	}
	for i := 0; i < b.N; i++ {
		m, err := stacks.ReadStackFile(raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, errs := stacks.Check("local", m); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}

// A $VAR value reads only a whole DEPLOYER_… variable whose name says it
// holds no secret: any other would let whoever edits a stack file print the
// runner's secrets into a preview's reports. The refusal never shows the
// variable's value.
func TestEnvReferencesAreLimited(t *testing.T) {
	t.Setenv("PGPASSWORD", "runner-secret-1")
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "runner-secret-2")
	t.Setenv("DEPLOYER_STANDIN_DB_MASTER_PASSWORD", "runner-secret-3")
	t.Setenv("DEPLOYER_TEST_CA", "/tmp/ca.crt")
	t.Setenv("DEPLOYER_DB_PASS", "runner-secret-4")
	for _, v := range []string{"$PGPASSWORD", "$PULUMI_CONFIG_PASSPHRASE", "${DEPLOYER_STANDIN_DB_MASTER_PASSWORD}", "$HOME", "$DEPLOYER_TEST_CA/x", "$deployer_test_ca",
		"$DEPLOYER_DB_PASS", "$DEPLOYER_PWD", "$DEPLOYER_APIKEY", "$DEPLOYER_AUTH_HEADER"} {
		m := valid()
		m[ns+"costCenter"] = stacks.Value{Value: v}
		_, errs := stacks.Check("prod", m)
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), "only a whole $DEPLOYER_… variable that holds no secret") {
			t.Fatalf("%s: want one refusal, got %v", v, errs)
		}
		if strings.Contains(errs[0].Error(), "runner-secret") || strings.Contains(errs[0].Error(), "/tmp/ca.crt") {
			t.Fatalf("%s: the refusal shows the variable's value: %v", v, errs[0])
		}
	}
	for _, v := range []string{"$DEPLOYER_TEST_CA", "${DEPLOYER_TEST_CA}"} {
		m := valid()
		m[ns+"caBundle"] = stacks.Value{Value: v}
		if c, errs := stacks.Check("prod", m); len(errs) != 0 || c.CABundle != "/tmp/ca.crt" {
			t.Fatalf("%s: %v %q", v, errs, c.CABundle)
		}
	}
}
