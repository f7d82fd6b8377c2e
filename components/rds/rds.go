// Package rds is RDS PostgreSQL with TLS enforced by its parameter group,
// encrypted storage, an AWS-managed master password and the platform's
// backup, monitoring and protection defaults. Weaker settings are refused
// unless the caller names the relaxed rule in Args.Exempt.
package rds

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/baseline"
	"github.com/postgis-platform/deployer/components/tags"
)

// Type is the component's type token.
const Type = "postgis:rds:PostgresInstance"

// Defaults of the platform baseline.
const (
	DefaultEngineVersion       = "16"
	DefaultInstanceClass       = "db.t4g.medium"
	DefaultAllocatedStorage    = 50
	DefaultMasterUsername      = "postgis_admin"
	DefaultMinTLSVersion       = "TLSv1.2"
	DefaultCACertIdentifier    = "rds-ca-rsa2048-g1"
	DefaultBackupRetentionDays = 7
	DefaultPort                = 5432
)

// DefaultLogExports are the CloudWatch log groups exported by default.
var DefaultLogExports = []string{"postgresql", "upgrade"}

// ModernCAs are the CA identifiers accepted (the rds-ca-2019 family expired).
var ModernCAs = []string{"rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1"}

// Relaxable lists the rule ids a caller may exempt through Args.Exempt. Storage
// encryption, the TLS floor and the engine are never relaxable.
var Relaxable = []string{
	baseline.RDSNotPublic,
	baseline.RDSBackupRetention,
	baseline.RDSMultiAZProduction,
	baseline.RDSDeletionProtection,
	baseline.RDSPerformanceInsightKMS,
}

// Args configures a PostgresInstance. Zero values take the baseline defaults.
type Args struct {
	// Engine must be "postgres" (the default).
	Engine string
	// EngineVersion: a major version ("16", the default) lets AWS's
	// automatic minor upgrades run without drift; a minor version ("16.4")
	// pins it, and AWS's next minor upgrade reads back as a change the next
	// update would try to undo (a downgrade AWS refuses). The parameter group family (postgres16)
	// follows its major version.
	EngineVersion string
	// AllowMajorVersionUpgrade must be set to move to a new major version; the
	// new family gets a new parameter group, created before the old is deleted.
	AllowMajorVersionUpgrade bool
	// InstanceClass is the RDS instance class (default db.t4g.medium).
	InstanceClass string
	// AllocatedStorage is the storage size in GiB (default 50).
	AllocatedStorage int
	// MaxAllocatedStorage enables storage autoscaling up to this size (GiB).
	MaxAllocatedStorage int
	// DBName is the initial database.
	DBName string
	// MasterUsername (default postgis_admin); its password is managed by AWS
	// in Secrets Manager and never appears in state.
	MasterUsername string
	// Port PostgreSQL listens on (default 5432).
	Port int

	// SubnetIDs for the subnet group (private subnets). Required.
	SubnetIDs pulumi.StringArrayInput
	// SecurityGroupIDs, typically from the securitygroup component. Required.
	SecurityGroupIDs pulumi.StringArrayInput

	// KMSKeyID encrypts storage (default: the AWS-managed key) and, unless
	// PerformanceInsightsKMSKeyID is set, Performance Insights.
	KMSKeyID pulumi.StringInput
	// PerformanceInsightsKMSKeyID encrypts Performance Insights (default
	// KMSKeyID); one of the two is required unless rds-pi-kms is exempt.
	PerformanceInsightsKMSKeyID pulumi.StringInput
	// StorageEncrypted defaults to true; false is refused.
	StorageEncrypted *bool

	// MinTLSVersion is ssl_min_protocol_version: TLSv1.2 (default) or TLSv1.3.
	MinTLSVersion string
	// CACertIdentifier is the server certificate's CA (default
	// rds-ca-rsa2048-g1); only the current CAs (ModernCAs) are accepted.
	CACertIdentifier string

	// Production turns on Multi-AZ unless MultiAZ says otherwise.
	Production bool
	// MultiAZ overrides Production's choice of a standby in a second zone.
	MultiAZ *bool
	// PubliclyAccessible is refused unless rds-not-public is exempt.
	PubliclyAccessible bool
	// DeletionProtection defaults to true.
	DeletionProtection *bool
	// BackupRetentionDays keeps automated backups this many days (default
	// 7; fewer is refused unless rds-backup-retention is exempt).
	BackupRetentionDays int
	// BackupWindow is the daily backup window in UTC, e.g. "03:00-04:00"
	// (default: chosen by AWS).
	BackupWindow string
	// MaintenanceWindow is the weekly maintenance window in UTC, e.g.
	// "sun:04:30-sun:05:30" (default: chosen by AWS).
	MaintenanceWindow string
	// ApplyImmediately applies changes now instead of in the maintenance window.
	ApplyImmediately bool
	// LogExports are the log groups exported to CloudWatch (default
	// postgresql and upgrade).
	LogExports []string
	// ExtraParameters are added to the parameter group; they cannot override
	// the enforced TLS and password settings.
	ExtraParameters map[string]string

	// Exempt names rule ids (from Relaxable) whose defaults the caller relaxes
	// on purpose; they are recorded in the deployer:exempt tag.
	Exempt []string
	// Unprotected turns off Pulumi's protect on the instance (default protected).
	Unprotected bool
	// LiftDeletionProtection turns deletion protection off and ignores every
	// other change to the instance. The deployer sets it for one targeted
	// update before an explicitly allowed replacement of the instance, so
	// the old instance can be deleted afterwards; nothing else changes.
	LiftDeletionProtection bool

	// Tags: Environment and CostCenter are required; ManagedBy is set, and
	// the exempt rule ids go into the deployer:exempt tag.
	Tags tags.Set
}

