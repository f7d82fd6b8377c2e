// Package stacks holds the platform's stack program (an inline
// pulumi.RunFunc the deployer runs through the Automation API) and its typed
// config, read from stacks/Pulumi.<stack>.yaml.
package stacks

import (
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/postgis-platform/deployer/components/rds"
	"github.com/postgis-platform/deployer/policypack"
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

	EngineVersion string
	InstanceClass string
	// ApplyImmediately applies instance changes now (the instance may
	// restart) instead of in the maintenance window.
	ApplyImmediately bool
	// LoopbackLoginMaxAgeDays is the age after which an up gives the
	// utility functions' owner a new loopback login (0: only on request).
	LoopbackLoginMaxAgeDays int
	AdminUsername           string // RDS master user, the postgresql provider's login
	AppDatabase             string
	TableOwner              string
	ETLRole                 string
	TileReaderRole          string
	CABundle                string // CA bundle for the provider's verify-full
	LoopbackRootCert        string // CA file path as the database server sees it (dblink)
	UtilityDatabase         string
	UtilityRole             string
	TemplateDatabase        string
	BackupRetention         int
	DBPort                  int
	Exempt                  []string
	PolicyLevels            map[string]string
	SecurityGroupName       string
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

// reader reads one stack's config and collects its problems.
type reader struct {
	stack       string
	get         func(key string) (Value, bool)
	secretKnown bool
	all         map[string]Value // every key, when known (Check)
	errs        []error
	failed      map[string]bool
}

func (r *reader) stackName() string {
	if r.stack == "" {
		return "<stack>"
	}
	return r.stack
}

func (r *reader) file() string { return "stacks/Pulumi." + r.stackName() + ".yaml" }

func (r *reader) add(e *ConfigError) {
	if r.failed == nil {
		r.failed = map[string]bool{}
	}
	r.failed[e.Key] = true
	r.errs = append(r.errs, e)
}

// fail records a problem with key and the usual fix: set a valid value (or,
// for an optional key, remove it for its default).
func (r *reader) fail(key, problem string) {
	r.add(&ConfigError{Key: key, Problem: problem, Fix: r.setHint(key), Stack: r.stack})
}

func (r *reader) setHint(key string) string {
	k, _ := keyByName(key)
	flag, example := "", k.Example
	if k.Secret {
		flag, example = " --secret", `"$`+envName(key)+`"`
	} else if strings.ContainsAny(example, " <>$") {
		example = "'" + example + "'"
	}
	hint := fmt.Sprintf("`pulumi config set%s %s %s --stack %s`", flag, key, example, r.stackName())
	if !k.Required && !k.Secret {
		def := k.Default
		switch key {
		case "tableOwner":
			def = "adminUsername"
		case "production":
			def = "environment = prod"
		case "exempt", "policyLevels":
			def = "none"
		}
		hint += fmt.Sprintf(", or `pulumi config rm %s --stack %s` for the default (%s)", key, r.stackName(), def)
	}
	if k.Secret {
		return hint + fmt.Sprintf(" (the CLI encrypts it; for a new stack, `pulumi stack init %s` first)", r.stackName())
	}
	return hint + fmt.Sprintf(" (or edit %s:%s in %s)", Project, key, r.file())
}

func (r *reader) rmHint(full string) string {
	return fmt.Sprintf("remove it with `pulumi config rm %s --stack %s` (or delete it from %s)", full, r.stackName(), r.file())
}

// envName is the conventional variable of a secret in CI (ETL_PASSWORD).
func envName(key string) string {
	var b strings.Builder
	for i, c := range key {
		if c >= 'A' && c <= 'Z' && i > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(c)
	}
	return strings.ToUpper(b.String())
}

func (r *reader) sorted() []error {
	sort.SliceStable(r.errs, func(i, j int) bool { return r.errs[i].Error() < r.errs[j].Error() })
	return r.errs
}

// explicit reports whether the stack sets key (rather than taking its default).
func (r *reader) explicit(key string) bool {
	_, ok := r.get(key)
	return ok
}

// raw is a plain key's value with $VAR expanded; ok is false when the key is
// absent or its value was refused (then a problem is recorded).
func (r *reader) raw(key string) (string, bool) {
	v, ok := r.get(key)
	if !ok {
		return "", false
	}
	switch {
	case v.Structured:
		r.fail(key, "is a YAML list or map; write it as one string")
		return "", false
	case v.Secret:
		r.add(&ConfigError{Key: key, Stack: r.stack, Problem: "is stored as a secret, but it is plain config (it is checked before every run and shown in reports)",
			Fix: fmt.Sprintf("`pulumi config rm %s --stack %s`, then %s", key, r.stackName(), r.setHint(key))})
		return "", false
	case v.Written != "":
		r.add(&ConfigError{Key: key, Stack: r.stack, Problem: fmt.Sprintf("is written %s, which YAML reads as the number %s", v.Written, v.Value),
			Fix: fmt.Sprintf("quote it in %s: %s:%s: \"%s\"", r.file(), Project, key, v.Written)})
		return "", false
	case strings.TrimSpace(v.Value) == "":
		r.fail(key, "is empty")
		return "", false
	}
	s := v.Value
	if strings.HasPrefix(s, "$") {
		name, ok := envReference(s)
		if !ok {
			r.add(&ConfigError{Key: key, Stack: r.stack, Problem: fmt.Sprintf("is %s: only a whole $DEPLOYER_… variable that holds no secret may be read from the environment (a preview's report would show its value)", v.Value),
				Fix: fmt.Sprintf("write the value itself, or export it as a DEPLOYER_… variable and set %s:%s: $DEPLOYER_…", Project, key)})
			return "", false
		}
		s = os.Getenv(name)
		if strings.TrimSpace(s) == "" {
			r.add(&ConfigError{Key: key, Stack: r.stack, Problem: fmt.Sprintf("is %s, which is empty: the variable is not set in the deployer's environment", v.Value),
				Fix: fmt.Sprintf("export the variable (scripts/pg writes the local cluster's to its env file), or %s", r.setHint(key))})
			return "", false
		}
	}
	return s, true
}

// envReference is the variable a "$NAME" or "${NAME}" value names, when the
// config may read it: a whole value, a name of the deployer's own
// (DEPLOYER_…), and no name that says it holds a secret. Any other would let
// whoever edits a stack file print the runner's secrets (a CI token, the
// passphrase) into a preview's reports.
func envReference(s string) (string, bool) {
	name := strings.TrimPrefix(s, "$")
	if strings.HasPrefix(name, "{") && strings.HasSuffix(name, "}") {
		name = name[1 : len(name)-1]
	}
	if !envVarName.MatchString(name) || !strings.HasPrefix(name, "DEPLOYER_") {
		return "", false
	}
	for _, w := range []string{"PASS", "PWD", "SECRET", "TOKEN", "CRED", "PRIVATE", "KEY", "AUTH", "SESSION", "COOKIE", "SALT"} {
		if strings.Contains(name, w) {
			return "", false
		}
	}
	return name, true
}

var envVarName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// str is key's value, or def when it is absent or refused.
func (r *reader) str(key, def string) string {
	if v, ok := r.raw(key); ok {
		return v
	}
	return def
}

// required is key's value; an absent key is a problem.
func (r *reader) required(key string) string {
	v, ok := r.raw(key)
	if !ok && !r.failed[key] {
		r.fail(key, "is missing")
	}
	return v
}

func (r *reader) boolean(key string, def bool) bool {
	v, ok := r.raw(key)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(key, fmt.Sprintf("is %q, not true or false", v))
		return def
	}
	return b
}

