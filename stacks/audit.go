package stacks

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/components/pgprovider"
	"github.com/postgis-platform/deployer/dbcheck"
	"github.com/postgis-platform/deployer/dbconn"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// DatabaseAuditPrefix starts the ephemeral log line in which the program
// reports what no provider resource reads: the databases its admin
// administers that PUBLIC can enter (named by the stack or not), and what an
// update cannot put right in the utility schema.
const DatabaseAuditPrefix = "deployer.database-audit "

// DatabaseAudit is the payload after DatabaseAuditPrefix.
type DatabaseAudit struct {
	Admin     string                 `json:"admin"`
	Databases []dbcheck.OpenDatabase `json:"databases"`
	// Utility lists what an update cannot put right in the utility
	// database: functions besides the utility functions, and EXECUTE held
	// by roles other than the utility role (failed checks only).
	Utility []sqlfuncs.Finding `json:"utility,omitempty"`
	// Settings lists the settings made by hand for the platform's roles and
	// databases (dbcheck.HandSettings).
	Settings []string `json:"settings,omitempty"`
	// AdminProblems lists what a hand change gave the admin (members,
	// attributes, settings: dbcheck.AdminProblems).
	AdminProblems []string `json:"adminProblems,omitempty"`
	// Mapping is the state of the functions' owner's loopback user mapping,
	// which no provider resource reads (the program writes it).
	Mapping *MappingAudit `json:"mapping,omitempty"`
}

// MappingAudit is the loopback user mapping as the audit found it.
type MappingAudit struct {
	Server string                `json:"server"`
	User   string                `json:"user"`
	State  sqlfuncs.MappingState `json:"state"`
}

// UtilityAudit names the utility database whose functions the audit reads.
type UtilityAudit struct {
	Database string
	Options  sqlfuncs.Options
}

// uncorrectable are the utility checks no update repairs (a body that
// differs is put back by the next update, so it is not reported here).
func uncorrectable(f sqlfuncs.Finding) bool {
	for _, c := range []string{sqlfuncs.CheckNoOtherGrantees, sqlfuncs.CheckNoOtherFunctions, sqlfuncs.CheckNoSettings} {
		if strings.HasSuffix(f.Check, ": "+c) {
			return true
		}
	}
	return false
}

func auditUtility(c context.Context, cfg dbconn.Config, u *UtilityAudit) ([]sqlfuncs.Finding, *MappingAudit, error) {
	cfg.Database = u.Database
	conn, err := dbconn.Connect(c, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("audit the utility database %s: %w", u.Database, err)
	}
	defer conn.Close(c)
	all, err := sqlfuncs.Check(c, conn, u.Options, cfg.User)
	if err != nil {
		return nil, nil, err
	}
	var out []sqlfuncs.Finding
	for _, f := range sqlfuncs.Failed(all) {
		if uncorrectable(f) {
			out = append(out, f)
		}
	}
	password, err := cfg.Password.Secret(c)
	if err != nil {
		return nil, nil, fmt.Errorf("audit the user mapping: %w", err)
	}
	m := &MappingAudit{Server: u.Options.WithDefaults().Server, User: cfg.User}
	if m.State, err = sqlfuncs.ReadMappingState(c, conn, m.Server, m.User, password); err != nil {
		return nil, nil, fmt.Errorf("audit the user mapping: %w", err)
	}
	return out, m, nil
}

// AuditScope is what the program's database audit reads besides the open
// databases of the cluster.
type AuditScope struct {
	// Roles and Databases are the platform's managed roles and databases, and
	// TenantGroup the utility database's tenant group, whose settings made by
	// hand the audit reports (dbcheck.HandSettings).
	Roles, Databases []string
	TenantGroup      string
	// Utility is the utility database whose functions and mapping it reads.
	Utility *UtilityAudit
}

// ReportDatabaseAudit logs (ephemerally, after DatabaseAuditPrefix) the
// databases of the cluster that PUBLIC may enter, the settings made by hand
// for the platform's roles and databases, and the utility database's state,
// once the server's address and the admin's password are known. It logs in
// the way the postgresql provider does (verify-full with admin's CA bundle);
// a failed login fails the program, as it would fail the provider.
func ReportDatabaseAudit(ctx *pulumi.Context, admin pgprovider.Connection, scope AuditScope) {
	pulumi.All(admin.Host, admin.Port, admin.Password).ApplyT(func(v []any) error {
		host, _ := v[0].(string)
		port, _ := v[1].(int)
		password, _ := v[2].(string)
		cfg := admin.DBConfig(host, port, password, "postgres", "deployer/"+ctx.Stack()+"/audit")
		return reportDatabaseAudit(ctx, cfg, scope)
	})
}

func reportDatabaseAudit(ctx *pulumi.Context, cfg dbconn.Config, scope AuditScope) error {
	c := context.Background()
	conn, err := dbconn.Connect(c, cfg)
	if err != nil {
		return fmt.Errorf("audit the databases of %s: %w", cfg.User, err)
	}
	defer conn.Close(c)
	open, err := dbcheck.OpenDatabases(c, conn)
	if err != nil {
		return err
	}
	if open == nil {
		open = []dbcheck.OpenDatabase{}
	}
	report := DatabaseAudit{Admin: cfg.User, Databases: open}
	if report.Settings, err = dbcheck.HandSettings(c, conn, scope.Roles, scope.Databases, scope.TenantGroup); err != nil {
		return err
	}
	if report.AdminProblems, err = dbcheck.AdminProblems(c, conn, cfg.User); err != nil {
		return err
	}
	utility := scope.Utility
	var exists bool
	if utility != nil {
		if err := conn.QueryRow(c, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1)", utility.Database).Scan(&exists); err != nil {
			return fmt.Errorf("audit the utility database: %w", err)
		}
	}
	if exists { // not yet on a first deployment
		if report.Utility, report.Mapping, err = auditUtility(c, cfg, utility); err != nil {
			return err
		}
	}
	b, err := json.Marshal(report)
	if err != nil {
		return err
	}
	return ctx.Log.Info(DatabaseAuditPrefix+string(b), &pulumi.LogArgs{Ephemeral: true})
}
