// Package policypack holds the hardened baseline as policies: pure functions
// over a resource's type token and properties, run by the Pulumi engine as a
// policy pack and by the deployer's own gates.
package policypack

// Rule ids. Components record the ids a user explicitly relaxed in the
// ExemptTag tag, and the policies report those as advisory.
const (
	SGNoPublicDBIngress      = "sg-no-public-db-ingress"
	SGDescriptions           = "sg-descriptions"
	SGNoMixedInlineRules     = "sg-no-mixed-inline-rules"
	SGNoUnrestrictedEgress   = "sg-no-unrestricted-egress"
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
)

// ExemptTag is the tag (or label) in which a component lists the rule ids its
// user relaxed, separated by spaces (AWS tag values allow no commas).
const ExemptTag = "deployer:exempt"
