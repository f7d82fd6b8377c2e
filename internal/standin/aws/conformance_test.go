package aws

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/testkit/standintest"
)

// TestAWSDiffConformance: one row per diff behaviour ported from
// terraform-provider-aws (through pulumi-aws v6.83.0), naming the upstream
// function; want is the list of changed keys and of replacing keys.
func TestAWSDiffConformance(t *testing.T) {
	p, err := seededProvider(t)
	if err != nil {
		t.Fatal(err)
	}
	inst := map[string]any{"engine": "postgres", "engineVersion": "16", "instanceClass": "db.t4g.medium", "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/k",
		"dbName": "gis", "username": "postgis_admin", "availabilityZone": "eu-west-1a", "storageEncrypted": true}
	params := []any{map[string]any{"name": "rds.force_ssl", "value": "1", "applyMethod": "immediate"}, map[string]any{"name": "log_connections", "value": "1", "applyMethod": "immediate"}}
	pg := map[string]any{"family": "postgres16", "name": "pg-1", "description": "d", "parameters": params}
	sg := map[string]any{"name": "sg-1", "description": "d", "vpcId": "vpc-1"}
	rows := []struct {
		name, upstream, typ string
		olds, news          map[string]any
		changed, replaces   []string
	}{
		{"instance: kmsKeyId removed from the program", "helper/schema diffString (Optional+Computed)", TypeInstance, inst, without(inst, "kmsKeyId"), nil, nil},
		{"instance: dbName removed", "helper/schema diffString (Optional+Computed)", TypeInstance, inst, without(inst, "dbName"), nil, nil},
		{"instance: username removed", "helper/schema diffString (Optional+Computed)", TypeInstance, inst, without(inst, "username"), nil, nil},
		{"instance: availabilityZone removed", "helper/schema diffString (Optional+Computed)", TypeInstance, inst, without(inst, "availabilityZone"), nil, nil},
		{"instance: kmsKeyId changed replaces", "rds/instance.go kms_key_id ForceNew", TypeInstance, inst, with(inst, "kmsKeyId", "arn:aws:kms:eu-west-1:123456789012:key/other"), []string{"kmsKeyId"}, []string{"kmsKeyId"}},
		{"instance: engine in another case", "rds/instance.go engine StateFunc strings.ToLower", TypeInstance, inst, with(inst, "engine", "POSTGRES"), nil, nil},
		{"instance: instanceClass updates in place", "rds/instance.go instance_class (not ForceNew)", TypeInstance, inst, with(inst, "instanceClass", "db.r6g.large"), []string{"instanceClass"}, nil},
		{"instance: engine removed", "helper/schema diffString (engine Optional+Computed)", TypeInstance, inst, without(inst, "engine"), nil, nil},
		{"group: namePrefix removed", "helper/schema diffString (name_prefix Optional+Computed)", TypeSecurityGroup, with(sg, "namePrefix", "db-"), sg, nil, nil},
		{"parameter group: namePrefix removed", "helper/schema diffString (name_prefix Optional+Computed)", TypeParameterGroup, with(pg, "namePrefix", "pg-"), pg, nil, nil},
		{"group: vpcId removed from the program", "helper/schema diffString (vpc_id Optional+Computed)", TypeSecurityGroup, sg, without(sg, "vpcId"), nil, nil},
		{"group: vpcId changed replaces", "ec2/vpc_security_group.go vpc_id ForceNew", TypeSecurityGroup, sg, with(sg, "vpcId", "vpc-2"), []string{"vpcId"}, []string{"vpcId"}},
		{"parameter group: parameters reordered", "rds/parameter_group.go parameterHash (TypeSet)", TypeParameterGroup, pg, with(pg, "parameters", []any{params[1], params[0]}), nil, nil},
		{"parameter group: only applyMethod changed", "pulumi-aws rds/parameter_group.go parameterGroupReconfigure", TypeParameterGroup, pg,
			with(pg, "parameters", []any{map[string]any{"name": "rds.force_ssl", "value": "1", "applyMethod": "pending-reboot"}, params[1]}), nil, nil},
		{"parameter group: a value changed updates in place", "rds/parameter_group.go resourceParameterGroupUpdate", TypeParameterGroup, pg,
			with(pg, "parameters", []any{map[string]any{"name": "rds.force_ssl", "value": "0"}, params[1]}), []string{"parameters"}, nil},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			t.Logf("upstream: %s", r.upstream)
			resp, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{Urn: "urn:pulumi:s::p::" + r.typ + "::r", OldInputs: marshalT(t, r.olds), News: marshalT(t, r.news)})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(resp.GetDiffs(), r.changed) || !slices.Equal(resp.GetReplaces(), r.replaces) {
				t.Errorf("changed %v replaces %v; want %v %v", resp.GetDiffs(), resp.GetReplaces(), r.changed, r.replaces)
			}
		})
	}
}