// PostgresInstance is the component.
type PostgresInstance struct {
	pulumi.ResourceState

	Instance       *rds.Instance
	ParameterGroup *rds.ParameterGroup
	SubnetGroup    *rds.SubnetGroup

	// Endpoint is the instance's host:port.
	Endpoint pulumi.StringOutput
	// Address is the instance's host name, to connect to with TLS.
	Address pulumi.StringOutput
	// Port is the port PostgreSQL listens on.
	Port pulumi.IntOutput
	// MasterSecretARN is the Secrets Manager secret holding the master
	// user's password, which AWS manages and rotates.
	MasterSecretARN pulumi.StringOutput
	// CACertIdentifier is the CA that signed the server's certificate.
	CACertIdentifier pulumi.StringOutput
}

var versionPattern = regexp.MustCompile(`^(\d+)(\.\d+)?$`)

// enforced are the dynamic parameters the component always sets; they
// apply at once. pgaudit.log (role and DDL statements, with who ran them;
// passwords redacted, parameters not logged) takes effect once the library
// below is loaded.
func enforced(minTLS string) map[string]string {
	return map[string]string{
		"rds.force_ssl":            "1",
		"ssl_min_protocol_version": minTLS,
		"password_encryption":      "scram-sha-256",
		"log_connections":          "1",
		"log_disconnections":       "1",
		"pgaudit.log":              AuditLog,
		"pgaudit.log_parameter":    "0",
	}
}

// AuditLog is the pgaudit.log class list the component enforces.
const AuditLog = "role,ddl"

// enforcedStatic are the static parameters the component always sets; RDS
// takes them only with pending-reboot (a new instance boots with them).
var enforcedStatic = map[string]string{"shared_preload_libraries": "pgaudit"}

func (a *Args) defaults() {
	if a.Engine == "" {
		a.Engine = "postgres"
	}
	if a.EngineVersion == "" {
		a.EngineVersion = DefaultEngineVersion
	}
	if a.InstanceClass == "" {
		a.InstanceClass = DefaultInstanceClass
	}
	if a.AllocatedStorage == 0 {
		a.AllocatedStorage = DefaultAllocatedStorage
	}
	if a.MasterUsername == "" {
		a.MasterUsername = DefaultMasterUsername
	}
	if a.Port == 0 {
		a.Port = DefaultPort
	}
	if a.MinTLSVersion == "" {
		a.MinTLSVersion = DefaultMinTLSVersion
	}
	if a.CACertIdentifier == "" {
		a.CACertIdentifier = DefaultCACertIdentifier
	}
	if a.BackupRetentionDays == 0 {
		a.BackupRetentionDays = DefaultBackupRetentionDays
	}
	if a.LogExports == nil {
		a.LogExports = DefaultLogExports
	}
}

func (a *Args) exempt(id string) bool {
	for _, e := range a.Exempt {
		if e == id {
			return true
		}
	}
	return false
}

// needs formats the "relax it explicitly" hint for a refused default.
func needs(id string) string {
	return fmt.Sprintf("if this is deliberate, add %q to Exempt (it is recorded in the %s tag)", id, baseline.ExemptTag)
}

// staticParameters are the enforced static parameters plus the extra ones;
// an extra shared_preload_libraries keeps pgaudit in its list.
func staticParameters(extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range extra {
		out[k] = v
	}
	for k, v := range enforcedStatic {
		if cur, ok := out[k]; ok && cur != "" && !containsLib(cur, v) {
			out[k] = cur + "," + v
		} else if !ok || cur == "" {
			out[k] = v
		}
	}
	return out
}

func containsLib(list, lib string) bool {
	for _, l := range strings.Split(list, ",") {
		if strings.TrimSpace(l) == lib {
			return true
		}
	}
	return false
}

// family returns the parameter group family for the engine version.
func family(version string) (string, error) {
	m := versionPattern.FindStringSubmatch(version)
	if m == nil {
		return "", fmt.Errorf("EngineVersion %q is not a PostgreSQL version like \"16.4\"", version)
	}
	major, _ := strconv.Atoi(m[1])
	if major < 12 {
		return "", fmt.Errorf("EngineVersion %q: PostgreSQL %d is out of support on RDS; use 13 or later", version, major)
	}
	return "postgres" + m[1], nil
}

