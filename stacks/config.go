// Package stacks holds the platform's stack program (an inline
// pulumi.RunFunc the deployer runs through the Automation API) and its typed
// config, read from stacks/Pulumi.<stack>.yaml.
package stacks

import (
	"fmt"
	"strings"

	"github.com/postgis-platform/deployer/policypack"
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

	EngineVersion string
	InstanceClass string
	// ApplyImmediately applies instance changes now (the instance may
	// restart) instead of in the maintenance window.
	ApplyImmediately bool
	// LoopbackLoginMaxAgeDays is the age after which an up gives the
	// utility functions' owner a new loopback login (0: only on request).
	LoopbackLoginMaxAgeDays int
	// TenantConnectionLimit is the CONNECTION LIMIT create_role gives each
	// new tenant role (sqlfuncs.Options.TenantConnectionLimit).
	TenantConnectionLimit int
	AdminUsername         string // RDS master user, the postgresql provider's login
	AppDatabase           string
	TableOwner            string
	ETLRole               string
	TileReaderRole        string
	CABundle              string // CA bundle for the provider's verify-full
	LoopbackRootCert      string // CA file path as the database server sees it (dblink)
	UtilityDatabase       string
	UtilityRole           string
	TemplateDatabase      string
	BackupRetention       int
	DBPort                int
	Exempt                []string
	PolicyLevels          map[string]string
	SecurityGroupName     string
}

// ConfigError is one problem with one config key: the key, what is wrong and
// the command or edit that fixes it. It never holds a secret's value.
type ConfigError struct {
	// Key is the key without the project's namespace (etlCidr), or a full
	// key (aws:region, postgis-platfrom:etlCidr) outside it.
	Key, Problem, Fix string
	// Stack names the stack in the fix ("" for "<stack>").
	Stack string
}

// FullKey is the key with its namespace.
func (e *ConfigError) FullKey() string {
	if strings.Contains(e.Key, ":") {
		return e.Key
	}
	return Project + ":" + e.Key
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("config %s %s; fix: %s", e.FullKey(), e.Problem, e.Fix)
}

// Value is one config value as a stack's config file holds it.
type Value struct {
	// Value is the plain value (a YAML list or map as JSON); empty for a
	// secret, which the deployer never decrypts.
	Value string
	// Secret: stored encrypted (secure: in the file).
	Secret bool
	// SecretLen is a secret's length in bytes, read from the length of its
	// ciphertext; -1 when the ciphertext's format does not tell.
	SecretLen int
	// Structured: a YAML list or map instead of a string.
	Structured bool
	// Written is set when YAML reads the value as a number written otherwise
	// (16.10 is read as 16.1): the text as written.
	Written string
}

// Check reads a stack's whole config (full keys, namespace:name, as the
// stack's file holds them): every key must be known (see Keys and
// Namespaces), every value valid, every secret set and not empty. All
// problems are returned, each a *ConfigError naming its key and the fix for
// stack.
func Check(stack string, values map[string]Value) (Config, []error) {
	r := &reader{stack: stack, secretKnown: true, all: values}
	r.get = func(key string) (Value, bool) {
		v, ok := values[Project+":"+key]
		if !ok {
			v, ok = values[key] // the CLI puts a key without namespace in the project's
		}
		return v, ok
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	r.checkKeys(keys)
	c := r.parse()
	return c, r.sorted()
}

// Parse reads config values (key without namespace → value). secret reports
// whether a key was stored as a secret (nil: not known, as inside the
// program, where secrets are read with RequireSecret). All problems are
// returned, each naming its key. Unlike Check it cannot see unknown keys.
func Parse(get func(key string) (string, bool), secret func(key string) bool) (Config, []error) {
	r := &reader{secretKnown: secret != nil}
	r.get = func(key string) (Value, bool) {
		s, ok := get(key)
		v := Value{Value: s}
		if ok && secret != nil && contains(SecretKeys, key) && secret(key) {
			v = Value{Secret: true, SecretLen: len(s)}
		}
		return v, ok
	}
	c := r.parse()
	return c, r.sorted()
}

// Policy is the policies' config for the stack: production or not, the
// backup floor, the database port and the levels the stack sets.
func (c Config) Policy() policypack.Config {
	pol := policypack.Config{Production: c.Production, BackupRetentionDays: c.BackupRetention, DatabasePort: c.DBPort, Levels: map[string]policypack.Level{}}
	for k, v := range c.PolicyLevels {
		pol.Levels[k] = policypack.Level(v)
	}
	return pol
}
