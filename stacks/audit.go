package stacks

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/components/pgprovider"
	"github.com/postgis-platform/deployer/dbcheck"
	"github.com/postgis-platform/deployer/dbconn"
)

// OpenDatabasesPrefix starts the ephemeral log line in which the program
// reports the databases its admin administers that PUBLIC can enter, so a
// drift audit finds them whether or not the stack names them (no provider
// resource reads every database's ACL).
const OpenDatabasesPrefix = "deployer.open-databases "

// OpenDatabases is the payload after OpenDatabasesPrefix.
type OpenDatabases struct {
	Admin     string                 `json:"admin"`
	Databases []dbcheck.OpenDatabase `json:"databases"`
}

// ReportOpenDatabases logs (ephemerally, after OpenDatabasesPrefix) the
// databases admin administers (with tenantGroup's members' databases) that
// PUBLIC may enter, once the server's
// address and the admin's password are known. It logs in the way the
// postgresql provider does (verify-full with admin's CA bundle); a failed
// login fails the program, as it would fail the provider.
func ReportOpenDatabases(ctx *pulumi.Context, admin pgprovider.Connection, tenantGroup string) {
	pulumi.All(admin.Host, admin.Port, admin.Password).ApplyT(func(v []any) error {
		host, _ := v[0].(string)
		port, _ := v[1].(int)
		password, _ := v[2].(string)
		cfg := dbconn.Config{Host: host, Port: port, Database: "postgres", User: admin.Username, RootCert: admin.SSLRootCert,
			Password:        dbconn.SecretFunc("the admin's current password", func(context.Context) (string, error) { return password, nil }),
			ApplicationName: "deployer/" + ctx.Stack() + "/audit"}
		return reportOpenDatabases(ctx, cfg, tenantGroup)
	})
}

func reportOpenDatabases(ctx *pulumi.Context, cfg dbconn.Config, tenantGroup string) error {
	c := context.Background()
	conn, err := dbconn.Connect(c, cfg)
	if err != nil {
		return fmt.Errorf("audit the databases of %s: %w", cfg.User, err)
	}
	defer conn.Close(c)
	open, err := dbcheck.OpenDatabases(c, conn, cfg.User, tenantGroup)
	if err != nil {
		return err
	}
	if open == nil {
		open = []dbcheck.OpenDatabase{}
	}
	b, err := json.Marshal(OpenDatabases{Admin: cfg.User, Databases: open})
	if err != nil {
		return err
	}
	return ctx.Log.Info(OpenDatabasesPrefix+string(b), &pulumi.LogArgs{Ephemeral: true})
}
