// Package dbroles makes the least-privilege roles of an application database:
// a workflow role (USAGE on its schemas, SELECT/INSERT/UPDATE on their tables
// and default privileges so future tables follow) and a read-only role. The
// seed's rule: workflows never run as the owner or a superuser.
package dbroles

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-postgresql/sdk/v3/go/postgresql"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/components/pgprovider"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// Type is the component's type token.
const Type = "postgis:dbroles:Roles"

// DefaultConnectionLimit bounds each role's sessions.
const DefaultConnectionLimit = 20

// Attributes are the role attributes a workflow or read-only role never gets;
// setting any of them is refused at construction. They exist so a request
// for them is an explicit, clear error rather than a silent omission.
type Attributes struct {
	// Superuser would make the role a superuser: refused.
	Superuser bool
	// CreateDB would let the role create databases: refused.
	CreateDB bool
	// CreateRole would let the role create and alter roles: refused.
	CreateRole bool
	// Replication would let the role stream the whole cluster: refused.
	Replication bool
	// BypassRLS would let the role read past row-level security: refused.
	BypassRLS bool
}

func (a Attributes) requested() []string {
	var out []string
	for _, f := range []struct {
		on   bool
		name string
	}{{a.Superuser, "SUPERUSER"}, {a.CreateDB, "CREATEDB"}, {a.CreateRole, "CREATEROLE"}, {a.Replication, "REPLICATION"}, {a.BypassRLS, "BYPASSRLS"}} {
		if f.on {
			out = append(out, f.name)
		}
	}
	return out
}

// Role is one login role.
type Role struct {
	// Name of the role: a plain lower-case identifier.
	Name string
	// Password is required and kept secret (read it from secret config).
	Password pulumi.StringInput
	// ConnectionLimit (default 20).
	ConnectionLimit int
	// Attributes must stay all false.
	Attributes Attributes
}

// Args configures the roles of one application database.
type Args struct {
	// Database is the application database. Required.
	Database string
	// Schemas the roles may use (default ["public"]).
	Schemas []string
	// TableOwner is the role that creates the tables; default privileges apply
	// to tables it creates. It must not be the workflow role. Required.
	TableOwner string
	// Workflow is the read-write role of ETL jobs and services. Required.
	Workflow Role
	// AllowDelete and AllowTruncate widen the workflow role (off by default).
	AllowDelete, AllowTruncate bool
	// ReadOnly is an optional SELECT-only role (tile servers, analysts).
	ReadOnly *Role
	// PostGIS installs the postgis extension in Database.
	PostGIS bool
	// VerifierKey, a secret of the stack's, makes each role's password reach
	// the provider as its SCRAM verifier (see pgprovider.RolePassword);
	// without it the provider sends the password itself.
	VerifierKey pulumi.StringInput
}

// Roles is the component.
type Roles struct {
	pulumi.ResourceState

	// Workflow is the read-write role.
	Workflow *postgresql.Role
	// ReadOnly is the SELECT-only role, when asked for.
	ReadOnly *postgresql.Role
	PostGIS  *postgresql.Extension
}

func validateRole(field string, r Role, owner string) error {
	if err := sqlfuncs.ValidIdentifier("role", r.Name); err != nil {
		return fmt.Errorf("%s.Name: %w", field, err)
	}
	if r.Name == owner {
		return fmt.Errorf("%s.Name %q is the TableOwner: workflows never run as the owner; use a separate role", field, r.Name)
	}
	if r.Password == nil {
		return fmt.Errorf("%s.Password is nil: set it with `pulumi config set --secret` and pass it in", field)
	}
	if bad := r.Attributes.requested(); len(bad) > 0 {
		return fmt.Errorf("%s.Attributes asks for %s: workflow and read-only roles never get superuser-like attributes; use an admin role for administration", field, strings.Join(bad, ", "))
	}
	if r.ConnectionLimit < 0 {
		return fmt.Errorf("%s.ConnectionLimit %d is negative", field, r.ConnectionLimit)
	}
	return nil
}

func (a *Args) validate() error {
	if err := sqlfuncs.ValidIdentifier("database", a.Database); err != nil {
		return fmt.Errorf("Database: %w", err)
	}
	if len(a.Schemas) == 0 {
		a.Schemas = []string{"public"}
	}
	for i, s := range a.Schemas {
		if s != "public" {
			if err := sqlfuncs.ValidIdentifier("schema", s); err != nil {
				return fmt.Errorf("Schemas[%d]: %w", i, err)
			}
		}
	}
	if a.TableOwner == "" {
		return fmt.Errorf("TableOwner is empty: name the role that creates the tables (default privileges follow its tables)")
	}
	if err := validateRole("Workflow", a.Workflow, a.TableOwner); err != nil {
		return err
	}
	if a.ReadOnly != nil {
		if err := validateRole("ReadOnly", *a.ReadOnly, a.TableOwner); err != nil {
			return err
		}
		if a.ReadOnly.Name == a.Workflow.Name {
			return fmt.Errorf("ReadOnly.Name %q is the workflow role's name: use two roles", a.ReadOnly.Name)
		}
	}
	return nil
}

