package aws

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/postgis-platform/deployer/internal/standin"
)

// The network a stack lands in exists before it: a VPC, its subnets and the
// security groups of other teams (the tile servers'). The stand-in keeps
// them as cloud objects of these types; no program manages them.
const (
	TypeVpc    = "aws:ec2/vpc:Vpc"
	TypeSubnet = "aws:ec2/subnet:Subnet"

	FnSubnet        = "aws:ec2/getSubnet:getSubnet"
	FnSecurityGroup = "aws:ec2/getSecurityGroup:getSecurityGroup"
)

// Network is one VPC with its subnets (ID → availability zone) and the
// security groups that other teams made in it.
type Network struct {
	VpcID   string
	Subnets map[string]string
	Groups  []string
}

// Seed adds the networks to the cloud; objects already there are kept.
func Seed(c *standin.Cloud, networks ...Network) error {
	for _, n := range networks {
		if n.VpcID == "" {
			return fmt.Errorf("a network needs a VPC ID")
		}
		put(c, TypeVpc, n.VpcID, map[string]any{"id": n.VpcID, "arn": arn("ec2", "vpc/"+n.VpcID)})
		for id, az := range n.Subnets {
			put(c, TypeSubnet, id, map[string]any{"id": id, "vpcId": n.VpcID, "availabilityZone": az, "arn": arn("ec2", "subnet/"+id)})
		}
		for _, id := range n.Groups {
			put(c, TypeSecurityGroup, id, map[string]any{"id": id, "vpcId": n.VpcID, "name": id, "description": "another team's group",
				"ownerId": account, "arn": arn("ec2", "security-group/"+id), "tags": map[string]any{"Name": id}})
		}
	}
	return nil
}

func put(c *standin.Cloud, typ, id string, props map[string]any) {
	if _, ok := c.Objects[id]; !ok {
		c.Objects[id] = &standin.Object{Type: typ, ID: id, Props: props}
	}
}

// vpcOf is the VPC of a security group or subnet, "" when there is none.
func vpcOf(c *standin.Cloud, typ, id string) (string, bool) {
	o, ok := c.Objects[id]
	if !ok || o.Type != typ {
		return "", false
	}
	return standin.Str(o.Props, "vpcId"), true
}

// checkVpc refuses a security group in a VPC that does not exist.
// Upstream: the EC2 API error of CreateSecurityGroup, returned through
// terraform-provider-aws internal/service/ec2 vpc_security_group.go
// (resourceSecurityGroupCreate).
func checkVpc(c *standin.Cloud, vpcID string) error {
	if vpcID == "" {
		return nil // the default VPC
	}
	if o, ok := c.Objects[vpcID]; !ok || o.Type != TypeVpc {
		return fmt.Errorf("InvalidVpcID.NotFound: The vpc ID '%s' does not exist", vpcID)
	}
	return nil
}

// checkReferencedGroup refuses a rule whose peer group does not exist.
// Upstream: the EC2 API error of AuthorizeSecurityGroupIngress/Egress,
// returned through vpc_security_group_ingress_rule.go
// (securityGroupRuleResource.Create).
func checkReferencedGroup(c *standin.Cloud, props map[string]any) error {
	ref := standin.Str(props, "referencedSecurityGroupId")
	if ref == "" {
		return nil
	}
	refVpc, ok := vpcOf(c, TypeSecurityGroup, ref)
	if !ok {
		return fmt.Errorf("InvalidGroup.NotFound: The security group '%s' does not exist", ref)
	}
	// A group of another VPC is refused (the stand-in has no VPC peering).
	// Upstream: the EC2 API error for a reference across networks,
	// returned through vpc_security_group_ingress_rule.go (Create/Update).
	if own, ok := vpcOf(c, TypeSecurityGroup, standin.Str(props, "securityGroupId")); ok && own != refVpc {
		return fmt.Errorf("InvalidGroup.NotFound: You have specified two resources that belong to different networks (%s is in %s, the rule's group in %s)", ref, refVpc, own)
	}
	return nil
}