func (r *reader) integer(key string, def, lo, hi int, what string) int {
	v, ok := r.raw(key)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(key, fmt.Sprintf("is %q, not %s (%d-%d)", v, what, lo, hi))
		return def
	}
	return n
}

var (
	vpcPattern      = regexp.MustCompile(`^vpc-[0-9a-z]+$`)
	subnetPattern   = regexp.MustCompile(`^subnet-[0-9a-z]+$`)
	sgPattern       = regexp.MustCompile(`^sg-[0-9a-z]+$`)
	kmsPattern      = regexp.MustCompile(`^arn:aws[a-z-]*:kms:([a-z]{2}(-[a-z]+)+-[0-9]+):[0-9]{12}:(key|alias)/[A-Za-z0-9/_-]+$`)
	classPattern    = regexp.MustCompile(`^db\.[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|xlarge|[0-9]+xlarge|metal(-[0-9]+xl)?)$`)
	versionPattern  = regexp.MustCompile(`^([1-9][0-9]*)(\.(0|[1-9][0-9]*))?$`)
	sgNamePattern   = regexp.MustCompile(`^[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	tagValuePattern = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$`)
	regionPattern   = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// minEngineMajor is the oldest PostgreSQL major version a stack may run (the
// rds component's advice: older ones are out of standard support on RDS).
const minEngineMajor = 13

func (r *reader) parse() Config {
	c := Config{PolicyLevels: map[string]string{}}

	c.Environment = r.required("environment")
	switch c.Environment {
	case "", "dev", "prod", "local":
	default:
		r.fail("environment", fmt.Sprintf("is %q; use dev, prod or local", c.Environment))
	}
	c.CostCenter = r.required("costCenter")
	if c.CostCenter != "" && !tagValuePattern.MatchString(c.CostCenter) {
		r.fail("costCenter", fmt.Sprintf("is %q, not an AWS tag value (up to 256 letters, digits, spaces and _ . : / = + - @)", c.CostCenter))
	}
	c.Production = r.boolean("production", c.Environment == "prod")
	c.Offline = r.boolean("offline", false)
	if c.Offline && c.Environment == "prod" {
		r.fail("offline", "is true on a production stack: the offline stand-ins never run production")
	}

	c.VpcID = r.required("vpcId")
	if c.VpcID != "" && !vpcPattern.MatchString(c.VpcID) {
		r.fail("vpcId", fmt.Sprintf("is %q, not a VPC ID (vpc-…)", c.VpcID))
	}
	c.SubnetIDs = r.subnets()
	c.TileServerGroupID = r.required("tileServerSecurityGroupId")
	if c.TileServerGroupID != "" && !sgPattern.MatchString(c.TileServerGroupID) {
		r.fail("tileServerSecurityGroupId", fmt.Sprintf("is %q, not a security group ID (sg-…): the tile servers are allowed in by their group, never by a CIDR", c.TileServerGroupID))
	}
	c.ETLCIDR = r.cidr("etlCidr", "", true)
	c.EgressCIDR = r.cidr("egressCidr", "10.0.0.0/8", false)
	c.KMSKeyID = r.kmsKey()

	c.EngineVersion = r.str("engineVersion", rds.DefaultEngineVersion)
	if m := versionPattern.FindStringSubmatch(c.EngineVersion); m == nil {
		r.fail("engineVersion", fmt.Sprintf("is %q, not a PostgreSQL version like 16 or 16.4", c.EngineVersion))
	} else if major, _ := strconv.Atoi(m[1]); major < minEngineMajor {
		r.fail("engineVersion", fmt.Sprintf("is %q: PostgreSQL %d is out of support on RDS; use %d or later", c.EngineVersion, major, minEngineMajor))
	}
	c.InstanceClass = r.str("instanceClass", rds.DefaultInstanceClass)
	c.ApplyImmediately = r.boolean("applyImmediately", false)
	c.LoopbackLoginMaxAgeDays = r.integer("loopbackLoginMaxAgeDays", 30, 0, 365, "a number of days (0: only `deployer rotate` gives a new one)")
	if !classPattern.MatchString(c.InstanceClass) {
		r.fail("instanceClass", fmt.Sprintf("is %q, not an RDS instance class (db.<family>.<size>, e.g. db.t4g.medium)", c.InstanceClass))
	}

	r.names(&c)
	c.CABundle = r.required("caBundle")
	c.LoopbackRootCert = r.required("loopbackRootCert")

	if c.Offline {
		c.DBPort = r.integer("dbPort", rds.DefaultPort, 1, 65535, "a port")
	} else {
		c.DBPort = r.integer("dbPort", rds.DefaultPort, 1150, 65535, "a port RDS accepts") // RDS PostgreSQL's range
	}
	c.Exempt = r.exempt()
	c.BackupRetention = r.integer("backupRetentionDays", rds.DefaultBackupRetentionDays, 1, 35, "a number of days RDS accepts")
	if c.BackupRetention < rds.DefaultBackupRetentionDays && !contains(c.Exempt, policypack.RDSBackupRetention) {
		r.fail("backupRetentionDays", fmt.Sprintf("is %d, below the platform's floor of %d days (add %s to %s:exempt if this is deliberate)",
			c.BackupRetention, rds.DefaultBackupRetentionDays, policypack.RDSBackupRetention, Project))
	}
	c.PolicyLevels = r.policyLevels()
	c.SecurityGroupName = r.str("securityGroupName", "postgis")
	if !sgNamePattern.MatchString(c.SecurityGroupName) || strings.HasPrefix(strings.ToLower(c.SecurityGroupName), "sg-") {
		r.fail("securityGroupName", fmt.Sprintf("is %q: use 1-63 letters, digits and hyphens, starting with a letter, not with sg- (AWS refuses such names)", c.SecurityGroupName))
	}
	r.secrets()
	return c
}

func (r *reader) subnets() []string {
	v := r.required("subnetIds")
	if v == "" {
		return nil
	}
	var ids []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			r.fail("subnetIds", fmt.Sprintf("is %q, which has an empty entry: separate subnet IDs with single commas", v))
			return nil
		case !subnetPattern.MatchString(s):
			r.fail("subnetIds", fmt.Sprintf("lists %q, not a subnet ID (subnet-…)", s))
			return nil
		case contains(ids, s):
			r.fail("subnetIds", fmt.Sprintf("lists %s twice", s))
			return nil
		}
		ids = append(ids, s)
	}
	if len(ids) < 2 {
		r.fail("subnetIds", fmt.Sprintf("lists %d subnet: an RDS subnet group needs at least 2, in different availability zones", len(ids)))
		return nil
	}
	return ids
}

