// Package utilitydb is the "utility database" in one call: a database that
// holds only the SECURITY DEFINER functions of package sqlfuncs, which create
// tenant roles and databases through dblink and a USER MAPPING, a locked
// tenant template with PostGIS, and a utility role that may call them and do
// nothing else.
package utilitydb

import (
	"context"
	"fmt"
	"time"

	"github.com/pulumi/pulumi-postgresql/sdk/v3/go/postgresql"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/components/pgprovider"
	"github.com/postgis-platform/deployer/dbconn"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// Type is the component's type token.
const Type = "postgis:utilitydb:UtilityDatabase"

// DefaultDatabase is the utility database's default name.
const DefaultDatabase = "utility"

// Args configures the utility database.
type Args struct {
	// Admin is how the provider logs in: a non-superuser admin with CREATEDB
	// and CREATEROLE (the RDS master user, a member of rds_superuser). It
	// installs the functions and hands them to their owner
	// (Options.Owner, a NOLOGIN role), which reaches the loopback server
	// with a login of its own: the admin's password is never in the USER
	// MAPPING.
	Admin pgprovider.Connection
	// Database is the utility database's name (default "utility").
	Database string
	// Names of the schema, template, server and utility role.
	Options sqlfuncs.Options
	// UtilityRolePassword is the utility role's login password (secret).
	UtilityRolePassword pulumi.StringInput
	// VerifierKey, a secret of the stack's, makes the role's password reach
	// the provider as its SCRAM verifier (see pgprovider.RolePassword);
	// without it the provider sends the password itself.
	VerifierKey pulumi.StringInput
	// LoopbackHost and LoopbackPort are how the server reaches itself for
	// dblink (default: Admin.Host and Admin.Port).
	LoopbackHost pulumi.StringInput
	// LoopbackPort is the port dblink connects to (default: Admin.Port).
	LoopbackPort pulumi.IntInput
	// LoopbackRootCert is the CA file as the database server sees it (dblink
	// runs on the server). Required unless LoopbackInsecure.
	LoopbackRootCert string
	// LoopbackInsecure lets dblink connect without verify-full (local only).
	LoopbackInsecure bool
	// LoopbackLoginMaxAge makes an update give the owner a new login once
	// its password is older (0: only when asked, or when it stops working).
	LoopbackLoginMaxAge time.Duration
	// RotateLoopbackLogin gives the owner a new login in this update.
	RotateLoopbackLogin bool
	// Loopback writes the owner's loopback login (default
	// sqlfuncs.RotateLoopbackLogin, which keeps the password out of every
	// log). Tests replace it.
	Loopback func(ctx context.Context, cfg dbconn.Config, o sqlfuncs.Options, r sqlfuncs.Rotation) (login string, rotated bool, err error)
}

// UtilityDatabase is the component.
type UtilityDatabase struct {
	pulumi.ResourceState

	// Database is the utility database, which holds only the functions.
	Database *postgresql.Database
	// Template is the locked template tenant databases are cloned from.
	Template *postgresql.Database
	// Role is the utility role, the only one that may call the functions.
	Role *postgresql.Role
	// TenantGroup is the NOLOGIN role every tenant role belongs to.
	TenantGroup *postgresql.Role
	Functions   map[string]*postgresql.Function
	// Provider is connected to the utility database (server and user mapping
	// live in a database of their own).
	Provider *postgresql.Provider
}

func (a *Args) validate() error {
	if err := a.Admin.Validate("Admin"); err != nil {
		return err
	}
	if a.Database == "" {
		a.Database = DefaultDatabase
	}
	if err := sqlfuncs.ValidIdentifier("database", a.Database); err != nil {
		return fmt.Errorf("Database: %w", err)
	}
	if err := a.Options.Validate(); err != nil {
		return fmt.Errorf("Options: %w", err)
	}
	a.Options = a.Options.WithDefaults()
	if err := sqlfuncs.ValidIdentifier("role", a.Options.UtilityRole); err != nil {
		return fmt.Errorf("Options.UtilityRole: %w", err)
	}
	if err := sqlfuncs.ValidIdentifier("database", a.Options.TemplateDB); err != nil {
		return fmt.Errorf("Options.TemplateDB: %w", err)
	}
	for _, r := range []string{a.Options.Owner, a.Options.LoopbackLogins()[0], a.Options.LoopbackLogins()[1]} {
		if r == a.Admin.Username || r == a.Options.UtilityRole || r == a.Options.TenantGroup {
			return fmt.Errorf("Options.Owner %q: its roles (%s, %s and %s) must differ from the admin, the utility role and the tenant group", a.Options.Owner, a.Options.Owner, a.Options.LoopbackLogins()[0], a.Options.LoopbackLogins()[1])
		}
	}
	if a.Admin.Username == a.Options.UtilityRole {
		return fmt.Errorf("Options.UtilityRole %q is the admin: the utility role must be a separate role with no rights of its own", a.Options.UtilityRole)
	}
	if a.UtilityRolePassword == nil {
		return fmt.Errorf("UtilityRolePassword is nil: set it with `pulumi config set --secret` and pass it in")
	}
	if a.LoopbackRootCert == "" && !a.LoopbackInsecure {
		return fmt.Errorf("LoopbackRootCert is empty while TLS is required: give the CA file path on the database server for dblink's sslmode=verify-full, or set LoopbackInsecure for local development")
	}
	if a.LoopbackHost == nil {
		a.LoopbackHost = a.Admin.Host
	}
	if a.Loopback == nil {
		a.Loopback = sqlfuncs.RotateLoopbackLogin
	}
	if a.LoopbackLoginMaxAge < 0 {
		return fmt.Errorf("LoopbackLoginMaxAge %s is negative: give a duration such as 720h, or 0 to rotate only on request", a.LoopbackLoginMaxAge)
	}
	if a.LoopbackPort == nil {
		a.LoopbackPort = a.Admin.Port
		if a.LoopbackPort == nil {
			a.LoopbackPort = pulumi.Int(5432)
		}
	}
	return nil
}

// revokeAll is a Grant of no privileges to PUBLIC: the provider's revoke.
func revokeAll(ctx *pulumi.Context, name, db, objectType string, schema string, parent pulumi.Resource, opts ...pulumi.ResourceOption) (*postgresql.Grant, error) {
	args := &postgresql.GrantArgs{
		Database:   pulumi.String(db),
		Role:       pulumi.String("public"),
		ObjectType: pulumi.String(objectType),
		Privileges: pulumi.StringArray{},
	}
	if schema != "" {
		args.Schema = pulumi.StringPtr(schema)
	}
	return postgresql.NewGrant(ctx, name, args, append(opts, pulumi.Parent(parent))...)
}

// New validates args and registers the utility database.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*UtilityDatabase, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("utilitydb %q: %w", name, err)
	}
	fns, err := sqlfuncs.Definitions(args.Options)
	if err != nil {
		return nil, fmt.Errorf("utilitydb %q: %w", name, err)
	}
	c := &UtilityDatabase{Functions: map[string]*postgresql.Function{}}
	if err := ctx.RegisterComponentResource(Type, name, c, opts...); err != nil {
		return nil, err
	}
	b := &builder{ctx: ctx, name: name, args: args, o: args.Options, c: c, parent: pulumi.Parent(c), db: args.Database, tmpl: args.Options.TemplateDB}
	for _, step := range []func() error{b.roles, b.databases, b.template, b.closeDatabase, b.dblink, b.server, b.schema} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	mapping, err := b.functions(fns)
	if err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"database": c.Database.Name, "template": c.Template.Name, "utilityRole": c.Role.Name,
		"loopbackServer": mapping,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// builder registers the utility database's resources, one group per step,
