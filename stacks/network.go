package stacks

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// checkNetwork looks the config's network up in the account before the
// program registers anything, so a wrong ID fails the preview with the
// config key to fix. Otherwise AWS refuses it half-way through an update:
// CreateDBSubnetGroup (a subnet that does not exist, subnets of two VPCs or
// of one availability zone), CreateDBInstance (its security group in another
// VPC than its subnets), AuthorizeSecurityGroupIngress (a peer group that
// does not exist).
func checkNetwork(ctx *pulumi.Context, c Config) error {
	subnets, group := lookupNetwork(ctx, c)
	zones := map[string]bool{}
	for i, id := range c.SubnetIDs {
		s, err := subnets[i].subnet, subnets[i].err
		if err != nil {
			return fmt.Errorf("config subnetIds: subnet %s: %s; list the database's private subnets in %s", id, lookupCause(err), c.VpcID)
		}
		if s.VpcId != c.VpcID {
			return fmt.Errorf("config subnetIds: subnet %s is in %s, not in vpcId %s; the database's subnets and its security group must be in one VPC", id, s.VpcId, c.VpcID)
		}
		zones[s.AvailabilityZone] = true
	}
	if len(zones) < 2 {
		return fmt.Errorf("config subnetIds: every subnet is in %s; RDS needs subnets in at least two availability zones", strings.Join(slices.Sorted(maps.Keys(zones)), ", "))
	}
	g, err := group.group, group.err
	if err != nil {
		return fmt.Errorf("config tileServerSecurityGroupId: group %s: %s; give the ID of the tile servers' security group", c.TileServerGroupID, lookupCause(err))
	}
	if g.VpcId != c.VpcID {
		// EC2 refuses a rule that references a group of another VPC.
		return fmt.Errorf("config tileServerSecurityGroupId: group %s is in %s, not in vpcId %s; a rule can reference only a group of its own VPC: give the tile servers' group in %s", c.TileServerGroupID, g.VpcId, c.VpcID, c.VpcID)
	}
	return nil
}

type subnetLookup struct {
	subnet *ec2.LookupSubnetResult
	err    error
}

type groupLookup struct {
	group *ec2.LookupSecurityGroupResult
	err   error
}

// lookupNetwork looks the config's subnets and the tile servers' group up
// all at once: nothing is registered until they answer, so in every run
// (drift's included) they stand at the head of the program's chain.
func lookupNetwork(ctx *pulumi.Context, c Config) ([]subnetLookup, groupLookup) {
	subnets := make([]subnetLookup, len(c.SubnetIDs))
	var group groupLookup
	var wg sync.WaitGroup
	for i, id := range c.SubnetIDs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			subnets[i].subnet, subnets[i].err = ec2.LookupSubnet(ctx, &ec2.LookupSubnetArgs{Id: pulumi.StringRef(id)})
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		group.group, group.err = ec2.LookupSecurityGroup(ctx, &ec2.LookupSecurityGroupArgs{Id: pulumi.StringRef(c.TileServerGroupID)})
	}()
	wg.Wait()
	return subnets, group
}

// lookupCause is the provider's answer without the SDK's wrapping.
func lookupCause(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "returned an error: "); i >= 0 {
		msg = msg[i+len("returned an error: "):]
	}
	if strings.Contains(msg, "no matching") {
		return "not found in this account and region (" + strings.TrimSpace(msg) + ")"
	}
	return strings.TrimSpace(msg)
}
