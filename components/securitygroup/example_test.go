package securitygroup_test

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/components/securitygroup"
	"github.com/postgis-platform/deployer/components/tags"
)

// The seed's topology: PostGIS reachable from the tile servers' security group
// and from the ETL subnet, HTTPS out to the private range, and a decoupled ETL
// rule on a group managed elsewhere.
func Example() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		t := tags.Set{Environment: "prod", CostCenter: "gis-42"}
		db, err := securitygroup.New(ctx, "postgis", securitygroup.Args{
			VpcID:       pulumi.String("vpc-0abc"),
			Description: "PostGIS database",
			Ingress: []securitygroup.Rule{
				{Key: "tile-servers", Description: "tile servers", FromPort: 5432, SecurityGroupID: pulumi.String("sg-0tiles")},
				{Key: "etl", Description: "ETL subnet", FromPort: 5432, CIDRIPv4: "10.20.30.0/24"},
			},
			Egress: []securitygroup.Rule{
				{Key: "patching", Description: "patching and metrics", FromPort: 443, CIDRIPv4: "10.0.0.0/8"},
			},
			Tags: t,
		})
		if err != nil {
			return err
		}
		_, err = securitygroup.NewStandaloneRule(ctx, "etl-ingress", securitygroup.StandaloneArgs{
			SecurityGroupID: db.ID,
			Rule:            securitygroup.Rule{Key: "etl-batch", Description: "batch ETL hosts", FromPort: 5432, CIDRIPv4: "10.20.40.0/24"},
			Tags:            t,
		})
		return err
	})
}