// New validates args and registers the roles and their grants.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Roles, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("dbroles %q: %w", name, err)
	}
	c := &Roles{}
	if err := ctx.RegisterComponentResource(Type, name, c, opts...); err != nil {
		return nil, err
	}
	var deps []pulumi.Resource
	if args.PostGIS {
		ext, err := postgresql.NewExtension(ctx, name+"-postgis", &postgresql.ExtensionArgs{
			Name:     pulumi.StringPtr("postgis"),
			Database: pulumi.StringPtr(args.Database),
		}, pulumi.Parent(c))
		if err != nil {
			return nil, err
		}
		c.PostGIS = ext
		deps = append(deps, ext)
	}
	tablePrivs := []string{"SELECT", "INSERT", "UPDATE"}
	if args.AllowDelete {
		tablePrivs = append(tablePrivs, "DELETE")
	}
	if args.AllowTruncate {
		tablePrivs = append(tablePrivs, "TRUNCATE")
	}
	var err error
	c.Workflow, err = c.role(ctx, name+"-workflow", args, args.Workflow, tablePrivs, []string{"USAGE", "SELECT"}, deps)
	if err != nil {
		return nil, err
	}
	if args.ReadOnly != nil {
		c.ReadOnly, err = c.role(ctx, name+"-readonly", args, *args.ReadOnly, []string{"SELECT"}, []string{"SELECT"}, deps)
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"workflowRole": c.Workflow.Name}); err != nil {
		return nil, err
	}
	return c, nil
}

// role registers one role, CONNECT on the database and, per schema, USAGE,
// table and sequence grants and default privileges for TableOwner's objects.
func (c *Roles) role(ctx *pulumi.Context, name string, args Args, r Role, tablePrivs, seqPrivs []string, deps []pulumi.Resource) (*postgresql.Role, error) {
	limit := r.ConnectionLimit
	if limit == 0 {
		limit = DefaultConnectionLimit
	}
	role, err := postgresql.NewRole(ctx, name, &postgresql.RoleArgs{
		Name:                   pulumi.StringPtr(r.Name),
		Login:                  pulumi.BoolPtr(true),
		Password:               pgprovider.RolePassword(r.Name, r.Password, args.VerifierKey),
		Superuser:              pulumi.BoolPtr(false),
		CreateDatabase:         pulumi.BoolPtr(false),
		CreateRole:             pulumi.BoolPtr(false),
		Replication:            pulumi.BoolPtr(false),
		BypassRowLevelSecurity: pulumi.BoolPtr(false),
		Inherit:                pulumi.BoolPtr(true),
		ConnectionLimit:        pulumi.IntPtr(limit),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, err
	}
	after := pulumi.DependsOn(append([]pulumi.Resource{role}, deps...))
	if _, err := postgresql.NewGrant(ctx, name+"-connect", &postgresql.GrantArgs{
		Database:   pulumi.String(args.Database),
		Role:       role.Name,
		ObjectType: pulumi.String("database"),
		Privileges: pulumi.ToStringArray([]string{"CONNECT"}),
	}, pulumi.Parent(c), after); err != nil {
		return nil, err
	}
	for _, schema := range args.Schemas {
		base := name + "-" + schema
		grants := []struct {
			suffix, objectType string
			privs              []string
		}{
			{"usage", "schema", []string{"USAGE"}},
			{"tables", "table", tablePrivs},
			{"sequences", "sequence", seqPrivs},
		}
		for _, g := range grants {
			if _, err := postgresql.NewGrant(ctx, base+"-"+g.suffix, &postgresql.GrantArgs{
				Database:   pulumi.String(args.Database),
				Schema:     pulumi.StringPtr(schema),
				Role:       role.Name,
				ObjectType: pulumi.String(g.objectType),
				Privileges: pulumi.ToStringArray(g.privs),
			}, pulumi.Parent(c), after); err != nil {
				return nil, err
			}
		}
		for _, g := range grants[1:] {
			if _, err := postgresql.NewDefaultPrivileges(ctx, base+"-default-"+g.suffix, &postgresql.DefaultPrivilegesArgs{
				Database:   pulumi.String(args.Database),
				Schema:     pulumi.StringPtr(schema),
				Owner:      pulumi.String(args.TableOwner),
				Role:       role.Name,
				ObjectType: pulumi.String(g.objectType),
				Privileges: pulumi.ToStringArray(g.privs),
			}, pulumi.Parent(c), after); err != nil {
				return nil, err
			}
		}
	}
	return role, nil
}
