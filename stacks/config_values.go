package stacks

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/postgis-platform/deployer/baseline"
	"github.com/postgis-platform/deployer/components/rds"
	"github.com/postgis-platform/deployer/policypack"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// Each key's rules: the values a stack's config may hold.

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
	c.TenantConnectionLimit = r.integer("tenantConnectionLimit", sqlfuncs.DefaultTenantConnectionLimit, 1, sqlfuncs.MaxTenantConnectionLimit,
		"a number of sessions each new tenant role may hold at once")
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
	if c.BackupRetention < rds.DefaultBackupRetentionDays && !contains(c.Exempt, baseline.RDSBackupRetention) {
		r.fail("backupRetentionDays", fmt.Sprintf("is %d, below the platform's floor of %d days (add %s to %s:exempt if this is deliberate)",
			c.BackupRetention, rds.DefaultBackupRetentionDays, baseline.RDSBackupRetention, Project))
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
	case ingress && baseline.Public(v) && !baseline.OpensToInternet(v):
		r.fail(key, fmt.Sprintf("is %s, public address space: it would open the database port to the internet; name the private ETL subnet", v))
	case ingress && baseline.OpensToInternet(v):
		r.fail(key, fmt.Sprintf("is %s, which opens the database port to the internet (a prefix shorter than /%d): name the ETL subnet", v, baseline.MinIPv4Prefix))
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
