package policypack

var sgTypes = []string{TypeSecurityGroup, TypeSGRule, TypeIngressRule, TypeEgressRule}

// Rules is the baseline, in report order.
var Rules = []Rule{
	{ID: SGNoPublicDBIngress, Level: Mandatory, Types: sgTypes, check: checkPublicDBIngress,
		Rationale: "The database port is never reachable from the internet; clients come from security groups, subnets or prefix lists."},
	{ID: SGDescriptions, Level: Advisory, Types: sgTypes, check: checkDescriptions,
		Rationale: "Every group and rule says why it exists, so reviews and incident responders can tell what a rule is for."},
	{ID: SGNoMixedInlineRules, Level: Mandatory, Types: []string{TypeSecurityGroup}, CrossResource: true, stack: crossMixedInline,
		Rationale: "Inline and standalone rules on one group overwrite each other on every apply, revoking live rules."},
	{ID: SGNoUnrestrictedEgress, Level: Mandatory, Types: sgTypes, check: checkUnrestrictedEgress,
		Rationale: "Egress is explicit: all traffic to anywhere makes exfiltration trivial."},
	{ID: SGNoWorldEgress, Level: Advisory, Types: sgTypes, check: checkWorldEgress,
		Rationale: "Egress to the internet, even on one port, is a way out for data; send it to a VPC endpoint, a proxy or a prefix list instead."},
	{ID: SGRequiredTags, Level: Advisory, Types: []string{TypeSecurityGroup, TypeIngressRule, TypeEgressRule}, check: checkRequiredTags,
		Rationale: "Environment, ManagedBy and CostCenter tags make ownership and cost visible."},
	{ID: RDSStorageEncrypted, Level: Mandatory, Types: []string{TypeDBInstance}, check: checkRDSInstance(RDSStorageEncrypted),
		Rationale: "Data at rest is encrypted; turning it on later needs a new instance."},
	{ID: RDSNotPublic, Level: Mandatory, Types: []string{TypeDBInstance}, check: checkRDSInstance(RDSNotPublic),
		Rationale: "The instance has no public address; CI reaches it from inside the VPC."},
	{ID: RDSForceSSL, Level: Mandatory, Types: []string{TypeDBInstance, TypeDBParameterGroup}, CrossResource: true,
		check: func(cfg Config, r Resource) []finding {
			if r.Type == TypeDBParameterGroup {
				return checkParameterGroup(RDSForceSSL)(cfg, r)
			}
			return checkRDSInstance(RDSForceSSL)(cfg, r)
		}, stack: crossForceSSL,
		Rationale: "The server refuses unencrypted sessions (rds.force_ssl=1 in the attached parameter group)."},
	{ID: RDSTLSFloor, Level: Mandatory, Types: []string{TypeDBParameterGroup}, check: checkParameterGroup(RDSTLSFloor),
		Rationale: "TLS below 1.2 is refused by the server (ssl_min_protocol_version)."},
	{ID: RDSAuditLog, Level: Mandatory, Types: []string{TypeDBParameterGroup}, check: checkParameterGroup(RDSAuditLog),
		Rationale: "Role and DDL statements land in the server log with who ran them (pgaudit), so a GRANT that opens a tenant's data is on record."},
	{ID: RDSDeletionProtection, Level: Mandatory, Types: []string{TypeDBInstance}, check: checkRDSInstance(RDSDeletionProtection),
		Rationale: "A stray delete cannot drop the database."},
	{ID: RDSBackupRetention, Level: Mandatory, Types: []string{TypeDBInstance}, check: checkRDSInstance(RDSBackupRetention),
		Rationale: "Automated backups are kept long enough to recover from a bad migration noticed late."},
	{ID: RDSMultiAZProduction, Level: Mandatory, Types: []string{TypeDBInstance}, check: checkRDSInstance(RDSMultiAZProduction),
		Rationale: "Production survives the loss of an availability zone."},
	{ID: RDSIAMAuth, Level: Advisory, Types: []string{TypeDBInstance}, check: checkRDSInstance(RDSIAMAuth),
		Rationale: "Services can log in with short-lived IAM tokens instead of stored passwords."},
	{ID: RDSModernCA, Level: Mandatory, Types: []string{TypeDBInstance}, check: checkRDSInstance(RDSModernCA),
		Rationale: "The server certificate chains to a current RDS CA, so verify-full keeps working."},
	{ID: RDSPerformanceInsightKMS, Level: Advisory, Types: []string{TypeDBInstance}, check: checkRDSInstance(RDSPerformanceInsightKMS),
		Rationale: "Performance Insights (which holds query text) is encrypted with a customer key."},
	{ID: RDSLogExports, Level: Advisory, Types: []string{TypeDBInstance}, check: checkRDSInstance(RDSLogExports),
		Rationale: "Connection and error logs leave the instance for audit (CloudWatch)."},
	{ID: RDSManagedMasterPassword, Level: Mandatory, Types: []string{TypeDBInstance}, check: checkRDSInstance(RDSManagedMasterPassword),
		Rationale: "The master password lives in Secrets Manager, never in code or state."},
	{ID: PGRoleLeastPrivilege, Level: Mandatory, Types: []string{TypePGRole}, check: checkRoleAttributes,
		Rationale: "Workflow and utility roles never hold superuser-like attributes."},
	{ID: PGRoleNoMembership, Level: Mandatory, Types: []string{TypePGRole}, check: checkRoleMembership,
		Rationale: "A managed role gets its rights from grants alone; membership in another role (the admin, the utility role) hands it that role's rights without a grant anyone reviews."},
	{ID: PGNoOpenDatabase, Level: Mandatory, Types: []string{TypePGDatabase}, check: checkOpenDatabase,
		Rationale: "Nobody but its owner enters a database without a visible GRANT: PUBLIC holds neither CONNECT nor TEMPORARY (the drift audit reads every database the admin administers)."},
	{ID: PGDefinerSearchPath, Level: Mandatory, Types: []string{TypePGFunction}, check: checkDefinerSearchPath,
		Rationale: "A SECURITY DEFINER function pins search_path, or a caller can hijack name resolution and run code as its owner."},
	{ID: PGUserMappingSecret, Level: Mandatory, Types: []string{TypePGUserMapping}, check: checkMappingSecret,
		Rationale: "User mapping options carry a password; they stay secret in state and outputs."},
	{ID: PGNoPublicGrants, Level: Mandatory, Types: []string{TypePGGrant}, check: checkPublicGrant,
		Rationale: "Nothing is granted to PUBLIC; a Grant to public with no privileges is the revoke."},
}
