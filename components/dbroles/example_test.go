package dbroles_test

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/postgis-platform/deployer/components/dbroles"
)

// An ETL writer and a tile-server reader for the "gis" database, with PostGIS
// installed; passwords come from secret config.
func Example() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		_, err := dbroles.New(ctx, "gis", dbroles.Args{
			Database:   "gis",
			Schemas:    []string{"public", "etl"},
			TableOwner: "gis_owner",
			Workflow:   dbroles.Role{Name: "etl_writer", Password: cfg.RequireSecret("etlPassword")},
			ReadOnly:   &dbroles.Role{Name: "tile_reader", Password: cfg.RequireSecret("tileReaderPassword")},
			PostGIS:    true,
		})
		return err
	})
}