// cidr reads an IPv4 network CIDR; an ingress one may not open the database
// to the internet (the security group refuses it).
func (r *reader) cidr(key, def string, ingress bool) string {
	var v string
	if def == "" {
		v = r.required(key)
	} else {
		v = r.str(key, def)
	}
	if v == "" {
		return ""
	}
	p, err := netip.ParsePrefix(v)
	switch {
	case err != nil || !p.Addr().Is4():
		r.fail(key, fmt.Sprintf("is %q, not an IPv4 network CIDR", v))
	case p.Masked() != p:
		r.fail(key, fmt.Sprintf("is %q, not a network CIDR (host bits set: the network is %s)", v, p.Masked()))
	case ingress && policypack.Public(v) && !policypack.OpensToInternet(v):
		r.fail(key, fmt.Sprintf("is %s, public address space: it would open the database port to the internet; name the private ETL subnet", v))
	case ingress && policypack.OpensToInternet(v):
		r.fail(key, fmt.Sprintf("is %s, which opens the database port to the internet (a prefix shorter than /%d): name the ETL subnet", v, policypack.MinIPv4Prefix))
	}
	return v
}

func (r *reader) kmsKey() string {
	v := r.required("kmsKeyId")
	if v == "" {
		return ""
	}
	m := kmsPattern.FindStringSubmatch(v)
	if m == nil {
		r.fail("kmsKeyId", fmt.Sprintf("is %q, not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id> or …:alias/<name>)", v))
		return v
	}
	if region, ok := r.all["aws:region"]; ok && !region.Secret && region.Value != "" {
		if !regionPattern.MatchString(region.Value) {
			r.add(&ConfigError{Key: "aws:region", Stack: r.stack, Problem: fmt.Sprintf("is %q, not an AWS region", region.Value),
				Fix: fmt.Sprintf("`pulumi config set aws:region eu-west-1 --stack %s` (or edit aws:region in %s)", r.stackName(), r.file())})
		} else if region.Value != m[1] {
			r.fail("kmsKeyId", fmt.Sprintf("is a key in %s, but the stack's aws:region is %s: RDS encrypts only with a key of its own region", m[1], region.Value))
		}
	}
	return v
}