// subnetsVpc checks a subnet group's subnets as CreateDBSubnetGroup and
// ModifyDBSubnetGroup do and returns their VPC: every subnet exists, all in
// one VPC, covering at least two availability zones.
// Upstream: the RDS API errors InvalidSubnet and
// DBSubnetGroupDoesNotCoverEnoughAZs, returned through
// internal/service/rds/subnet_group.go (resourceSubnetGroupCreate/Update).
func subnetsVpc(c *standin.Cloud, ids []string) (string, error) {
	vpcs, zones := map[string]bool{}, map[string]bool{}
	for _, id := range ids {
		o, ok := c.Objects[id]
		if !ok || o.Type != TypeSubnet {
			return "", fmt.Errorf("InvalidSubnet: Some input subnets in :%v are invalid (subnet %s does not exist)", ids, id)
		}
		vpcs[standin.Str(o.Props, "vpcId")] = true
		zones[standin.Str(o.Props, "availabilityZone")] = true
	}
	if len(vpcs) != 1 {
		return "", fmt.Errorf("InvalidSubnet: Some input subnets in :%v are invalid (they are in %d VPCs)", ids, len(vpcs))
	}
	if len(zones) < 2 {
		return "", fmt.Errorf("DBSubnetGroupDoesNotCoverEnoughAZs: The DB subnet group doesn't meet Availability Zone (AZ) coverage requirement. Current AZ coverage: %s. Add subnets to cover at least 2 AZs.", strings.Join(slices.Sorted(maps.Keys(zones)), ", "))
	}
	return slices.Sorted(maps.Keys(vpcs))[0], nil
}

// createSubnetGroup names the group and takes its VPC from its subnets.
func createSubnetGroup(c *standin.Cloud, urn resource.URN, props map[string]any) (string, error) {
	vpc, err := subnetsVpc(c, standin.Strings(props, "subnetIds"))
	if err != nil {
		return "", err
	}
	id, err := createNamed("subgrp")(c, urn, props)
	props["vpcId"] = vpc
	return id, err
}

// updateSubnetGroup refuses subnets of another VPC.
// Upstream: ModifyDBSubnetGroup's InvalidParameterValue, through
// subnet_group.go resourceSubnetGroupUpdate.
func updateSubnetGroup(c *standin.Cloud, o *standin.Object, old map[string]any) error {
	vpc, err := subnetsVpc(c, standin.Strings(o.Props, "subnetIds"))
	if err != nil {
		return err
	}
	if was := standin.Str(old, "vpcId"); was != "" && was != vpc {
		return fmt.Errorf("InvalidParameterValue: The new Subnets are not in the same Vpc as the existing subnet group")
	}
	if err := subnetsInUse(c, o); err != nil {
		return err
	}
	o.Props["vpcId"] = vpc
	return nil
}

// subnetsInUse refuses a subnet group change that drops the subnet an
// instance of the group runs in (the stand-in places an instance in the
// first of its group's subnets at create).
// Upstream: the RDS API error SubnetAlreadyInUse from ModifyDBSubnetGroup,
// through internal/service/rds/subnet_group.go resourceSubnetGroupUpdate.
func subnetsInUse(c *standin.Cloud, group *standin.Object) error {
	keep := map[string]bool{}
	for _, s := range standin.Strings(group.Props, "subnetIds") {
		keep[s] = true
	}
	for _, db := range c.OfType(TypeInstance) {
		if standin.Str(db.Props, "dbSubnetGroupName") != group.ID {
			continue
		}
		if in := standin.Str(db.Props, subnetKey); in != "" && !keep[in] {
			return fmt.Errorf("SubnetAlreadyInUse: Some of the subnets to be deleted are currently in use: %s (DB instance %s)", in, db.ID)
		}
	}
	return nil
}

// subnetKey holds, in an instance's cloud object, the subnet it runs in;
// Read never returns it.
const subnetKey = "runsInSubnet"

// placeInstance puts a new instance in the first subnet of its group.
func placeInstance(c *standin.Cloud, props map[string]any) {
	if sn, ok := c.Objects[standin.Str(props, "dbSubnetGroupName")]; ok && sn.Type == TypeSubnetGroup {
		if ids := standin.Strings(sn.Props, "subnetIds"); len(ids) > 0 {
			props[subnetKey] = slices.Min(ids)
		}
	}
}