// each after what it needs.
type builder struct {
	ctx      *pulumi.Context
	name     string
	args     Args
	o        sqlfuncs.Options
	c        *UtilityDatabase
	parent   pulumi.ResourceOption
	db, tmpl string
	// registered by the steps, for the ones after them
	postgis, dblinkExt, revokeDblink pulumi.Resource
	serverRes                        *postgresql.Server
	schemaRes                        pulumi.Resource
}

// roles: the utility role (its callers' login) and the tenants' group.
func (b *builder) roles() (err error) {
	o := b.o
	b.c.Role, err = postgresql.NewRole(b.ctx, b.name+"-role", &postgresql.RoleArgs{
		Name:                   pulumi.StringPtr(o.UtilityRole),
		Login:                  pulumi.BoolPtr(true),
		Password:               pgprovider.RolePassword(o.UtilityRole, b.args.UtilityRolePassword, b.args.VerifierKey),
		Superuser:              pulumi.BoolPtr(false),
		CreateDatabase:         pulumi.BoolPtr(false),
		CreateRole:             pulumi.BoolPtr(false),
		Replication:            pulumi.BoolPtr(false),
		BypassRowLevelSecurity: pulumi.BoolPtr(false),
		ConnectionLimit:        pulumi.IntPtr(10),
	}, b.parent)
	if err != nil {
		return err
	}
	b.c.TenantGroup, err = postgresql.NewRole(b.ctx, b.name+"-tenant-group", &postgresql.RoleArgs{
		Name:                   pulumi.StringPtr(o.TenantGroup),
		Login:                  pulumi.BoolPtr(false),
		Inherit:                pulumi.BoolPtr(false),
		Superuser:              pulumi.BoolPtr(false),
		CreateDatabase:         pulumi.BoolPtr(false),
		CreateRole:             pulumi.BoolPtr(false),
		Replication:            pulumi.BoolPtr(false),
		BypassRowLevelSecurity: pulumi.BoolPtr(false),
	}, b.parent)
	return err
}