// names reads the roles and databases: lower-case PostgreSQL identifiers,
// the databases distinct, the workflow roles distinct from each other, the
// admin and the tables' owner.
func (r *reader) names(c *Config) {
	ident := func(key, kind, def string) string {
		v := r.str(key, def)
		if v == "" {
			return "" // refused above, or the default follows a refused key
		}
		if err := sqlfuncs.ValidIdentifier(kind, v); err != nil {
			r.fail(key, fmt.Sprintf("is refused: %v", err))
			return ""
		}
		return v
	}
	c.AdminUsername = ident("adminUsername", "role", rds.DefaultMasterUsername)
	if c.AdminUsername != "" && !(c.AdminUsername[0] >= 'a' && c.AdminUsername[0] <= 'z') {
		r.fail("adminUsername", fmt.Sprintf("is %q: the RDS master user's name starts with a letter", c.AdminUsername))
		c.AdminUsername = ""
	}
	c.TableOwner = ident("tableOwner", "role", c.AdminUsername)
	c.AppDatabase = ident("appDatabase", "database", "gis")
	c.ETLRole = ident("etlRole", "role", "etl_writer")
	c.TileReaderRole = ident("tileReaderRole", "role", "tile_reader")
	c.UtilityDatabase = ident("utilityDatabase", "database", "utility")
	c.UtilityRole = ident("utilityRole", "role", sqlfuncs.DefaultUtilityRole)
	c.TemplateDatabase = ident("templateDatabase", "database", sqlfuncs.DefaultTemplateDB)

	type named struct{ key, value string }
	// clash reports b equal to a, on the key the stack sets (b when both).
	clash := func(a, b named, why string) bool {
		if a.value == "" || a.value != b.value || r.failed[a.key] || r.failed[b.key] {
			return false
		}
		blame, other := b, a
		if !r.explicit(b.key) && r.explicit(a.key) {
			blame, other = a, b
		}
		r.fail(blame.key, fmt.Sprintf("is %q, the same as %s: %s", blame.value, other.key, why))
		return true
	}
	dbs := []named{{"appDatabase", c.AppDatabase}, {"utilityDatabase", c.UtilityDatabase}, {"templateDatabase", c.TemplateDatabase}}
	for i := range dbs {
		for j := i + 1; j < len(dbs); j++ {
			clash(dbs[i], dbs[j], "the application, utility and template databases are three different databases")
		}
	}
	roles := []named{{"etlRole", c.ETLRole}, {"tileReaderRole", c.TileReaderRole}, {"utilityRole", c.UtilityRole}}
	admin, owner := named{"adminUsername", c.AdminUsername}, named{"tableOwner", c.TableOwner}
	for i, role := range roles {
		for j := i + 1; j < len(roles); j++ {
			clash(role, roles[j], "the ETL, tile reader and utility roles are three different roles")
		}
		if !clash(admin, role, "workflow and utility roles never run as the admin") && c.TableOwner != c.AdminUsername {
			clash(owner, role, "workflows never run as the owner of the tables")
		}
	}
}

