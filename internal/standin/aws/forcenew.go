package aws

import (
	"reflect"
	"strings"

	"github.com/postgis-platform/deployer/internal/standin"
)

// forceNew is the one table of the properties that replace a resource when
// they change, per type, as in pulumi-aws v6.83.0 (the ForceNew flags of
// terraform-provider-aws v5 internal/service/ec2 and internal/service/rds
// schemas). Everything else updates in place. Special cases live in replaceIf.
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

// optionalComputed are Optional+Computed inputs: removing one from the
// program is no change, the provider keeps the value it has.
// Upstream: terraform-plugin-sdk/v2 helper/schema schema.go diffString ("if
// o != nil && n == nil && schema.Computed" -> no diff); the attributes are
// Optional+Computed in internal/service/rds/instance.go (also engine,
// character_set_name, timezone), internal/service/ec2/vpc_security_group.go
// (vpc_id, name_prefix), rds/parameter_group.go and rds/subnet_group.go
// (name_prefix, create.NamePrefixSchema-style Optional+Computed).
var optionalComputed = map[string]map[string]bool{
	TypeInstance: {"kmsKeyId": true, "dbName": true, "username": true, "availabilityZone": true, "snapshotIdentifier": true,
		"engine": true, "characterSetName": true, "timezone": true},
	TypeSecurityGroup:  {"vpcId": true, "namePrefix": true},
	TypeParameterGroup: {"namePrefix": true},
	TypeSubnetGroup:    {"namePrefix": true},
}

// same decides the changes the real provider does not see.
func same(typ string) func(key string, olds, news map[string]any) bool {
	return func(key string, olds, news map[string]any) bool {
		if _, set := news[key]; !set && optionalComputed[typ][key] {
			return true
		}
		switch {
		case typ == TypeInstance && key == "engine":
			// instance.go: engine's StateFunc lower-cases it.
			return strings.EqualFold(standin.Str(olds, key), standin.Str(news, key))
		case typ == TypeParameterGroup && key == "parameters":
			return sameParameters(olds[key], news[key])
		}
		return false
	}
}

// sameParameters compares parameter sets as the provider does: a set hashed
// on name (lower-cased) and value, so order is no change, and applyMethod
// alone is no change either.
// Upstream: internal/service/rds/parameter_group.go parameterHash (a
// TypeSet); pulumi-aws provider/pkg/rds/parameter_group.go
// parameterGroupReconfigure (applyMethod Computed, out of the hash, a change
// to it alone cleared by CustomizeDiff).
func sameParameters(o, n any) bool {
	key := func(v any) map[string]string {
		out := map[string]string{}
		list, _ := v.([]any)
		for _, e := range list {
			m, _ := e.(map[string]any)
			out[strings.ToLower(standin.Str(m, "name"))] = standin.Str(m, "value")
		}
		return out
	}
	return reflect.DeepEqual(key(o), key(n))
}
