// Package pgprovider makes the pulumi-postgresql provider the platform uses:
// logged in as a non-superuser admin (as on RDS), over TLS with
// sslmode=verify-full and an explicit root certificate, the password secret.
package pgprovider

import (
	"context"
	"fmt"

	"github.com/pulumi/pulumi-postgresql/sdk/v3/go/postgresql"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/dbconn"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// Connection is how the provider reaches the cluster.
type Connection struct {
	// Host is the database endpoint (e.g. the rds component's Address).
	Host pulumi.StringInput
	// Port is the database port (default 5432).
	Port pulumi.IntInput
	// Username is the admin role (the RDS master user, or a role with
	// CREATEDB and CREATEROLE); never a superuser.
	Username string
	// Password is made secret if it is not already.
	Password pulumi.StringInput
	// SSLRootCert is the CA bundle file on the machine running the deploy.
	SSLRootCert string
	// SSLMode defaults to verify-full; anything else needs InsecureTLS.
	SSLMode string
	// InsecureTLS allows an SSLMode other than verify-full (local
	// development only).
	InsecureTLS bool
}

// Validate reports a missing or unsafe field; field prefixes the message.
func (c Connection) Validate(field string) error {
	switch {
	case c.Host == nil:
		return fmt.Errorf("%s.Host is nil: pass the database endpoint (e.g. the rds component's Address)", field)
	case c.Username == "":
		return fmt.Errorf("%s.Username is empty: name the admin role the provider logs in as", field)
	case c.Password == nil:
		return fmt.Errorf("%s.Password is nil: read it from secret config (pulumi config set --secret) or the RDS master secret", field)
	}
	mode := c.SSLMode
	if mode == "" {
		mode = "verify-full"
	}
	if mode != "verify-full" && !c.InsecureTLS {
		return fmt.Errorf("%s.SSLMode %q does not verify the server: use verify-full with SSLRootCert, or set InsecureTLS for local development", field, mode)
	}
	if mode != "disable" && c.SSLRootCert == "" {
		return fmt.Errorf("%s.SSLRootCert is empty: give the CA bundle that signed the server certificate (for RDS, the region's bundle)", field)
	}
	return nil
}

// New registers a provider connected to database.
func New(ctx *pulumi.Context, name string, c Connection, database string, opts ...pulumi.ResourceOption) (*postgresql.Provider, error) {
	if err := c.Validate("Connection"); err != nil {
		return nil, err
	}
	port := c.Port
	if port == nil {
		port = pulumi.Int(5432)
	}
	mode := c.SSLMode
	if mode == "" {
		mode = "verify-full"
	}
	args := &postgresql.ProviderArgs{
		Host:      c.Host.ToStringOutput().ToStringPtrOutput(),
		Port:      port.ToIntOutput().ToIntPtrOutput(),
		Username:  pulumi.StringPtr(c.Username),
		Password:  pulumi.ToSecret(c.Password.ToStringOutput()).(pulumi.StringOutput).ToStringPtrOutput(),
		Database:  pulumi.StringPtr(database),
		Sslmode:   pulumi.StringPtr(mode),
		Superuser: pulumi.BoolPtr(false),
	}
	if c.SSLRootCert != "" {
		args.Sslrootcert = pulumi.StringPtr(c.SSLRootCert)
	}
	return postgresql.NewProvider(ctx, name, args, opts...)
}

// DBConfig is the connection the program itself makes as the admin (for the
// steps no provider resource can do), resolved from the connection's host,
// port and password: the same login and TLS settings the provider uses.
func (c Connection) DBConfig(host string, port int, password, database, app string) dbconn.Config {
	mode := dbconn.SSLMode(c.SSLMode)
	if mode == "" {
		mode = dbconn.VerifyFull
	}
	return dbconn.Config{
		Host: host, Port: port, Database: database, User: c.Username, RootCert: c.SSLRootCert,
		SSLMode: mode, AllowInsecureTLS: c.InsecureTLS, ApplicationName: app,
		Password: dbconn.SecretFunc("the admin's current password", func(context.Context) (string, error) { return password, nil }),
	}
}

// emptyPassword refuses a role without a password (a login anyone could
// guess), when the password's value is known.
func emptyPassword(role string) error {
	return fmt.Errorf("role %q: the password is empty: set it with `pulumi config set --secret` and pass it in", role)
}

// RolePassword is what a role resource declares as role's password. With a
// key (a secret of the stack's that the password does not give away) it is
// the password's SCRAM-SHA-256 verifier (sqlfuncs.StableSCRAMVerifier),
// secret: PostgreSQL stores a verifier as given, logins use the password as
// before, and the provider's CREATE/ALTER ROLE statement, which
// log_statement or a failure would log in full, never holds the cleartext.
// Without a key it is the password itself (PostgreSQL then salts it at
// random). An empty password fails the update before the role is written.
func RolePassword(role string, password, key pulumi.StringInput) pulumi.StringPtrOutput {
	if key == nil {
		v := password.ToStringOutput().ApplyT(func(p string) (string, error) {
			if p == "" {
				return "", emptyPassword(role)
			}
			return p, nil
		}).(pulumi.StringOutput)
		return pulumi.ToSecret(v).(pulumi.StringOutput).ToStringPtrOutput()
	}
	v := pulumi.All(password, key).ApplyT(func(x []any) (string, error) {
		p, _ := x[0].(string)
		k, _ := x[1].(string)
		if p == "" {
			return "", emptyPassword(role)
		}
		return sqlfuncs.StableSCRAMVerifier(k, role, p)
	}).(pulumi.StringOutput)
	return pulumi.ToSecret(v).(pulumi.StringOutput).ToStringPtrOutput()
}