func marshalT(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(resource.NewPropertyMapFromMap(m), plugin.MarshalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for k2, v2 := range m {
		out[k2] = v2
	}
	out[k] = v
	return out
}

func without(m map[string]any, k string) map[string]any {
	out := with(m, k, nil)
	delete(out, k)
	return out
}

// TestCompareActualEngineVersion: what Read reports as engineVersion.
// Upstream: internal/service/rds/instance.go compareActualEngineVersion.
func TestCompareActualEngineVersion(t *testing.T) {
	for _, tc := range []struct{ configured, actual, want string }{
		{"16", "16.8", "16"},     // a major version keeps its minor upgrades quiet
		{"16.4", "16.8", "16.8"}, // a pinned minor reads back as the running one
		{"16.8", "16.8", "16.8"},
		{"16", "17.2", "17.2"}, // a major change shows
		{"1", "16.8", "16.8"},  // "1." is not a prefix of "16.8"
	} {
		if got := compareActualEngineVersion(tc.configured, tc.actual); got != tc.want {
			t.Errorf("configured %s running %s: read %s, want %s", tc.configured, tc.actual, got, tc.want)
		}
	}
}

// TestGroupReadListsEveryRule: a group's ingress and egress outputs hold its
// standalone rules too. Upstream: vpc_security_group.go resourceSecurityGroupRead.
func TestGroupReadListsEveryRule(t *testing.T) {
	p, err := seededProvider(t)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	gid, _, err := p.Types[TypeSecurityGroup].Impl.Create(ctx, "", map[string]any{"name": "g", "description": "d", "vpcId": "vpc-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Types[TypeIngressRule].Impl.Create(ctx, "", map[string]any{"securityGroupId": gid, "ipProtocol": "tcp",
		"fromPort": 5432.0, "toPort": 5432.0, "cidrIpv4": "10.20.30.0/24", "description": "etl"}); err != nil {
		t.Fatal(err)
	}
	out, _, err := p.Types[TypeSecurityGroup].Impl.Read(ctx, gid, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := out["ingress"].([]any)
	eg, _ := out["egress"].([]any)
	if len(in) != 1 || len(eg) != 0 {
		t.Fatalf("ingress %v egress %v", in, eg)
	}
	if r := in[0].(map[string]any); r["fromPort"] != 5432.0 || r["description"] != "etl" || len(r["cidrBlocks"].([]any)) != 1 {
		t.Fatalf("rule as an inline permission: %v", r)
	}
	// A duplicate of it is refused (InvalidPermission.Duplicate).
	if _, _, err := p.Types[TypeIngressRule].Impl.Create(ctx, "", map[string]any{"securityGroupId": gid, "ipProtocol": "TCP",
		"fromPort": 5432.0, "toPort": 5432.0, "cidrIpv4": "10.20.30.0/24", "description": "again"}); err == nil || !strings.Contains(err.Error(), "InvalidPermission.Duplicate") {
		t.Fatalf("duplicate rule: %v", err)
	}
}

// seededProvider is a stand-in over a cloud holding vpc-1 and its subnets.
func seededProvider(t *testing.T) (*standin.Provider, error) {
	dir := t.TempDir()
	err := standin.Store{Dir: dir}.Update(func(c *standin.Cloud) error {
		return Seed(c, Network{VpcID: "vpc-1", Subnets: map[string]string{"subnet-a": "eu-west-1a", "subnet-b": "eu-west-1b"}, Groups: []string{"sg-t"}})
	})
	if err != nil {
		return nil, err
	}
	return NewProvider(dir)
}

// TestAWSReplaceOrUpdateEveryProperty: one row per property of each type,
// replace or update in place, as the upstream schema has it (ForceNew /
// RequiresReplace); each row names the schema function and line.
func TestAWSReplaceOrUpdateEveryProperty(t *testing.T) {
	p, err := seededProvider(t)
	if err != nil {
		t.Fatal(err)
	}
	s, num, flag := standintest.Strings, standintest.Numbers, standintest.Flags
	cat := func(lists ...[]standintest.Prop) []standintest.Prop { return slices.Concat(lists...) }
	standintest.CheckReplaceOrUpdate(t, p, []standintest.Row{
		{Type: TypeSecurityGroup, Upstream: "ec2/vpc_security_group.go resourceSecurityGroup (ForceNew l.73, l.83, l.94, l.115); resourceSecurityGroupUpdate",
			Replaces: s("description", "name", "namePrefix", "vpcId"),
			InPlace:  cat(flag("revokeRulesOnDelete"), []standintest.Prop{{Name: "tags", Old: map[string]any{"a": "1"}, New: map[string]any{"a": "2"}}})},
		{Type: TypeIngressRule, Upstream: "ec2/vpc_security_group_ingress_rule.go Schema (RequiresReplace l.220); Update (ModifySecurityGroupRules)",
			Replaces: s("securityGroupId"), InPlace: cat(s("ipProtocol", "description", "cidrIpv4"), num("fromPort", "toPort"))},
		{Type: TypeEgressRule, Upstream: "ec2/vpc_security_group_egress_rule.go (securityGroupRuleResource)",
			Replaces: s("securityGroupId"), InPlace: cat(s("ipProtocol", "description", "cidrIpv4"), num("fromPort", "toPort"))},
		{Type: TypeParameterGroup, Upstream: "rds/parameter_group.go resourceParameterGroup (ForceNew l.54-80); resourceParameterGroupUpdate l.240",
			Replaces: s("family", "name", "namePrefix", "description"), InPlace: flag("skipDestroy")},
		{Type: TypeSubnetGroup, Upstream: "rds/subnet_group.go resourceSubnetGroup (ForceNew l.56, l.64); resourceSubnetGroupUpdate l.156",
			Replaces: s("name", "namePrefix"), InPlace: s("description")},
		{Type: TypeInstance, Upstream: "rds/instance.go resourceInstance (ForceNew l.143-690); resourceInstanceUpdate l.2108",
			Replaces: cat(s("engine", "kmsKeyId", "dbName", "username", "availabilityZone", "snapshotIdentifier", "characterSetName",
				"ncharCharacterSetName", "timezone", "customIamInstanceProfile", "backupTarget"), flag("storageEncrypted")),
			InPlace: cat(s("identifier", "identifierPrefix", "instanceClass", "storageType", "password", "masterUserSecretKmsKeyId",
				"dbSubnetGroupName", "networkType", "caCertIdentifier", "parameterGroupName", "optionGroupName", "backupWindow",
				"maintenanceWindow", "monitoringRoleArn", "licenseModel", "finalSnapshotIdentifier"),
				num("allocatedStorage", "maxAllocatedStorage", "iops", "storageThroughput", "port", "backupRetentionPeriod", "monitoringInterval"),
				flag("manageMasterUserPassword", "multiAz", "publiclyAccessible", "autoMinorVersionUpgrade", "copyTagsToSnapshot",
					"deletionProtection", "iamDatabaseAuthenticationEnabled", "applyImmediately", "skipFinalSnapshot",
					"deleteAutomatedBackups", "allowMajorVersionUpgrade", "performanceInsightsEnabled"))},
	})
}
