package stacks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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
	// Logins lists the managed roles that cannot log in with the stack's
	// password.
	Logins []string `json:"logins,omitempty"`
	// Mapping is the state of the functions' owner's loopback user mapping,
	// which no provider resource reads (the program writes it).
	Mapping *MappingAudit `json:"mapping,omitempty"`
	// Error says why the audit could not finish (never a password): the
	// rest of the report is then incomplete, and its readers fail rather
	// than pass what was not read.
	Error string `json:"error,omitempty"`
}

// MappingAudit is the functions' owner's loopback user mapping as the audit
// found it (never its password).
type MappingAudit struct {
	Server string                `json:"server"`
	User   string                `json:"user"`
	State  sqlfuncs.MappingState `json:"state"`
	// Login is the login role the mapping names, Detail why the state is
	// not current.
	Login  string `json:"login,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Due says why the next update gives the owner a new login although the
	// mapping works (its age); not drift.
	Due string `json:"due,omitempty"`
}

// UtilityAudit names the utility database whose functions the audit reads.
type UtilityAudit struct {
	Database string
	Options  sqlfuncs.Options
	// LoginMaxAge is the age at which the owner's loopback login is due for
	// a new one (0: never by age).
	LoginMaxAge time.Duration
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

// auditUtility reads the utility database on conn, the admin's session there.
func auditUtility(c context.Context, conn *pgx.Conn, admin string, u *UtilityAudit) ([]sqlfuncs.Finding, *MappingAudit, error) {
	o := u.Options.WithDefaults()
	all, err := sqlfuncs.Check(c, conn, o, o.Owner)
	if err != nil {
		return nil, nil, err
	}
	var out []sqlfuncs.Finding
	for _, f := range sqlfuncs.Failed(all) {
		if uncorrectable(f) {
			out = append(out, f)
		}
	}
	l, err := sqlfuncs.ReadLoopbackLogin(c, conn, o, admin)
	if err != nil {
		return nil, nil, fmt.Errorf("audit the user mapping: %w", err)
	}
	m := &MappingAudit{Server: o.Server, User: o.Owner, State: l.State, Login: l.Login, Detail: l.Detail}
	if l.State == sqlfuncs.MappingCurrent {
		m.Due = sqlfuncs.Rotation{MaxAge: u.LoginMaxAge}.Due(l, time.Now())
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
	// SettingFree are more roles that hold no settings of their own (the
	// utility functions' owner and its logins). Their settings, and a
	// managed role's own beyond what its provider resource reads
	// (dbcheck.ProviderRoleSettings), are reported as made by hand.
	SettingFree []string
	// Utility is the utility database whose functions and mapping it reads.
	Utility *UtilityAudit
	// Logins are the managed roles that must log in with the stack's
	// password: no provider resource can read a password back, so one
	// changed by hand (or by the role itself) is found only by logging in.
	Logins []RoleLogin
}

// RoleLogin is a managed role, a database it may connect to, and its
// password (secret).
type RoleLogin struct {
	Role, Database string
	Password       pulumi.StringInput
}

// ReportDatabaseAudit logs (ephemerally, after DatabaseAuditPrefix) the
// databases of the cluster that PUBLIC may enter, the settings made by hand
// for the platform's roles and databases, and the utility database's state,
// once the server's address and the admin's password are known. It logs in
// the way the postgresql provider does (verify-full with admin's CA bundle);
// a failed login fails the program, as it would fail the provider.
func ReportDatabaseAudit(ctx *pulumi.Context, admin pgprovider.Connection, scope AuditScope) {
	inputs := []any{admin.Host, admin.Port, admin.Password}
	for _, l := range scope.Logins {
		inputs = append(inputs, l.Password)
	}
	pulumi.All(inputs...).ApplyT(func(v []any) error {
		host, _ := v[0].(string)
		port, _ := v[1].(int)
		password, _ := v[2].(string)
		cfg := admin.DBConfig(host, port, password, "postgres", "deployer/"+ctx.Stack()+"/audit")
		passwords := make([]string, len(scope.Logins))
		for i := range scope.Logins {
			passwords[i], _ = v[3+i].(string)
		}
		return reportDatabaseAudit(ctx, cfg, scope, passwords)
	})
}

// startLogins logs in as each of logins (its password in passwords) the way
// its clients do, all at once and in the background; the function it returns
// waits and lists those the server refuses, and fails for a login that got
// no answer about the password (no free session slot, for one). A role or
// database that does not exist yet (a first deployment, a role being added)
// is left to the provider, and never tried: a failed login is what alerting
// watches for.
func startLogins(c context.Context, admin *pgx.Conn, cfg dbconn.Config, logins []RoleLogin, passwords []string) (func() ([]string, error), error) {
	roles, dbs := make([]string, len(logins)), make([]string, len(logins))
	for i, l := range logins {
		roles[i], dbs[i] = l.Role, l.Database
	}
	var exist []bool
	if err := admin.QueryRow(c, `SELECT COALESCE(pg_catalog.array_agg(
			EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = k.r AND rolcanlogin)
			AND EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = k.d) ORDER BY k.i), '{}')
		FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[])) WITH ORDINALITY k(r, d, i)`, roles, dbs).Scan(&exist); err != nil {
		return nil, fmt.Errorf("audit the logins: %w", err)
	}
	found := make([]string, len(logins))
	failed := make([]error, len(logins))
	var wg sync.WaitGroup
	for i, l := range logins {
		if i >= len(exist) || !exist[i] {
			continue
		}
		rc := cfg
		rc.User, rc.Database = l.Role, l.Database
		pw := passwords[i]
		rc.Password = dbconn.SecretFunc("the stack's password of "+l.Role, func(context.Context) (string, error) { return pw, nil })
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := dbconn.Connect(c, rc)
			switch {
			case err == nil:
				_ = conn.Close(c)
			case refused(err):
				found[i] = fmt.Sprintf("role %s cannot log in to %s with the stack's password (changed by hand?): %s", l.Role, l.Database, loginError(err))
			default:
				// No answer about the password: the check did not run.
				failed[i] = fmt.Errorf("could not check that role %s logs in to %s with the stack's password: %s%s", l.Role, l.Database, loginError(err), slotHint(err))
			}
		}()
	}
	return func() ([]string, error) {
		wg.Wait()
		var out []string
		for _, f := range found {
			if f != "" {
				out = append(out, f)
			}
		}
		return out, errors.Join(failed...)
	}, nil
}

// refused reports whether the server turned the login down for its
// credentials (28P01) or its authorization (28000), the answers that mean the
// role cannot log in as the stack declares it.
func refused(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "28P01" || pgErr.Code == "28000")
}

// slotHint explains a login refused for want of a session slot.
func slotHint(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "53300" {
		return " (every session slot it may use is taken: leave one free for the audit, e.g. a pool one smaller than the role's CONNECTION LIMIT)"
	}
	return ""
}

// loginError is a failed login's SQLSTATE and message, never a password.
func loginError(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return "SQLSTATE " + pgErr.Code + ": " + pgErr.Message
	}
	return "the connection failed"
}

func reportDatabaseAudit(ctx *pulumi.Context, cfg dbconn.Config, scope AuditScope, passwords []string) error {
	report, auditErr := auditDatabases(context.Background(), cfg, scope, passwords)
	if auditErr != nil {
		report = DatabaseAudit{Admin: cfg.User, Error: auditErr.Error()}
	}
	b, err := json.Marshal(report)
	if err != nil {
		return err
	}
	// The line carries the failure: an apply's error alone reaches no one.
	return errors.Join(ctx.Log.Info(DatabaseAuditPrefix+string(b), &pulumi.LogArgs{Ephemeral: true}), auditErr)
}

// auditDatabases reads everything on one session of the admin's (each
// session is a backend, a TLS handshake and a SCRAM exchange, and drift
// waits for the audit): in the utility database when there is one, since
// the cluster's checks read shared catalogs that every database shows. The
// managed roles log in meanwhile, each on its own session.
func auditDatabases(c context.Context, cfg dbconn.Config, scope AuditScope, passwords []string) (DatabaseAudit, error) {
	report := DatabaseAudit{Admin: cfg.User}
	conn, inUtility, err := adminSession(c, cfg, scope.Utility)
	if err != nil {
		return report, fmt.Errorf("audit the databases of %s: %w", cfg.User, err)
	}
	defer conn.Close(c)
	logins, err := startLogins(c, conn, cfg, scope.Logins, passwords)
	if err != nil {
		return report, err
	}
	err = auditCluster(c, conn, cfg.User, scope, &report)
	if err == nil && inUtility {
		report.Utility, report.Mapping, err = auditUtility(c, conn, cfg.User, scope.Utility)
	}
	var lerr error
	report.Logins, lerr = logins()
	return report, errors.Join(err, lerr)
}

// adminSession is the admin's session in the utility database, or in
// postgres when there is none (yet, on a first deployment: inUtility false),
// with only pg_catalog on its search_path.
func adminSession(c context.Context, cfg dbconn.Config, u *UtilityAudit) (conn *pgx.Conn, inUtility bool, err error) {
	cfg.SearchPath = "pg_catalog, pg_temp" // no object a tenant made is ever resolved
	if u != nil {
		uc := cfg
		uc.Database = u.Database
		conn, err = dbconn.Connect(c, uc)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "3D000" {
			return conn, err == nil, err
		}
	}
	conn, err = dbconn.Connect(c, cfg)
	return conn, false, err
}

// auditCluster fills what the admin's session reads of the cluster: the open
// databases, the settings made by hand and the admin's problems.
func auditCluster(c context.Context, conn *pgx.Conn, admin string, scope AuditScope, report *DatabaseAudit) error {
	var err error
	if report.Databases, err = dbcheck.OpenDatabases(c, conn); err != nil {
		return err
	}
	if report.Databases == nil {
		report.Databases = []dbcheck.OpenDatabase{}
	}
	if report.Settings, err = dbcheck.HandSettings(c, conn, scope.Roles, scope.Databases, scope.TenantGroup); err != nil {
		return err
	}
	own, err := dbcheck.RoleSettings(c, conn, scope.Roles, dbcheck.ProviderRoleSettings)
	if err != nil {
		return err
	}
	free, err := dbcheck.RoleSettings(c, conn, scope.SettingFree, nil)
	if err != nil {
		return err
	}
	report.Settings = append(append(report.Settings, own...), free...)
	report.AdminProblems, err = dbcheck.AdminProblems(c, conn, admin, scope.Roles)
	return err
}
