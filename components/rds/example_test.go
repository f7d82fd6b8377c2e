package rds_test

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/components/rds"
	"github.com/postgis-platform/deployer/components/securitygroup"
	"github.com/postgis-platform/deployer/components/tags"
)

// PostGIS on RDS behind the hardened security group of the seed's topology.
func Example() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		t := tags.Set{Environment: "prod", CostCenter: "gis-42"}
		sg, err := securitygroup.New(ctx, "postgis", securitygroup.Args{
			VpcID:       pulumi.String("vpc-0abc"),
			Description: "PostGIS database",
			Ingress: []securitygroup.Rule{
				{Key: "tile-servers", Description: "tile servers", FromPort: 5432, SecurityGroupID: pulumi.String("sg-0tiles")},
				{Key: "etl", Description: "ETL subnet", FromPort: 5432, CIDRIPv4: "10.20.30.0/24"},
			},
			Tags: t,
		})
		if err != nil {
			return err
		}
		db, err := rds.New(ctx, "postgis", rds.Args{
			EngineVersion:    "16.4",
			DBName:           "gis",
			SubnetIDs:        pulumi.ToStringArray([]string{"subnet-0a", "subnet-0b"}),
			SecurityGroupIDs: pulumi.StringArray{sg.ID.ToStringOutput()},
			KMSKeyID:         pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/postgis"),
			Production:       true,
			Tags:             t,
		})
		if err != nil {
			return err
		}
		ctx.Export("endpoint", db.Endpoint)
		ctx.Export("masterSecretArn", db.MasterSecretARN)
		return nil
	})
}
