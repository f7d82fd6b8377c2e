package stacks

import (
	"context"
	"encoding/json"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/components/pgprovider"
	"github.com/postgis-platform/deployer/dbcheck"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// VerifyPrefix starts the ephemeral log line in which a program run with
// Options.Verify reports the live database checks (VerifyReport). The checks
// log in with the admin credential the postgresql provider uses in the same
// run (the current value of the RDS master secret), so nothing outside the
// program holds a password.
const VerifyPrefix = "deployer.verify "

// VerifyReport is the payload after VerifyPrefix.
type VerifyReport struct {
	// Results are the checks that ran (a partial list when Error is set).
	Results []dbcheck.Result `json:"results"`
	// Error says why the checks could not all run (no login, say); never a
	// password.
	Error string `json:"error,omitempty"`
}

// VerifySpec is what the live database of a stack with config c must look
// like: PostGIS, the managed roles' attributes, PUBLIC locked out, the
// utility functions intact and the audit trail on.
func VerifySpec(c Config) dbcheck.Spec {
	owner := sqlfuncs.Options{UtilityRole: c.UtilityRole}.WithDefaults()
	return dbcheck.Spec{
		PostGISDatabases: []string{c.AppDatabase, c.TemplateDatabase},
		Roles: []dbcheck.Role{
			{Name: c.ETLRole, Login: true}, {Name: c.TileReaderRole, Login: true}, {Name: c.UtilityRole, Login: true},
			{Name: c.UtilityRole + sqlfuncs.TenantGroupSuffix, Group: true},
			{Name: c.AdminUsername, Login: true, Admin: true},
			// The functions' owner administers the tenant roles (a member of
			// each) through the functions, and hands new databases from its
			// loopback logins (a member of both) to them. The logins are
			// members of nothing.
			{Name: owner.Owner, Administers: true, CreateRole: true, CreateDB: true, MemberOf: []string{owner.LoopbackLogins()[0], owner.LoopbackLogins()[1]}},
			{Name: owner.LoopbackLogins()[0], Login: true, CreateDB: true, Members: []string{owner.Owner}},
			{Name: owner.LoopbackLogins()[1], Login: true, CreateDB: true, Members: []string{owner.Owner}},
		},
		SecuredDatabases: []string{c.AppDatabase, c.UtilityDatabase, c.TemplateDatabase},
		Admin:            c.AdminUsername,
		TenantGroup:      c.UtilityRole + sqlfuncs.TenantGroupSuffix,
		Audit:            true,
		Utility: &dbcheck.Utility{Database: c.UtilityDatabase, Owner: owner.Owner, Loopback: true,
			Options: c.utilityOptions()},
	}
}

// ReportVerify runs the live checks of spec once the server's address and
// the admin's credential are known in this run, and logs them (ephemerally,
// after VerifyPrefix). A check that cannot run is reported, not returned: the
// caller decides. When the address or the credential is not known (the
// instance is still to be made or replaced) nothing is logged, which the
// caller must treat as "not verified".
func ReportVerify(ctx *pulumi.Context, admin pgprovider.Connection, spec dbcheck.Spec) {
	pulumi.All(admin.Host, admin.Port, admin.Password).ApplyT(func(v []any) error {
		host, _ := v[0].(string)
		port, _ := v[1].(int)
		password, _ := v[2].(string)
		cfg := admin.DBConfig(host, port, password, "postgres", "deployer/"+ctx.Stack()+"/verify")
		rep, err := dbcheck.Run(context.Background(), cfg, spec)
		out := VerifyReport{Results: rep.Results}
		if out.Results == nil {
			out.Results = []dbcheck.Result{}
		}
		if err != nil {
			out.Error = err.Error()
		}
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		return ctx.Log.Info(VerifyPrefix+string(b), &pulumi.LogArgs{Ephemeral: true})
	})
}
