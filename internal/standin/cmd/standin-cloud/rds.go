package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/postgis-platform/deployer/dbconn"
	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
	pgstandin "github.com/postgis-platform/deployer/internal/standin/postgresql"
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

// cmdRotateMasterSecret is Secrets Manager's rotation of an instance's
// managed master secret, on the local server the instance stands for (as
// the superuser of $DEPLOYER_STANDIN_PG_SUPERUSER, over TLS with the CA in
// $DEPLOYER_PG_CA).
func cmdRotateMasterSecret(store standin.Store, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: rotate-master-secret DB-ID (Secrets Manager rotates the managed master password: the old one stops working at once)")
	}
	version, err := aws.RotateMasterSecret(store, args[1], setPasswordAsSuperuser)
	if err == nil {
		fmt.Printf("%s: master secret rotated (version %s)\n", args[1], version)
	}
	return err
}

// setPasswordAsSuperuser sets user's password on the local server.
func setPasswordAsSuperuser(user, password string) error {
	host, portText, ok := strings.Cut(os.Getenv(aws.DBEndpointEnv), ":")
	port, err := strconv.Atoi(portText)
	super, pwFile := os.Getenv(pgstandin.SuperuserEnv), os.Getenv(pgstandin.SuperuserPasswordFileEnv)
	if !ok || err != nil || super == "" || pwFile == "" {
		return fmt.Errorf("set %s (host:port), %s and %s to reach the local server", aws.DBEndpointEnv, pgstandin.SuperuserEnv, pgstandin.SuperuserPasswordFileEnv)
	}
	ctx := context.Background()
	conn, err := dbconn.Connect(ctx, dbconn.Config{Host: host, Port: port, Database: "postgres", User: super,
		Password: dbconn.FromFile(pwFile), RootCert: os.Getenv("DEPLOYER_PG_CA"), ApplicationName: "standin-cloud/rotate"})
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "ALTER ROLE "+pgx.Identifier{user}.Sanitize()+" PASSWORD "+quoteLiteral(password))
	return err
}

// quoteLiteral is password as an SQL string literal (standard_conforming_strings).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// cmdMasterPassword prints the current password in an instance's managed
// master secret (aws secretsmanager get-secret-value, for the demo's check
// that no file it keeps holds it).
func cmdMasterPassword(store standin.Store, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: master-password DB-ID")
	}
	return store.View(func(c *standin.Cloud) error {
		pw, err := aws.MasterPassword(c, args[1])
		if err == nil {
			fmt.Println(pw)
		}
		return err
	})
}
