package provider

import (
	"fmt"
	"time"

	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/components/pgprovider"
	"github.com/postgis-platform/deployer/components/utilitydb"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// Connection stands for pgprovider.Connection.
type Connection struct {
	Host        pulumi.StringInput `pulumi:"host"`
	Port        pulumi.IntInput    `pulumi:"port,optional"`
	Username    string             `pulumi:"username"`
	Password    pulumi.StringInput `pulumi:"password" provider:"secret"`
	SSLRootCert string             `pulumi:"sslRootCert,optional"`
	SSLMode     string             `pulumi:"sslMode,optional"`
	InsecureTLS bool               `pulumi:"insecureTls,optional"`
}

// Annotate names the type and documents its fields.
func (c *Connection) Annotate(a infer.Annotator) { annotateObject(a, c, "pgprovider.Connection") }

// Names stands for sqlfuncs.Options.
type Names struct {
	Schema       string `pulumi:"schema,optional"`
	DblinkSchema string `pulumi:"dblinkSchema,optional"`
	Server       string `pulumi:"server,optional"`
	TemplateDB   string `pulumi:"templateDb,optional"`
	UtilityRole  string `pulumi:"utilityRole,optional"`
	TenantGroup  string `pulumi:"tenantGroup,optional"`
	Owner        string `pulumi:"owner,optional"`
	// TenantConnectionLimit is an int, as in Go.
	TenantConnectionLimit int `pulumi:"tenantConnectionLimit,optional"`
}

// Annotate names the type and documents its fields.
func (n *Names) Annotate(a infer.Annotator) { annotateObject(a, n, "sqlfuncs.Options") }

// UtilityDatabaseArgs stands for utilitydb.Args. LoopbackLoginMaxAge is a
// duration in Go's notation ("720h"); Loopback, a test hook, is not an input.
type UtilityDatabaseArgs struct {
	Admin               Connection         `pulumi:"admin"`
	Database            string             `pulumi:"database,optional"`
	Options             *Names             `pulumi:"names,optional"`
	UtilityRolePassword pulumi.StringInput `pulumi:"utilityRolePassword" provider:"secret"`
	VerifierKey         pulumi.StringInput `pulumi:"verifierKey,optional" provider:"secret"`
	LoopbackHost        pulumi.StringInput `pulumi:"loopbackHost,optional"`
	LoopbackPort        pulumi.IntInput    `pulumi:"loopbackPort,optional"`
	LoopbackRootCert    string             `pulumi:"loopbackRootCert,optional"`
	LoopbackInsecure    bool               `pulumi:"loopbackInsecure,optional"`
	LoopbackLoginMaxAge string             `pulumi:"loopbackLoginMaxAge,optional"`
	RotateLoopbackLogin bool               `pulumi:"rotateLoopbackLogin,optional"`
}

// Annotate documents the inputs.
func (u *UtilityDatabaseArgs) Annotate(a infer.Annotator) { describe(a, u, "utilitydb.Args") }

func (u UtilityDatabaseArgs) goArgs() (utilitydb.Args, error) {
	out := utilitydb.Args{
		Admin: pgprovider.Connection{
			Host: u.Admin.Host, Port: u.Admin.Port, Username: u.Admin.Username, Password: u.Admin.Password,
			SSLRootCert: u.Admin.SSLRootCert, SSLMode: u.Admin.SSLMode, InsecureTLS: u.Admin.InsecureTLS,
		},
		Database: u.Database, UtilityRolePassword: u.UtilityRolePassword, VerifierKey: u.VerifierKey,
		LoopbackHost: u.LoopbackHost, LoopbackPort: u.LoopbackPort, LoopbackRootCert: u.LoopbackRootCert,
		LoopbackInsecure: u.LoopbackInsecure, RotateLoopbackLogin: u.RotateLoopbackLogin,
	}
	if n := u.Options; n != nil {
		out.Options = sqlfuncs.Options{Schema: n.Schema, DblinkSchema: n.DblinkSchema, Server: n.Server, TemplateDB: n.TemplateDB,
			UtilityRole: n.UtilityRole, TenantGroup: n.TenantGroup, Owner: n.Owner, TenantConnectionLimit: n.TenantConnectionLimit}
	}
	if u.LoopbackLoginMaxAge != "" {
		d, err := time.ParseDuration(u.LoopbackLoginMaxAge)
		if err != nil {
			return out, fmt.Errorf("LoopbackLoginMaxAge %q is not a duration: write it as Go does, e.g. \"720h\" for 30 days", u.LoopbackLoginMaxAge)
		}
		if d < 0 {
			return out, fmt.Errorf("LoopbackLoginMaxAge %q is negative: give a duration such as \"720h\", or leave it out to rotate only on request", u.LoopbackLoginMaxAge)
		}
		out.LoopbackLoginMaxAge = d
	}
	return out, nil
}

// UtilityDatabase is the utility database component's outputs.
type UtilityDatabase struct {
	pulumi.ResourceState
	Database    pulumi.StringOutput `pulumi:"database" godoc:"Database"`
	Template    pulumi.StringOutput `pulumi:"template" godoc:"Template"`
	UtilityRole pulumi.StringOutput `pulumi:"utilityRole" godoc:"Role"`
	TenantGroup pulumi.StringOutput `pulumi:"tenantGroup" godoc:"TenantGroup"`
}

// Annotate documents the outputs.
func (u *UtilityDatabase) Annotate(a infer.Annotator) { describe(a, u, "utilitydb.UtilityDatabase") }

// goComponent names the Go component.
func (*UtilityDatabase) goComponent() (token, doc string) { return utilitydb.Type, "utilitydb" }

func utilityComponent() component {
	return componentOf[UtilityDatabaseArgs, *UtilityDatabase](constructWithErr(utilitydb.New, UtilityDatabaseArgs.goArgs, func(c *utilitydb.UtilityDatabase) pulumi.Map {
		return pulumi.Map{"database": c.Database.Name, "template": c.Template.Name, "utilityRole": c.Role.Name, "tenantGroup": c.TenantGroup.Name}
	}))
}
