package utilitydb

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// writeMapping writes the owner's user mapping on the loopback server once
// the server exists, in every run that is not a preview: the update, and a
// refresh that runs the program (which is how `deployer up --refresh` puts a
// rotated master password back into it). It is no provider resource: the
// provider's CREATE/ALTER USER MAPPING would be logged with the password in
// it (pgaudit's DDL class, log_statement), while the writer turns statement
// logging off for its own session first and writes only when the mapping is
// not current. The result, the server's name, fails the program when the
// write fails.
func writeMapping(ctx *pulumi.Context, name string, args Args, serverName pulumi.StringOutput) pulumi.StringOutput {
	port := args.Admin.Port
	if port == nil {
		port = pulumi.Int(5432)
	}
	return pulumi.All(serverName, args.Admin.Host, port, args.Admin.Password).ApplyT(func(v []any) (string, error) {
		srv, _ := v[0].(string)
		host, _ := v[1].(string)
		p, _ := v[2].(int)
		password, _ := v[3].(string)
		if ctx.DryRun() {
			return srv, nil
		}
		cfg := args.Admin.DBConfig(host, p, password, args.Database, "deployer/"+ctx.Stack()+"/user-mapping")
		if _, err := args.WriteMapping(ctx.Context(), cfg, srv, args.Admin.Username, password); err != nil {
			return "", fmt.Errorf("utilitydb %q: loopback %w", name, err)
		}
		return srv, nil
	}).(pulumi.StringOutput)
}
