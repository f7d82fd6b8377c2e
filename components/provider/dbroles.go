package provider

import (
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/components/dbroles"
)

// RoleAttributes stands for dbroles.Attributes.
type RoleAttributes struct {
	Superuser   bool `pulumi:"superuser,optional"`
	CreateDB    bool `pulumi:"createDb,optional"`
	CreateRole  bool `pulumi:"createRole,optional"`
	Replication bool `pulumi:"replication,optional"`
	BypassRLS   bool `pulumi:"bypassRls,optional"`
}

// Annotate names the type and documents its fields.
func (r *RoleAttributes) Annotate(a infer.Annotator) { annotateObject(a, r, "dbroles.Attributes") }

// Role stands for dbroles.Role.
type Role struct {
	Name            string             `pulumi:"name"`
	Password        pulumi.StringInput `pulumi:"password" provider:"secret"`
	ConnectionLimit int                `pulumi:"connectionLimit,optional"`
	Attributes      *RoleAttributes    `pulumi:"attributes,optional"`
}

// Annotate names the type and documents its fields.
func (r *Role) Annotate(a infer.Annotator) { annotateObject(a, r, "dbroles.Role") }

func (r Role) goRole() dbroles.Role {
	out := dbroles.Role{Name: r.Name, Password: r.Password, ConnectionLimit: r.ConnectionLimit}
	if a := r.Attributes; a != nil {
		out.Attributes = dbroles.Attributes{Superuser: a.Superuser, CreateDB: a.CreateDB, CreateRole: a.CreateRole, Replication: a.Replication, BypassRLS: a.BypassRLS}
	}
	return out
}

// RolesArgs stands for dbroles.Args.
type RolesArgs struct {
	Database      string             `pulumi:"database"`
	Schemas       []string           `pulumi:"schemas,optional"`
	TableOwner    string             `pulumi:"tableOwner"`
	Workflow      Role               `pulumi:"workflow"`
	AllowDelete   bool               `pulumi:"allowDelete,optional"`
	AllowTruncate bool               `pulumi:"allowTruncate,optional"`
	ReadOnly      *Role              `pulumi:"readOnly,optional"`
	PostGIS       bool               `pulumi:"postgis,optional"`
	VerifierKey   pulumi.StringInput `pulumi:"verifierKey,optional" provider:"secret"`
}

// Annotate documents the inputs.
func (r *RolesArgs) Annotate(a infer.Annotator) { describe(a, r, "dbroles.Args") }

func (r RolesArgs) goArgs() dbroles.Args {
	out := dbroles.Args{
		Database: r.Database, Schemas: r.Schemas, TableOwner: r.TableOwner, Workflow: r.Workflow.goRole(),
		AllowDelete: r.AllowDelete, AllowTruncate: r.AllowTruncate, PostGIS: r.PostGIS, VerifierKey: r.VerifierKey,
	}
	if r.ReadOnly != nil {
		ro := r.ReadOnly.goRole()
		out.ReadOnly = &ro
	}
	return out
}

// Roles is the roles component's outputs.
type Roles struct {
	pulumi.ResourceState
	WorkflowRole pulumi.StringOutput `pulumi:"workflowRole" godoc:"Workflow"`
	ReadOnlyRole pulumi.StringOutput `pulumi:"readOnlyRole" godoc:"ReadOnly"`
}

// Annotate documents the outputs.
func (r *Roles) Annotate(a infer.Annotator) { describe(a, r, "dbroles.Roles") }

// goComponent names the Go component.
func (*Roles) goComponent() (token, doc string) { return dbroles.Type, "dbroles" }

func rolesComponent() component {
	return componentOf[RolesArgs, *Roles](constructWith(dbroles.New, RolesArgs.goArgs, func(c *dbroles.Roles) pulumi.Map {
		out := pulumi.Map{"workflowRole": c.Workflow.Name}
		if c.ReadOnly != nil {
			out["readOnlyRole"] = c.ReadOnly.Name
		}
		return out
	}))
}