// databases: the utility database and the tenants' template, both
// protected. The template is one so the owner's logins (CREATEDB, no member
// of the admin) may clone it.
func (b *builder) databases() (err error) {
	protect := pulumi.Protect(true)
	b.c.Database, err = postgresql.NewDatabase(b.ctx, b.name+"-db", &postgresql.DatabaseArgs{
		Name:  pulumi.StringPtr(b.db),
		Owner: pulumi.StringPtr(b.args.Admin.Username),
	}, b.parent, protect)
	if err != nil {
		return err
	}
	b.c.Template, err = postgresql.NewDatabase(b.ctx, b.name+"-template", &postgresql.DatabaseArgs{
		Name:       pulumi.StringPtr(b.tmpl),
		Owner:      pulumi.StringPtr(b.args.Admin.Username),
		IsTemplate: pulumi.BoolPtr(true),
	}, b.parent, protect)
	return err
}

func (b *builder) onDB() pulumi.ResourceOption {
	return pulumi.DependsOn([]pulumi.Resource{b.c.Database})
}

// template: PostGIS in, the public schema and the database closed to PUBLIC.
func (b *builder) template() (err error) {
	onTmpl := pulumi.DependsOn([]pulumi.Resource{b.c.Template})
	b.postgis, err = postgresql.NewExtension(b.ctx, b.name+"-template-postgis", &postgresql.ExtensionArgs{
		Name: pulumi.StringPtr("postgis"), Database: pulumi.StringPtr(b.tmpl),
	}, b.parent, onTmpl)
	if err != nil {
		return err
	}
	if _, err := revokeAll(b.ctx, b.name+"-template-public-schema", b.tmpl, "schema", "public", b.c, pulumi.DependsOn([]pulumi.Resource{b.postgis})); err != nil {
		return err
	}
	_, err = revokeAll(b.ctx, b.name+"-template-public-db", b.tmpl, "database", "", b.c, onTmpl)
	return err
}

