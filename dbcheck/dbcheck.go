// Package dbcheck runs the live database checks the deployer makes after an
// up and as `deployer verify`: TLS really in use, PostGIS present, managed
// roles without dangerous attributes, secured databases closed to PUBLIC, and
// the utility functions intact. Every check has a name, a pass/fail, and on
// failure what was found and how to fix it.
package dbcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/postgis-platform/deployer/dbconn"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// Spec says what the live database should look like.
type Spec struct {
	// MinTLSVersion is the lowest acceptable protocol of this connection
	// (default "TLSv1.2").
	MinTLSVersion string `json:"minTlsVersion,omitempty"`
	// PostGISDatabases must have the postgis extension installed.
	PostGISDatabases []string `json:"postgisDatabases,omitempty"`
	// Roles are the managed roles and their intended attributes.
	Roles []Role `json:"roles,omitempty"`
	// SecuredDatabases must give PUBLIC neither CONNECT nor TEMPORARY.
	SecuredDatabases []string `json:"securedDatabases,omitempty"`
	// Utility, when set, checks the utility functions in that database.
	Utility *Utility `json:"utility,omitempty"`
	// Audit checks that pgaudit is loaded and logs role and DDL statements.
	Audit bool `json:"audit,omitempty"`
	// Admin, when set, is the admin role (it administers tenant roles), and
	// no database of the cluster may be open to PUBLIC, whether or not the
	// stack names it (OpenDatabases).
	Admin string `json:"admin,omitempty"`
	// TenantGroup is the utility database's tenant group: its members'
	// databases are checked with the admin's.
	TenantGroup string `json:"tenantGroup,omitempty"`
}

// Role is a managed role's intended attributes. The dangerous ones
// (superuser, createdb, createrole, replication, bypassrls) must be off
// unless Admin is set, which allows createdb and createrole only.
type Role struct {
	Name  string `json:"name"`
	Login bool   `json:"login"`
	Admin bool   `json:"admin,omitempty"`
	// MemberOf lists the roles it is meant to belong to (a tenant role: the
	// tenant group); membership in any other role fails. An Admin role is a
	// member of every tenant role by design and is not checked.
	MemberOf []string `json:"memberOf,omitempty"`
	// Group marks a role whose members are expected (the tenant group);
	// any other managed role has no members: a role granted a managed role
	// holds its rights.
	Group bool `json:"group,omitempty"`
	// Administers marks the utility functions' owner: a member of tenant
	// roles (of the spec's TenantGroup) and of MemberOf, and of nothing
	// else; only the admins may be members of it.
	Administers bool `json:"administers,omitempty"`
	// CreateDB and CreateRole allow those attributes (and require them).
	CreateDB   bool `json:"createDb,omitempty"`
	CreateRole bool `json:"createRole,omitempty"`
	// Members are the roles meant to be members of it (the functions'
	// owner, of its loopback logins); any other member fails.
	Members []string `json:"members,omitempty"`
}

// Utility names the utility database and its functions' owner.
type Utility struct {
	Database string           `json:"database"`
	Owner    string           `json:"owner"`
	Options  sqlfuncs.Options `json:"options"`
	// Loopback checks that the dedicated owner's loopback login works
	// (sqlfuncs.ReadLoopbackLogin), logged in as the admin.
	Loopback bool `json:"loopback,omitempty"`
}

// Result is one check.
type Result struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Found string `json:"found,omitempty"`
	Fix   string `json:"fix,omitempty"`
}

// Report is the outcome of Run.
type Report struct {
	Results []Result `json:"results"`
}

// OK reports whether every check passed.
func (r Report) OK() bool {
	for _, c := range r.Results {
		if !c.OK {
			return false
		}
	}
	return true
}