// checkInstanceNetwork refuses an instance whose security groups are not in
// its subnet group's VPC, and a move to another subnet group of the same VPC.
// Upstream: CreateDBInstance/ModifyDBInstance's InvalidParameterCombination
// and InvalidVPCNetworkStateFault, through internal/service/rds/instance.go
// (resourceDBInstanceCreate, resourceDBInstanceUpdate: db_subnet_group_name
// is updated in place, and AWS refuses the move within one VPC).
func checkInstanceNetwork(c *standin.Cloud, props, old map[string]any) error {
	name := standin.Str(props, "dbSubnetGroupName")
	sn, ok := c.Objects[name]
	if name == "" || !ok || sn.Type != TypeSubnetGroup {
		if name != "" {
			return fmt.Errorf("DBSubnetGroupNotFoundFault: DB subnet group '%s' does not exist", name)
		}
		return nil
	}
	vpc := standin.Str(sn.Props, "vpcId")
	for _, g := range standin.Strings(props, "vpcSecurityGroupIds") {
		gv, ok := vpcOf(c, TypeSecurityGroup, g)
		if !ok {
			return fmt.Errorf("InvalidParameterValue: Invalid security group, groupId= %s, groupName=null", g)
		}
		if gv != vpc {
			return fmt.Errorf("InvalidParameterCombination: The DB instance and EC2 security group are in different VPCs. The DB instance is in %s and the EC2 security group is in %s", vpc, gv)
		}
	}
	if was := standin.Str(old, "dbSubnetGroupName"); old != nil && was != "" && was != name {
		if o, ok := c.Objects[was]; ok && standin.Str(o.Props, "vpcId") == vpc {
			return fmt.Errorf("InvalidVPCNetworkStateFault: You cannot move DB instance %s to subnet group %s. The specified DB subnet group and DB instance are in the same VPC. Choose a DB subnet group in different VPC than the specified DB instance and try again.",
				standin.Str(props, "identifier"), name)
		}
	}
	return nil
}

// lookupSubnet answers the aws_subnet data source by ID.
// Upstream: internal/service/ec2 vpc_subnet_data_source.go
// (dataSourceSubnetRead: tfresource.SingularDataSourceFindError).
func lookupSubnet(store standin.Store, args map[string]any) (resource.PropertyMap, error) {
	return lookup(store, TypeSubnet, "EC2 Subnet", args, "id", "vpcId", "availabilityZone", "arn")
}

// lookupSecurityGroup answers the aws_security_group data source by ID.
// Upstream: internal/service/ec2 vpc_security_group_data_source.go
// (dataSourceSecurityGroupRead: tfresource.SingularDataSourceFindError).
func lookupSecurityGroup(store standin.Store, args map[string]any) (resource.PropertyMap, error) {
	return lookup(store, TypeSecurityGroup, "EC2 Security Group", args, "id", "vpcId", "name", "description", "arn")
}

func lookup(store standin.Store, typ, what string, args map[string]any, fields ...string) (resource.PropertyMap, error) {
	id := standin.Str(args, "id")
	if id == "" {
		return nil, fmt.Errorf("stand-in looks up a%s only by id", strings.TrimPrefix(what, "EC2"))
	}
	out := map[string]any{}
	err := store.View(func(c *standin.Cloud) error {
		o, ok := c.Objects[id]
		if !ok || o.Type != typ {
			return fmt.Errorf("no matching %s found", what)
		}
		for _, f := range fields {
			if v, ok := o.Props[f]; ok {
				out[f] = v
			}
		}
		out["id"] = id
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resource.NewPropertyMapFromMap(out), nil
}

// deleteSubnetGroup refuses to delete a subnet group an instance uses.
// Upstream: DeleteDBSubnetGroup's InvalidDBSubnetGroupStateFault, through
// subnet_group.go resourceSubnetGroupDelete.
func deleteSubnetGroup(c *standin.Cloud, o *standin.Object) error {
	for _, db := range c.OfType(TypeInstance) {
		if standin.Str(db.Props, "dbSubnetGroupName") == o.ID {
			return fmt.Errorf("InvalidDBSubnetGroupStateFault: Cannot delete the subnet group '%s' because at least one database instance: %s is still using it.", o.ID, db.ID)
		}
	}
	return nil
}
