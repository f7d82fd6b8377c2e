package main

import (
	"fmt"
	"strings"

	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
)

// The RDS events a maintenance window brings.

func cmdUpgradeMinor(store standin.Store, args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("usage: upgrade-minor DB-ID VERSION (AWS's automatic minor version upgrade)")
	}
	return store.Update(func(c *standin.Cloud) error { return aws.UpgradeMinor(c, args[1], args[2]) })
}

func cmdMaintenance(store standin.Store, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: maintenance DB-ID (the maintenance window: RDS applies the pending modifications)")
	}
	return store.Update(func(c *standin.Cloud) error {
		applied, err := aws.RunMaintenance(c, args[1])
		switch {
		case err == nil && len(applied) == 0:
			fmt.Printf("%s: nothing pending\n", args[1])
		case err == nil:
			fmt.Printf("%s: applied %s\n", args[1], strings.Join(applied, ", "))
		}
		return err
	})
}