func (a *Args) validate() (string, error) {
	a.defaults()
	if a.Engine != "postgres" {
		return "", fmt.Errorf("Engine %q is not supported: this component builds PostgreSQL (\"postgres\") only", a.Engine)
	}
	if a.Port < 1150 || a.Port > 65535 {
		return "", fmt.Errorf("Port %d is out of range: RDS for PostgreSQL listens on a port from 1150 to 65535 (default 5432)", a.Port)
	}
	fam, err := family(a.EngineVersion)
	if err != nil {
		return "", err
	}
	for _, e := range a.Exempt {
		ok := false
		for _, r := range Relaxable {
			ok = ok || e == r
		}
		if !ok {
			return "", fmt.Errorf("Exempt lists %q, which cannot be relaxed; relaxable: %s", e, strings.Join(Relaxable, ", "))
		}
	}
	if a.StorageEncrypted != nil && !*a.StorageEncrypted {
		return "", fmt.Errorf("StorageEncrypted is false: storage must be encrypted (it cannot be turned on later without replacing the instance)")
	}
	if a.MinTLSVersion != "TLSv1.2" && a.MinTLSVersion != "TLSv1.3" {
		return "", fmt.Errorf("MinTLSVersion %q is refused: use TLSv1.2 or TLSv1.3", a.MinTLSVersion)
	}
	if a.PubliclyAccessible && !a.exempt(baseline.RDSNotPublic) {
		return "", fmt.Errorf("PubliclyAccessible is true: the database must stay in private subnets; reach it through a runner in the VPC or a tunnel, or %s", needs(baseline.RDSNotPublic))
	}
	if a.BackupRetentionDays < DefaultBackupRetentionDays && !a.exempt(baseline.RDSBackupRetention) {
		return "", fmt.Errorf("BackupRetentionDays %d is below the floor of %d days; raise it, or %s", a.BackupRetentionDays, DefaultBackupRetentionDays, needs(baseline.RDSBackupRetention))
	}
	if a.BackupRetentionDays < 1 || a.BackupRetentionDays > 35 {
		return "", fmt.Errorf("BackupRetentionDays %d is out of RDS's range 1-35", a.BackupRetentionDays)
	}
	if a.Production && a.MultiAZ != nil && !*a.MultiAZ && !a.exempt(baseline.RDSMultiAZProduction) {
		return "", fmt.Errorf("MultiAZ is false for a production instance; leave it on, or %s", needs(baseline.RDSMultiAZProduction))
	}
	if a.DeletionProtection != nil && !*a.DeletionProtection && !a.exempt(baseline.RDSDeletionProtection) {
		return "", fmt.Errorf("DeletionProtection is false; leave it on, or %s", needs(baseline.RDSDeletionProtection))
	}
	if a.KMSKeyID == nil && a.PerformanceInsightsKMSKeyID == nil && !a.exempt(baseline.RDSPerformanceInsightKMS) {
		return "", fmt.Errorf("no KMSKeyID or PerformanceInsightsKMSKeyID: Performance Insights must be encrypted with a customer key; pass one, or %s", needs(baseline.RDSPerformanceInsightKMS))
	}
	okCA := false
	for _, ca := range ModernCAs {
		okCA = okCA || a.CACertIdentifier == ca
	}
	if !okCA {
		return "", fmt.Errorf("CACertIdentifier %q is not a current RDS CA; use one of %s", a.CACertIdentifier, strings.Join(ModernCAs, ", "))
	}
	if err := a.checkExtraParameters(); err != nil {
		return "", err
	}
	if a.SubnetIDs == nil {
		return "", fmt.Errorf("SubnetIDs is nil: pass the private subnets for the subnet group")
	}
	if a.SecurityGroupIDs == nil {
		return "", fmt.Errorf("SecurityGroupIDs is nil: pass the IDs from the securitygroup component")
	}
	if err := a.Tags.Validate("Tags"); err != nil {
		return "", err
	}
	return fam, nil
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// parameterName is what an RDS parameter is called: lower case, as RDS
// lists them (PostgreSQL reads names case-insensitively, so "RDS.FORCE_SSL"
// would be the enforced parameter under another spelling).
var parameterName = regexp.MustCompile(`^[a-z][a-z0-9_.]*$`)

// checkExtraParameters refuses a parameter the component enforces, under
// any spelling, and the TLS switches themselves.
func (a *Args) checkExtraParameters() error {
	for k := range a.ExtraParameters {
		if !parameterName.MatchString(k) {
			return fmt.Errorf("ExtraParameters name %q is not a parameter name: write it as RDS lists it, lower case with no spaces (e.g. \"work_mem\")", k)
		}
		_, enforcedHere := enforced(a.MinTLSVersion)[k]
		_, static := enforcedStatic[k]
		if enforcedHere || static || k == "ssl" || strings.HasPrefix(k, "ssl_") {
			return fmt.Errorf("ExtraParameters sets %q, which the component enforces (TLS, passwords, audit); remove it", k)
		}
	}
	return nil
}
