// Package stacks holds the platform's stack program (an inline
// pulumi.RunFunc the deployer runs through the Automation API) and its typed
// config, read from stacks/Pulumi.<stack>.yaml.
package stacks

import (
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/postgis-platform/deployer/sqlfuncs"
)

// Project is the Pulumi project name (Pulumi.yaml) and config namespace.
const Project = "postgis-platform"

// Secret config keys: never in plain config, set with --secret.
var SecretKeys = []string{"etlPassword", "tileReaderPassword", "utilityRolePassword"}

// Config is the platform stack's config. Keys are documented in docs/config.md.
type Config struct {
	Environment string // dev, prod, local
	CostCenter  string
	Production  bool
	// Offline marks the local stack: the offline stand-in providers and the
	// local PostgreSQL, never AWS.
	Offline bool

	VpcID             string
	SubnetIDs         []string
	TileServerGroupID string // tile servers' security group (ingress by reference)
	ETLCIDR           string // ETL subnet (ingress by CIDR)
	EgressCIDR        string // patching/metrics destination for 443
	KMSKeyID          string

	EngineVersion     string
	InstanceClass     string
	AdminUsername     string // RDS master user, the postgresql provider's login
	AppDatabase       string
	TableOwner        string
	ETLRole           string
	TileReaderRole    string
	CABundle          string // CA bundle for the provider's verify-full
	LoopbackRootCert  string // CA file path as the database server sees it (dblink)
	UtilityDatabase   string
	UtilityRole       string
	TemplateDatabase  string
	BackupRetention   int
	DBPort            int
	Exempt            []string
	PolicyLevels      map[string]string
	SecurityGroupName string
}

// ConfigError names the key and the fix.
type ConfigError struct {
	Key, Problem, Fix string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("config %s:%s %s; %s", Project, e.Key, e.Problem, e.Fix)
}

func setHint(key, example string, secret bool) string {
	flag := ""
	if secret {
		flag = " --secret"
	}
	return fmt.Sprintf("set it with `pulumi config set%s %s %s --stack <stack>` in stacks/ (or edit stacks/Pulumi.<stack>.yaml)", flag, key, example)
}

// Parse reads config values (key without namespace → value). secret reports
// whether a key was stored as a secret. All problems are returned, each
// naming its key.
func Parse(get func(key string) (string, bool), secret func(key string) bool) (Config, []error) {
	var errs []error
	fail := func(key, problem, example string) {
		errs = append(errs, &ConfigError{Key: key, Problem: problem, Fix: setHint(key, example, contains(SecretKeys, key))})
	}
	str := func(key, def string) string {
		if v, ok := get(key); ok && v != "" {
			return expand(v)
		}
		return def
	}
	required := func(key, example string) string {
		v := str(key, "")
		if v == "" {
			fail(key, "is missing", example)
		}
		return v
	}
	c := Config{
		Environment:       required("environment", "prod"),
		CostCenter:        required("costCenter", "gis-42"),
		VpcID:             required("vpcId", "vpc-0abc123"),
		TileServerGroupID: required("tileServerSecurityGroupId", "sg-0tiles"),
		ETLCIDR:           required("etlCidr", "10.20.30.0/24"),
		EgressCIDR:        str("egressCidr", "10.0.0.0/8"),
		KMSKeyID:          required("kmsKeyId", "arn:aws:kms:eu-west-1:123456789012:key/…"),
		EngineVersion:     str("engineVersion", "16.4"),
		InstanceClass:     str("instanceClass", "db.t4g.medium"),
		AdminUsername:     str("adminUsername", "postgis_admin"),
		AppDatabase:       str("appDatabase", "gis"),
		ETLRole:           str("etlRole", "etl_writer"),
		TileReaderRole:    str("tileReaderRole", "tile_reader"),
		CABundle:          required("caBundle", "certs/eu-west-1-bundle.pem"),
		LoopbackRootCert:  required("loopbackRootCert", "/rdsdbdata/rds-metadata/ca-cert.pem"),
		UtilityDatabase:   str("utilityDatabase", "utility"),
		UtilityRole:       str("utilityRole", sqlfuncs.DefaultUtilityRole),
		TemplateDatabase:  str("templateDatabase", sqlfuncs.DefaultTemplateDB),
		SecurityGroupName: str("securityGroupName", "postgis"),
		PolicyLevels:      map[string]string{},
	}
	c.TableOwner = str("tableOwner", c.AdminUsername)
	switch c.Environment {
	case "", "dev", "prod", "local":
	default:
		fail("environment", fmt.Sprintf("is %q; use dev, prod or local", c.Environment), "prod")
	}
	c.Production = c.Environment == "prod"
	if v := str("production", ""); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fail("production", fmt.Sprintf("is %q, not true or false", v), "true")
		}
		c.Production = b
	}
	if v := str("offline", ""); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fail("offline", fmt.Sprintf("is %q, not true or false", v), "true")
		}
		c.Offline = b
	}
	if c.Offline && c.Environment == "prod" {
		fail("offline", "is true on a production stack: the offline stand-ins never run production", "false")
	}
	ids := required("subnetIds", "subnet-0a,subnet-0b")
	for _, s := range strings.Split(ids, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.SubnetIDs = append(c.SubnetIDs, s)
		}
	}
	if c.ETLCIDR != "" {
		if p, err := netip.ParsePrefix(c.ETLCIDR); err != nil || p.Masked() != p {
			fail("etlCidr", fmt.Sprintf("is %q, not a network CIDR", c.ETLCIDR), "10.20.30.0/24")
		}
	}
	c.DBPort = 5432
	if v := str("dbPort", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			fail("dbPort", fmt.Sprintf("is %q, not a port", v), "5432")
		}
		c.DBPort = n
	}
	c.BackupRetention = 7
	if v := str("backupRetentionDays", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fail("backupRetentionDays", fmt.Sprintf("is %q, not a positive number of days", v), "14")
		}
		c.BackupRetention = n
	}
	if v := str("exempt", ""); v != "" {
		c.Exempt = strings.Fields(strings.ReplaceAll(v, ",", " "))
	}
	if v := str("policyLevels", ""); v != "" {
		for _, kv := range strings.Split(v, ",") {
			k, l, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok {
				fail("policyLevels", fmt.Sprintf("entry %q is not rule=level", kv), "rds-iam-auth=mandatory")
				continue
			}
			c.PolicyLevels[k] = l
		}
	}
	for _, k := range []struct{ key, value string }{
		{"appDatabase", c.AppDatabase}, {"utilityDatabase", c.UtilityDatabase}, {"templateDatabase", c.TemplateDatabase},
		{"etlRole", c.ETLRole}, {"tileReaderRole", c.TileReaderRole}, {"utilityRole", c.UtilityRole},
	} {
		if err := sqlfuncs.ValidIdentifier("name", k.value); err != nil {
			fail(k.key, err.Error(), "a_lower_case_name")
		}
	}
	for _, key := range SecretKeys {
		v, ok := get(key)
		switch {
		case !ok || v == "":
			fail(key, "is missing", "<password>")
		case secret != nil && !secret(key):
			errs = append(errs, &ConfigError{Key: key, Problem: "is stored in plain text", Fix: "store it as a secret: " + setHint(key, "<password>", true)})
		}
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return c, errs
}

// expand resolves a "$VAR" value from the environment (the local stack's CA
// path and port change with every throwaway cluster).
func expand(v string) string {
	if strings.HasPrefix(v, "$") {
		return os.ExpandEnv(v)
	}
	return v
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