// closeDatabase: the utility database closed to PUBLIC, CONNECT for the
// utility role only.
func (b *builder) closeDatabase() error {
	if _, err := revokeAll(b.ctx, b.name+"-db-public", b.db, "database", "", b.c, b.onDB()); err != nil {
		return err
	}
	if _, err := revokeAll(b.ctx, b.name+"-public-schema", b.db, "schema", "public", b.c, b.onDB()); err != nil {
		return err
	}
	_, err := postgresql.NewGrant(b.ctx, b.name+"-role-connect", &postgresql.GrantArgs{
		Database: pulumi.String(b.db), Role: b.c.Role.Name, ObjectType: pulumi.String("database"),
		Privileges: pulumi.ToStringArray([]string{"CONNECT"}),
	}, b.parent, b.onDB())
	return err
}

// dblink: the extension in its own locked schema, its functions closed to
// PUBLIC.
func (b *builder) dblink() error {
	o := b.o
	dblinkSchema, err := postgresql.NewSchema(b.ctx, b.name+"-dblink-schema", &postgresql.SchemaArgs{
		Name: pulumi.StringPtr(o.DblinkSchema), Database: pulumi.StringPtr(b.db), Owner: pulumi.StringPtr(b.args.Admin.Username),
	}, b.parent, b.onDB())
	if err != nil {
		return err
	}
	onDblinkSchema := pulumi.DependsOn([]pulumi.Resource{dblinkSchema})
	if _, err := revokeAll(b.ctx, b.name+"-dblink-schema-public", b.db, "schema", o.DblinkSchema, b.c, onDblinkSchema); err != nil {
		return err
	}
	if b.dblinkExt, err = postgresql.NewExtension(b.ctx, b.name+"-dblink", &postgresql.ExtensionArgs{
		Name: pulumi.StringPtr("dblink"), Database: pulumi.StringPtr(b.db), Schema: pulumi.StringPtr(o.DblinkSchema),
	}, b.parent, onDblinkSchema); err != nil {
		return err
	}
	b.revokeDblink, err = revokeAll(b.ctx, b.name+"-dblink-functions-public", b.db, "function", o.DblinkSchema, b.c, pulumi.DependsOn([]pulumi.Resource{b.dblinkExt}))
	return err
}

// server: the loopback server, in the utility database, which needs a
// provider connected to it (the owner's mapping lives there too).
func (b *builder) server() (err error) {
	args := b.args
	b.c.Provider, err = pgprovider.New(b.ctx, b.name+"-provider", args.Admin, b.db, b.parent, b.onDB())
	if err != nil {
		return err
	}
	sslmode := "verify-full"
	if args.LoopbackInsecure {
		sslmode = "require"
	}
	serverOpts := pulumi.StringMap{
		"host":    args.LoopbackHost.ToStringOutput(),
		"port":    args.LoopbackPort.ToIntOutput().ApplyT(func(p int) string { return fmt.Sprint(p) }).(pulumi.StringOutput),
		"dbname":  pulumi.String(b.db),
		"sslmode": pulumi.String(sslmode),
	}
	if args.LoopbackRootCert != "" {
		serverOpts["sslrootcert"] = pulumi.String(args.LoopbackRootCert)
	}
	b.serverRes, err = postgresql.NewServer(b.ctx, b.name+"-server", &postgresql.ServerArgs{
		ServerName: pulumi.String(b.o.Server),
		FdwName:    pulumi.String("dblink_fdw"),
		Options:    serverOpts,
	}, b.parent, pulumi.Provider(b.c.Provider), pulumi.DependsOn([]pulumi.Resource{b.dblinkExt}))
	return err
}

