package utilitydb_test

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/postgis-platform/deployer/components/pgprovider"
	"github.com/postgis-platform/deployer/components/utilitydb"
)

// A utility database on an RDS instance: the provider logs in as the master
// user; tenants are then created with utility.create_database.
func Example() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		_, err := utilitydb.New(ctx, "utility", utilitydb.Args{
			Admin: pgprovider.Connection{
				Host:        pulumi.String("postgis.abc123.eu-west-1.rds.amazonaws.com"),
				Username:    "postgis_admin",
				Password:    cfg.RequireSecret("adminPassword"),
				SSLRootCert: "certs/eu-west-1-bundle.pem",
			},
			UtilityRolePassword: cfg.RequireSecret("utilityRolePassword"),
			LoopbackRootCert:    "/rdsdbdata/rds-metadata/ca-cert.pem",
		})
		return err
	})
}
