package aws

// forceNew is the one table of the properties that replace a resource when
// they change, per type, as in pulumi-aws v6.83.0 (../shared/forcenew.md
// cites the provider sources). Everything else updates in place. Special
// cases live in replaceIf.
var forceNew = map[string][]string{
	TypeSecurityGroup:  {"description", "name", "namePrefix", "vpcId"},
	TypeIngressRule:    {"securityGroupId"},
	TypeEgressRule:     {"securityGroupId"},
	TypeParameterGroup: {"family", "name", "namePrefix", "description"},
	TypeSubnetGroup:    {"name", "namePrefix"},
	// identifier renames in place; identifierPrefix is create-only and never
	// replaces (both special cases of aws_db_instance).
	TypeInstance: {
		"engine", "storageEncrypted", "kmsKeyId", "dbName", "username", "availabilityZone",
		"snapshotIdentifier", "characterSetName", "ncharCharacterSetName", "timezone",
		"customIamInstanceProfile", "backupTarget", "restoreToPointInTime", "s3Import",
	},
}

// sourceFields are the four peers of a VPC security group rule; exactly one is set.
var sourceFields = []string{"cidrIpv4", "cidrIpv6", "prefixListId", "referencedSecurityGroupId"}

// replaceIf holds the special cases: a VPC rule is replaced when the kind of
// its source changes (CIDR to security group reference, …), not when the
// value of the same kind changes.
var replaceIf = map[string]func(olds, news map[string]any) []string{
	TypeIngressRule: ruleSourceKind,
	TypeEgressRule:  ruleSourceKind,
}

func sourceKind(m map[string]any) string {
	for _, f := range sourceFields {
		if s, ok := m[f].(string); ok && s != "" {
			return f
		}
	}
	return ""
}

func ruleSourceKind(olds, news map[string]any) []string {
	o, n := sourceKind(olds), sourceKind(news)
	if o == n || o == "" || n == "" {
		return nil
	}
	return []string{o, n}
}