// schema: the functions' schema, USAGE for the utility role only.
func (b *builder) schema() (err error) {
	o := b.o
	b.schemaRes, err = postgresql.NewSchema(b.ctx, b.name+"-schema", &postgresql.SchemaArgs{
		Name: pulumi.StringPtr(o.Schema), Database: pulumi.StringPtr(b.db), Owner: pulumi.StringPtr(b.args.Admin.Username),
	}, b.parent, b.onDB())
	if err != nil {
		return err
	}
	onSchema := pulumi.DependsOn([]pulumi.Resource{b.schemaRes})
	if _, err := revokeAll(b.ctx, b.name+"-schema-public", b.db, "schema", o.Schema, b.c, onSchema); err != nil {
		return err
	}
	_, err = postgresql.NewGrant(b.ctx, b.name+"-schema-usage", &postgresql.GrantArgs{
		Database: pulumi.String(b.db), Schema: pulumi.StringPtr(o.Schema), Role: b.c.Role.Name,
		ObjectType: pulumi.String("schema"), Privileges: pulumi.ToStringArray([]string{"USAGE"}),
	}, b.parent, onSchema)
	return err
}

// functions: the functions after everything they use, closed to PUBLIC,
// EXECUTE for the utility role on the callable ones; then the loopback
// writer, whose output it returns.
func (b *builder) functions(fns []sqlfuncs.Function) (pulumi.StringOutput, error) {
	o, c := b.o, b.c
	all, callable, err := c.functions(b.ctx, b.name, b.db, fns, []pulumi.Resource{b.schemaRes, b.dblinkExt, b.revokeDblink, b.serverRes, b.postgis, c.TenantGroup}, b.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	onFns := pulumi.DependsOn(all)
	revokeFns, err := revokeAll(b.ctx, b.name+"-functions-public", b.db, "function", o.Schema, c, onFns)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	executeFns, err := postgresql.NewGrant(b.ctx, b.name+"-functions-execute", &postgresql.GrantArgs{
		Database: pulumi.String(b.db), Schema: pulumi.StringPtr(o.Schema), Role: c.Role.Name,
		ObjectType: pulumi.String("function"), Objects: pulumi.ToStringArray(callable),
		Privileges: pulumi.ToStringArray([]string{"EXECUTE"}),
	}, b.parent, onFns)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	// After every statement on the functions: handing them over while a
	// grant on them runs fails ("tuple concurrently updated").
	return writeLoopback(b.ctx, b.name, b.args, b.serverRes.ServerName, append(all, c.Template, revokeFns, executeFns)), nil
}

// functions registers the utility functions after deps, each after the ones
// before it; it returns them and the names the utility role may call.
func (c *UtilityDatabase) functions(ctx *pulumi.Context, name, db string, fns []sqlfuncs.Function, deps []pulumi.Resource, parent pulumi.ResourceOption) ([]pulumi.Resource, []string, error) {
	var callable []string
	var all []pulumi.Resource
	for _, f := range fns {
		fargs := postgresql.FunctionArgArray{}
		for _, a := range f.Args {
			fa := postgresql.FunctionArgArgs{Name: pulumi.StringPtr(a.Name), Type: pulumi.String(a.Type), Mode: pulumi.StringPtr("IN")}
			if a.Default != "" {
				fa.Default = pulumi.StringPtr(a.Default)
			}
			fargs = append(fargs, fa)
		}
		fn, err := postgresql.NewFunction(ctx, name+"-fn-"+f.Name, &postgresql.FunctionArgs{
			Name:            pulumi.StringPtr(f.Name),
			Schema:          pulumi.StringPtr(f.Schema),
			Database:        pulumi.StringPtr(db),
			Args:            fargs,
			Returns:         pulumi.StringPtr(f.Returns),
			Language:        pulumi.StringPtr(f.Language),
			SecurityDefiner: pulumi.BoolPtr(f.SecurityDefiner),
			Body:            pulumi.String(f.Body),
		}, parent, pulumi.DependsOn(append(append([]pulumi.Resource{}, deps...), all...)))
		if err != nil {
			return nil, nil, err
		}
		c.Functions[f.Name] = fn
		all = append(all, fn)
		if f.Callable {
			callable = append(callable, f.Name)
		}
	}
	return all, callable, nil
}
