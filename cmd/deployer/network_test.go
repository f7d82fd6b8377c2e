package main

import (
	"sort"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
)

// A network ID that AWS would refuse half-way through an update (a subnet
// that does not exist, subnets in one zone or in another VPC, a tile-server
// group that does not exist) fails the preview naming the config key:
// exit 1, nothing applied, the state and the cloud unchanged; the fixed
// config runs clean.
func TestWrongNetworkConfigFailsBeforeAnythingChanges(t *testing.T) {
	d := deployLocal(t)
	// A second subnet in eu-west-1a in the local VPC, and another VPC.
	err := d.AWSCloud().Update(func(c *standin.Cloud) error {
		return aws.Seed(c, aws.Network{VpcID: "vpc-0local", Subnets: map[string]string{"subnet-0a2": "eu-west-1a"}},
			aws.Network{VpcID: "vpc-9other", Subnets: map[string]string{"subnet-9b": "eu-west-1b"}, Groups: []string{"sg-9tiles"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	before, cloud := d.state(t), d.cloudIDs(t)
	rows := []struct{ key, value, want string }{
		{"subnetIds", "subnet-0a,subnet-0zz", "subnet subnet-0zz: not found in this account and region"},
		{"subnetIds", "subnet-0a,subnet-0a2", "every subnet is in eu-west-1a"},
		{"subnetIds", "subnet-0a,subnet-9b", "subnet subnet-9b is in vpc-9other, not in vpcId vpc-0local"},
		{"tileServerSecurityGroupId", "sg-0gone", "group sg-0gone: not found in this account and region"},
		{"tileServerSecurityGroupId", "sg-9tiles", "group sg-9tiles is in vpc-9other, not in vpcId vpc-0local"},
	}
	for _, row := range rows {
		d.setConfig(t, "subnetIds", "subnet-0a,subnet-0b")
		d.setConfig(t, "tileServerSecurityGroupId", "sg-0tileservers")
		d.setConfig(t, row.key, row.value)
		code, s, text := d.report(t, "up")
		if code != 1 || !strings.Contains(s.Error, "config "+row.key) || !strings.Contains(s.Error, row.want) {
			t.Fatalf("%s=%s: exit %d, error %q, want exit 1 naming %q\n%s", row.key, row.value, code, s.Error, row.want, text)
		}
		if d.state(t) != before || d.cloudIDs(t) != cloud {
			t.Fatalf("%s=%s: the failed up changed the state or the cloud", row.key, row.value)
		}
	}
	d.setConfig(t, "subnetIds", "subnet-0a,subnet-0b")
	d.setConfig(t, "tileServerSecurityGroupId", "sg-0tileservers")
	if code, s, text := d.report(t, "up"); code != 0 || s.Result != "clean" {
		t.Fatalf("up with the network fixed: exit %d %+v\n%s", code, s, text)
	}
}

func (d *deployed) cloudIDs(t *testing.T) string {
	t.Helper()
	var ids []string
	_ = d.AWSCloud().View(func(c *standin.Cloud) error {
		for id, o := range c.Objects {
			ids = append(ids, id+"="+o.Type)
		}
		return nil
	})
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

// A subnet list that drops the subnet the instance runs in is refused by RDS
// (SubnetAlreadyInUse): up exits 1 naming the subnet and the subnet group,
// nothing else changes, and the config put back runs clean.
func TestSubnetInUseCannotBeDropped(t *testing.T) {
	d := deployLocal(t)
	err := d.AWSCloud().Update(func(c *standin.Cloud) error {
		return aws.Seed(c, aws.Network{VpcID: "vpc-0local", Subnets: map[string]string{"subnet-0c": "eu-west-1c"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	cloud := d.cloudIDs(t)
	d.setConfig(t, "subnetIds", "subnet-0b,subnet-0c")
	code, s, text := d.report(t, "up")
	if code != 1 || !strings.Contains(s.Error, "SubnetAlreadyInUse") || !strings.Contains(s.Error, "subnet-0a") || !strings.Contains(s.Error, "SubnetGroup") ||
		!strings.Contains(s.Error, "config subnetIds") {
		t.Fatalf("dropping the instance's subnet: exit %d %s\n%s", code, s.Error, text)
	}
	if d.cloudIDs(t) != cloud {
		t.Fatal("the refused up changed the cloud")
	}
	d.setConfig(t, "subnetIds", "subnet-0a,subnet-0b,subnet-0c")
	if code, s, text := d.report(t, "up"); code != 0 || s.Result != "done" {
		t.Fatalf("adding a subnet and keeping the instance's: exit %d %s %s\n%s", code, s.Result, s.Error, text)
	}
}
