package aws

import (
	"context"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/internal/standin"
)

// TestNetworkRefusals: one row per network refusal of the EC2 and RDS APIs
// that the stand-in ports, each naming where the real provider returns it.
// The cloud holds vpc-1 (subnet-a, subnet-b, peer group sg-t) and vpc-2
// (subnet-c, subnet-d).
func TestNetworkRefusals(t *testing.T) {
	type step struct {
		typ   string
		props map[string]any
	}
	dbIn := func(group, subnets string) map[string]any {
		return map[string]any{"identifier": "db1", "engine": "postgres", "engineVersion": "16", "dbSubnetGroupName": subnets,
			"vpcSecurityGroupIds": []any{group}}
	}
	tests := []struct {
		name, upstream string
		setup          []step // created first; "$0", "$1" in later props name their IDs
		typ            string
		props          map[string]any
		want           string // "" when it is accepted
	}{
		{"group in a VPC that does not exist", "ec2/vpc_security_group.go resourceSecurityGroupCreate (CreateSecurityGroup)",
			nil, TypeSecurityGroup, map[string]any{"name": "g", "vpcId": "vpc-nope"}, "InvalidVpcID.NotFound"},
		{"group in the default VPC", "ec2/vpc_security_group.go vpc_id Optional+Computed",
			nil, TypeSecurityGroup, map[string]any{"name": "g"}, ""},
		{"rule referencing a group that does not exist", "ec2/vpc_security_group_ingress_rule.go securityGroupRuleResource.Create",
			[]step{{TypeSecurityGroup, map[string]any{"name": "g", "vpcId": "vpc-1"}}}, TypeIngressRule,
			map[string]any{"securityGroupId": "$0", "ipProtocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0, "referencedSecurityGroupId": "sg-gone"}, "InvalidGroup.NotFound"},
		{"rule referencing a peer group", "ec2/vpc_security_group_ingress_rule.go securityGroupRuleResource.Create",
			[]step{{TypeSecurityGroup, map[string]any{"name": "g", "vpcId": "vpc-1"}}}, TypeIngressRule,
			map[string]any{"securityGroupId": "$0", "ipProtocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0, "referencedSecurityGroupId": "sg-t"}, ""},
		{"subnet group with a subnet that does not exist", "rds/subnet_group.go resourceSubnetGroupCreate (CreateDBSubnetGroup)",
			nil, TypeSubnetGroup, map[string]any{"name": "s", "subnetIds": []any{"subnet-a", "subnet-nope"}}, "InvalidSubnet"},
		{"subnet group over two VPCs", "rds/subnet_group.go resourceSubnetGroupCreate (CreateDBSubnetGroup)",
			nil, TypeSubnetGroup, map[string]any{"name": "s", "subnetIds": []any{"subnet-a", "subnet-c"}}, "InvalidSubnet"},
		{"subnet group in one availability zone", "rds/subnet_group.go resourceSubnetGroupCreate (CreateDBSubnetGroup)",
			nil, TypeSubnetGroup, map[string]any{"name": "s", "subnetIds": []any{"subnet-a"}}, "DBSubnetGroupDoesNotCoverEnoughAZs"},
		{"instance and group in different VPCs", "rds/instance.go resourceDBInstanceCreate (CreateDBInstance)",
			[]step{{TypeSecurityGroup, map[string]any{"name": "g", "vpcId": "vpc-1"}}, {TypeSubnetGroup, map[string]any{"name": "s", "subnetIds": []any{"subnet-c", "subnet-d"}}}},
			TypeInstance, dbIn("$0", "$1"), "InvalidParameterCombination: The DB instance and EC2 security group are in different VPCs"},
		{"instance with a subnet group that does not exist", "rds/instance.go resourceDBInstanceCreate (CreateDBInstance)",
			[]step{{TypeSecurityGroup, map[string]any{"name": "g", "vpcId": "vpc-1"}}}, TypeInstance, dbIn("$0", "nope"), "DBSubnetGroupNotFoundFault"},
		{"instance, group and subnets in one VPC", "rds/instance.go resourceDBInstanceCreate (CreateDBInstance)",
			[]step{{TypeSecurityGroup, map[string]any{"name": "g", "vpcId": "vpc-1"}}, {TypeSubnetGroup, map[string]any{"name": "s", "subnetIds": []any{"subnet-a", "subnet-b"}}}},
			TypeInstance, dbIn("$0", "$1"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := networkProvider(t)
			ctx := context.Background()
			var ids []string
			for _, s := range tc.setup {
				id, _, err := p.Types[s.typ].Impl.Create(ctx, "", s.props)
				if err != nil {
					t.Fatalf("setup %s: %v", s.typ, err)
				}
				ids = append(ids, id)
			}
			_, _, err := p.Types[tc.typ].Impl.Create(ctx, "", fill(tc.props, ids))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("%s (%s): refused: %v", tc.name, tc.upstream, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("%s (%s): got %v, want %s", tc.name, tc.upstream, err, tc.want)
			}
		})
	}
}

// TestNetworkUpdateRefusals: ModifyDBSubnetGroup to another VPC's subnets,
// and ModifyDBInstance moving to another subnet group of the same VPC
// (InvalidVPCNetworkStateFault), both refused with nothing changed; a delete
// of a subnet group in use is refused.
func TestNetworkUpdateRefusals(t *testing.T) {
	p := networkProvider(t)
	ctx := context.Background()
	create := func(typ string, props map[string]any) string {
		id, _, err := p.Types[typ].Impl.Create(ctx, "", props)
		if err != nil {
			t.Fatalf("create %s: %v", typ, err)
		}
		return id
	}
	g := create(TypeSecurityGroup, map[string]any{"name": "g", "vpcId": "vpc-1"})
	s1 := create(TypeSubnetGroup, map[string]any{"name": "s1", "subnetIds": []any{"subnet-a", "subnet-b"}})
	s2 := create(TypeSubnetGroup, map[string]any{"name": "s2", "subnetIds": []any{"subnet-a", "subnet-b"}})
	db := create(TypeInstance, map[string]any{"identifier": "db1", "engine": "postgres", "engineVersion": "16", "dbSubnetGroupName": s1, "vpcSecurityGroupIds": []any{g}})

	_, err := p.Types[TypeSubnetGroup].Impl.Update(ctx, s1, nil, map[string]any{"name": "s1", "subnetIds": []any{"subnet-c", "subnet-d"}})
	if err == nil || !strings.Contains(err.Error(), "not in the same Vpc") {
		t.Fatalf("subnet group moved to another VPC's subnets: %v", err)
	}
	_, err = p.Types[TypeInstance].Impl.Update(ctx, db, nil, map[string]any{"identifier": "db1", "engine": "postgres", "engineVersion": "16",
		"dbSubnetGroupName": s2, "vpcSecurityGroupIds": []any{g}})
	if err == nil || !strings.Contains(err.Error(), "InvalidVPCNetworkStateFault") || !strings.Contains(err.Error(), "db1") {
		t.Fatalf("instance moved to another subnet group of its VPC: %v", err)
	}
	if err := p.Types[TypeSubnetGroup].Impl.Delete(ctx, s1, nil); err == nil || !strings.Contains(err.Error(), "InvalidDBSubnetGroupStateFault") {
		t.Fatalf("delete of a subnet group in use: %v", err)
	}
	out, _, err := p.Types[TypeInstance].Impl.Read(ctx, db, nil, nil)
	if err != nil || out["dbSubnetGroupName"] != s1 {
		t.Fatalf("after the refused move the instance is in %v (%v), want %s", out["dbSubnetGroupName"], err, s1)
	}
	sn, _, _ := p.Types[TypeSubnetGroup].Impl.Read(ctx, s1, nil, nil)
	if sn["vpcId"] != "vpc-1" {
		t.Fatalf("subnet group's vpcId %v, want the subnets' VPC vpc-1", sn["vpcId"])
	}
}

// TestNetworkLookups: the aws_subnet and aws_security_group data sources by
// ID, and their not-found error (tfresource.SingularDataSourceFindError).
func TestNetworkLookups(t *testing.T) {
	p := networkProvider(t)
	ctx := context.Background()
	sub, err := p.Invokes[FnSubnet](ctx, map[string]any{"id": "subnet-c"})
	if err != nil || sub["vpcId"].StringValue() != "vpc-2" || sub["availabilityZone"].StringValue() != "eu-west-1a" {
		t.Fatalf("subnet-c: %v %v", sub, err)
	}
	if _, err := p.Invokes[FnSubnet](ctx, map[string]any{"id": "subnet-nope"}); err == nil || !strings.Contains(err.Error(), "no matching EC2 Subnet found") {
		t.Fatalf("missing subnet: %v", err)
	}
	sg, err := p.Invokes[FnSecurityGroup](ctx, map[string]any{"id": "sg-t"})
	if err != nil || sg["vpcId"].StringValue() != "vpc-1" {
		t.Fatalf("sg-t: %v %v", sg, err)
	}
	if _, err := p.Invokes[FnSecurityGroup](ctx, map[string]any{"id": "sg-nope"}); err == nil || !strings.Contains(err.Error(), "no matching EC2 Security Group found") {
		t.Fatalf("missing group: %v", err)
	}
}

func networkProvider(t *testing.T) *standin.Provider {
	t.Helper()
	dir := t.TempDir()
	err := standin.Store{Dir: dir}.Update(func(c *standin.Cloud) error {
		return Seed(c,
			Network{VpcID: "vpc-1", Subnets: map[string]string{"subnet-a": "eu-west-1a", "subnet-b": "eu-west-1b"}, Groups: []string{"sg-t"}},
			Network{VpcID: "vpc-2", Subnets: map[string]string{"subnet-c": "eu-west-1a", "subnet-d": "eu-west-1b"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewProvider(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fill replaces "$i" values (also inside lists) with the i-th setup ID.
func fill(props map[string]any, ids []string) map[string]any {
	out := standin.Copy(props)
	sub := func(v any) any {
		if s, ok := v.(string); ok && strings.HasPrefix(s, "$") && len(s) == 2 {
			return ids[s[1]-'0']
		}
		return v
	}
	for k, v := range out {
		if l, ok := v.([]any); ok {
			nl := make([]any, len(l))
			for i, e := range l {
				nl[i] = sub(e)
			}
			out[k] = nl
			continue
		}
		out[k] = sub(v)
	}
	return out
}

// TestNetworkRefusalsOfUpdates: a rule updated to reference a group of
// another VPC or to duplicate another rule is refused (ModifySecurityGroupRules),
// and a subnet group cannot drop the subnet its instance runs in
// (ModifyDBSubnetGroup's SubnetAlreadyInUse).
func TestNetworkRefusalsOfUpdates(t *testing.T) {
	p, err := seededProvider(t)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := (standin.Store{Dir: dirOf(t, p)}).Update(func(c *standin.Cloud) error {
		return Seed(c, Network{VpcID: "vpc-1", Subnets: map[string]string{"subnet-d": "eu-west-1c"}},
			Network{VpcID: "vpc-2", Subnets: map[string]string{"subnet-c": "eu-west-1a"}, Groups: []string{"sg-other"}})
	}); err != nil {
		t.Fatal(err)
	}
	gid, _, err := p.Types[TypeSecurityGroup].Impl.Create(ctx, "", map[string]any{"description": "db", "vpcId": "vpc-1"})
	if err != nil {
		t.Fatal(err)
	}
	rules := p.Types[TypeIngressRule].Impl
	base := map[string]any{"securityGroupId": gid, "ipProtocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0}
	if _, _, err := rules.Create(ctx, "", with(base, "referencedSecurityGroupId", "sg-other")); err == nil || !strings.Contains(err.Error(), "different networks") {
		t.Fatalf("create referencing a group of another VPC: %v", err)
	}
	a, _, err := rules.Create(ctx, "", with(base, "cidrIpv4", "10.0.1.0/24"))
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := rules.Create(ctx, "", with(base, "cidrIpv4", "10.0.2.0/24"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rules.Update(ctx, b, nil, with(base, "cidrIpv4", "10.0.1.0/24")); err == nil || !strings.Contains(err.Error(), "InvalidPermission.Duplicate") || !strings.Contains(err.Error(), a) {
		t.Fatalf("update to a duplicate of %s: %v", a, err)
	}
	if _, err := rules.Update(ctx, b, nil, with(base, "referencedSecurityGroupId", "sg-other")); err == nil || !strings.Contains(err.Error(), "different networks") {
		t.Fatalf("update referencing a group of another VPC: %v", err)
	}
	if _, err := rules.Update(ctx, b, nil, with(base, "cidrIpv4", "10.0.3.0/24")); err != nil {
		t.Fatalf("a plain CIDR change: %v", err)
	}
	sn, _, err := p.Types[TypeSubnetGroup].Impl.Create(ctx, "", map[string]any{"name": "db", "subnetIds": []any{"subnet-a", "subnet-b"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Types[TypeInstance].Impl.Create(ctx, "", map[string]any{"engine": "postgres", "engineVersion": "16", "dbSubnetGroupName": sn}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Types[TypeSubnetGroup].Impl.Update(ctx, sn, nil, map[string]any{"name": "db", "subnetIds": []any{"subnet-b", "subnet-d"}}); err == nil ||
		!strings.Contains(err.Error(), "SubnetAlreadyInUse") || !strings.Contains(err.Error(), "subnet-a") {
		t.Fatalf("dropping the instance's subnet: %v", err)
	}
	if _, err := p.Types[TypeSubnetGroup].Impl.Update(ctx, sn, nil, map[string]any{"name": "db", "subnetIds": []any{"subnet-a", "subnet-d"}}); err != nil {
		t.Fatalf("keeping the instance's subnet: %v", err)
	}
}