// Failed returns the failed checks.
func (r Report) Failed() []Result {
	var out []Result
	for _, c := range r.Results {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes one line per check, with what was found and the fix
// under each failure.
func (r Report) WriteText(w io.Writer) error {
	failed := 0
	for _, c := range r.Results {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
			failed++
		}
		if _, err := fmt.Fprintf(w, "%s %s\n", mark, c.Name); err != nil {
			return err
		}
		if !c.OK {
			fmt.Fprintf(w, "     found: %s\n     fix:   %s\n", c.Found, c.Fix)
		}
	}
	_, err := fmt.Fprintf(w, "%d checks, %d failed\n", len(r.Results), failed)
	return err
}

// Run connects with cfg (switching databases where a check needs to) and
// runs every check in spec. An error means a check could not run at all
// (for example the server is unreachable); failed checks are in the report.
func Run(ctx context.Context, cfg dbconn.Config, spec Spec) (Report, error) {
	var rep Report
	conn, err := dbconn.Connect(ctx, cfg)
	if err != nil {
		return rep, err
	}
	defer conn.Close(ctx)
	rep.Results = append(rep.Results, CheckTLS(ctx, conn, spec.MinTLSVersion))
	for _, group := range []func() ([]Result, error){
		func() ([]Result, error) { return runRoles(ctx, conn, spec) },
		func() ([]Result, error) { return runCluster(ctx, conn, spec) },
		func() ([]Result, error) { return runDatabases(ctx, cfg, conn, spec) },
	} {
		res, err := group()
		rep.Results = append(rep.Results, res...)
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// runRoles checks each role's attributes and what it holds live.
func runRoles(ctx context.Context, conn *pgx.Conn, spec Spec) ([]Result, error) {
	var out []Result
	for _, r := range spec.Roles {
		res, err := checkRole(ctx, conn, r)
		if err != nil {
			return out, err
		}
		out = append(out, res)
		live, err := checkRoleLive(ctx, conn, r, spec.admins(), spec.TenantGroup)
		if err != nil {
			return out, err
		}
		out = append(out, live...)
	}
	return out, nil
}

// runCluster checks what spans the cluster: the audit trail, settings made
// by hand, databases open to PUBLIC, the admin, the tenants.
func runCluster(ctx context.Context, conn *pgx.Conn, spec Spec) ([]Result, error) {
	var out []Result
	if spec.Audit {
		out = append(out, checkAudit(ctx, conn, spec))
	}
	settings, err := checkSettings(ctx, conn, spec)
	if err != nil {
		return out, err
	}
	out = append(out, settings)
	if spec.Admin != "" {
		for _, check := range []func(context.Context, *pgx.Conn, Spec) (Result, error){
			func(ctx context.Context, conn *pgx.Conn, _ Spec) (Result, error) {
				return checkOpenDatabases(ctx, conn)
			},
			checkAdmin,
		} {
			res, err := check(ctx, conn, spec)
			if err != nil {
				return out, err
			}
			out = append(out, res)
		}
	}
	if spec.TenantGroup != "" {
		res, err := checkTenants(ctx, conn, spec)
		if err != nil {
			return out, err
		}
		out = append(out, res...)
	}
	return out, nil
}

// runDatabases checks the secured databases, PostGIS and the utility
// database, each in its own session where it needs one.
func runDatabases(ctx context.Context, cfg dbconn.Config, conn *pgx.Conn, spec Spec) ([]Result, error) {
	var out []Result
	for _, db := range spec.SecuredDatabases {
		res, err := checkSecured(ctx, conn, db)
		if err != nil {
			return out, err
		}
		out = append(out, res)
		if spec.Utility == nil || db != spec.Utility.Database { // the utility database has checks of its own
			out = append(out, checkPublicSchema(ctx, cfg, db))
		}
	}
	if len(spec.SecuredDatabases) > 0 {
		res, err := checkDatabaseGrantees(ctx, conn, spec)
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	for _, db := range spec.PostGISDatabases {
		out = append(out, checkPostGIS(ctx, cfg, db))
	}
	if u := spec.Utility; u != nil {
		res, err := checkUtility(ctx, cfg, *u)
		if err != nil {
			return out, err
		}
		out = append(out, res...)
	}
	return out, nil
}

var tlsRank = map[string]int{"TLSv1": 1, "TLSv1.1": 2, "TLSv1.2": 3, "TLSv1.3": 4}

// CheckTLS checks that conn is encrypted with floor (default TLSv1.2) or later.
func CheckTLS(ctx context.Context, conn *pgx.Conn, floor string) Result {
	if floor == "" {
		floor = "TLSv1.2"
	}
	r := Result{Name: "tls: this connection uses " + floor + " or later"}
	if tlsRank[floor] == 0 {
		r.Found, r.Fix = "unknown TLS floor "+floor, "use TLSv1.2 or TLSv1.3"
		return r
	}
	var ssl bool
	var version, cipher string
	err := conn.QueryRow(ctx, `SELECT ssl, COALESCE(version, ''), COALESCE(cipher, '')
		FROM pg_catalog.pg_stat_ssl WHERE pid = pg_catalog.pg_backend_pid()`).Scan(&ssl, &version, &cipher)
	switch {
	case err != nil:
		r.Found, r.Fix = "pg_stat_ssl unreadable: "+err.Error(), "grant pg_read_all_stats or run the checks as the admin role"
	case !ssl:
		r.Found, r.Fix = "connection is not encrypted", "set rds.force_ssl=1 (the rds component does) and connect with sslmode=verify-full"
	case tlsRank[version] < tlsRank[floor]:
		r.Found, r.Fix = version+" ("+cipher+")", "raise ssl_min_protocol_version to "+floor+" in the parameter group"
	default:
		r.OK = true
	}
	return r
}

func checkRole(ctx context.Context, conn *pgx.Conn, want Role) (Result, error) {
	r := Result{Name: fmt.Sprintf("role %s: intended attributes", want.Name)}
	var super, createdb, createrole, repl, bypass, login bool
	err := conn.QueryRow(ctx, `SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin
		FROM pg_catalog.pg_roles WHERE rolname = $1`, want.Name).Scan(&super, &createdb, &createrole, &repl, &bypass, &login)
	if errors.Is(err, pgx.ErrNoRows) {
		r.Found, r.Fix = "role does not exist", "re-apply the stack (deployer up) to create it"
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("check role %s: %w", want.Name, err)
	}
	var bad, fix []string
	flag := func(on bool, attr, off string) {
		if on {
			bad = append(bad, attr)
			fix = append(fix, off)
		}
	}
	flag(super, "SUPERUSER", "NOSUPERUSER")
	flag(createdb && !want.Admin && !want.CreateDB, "CREATEDB", "NOCREATEDB")
	flag(createrole && !want.Admin && !want.CreateRole, "CREATEROLE", "NOCREATEROLE")
	flag(!createdb && want.CreateDB, "NOCREATEDB", "CREATEDB")
	flag(!createrole && want.CreateRole, "NOCREATEROLE", "CREATEROLE")
	flag(repl, "REPLICATION", "NOREPLICATION")
	flag(bypass, "BYPASSRLS", "NOBYPASSRLS")
	if login != want.Login {
		if login {
			bad, fix = append(bad, "LOGIN"), append(fix, "NOLOGIN")
		} else {
			bad, fix = append(bad, "NOLOGIN"), append(fix, "LOGIN")
		}
	}
	if len(bad) == 0 {
		r.OK = true
		return r, nil
	}
	r.Found = "has " + strings.Join(bad, ", ")
	r.Fix = fmt.Sprintf("ALTER ROLE %s %s (or deployer up --refresh to restore the declared attributes)", quoteIdent(want.Name), strings.Join(fix, " "))
	return r, nil
}

func checkSecured(ctx context.Context, conn *pgx.Conn, db string) (Result, error) {
	r := Result{Name: fmt.Sprintf("database %s: PUBLIC has no CONNECT or TEMPORARY", db)}
	var exists, connect, temp bool
	err := conn.QueryRow(ctx, `SELECT true,
			pg_catalog.has_database_privilege('public', d.oid, 'CONNECT'),
			pg_catalog.has_database_privilege('public', d.oid, 'TEMPORARY')
		FROM pg_catalog.pg_database d WHERE d.datname = $1`, db).Scan(&exists, &connect, &temp)
	if errors.Is(err, pgx.ErrNoRows) {
		r.Found, r.Fix = "database does not exist", "re-apply the stack (deployer up) to create it"
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("check database %s: %w", db, err)
	}
	var privs []string
	if connect {
		privs = append(privs, "CONNECT")
	}
	if temp {
		privs = append(privs, "TEMPORARY")
	}
	if len(privs) == 0 {
		r.OK = true
		return r, nil
	}
	r.Found = "PUBLIC has " + strings.Join(privs, ", ")
	r.Fix = fmt.Sprintf("REVOKE CONNECT, TEMPORARY ON DATABASE %s FROM PUBLIC (or call utility.secure_database)", quoteIdent(db))
	return r, nil
}

// inDatabase runs check on a short connection to db; a failed connection is
// r's finding.
func inDatabase(ctx context.Context, cfg dbconn.Config, db string, r Result, check func(*pgx.Conn) Result) Result {
	cfg.Database = db
	conn, err := dbconn.Connect(ctx, cfg)
	if err != nil {
		r.Found, r.Fix = "cannot connect: "+err.Error(), "grant the checking role CONNECT on "+db
		return r
	}
	defer conn.Close(ctx)
	return check(conn)
}

func checkPostGIS(ctx context.Context, cfg dbconn.Config, db string) Result {
	r := Result{Name: fmt.Sprintf("database %s: PostGIS installed", db)}
	return inDatabase(ctx, cfg, db, r, func(conn *pgx.Conn) Result { return postGIS(ctx, conn, db, r) })
}

func postGIS(ctx context.Context, conn *pgx.Conn, db string, r Result) Result {
	var version string
	err := conn.QueryRow(ctx, `SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'postgis'`).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		r.Found, r.Fix = "no postgis extension", "CREATE EXTENSION postgis in "+db+" (the stack declares it; deployer up restores it)"
		return r
	}
	if err != nil {
		r.Found, r.Fix = err.Error(), "check the role's privileges on "+db
		return r
	}
	var full string
	if err := conn.QueryRow(ctx, "SELECT public.postgis_full_version()").Scan(&full); err == nil {
		version = full
	}
	r.OK = true
	r.Name += " (" + firstWords(version, 2) + ")"
	return r
}

func checkUtility(ctx context.Context, cfg dbconn.Config, u Utility) ([]Result, error) {
	cfg.Database = u.Database
	conn, err := dbconn.Connect(ctx, cfg)
	if err != nil {
		return []Result{{Name: "utility database " + u.Database + ": reachable", Found: err.Error(), Fix: "grant the checking role CONNECT on " + u.Database}}, nil
	}
	defer conn.Close(ctx)
	findings, err := sqlfuncs.Check(ctx, conn, u.Options, u.Owner)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(findings))
	for i, f := range findings {
		out[i] = Result{Name: "utility " + f.Check, OK: f.OK, Found: f.Found, Fix: f.Fix}
	}
	extra, err := utilityAccess(ctx, conn, u)
	if err != nil {
		return nil, err
	}
	out = append(out, extra...)
	if u.Loopback {
		lr, err := checkLoopbackLogin(ctx, conn, u, cfg.User)
		if err != nil {
			return nil, err
		}
		gr, err := checkOwnerGaps(ctx, conn, u, cfg.User)
		if err != nil {
			return nil, err
		}
		out = append(out, lr, gr)
	}
	lb, err := checkLoopbackTLS(ctx, conn, u.Options.WithDefaults().Server)
	if err != nil {
		return nil, err
	}
	objs, err := checkUtilityObjects(ctx, conn, u)
	if err != nil {
		return nil, err
	}
	out = append(out, objs)
	return append(out, lb, checkTemplate(ctx, cfg, u.Options.WithDefaults().TemplateDB)), nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		f = f[:n]
	}
	return strings.Join(f, " ")
}