// exempt reads the rule ids relaxed on RDS: known rules the rds component
// lets a stack relax.
func (r *reader) exempt() []string {
	v, ok := r.raw("exempt")
	if !ok {
		return nil
	}
	ids := strings.Fields(strings.ReplaceAll(v, ",", " "))
	for _, id := range ids {
		if policypack.RuleByID(id) == nil {
			problem := fmt.Sprintf("lists %q, which is not a rule", id)
			if s, ok := closest(id, rds.Relaxable); ok {
				problem += fmt.Sprintf("; did you mean %s?", s)
			}
			r.fail("exempt", problem+" (relaxable: "+strings.Join(rds.Relaxable, ", ")+")")
			return nil
		}
		if !contains(rds.Relaxable, id) {
			r.fail("exempt", fmt.Sprintf("lists %s, which cannot be relaxed (relaxable: %s)", id, strings.Join(rds.Relaxable, ", ")))
			return nil
		}
	}
	return ids
}

// policyLevels reads rule=level entries.
func (r *reader) policyLevels() map[string]string {
	levels := map[string]string{}
	v, ok := r.raw("policyLevels")
	if !ok {
		return levels
	}
	for _, kv := range strings.Split(v, ",") {
		kv = strings.TrimSpace(kv)
		rule, level, ok := strings.Cut(kv, "=")
		rule, level = strings.TrimSpace(rule), strings.TrimSpace(level)
		switch {
		case !ok || rule == "":
			r.fail("policyLevels", fmt.Sprintf("has the entry %q, not rule=level", kv))
		case policypack.RuleByID(rule) == nil:
			problem := fmt.Sprintf("names %q, which is not a rule", rule)
			if s, ok := closest(rule, policypack.RuleIDs()); ok {
				problem += fmt.Sprintf("; did you mean %s?", s)
			}
			r.fail("policyLevels", problem+" (rules: "+strings.Join(policypack.RuleIDs(), ", ")+")")
		case level != string(policypack.Mandatory) && level != string(policypack.Advisory) && level != string(policypack.Disabled):
			r.fail("policyLevels", fmt.Sprintf("sets %s to %q: use mandatory, advisory or disabled", rule, level))
		case levels[rule] != "":
			r.fail("policyLevels", fmt.Sprintf("sets %s twice", rule))
		case policypack.RuleByID(rule).Level == policypack.Mandatory && level != string(policypack.Mandatory) && !slices.Contains(rds.Relaxable, rule):
			r.fail("policyLevels", fmt.Sprintf("lowers the mandatory rule %s to %s: only the relaxable rules (%s) may be lowered, and only reviewed in the stack's config", rule, level, strings.Join(rds.Relaxable, ", ")))
		default:
			levels[rule] = level
			continue
		}
		return map[string]string{}
	}
	return levels
}

// secrets checks each secret is set, stored encrypted and not empty. A
// secret's value is never read here: its length comes from its ciphertext.
func (r *reader) secrets() {
	for _, key := range SecretKeys {
		v, ok := r.get(key)
		switch {
		case !ok:
			r.fail(key, "is missing")
		case v.Structured:
			r.fail(key, "is a YAML list or map, not a secret")
		case r.secretKnown && !v.Secret:
			r.add(&ConfigError{Key: key, Stack: r.stack, Problem: "is stored in plain text",
				Fix: "store it as a secret, and change the password (the plain value is in the file's history): " + r.setHint(key)})
		case v.Secret && v.SecretLen == 0:
			r.fail(key, "is an empty secret: the role's password would not be set")
		case !v.Secret && v.Value == "":
			r.fail(key, "is empty")
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
