// Package baseline names the hardened baseline: the policy rule IDs, the
// resource type tokens the rules read, the tag that records a user's
// exemptions, and what counts as open to the internet. Components, the
// policies and the automation share it; it depends on nothing, so a stack
// that imports a component does not build the policy engine.
package baseline

// Rule ids. Components record the ids a user explicitly relaxed in the
// ExemptTag tag, and the policies report those as advisory.
const (
	SGNoPublicDBIngress      = "sg-no-public-db-ingress"
	SGNoPublicIngress        = "sg-no-public-ingress"
	SGDescriptions           = "sg-descriptions"
	SGNoMixedInlineRules     = "sg-no-mixed-inline-rules"
	SGNoUnrestrictedEgress   = "sg-no-unrestricted-egress"
	SGNoWorldEgress          = "sg-no-world-egress"
	SGRequiredTags           = "sg-required-tags"
	RDSStorageEncrypted      = "rds-storage-encrypted"
	RDSNotPublic             = "rds-not-public"
	RDSForceSSL              = "rds-force-ssl"
	RDSTLSFloor              = "rds-tls-floor"
	RDSDeletionProtection    = "rds-deletion-protection"
	RDSBackupRetention       = "rds-backup-retention"
	RDSMultiAZProduction     = "rds-multi-az-production"
	RDSIAMAuth               = "rds-iam-auth"
	RDSModernCA              = "rds-modern-ca"
	RDSPerformanceInsightKMS = "rds-performance-insights-kms"
	RDSLogExports            = "rds-log-exports"
	RDSManagedMasterPassword = "rds-managed-master-password"
	PGRoleLeastPrivilege     = "pg-role-least-privilege"
	PGDefinerSearchPath      = "pg-definer-search-path"
	PGUserMappingSecret      = "pg-user-mapping-secret"
	PGNoPublicGrants         = "pg-no-public-grants"
	PGRoleNoMembership       = "pg-role-no-membership"
	PGRoleNoSearchPath       = "pg-role-no-search-path"
	PGNoOpenDatabase         = "pg-no-open-database"
	PGNoHandSettings         = "pg-no-hand-settings"
	PGAdminIntact            = "pg-admin-intact"
	PGRoleLogsIn             = "pg-role-logs-in"
	RDSAuditLog              = "rds-audit-log"
	PGUtilityIntact          = "pg-utility-intact"
)

// ExemptTag is the tag (or label) in which a component lists the rule ids its
// user relaxed, separated by spaces (AWS tag values allow no commas).
const ExemptTag = "deployer:exempt"

// Resource type tokens the rules read.
const (
	TypeSecurityGroup     = "aws:ec2/securityGroup:SecurityGroup"
	TypeSGRule            = "aws:ec2/securityGroupRule:SecurityGroupRule"
	TypeIngressRule       = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	TypeEgressRule        = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	TypeDBInstance        = "aws:rds/instance:Instance"
	TypeDBParameterGroup  = "aws:rds/parameterGroup:ParameterGroup"
	TypePGRole            = "postgresql:index/role:Role"
	TypePGFunction        = "postgresql:index/function:Function"
	TypePGUserMapping     = "postgresql:index/userMapping:UserMapping"
	TypePGGrant           = "postgresql:index/grant:Grant"
	TypePGDatabase        = "postgresql:index/database:Database"
	TypeDBSubnetGroupType = "aws:rds/subnetGroup:SubnetGroup"
)

// RequiredTags are the tags every taggable resource of the platform carries.
var RequiredTags = []string{"Environment", "ManagedBy", "CostCenter"}
