package automation

import (
	"context"
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/dbcheck"
	"github.com/postgis-platform/deployer/dbconn"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// VerifyPasswordEnv is where verify reads the admin's database password by
// default (the RDS master secret's value in CI).
const VerifyPasswordEnv = "PGPASSWORD"

// verifyTarget builds the live checks for a deployed stack: the connection
// from its outputs and config, the expectations from its config.
func verifyTarget(ctx context.Context, op *opened, password dbconn.SecretSource) (dbconn.Config, dbcheck.Spec, error) {
	outs, err := op.stack.Outputs(ctx)
	if err != nil {
		return dbconn.Config{}, dbcheck.Spec{}, fmt.Errorf("read stack outputs: %w", cliError(err))
	}
	host, _ := outs["address"].Value.(string)
	port := 5432
	switch p := outs["port"].Value.(type) {
	case float64:
		port = int(p)
	case string:
		port, _ = strconv.Atoi(p)
	}
	if host == "" {
		return dbconn.Config{}, dbcheck.Spec{}, fmt.Errorf("the stack has no address output: deploy it first")
	}
	c := op.config
	cfg := dbconn.Config{Host: host, Port: port, Database: "postgres", User: c.AdminUsername, Password: password,
		RootCert: c.CABundle, ApplicationName: "deployer/" + op.stack.Name() + "/verify"}
	spec := dbcheck.Spec{
		PostGISDatabases: []string{c.AppDatabase, c.TemplateDatabase},
		Roles: []dbcheck.Role{
			{Name: c.ETLRole, Login: true}, {Name: c.TileReaderRole, Login: true}, {Name: c.UtilityRole, Login: true},
			{Name: c.UtilityRole + sqlfuncs.TenantGroupSuffix, Group: true},
			{Name: c.AdminUsername, Login: true, Admin: true},
		},
		SecuredDatabases: []string{c.AppDatabase, c.UtilityDatabase, c.TemplateDatabase},
		Admin:            c.AdminUsername,
		TenantGroup:      c.UtilityRole + sqlfuncs.TenantGroupSuffix,
		Audit:            true,
		Utility: &dbcheck.Utility{Database: c.UtilityDatabase, Owner: c.AdminUsername,
			Options: sqlfuncs.Options{TemplateDB: c.TemplateDatabase, UtilityRole: c.UtilityRole}},
	}
	return cfg, spec, nil
}

// runVerify runs the checks; reachable=false when the database could not be
// reached at all (the caller decides whether that is an error).
func runVerify(ctx context.Context, op *opened, password dbconn.SecretSource) ([]dbcheck.Result, error) {
	cfg, spec, err := verifyTarget(ctx, op, password)
	if err != nil {
		return nil, err
	}
	rep, err := dbcheck.Run(ctx, cfg, spec)
	if err != nil {
		return rep.Results, fmt.Errorf("live database checks: %w", err)
	}
	return rep.Results, nil
}

type verifyOptions struct{ options }

// VerifyOption configures Verify.
type VerifyOption interface{ applyVerify(*verifyOptions) }

func (p progressOpt) applyVerify(o *verifyOptions) { o.progress = p.w }
func (l loggerOpt) applyVerify(o *verifyOptions)   { o.log = l.l }

// Verify runs the live database checks of a deployed stack alone. Exit 0 all
// pass, 1 a check failed or the database could not be reached.
func Verify(ctx context.Context, s Settings, stack string, program pulumi.RunFunc, password dbconn.SecretSource, opts ...VerifyOption) StackReport {
	var o verifyOptions
	for _, opt := range opts {
		opt.applyVerify(&o)
	}
	rep := StackReport{Stack: stack}
	op, err := s.open(ctx, stack, program, o.logger())
	if err != nil {
		return failed(rep, "open", err)
	}
	return checkInto(ctx, op, password, rep, "clean")
}

// checkInto runs the checks into rep; a nil password skips them.
func checkInto(ctx context.Context, op *opened, password dbconn.SecretSource, rep StackReport, result string) StackReport {
	rep.finish()
	rep.Result, rep.ExitCode = result, ExitOK
	if password == nil {
		rep.Notes = append(rep.Notes, "live database checks skipped")
		return rep
	}
	checks, err := runVerify(ctx, op, password)
	rep.Checks = checks
	if err != nil {
		rep.Result, rep.ExitCode, rep.Step, rep.Error = "error", ExitError, "verify", err.Error()
		return rep
	}
	for _, c := range checks {
		if !c.OK {
			rep.Result, rep.ExitCode, rep.Step, rep.Error = "error", ExitError, "verify", "live database checks failed (see checks)"
			break
		}
	}
	return rep
}
