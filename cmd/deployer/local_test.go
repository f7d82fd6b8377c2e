package main

import (
	"context"
	"testing"

	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
	"github.com/postgis-platform/deployer/internal/testkit/pgtest"
)

// editCloud makes the console edits of the drift scenario in the AWS
// stand-in's cloud and returns the group's ID.
func (d *deployed) editCloud(t *testing.T) string {
	t.Helper()
	var groupID string
	err := d.AWSCloud().Update(func(c *standin.Cloud) error {
		for _, o := range c.OfType(aws.TypeIngressRule) {
			if o.Props["cidrIpv4"] == "10.20.30.0/24" {
				o.Props["cidrIpv4"] = "0.0.0.0/0"
				groupID, _ = o.Props["securityGroupId"].(string)
			}
		}
		c.Objects["sgr-byhand"] = &standin.Object{Type: aws.TypeIngressRule, ID: "sgr-byhand", Props: map[string]any{
			"securityGroupId": groupID, "ipProtocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0, "cidrIpv4": "192.168.7.0/24",
		}}
		return nil
	})
	if err != nil || groupID == "" {
		t.Fatalf("edit cloud: %v (group %q)", err, groupID)
	}
	return groupID
}

// psql runs SQL as the superuser, like an operator at a psql prompt.
func (d *deployed) psql(t *testing.T, sql string) {
	t.Helper()
	c := d.PG.Super(t, "postgres")
	pgtest.Exec(t, c, sql)
	_ = c.Close(context.Background())
}
