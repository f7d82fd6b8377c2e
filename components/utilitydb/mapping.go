package utilitydb

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/sqlfuncs"
)

// writeLoopback keeps the functions' owner's way back into the cluster
// working, in every run that is not a preview (an update, and a refresh that
// runs the program), once the server, the owner's roles and the functions
// exist: it hands the functions to the owner and, when needed or asked, gives
// the owner a new login (sqlfuncs.RotateLoopbackLogin). It is no provider
// resource: the provider's CREATE/ALTER USER MAPPING would be logged with
// the password in it, while the writer turns statement logging off for its
// own session first. The login's password is generated here and kept only
// in the mapping (and as its verifier in the role): no state, secret or log
// holds it, and the master password plays no part. The result, the server's
// name, fails the program when the write fails.
func writeLoopback(ctx *pulumi.Context, name string, args Args, serverName pulumi.StringOutput, after []pulumi.Resource) pulumi.StringOutput {
	port := args.Admin.Port
	if port == nil {
		port = pulumi.Int(5432)
	}
	inputs := []any{serverName, args.Admin.Host, port, args.Admin.Password}
	for _, r := range after {
		if cr, ok := r.(pulumi.CustomResource); ok {
			inputs = append(inputs, cr.ID())
		}
	}
	return pulumi.All(inputs...).ApplyT(func(v []any) (string, error) {
		srv, _ := v[0].(string)
		host, _ := v[1].(string)
		p, _ := v[2].(int)
		password, _ := v[3].(string)
		if ctx.DryRun() {
			return srv, nil
		}
		cfg := args.Admin.DBConfig(host, p, password, args.Database, "deployer/"+ctx.Stack()+"/loopback-login")
		rotation := sqlfuncs.Rotation{Force: args.RotateLoopbackLogin, MaxAge: args.LoopbackLoginMaxAge}
		login, rotated, err := args.Loopback(ctx.Context(), cfg, args.Options, rotation)
		if err != nil {
			return "", fmt.Errorf("utilitydb %q: %w", name, err)
		}
		if rotated {
			// automation.Rotate reads this line.
			_ = ctx.Log.Info(fmt.Sprintf("utilitydb %q: the functions' owner logs in as %s now, with a new password", name, login), nil)
		}
		return srv, nil
	}).(pulumi.StringOutput)
}
