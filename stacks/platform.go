package stacks

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-postgresql/sdk/v3/go/postgresql"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/postgis-platform/deployer/baseline"
	"github.com/postgis-platform/deployer/components/dbroles"
	"github.com/postgis-platform/deployer/components/pgprovider"
	"github.com/postgis-platform/deployer/components/rds"
	"github.com/postgis-platform/deployer/components/securitygroup"
	"github.com/postgis-platform/deployer/components/tags"
	"github.com/postgis-platform/deployer/components/utilitydb"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

// LoadConfig reads the stack config inside a program.
func LoadConfig(ctx *pulumi.Context) (Config, error) {
	cfg := config.New(ctx, Project)
	c, errs := Parse(func(key string) (string, bool) {
		if contains(SecretKeys, key) {
			return "set", true // read with RequireSecret below; presence checked by the deployer
		}
		v, err := cfg.Try(key)
		return v, err == nil
	}, nil)
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	return c, nil
}

// Options vary the program for one deployer step.
type Options struct {
	// LiftDeletionProtection lists RDS instance URNs whose deletion
	// protection a targeted update turns off before an allowed replacement.
	LiftDeletionProtection []string
	// Verify runs the live database checks in the program, with the admin
	// credential the provider uses (ReportVerify).
	Verify bool
	// RotateLoopbackLogin gives the utility functions' owner a new loopback
	// login in this run (deployer rotate).
	RotateLoopbackLogin bool
}

// Program returns the stack program with opts.
func Program(opts Options) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error { return platform(ctx, opts) }
}

// Platform is the stack program: the hardened security group and rules, RDS
// PostgreSQL, and on it the application database with PostGIS, its roles,
// and the utility database.
func Platform(ctx *pulumi.Context) error { return platform(ctx, Options{}) }

// InstanceURN is the URN of the stack's RDS instance.
func InstanceURN(stack string) string {
	return string(resource.NewURN(tokens.QName(stack), tokens.PackageName(Project), tokens.Type(rds.Type), tokens.Type(baseline.TypeDBInstance), "postgis"))
}

func platform(ctx *pulumi.Context, opts Options) error {
	c, err := LoadConfig(ctx)
	if err != nil {
		return err
	}
	if err := checkNetwork(ctx, c); err != nil {
		return err
	}
	secrets := config.New(ctx, Project)
	tg := tags.Set{Environment: c.Environment, CostCenter: c.CostCenter, Extra: map[string]string{"Stack": ctx.Stack()}}
	sg, err := securityGroup(ctx, c, tg)
	if err != nil {
		return err
	}
	db, err := instance(ctx, c, tg, sg, opts)
	if err != nil {
		return err
	}
	admin := pgprovider.Connection{Host: db.Address, Port: db.Port, Username: c.AdminUsername, Password: masterPassword(ctx, db), SSLRootCert: c.CABundle}
	prov, err := pgprovider.New(ctx, "postgis-admin", admin, "postgres")
	if err != nil {
		return err
	}
	reportAudit(ctx, c, admin, secrets)
	if opts.Verify {
		ReportVerify(ctx, admin, VerifySpec(c))
	}
	verifierKey := VerifierKey(ctx, secrets)
	appDB, err := appDatabase(ctx, c, secrets, verifierKey, pulumi.Provider(prov))
	if err != nil {
		return err
	}
	util, err := utilitydb.New(ctx, "utility", utilitydb.Args{
		Admin:               admin,
		Database:            c.UtilityDatabase,
		Options:             c.utilityOptions(),
		UtilityRolePassword: secrets.RequireSecret("utilityRolePassword"),
		LoopbackRootCert:    c.LoopbackRootCert,
		VerifierKey:         verifierKey,
		LoopbackLoginMaxAge: c.loopbackLoginMaxAge(),
		RotateLoopbackLogin: opts.RotateLoopbackLogin,
	}, pulumi.Provider(prov))
	if err != nil {
		return err
	}
	ctx.Export("securityGroupId", sg.ID)
	ctx.Export("endpoint", db.Endpoint)
	ctx.Export("address", db.Address)
	ctx.Export("port", db.Port)
	ctx.Export("masterSecretArn", db.MasterSecretARN)
	ctx.Export("appDatabase", appDB.Name)
	ctx.Export("utilityDatabase", util.Database.Name)
	return nil
}

// securityGroup is the database's group: the tile servers and the ETL subnet
// in, HTTPS out; its live rules are reported for drift.
func securityGroup(ctx *pulumi.Context, c Config, tg tags.Set) (*securitygroup.SecurityGroup, error) {
	sg, err := securitygroup.New(ctx, c.SecurityGroupName, securitygroup.Args{
		VpcID:        pulumi.String(c.VpcID),
		Description:  "PostGIS database (" + c.Environment + ")",
		DatabasePort: c.DBPort,
		Ingress: []securitygroup.Rule{
			{Key: "tile-servers", Description: "tile servers to PostGIS", FromPort: c.DBPort, SecurityGroupID: pulumi.String(c.TileServerGroupID)},
			{Key: "etl", Description: "ETL subnet to PostGIS", FromPort: c.DBPort, CIDRIPv4: c.ETLCIDR},
		},
		Egress: []securitygroup.Rule{
			{Key: "patching", Description: "HTTPS for patching and metrics", FromPort: 443, CIDRIPv4: c.EgressCIDR},
		},
		Tags: tg,
	})
	if err != nil {
		return nil, err
	}
	securitygroup.ReportLiveRules(ctx, sg.ID.ToStringOutput())
	return sg, nil
}

// instance is the RDS instance behind sg.
func instance(ctx *pulumi.Context, c Config, tg tags.Set, sg *securitygroup.SecurityGroup, opts Options) (*rds.PostgresInstance, error) {
	return rds.New(ctx, "postgis", rds.Args{
		EngineVersion:    c.EngineVersion,
		InstanceClass:    c.InstanceClass,
		ApplyImmediately: c.ApplyImmediately,
		// A new major version in the config is the upgrade asked for (its
		// parameter group's replacement still needs --allow-replace).
		AllowMajorVersionUpgrade: true,
		MasterUsername:           c.AdminUsername,
		Port:                     c.DBPort,
		SubnetIDs:                pulumi.ToStringArray(c.SubnetIDs),
		SecurityGroupIDs:         pulumi.StringArray{sg.ID.ToStringOutput()},
		KMSKeyID:                 pulumi.String(c.KMSKeyID),
		Production:               c.Production,
		BackupRetentionDays:      c.BackupRetention,
		Exempt:                   c.Exempt,
		Tags:                     tg,
		LiftDeletionProtection:   contains(opts.LiftDeletionProtection, InstanceURN(ctx.Stack())),
	})
}

// masterPassword is the current password of the master secret AWS manages,
// read in every run (after a rotation too), as a secret.
func masterPassword(ctx *pulumi.Context, db *rds.PostgresInstance) pulumi.StringOutput {
	secret := secretsmanager.LookupSecretVersionOutput(ctx, secretsmanager.LookupSecretVersionOutputArgs{SecretId: db.MasterSecretARN})
	return pulumi.ToSecret(secret.SecretString().ApplyT(func(s string) (string, error) {
		var v struct {
			Password string `json:"password"`
		}
		if err := json.Unmarshal([]byte(s), &v); err != nil || v.Password == "" {
			return "", fmt.Errorf("the master secret is not {\"username\":…,\"password\":…}")
		}
		return v.Password, nil
	})).(pulumi.StringOutput)
}

// reportAudit reports the live database audit for drift: the platform's
// roles and databases, the utility schema, and each role's own login.
func reportAudit(ctx *pulumi.Context, c Config, admin pgprovider.Connection, secrets *config.Config) {
	ReportDatabaseAudit(ctx, admin, AuditScope{
		Roles:       []string{c.ETLRole, c.TileReaderRole, c.UtilityRole},
		Databases:   []string{c.AppDatabase, c.UtilityDatabase, c.TemplateDatabase},
		TenantGroup: c.UtilityRole + sqlfuncs.TenantGroupSuffix,
		SettingFree: c.ownerRoles(),
		Utility: &UtilityAudit{Database: c.UtilityDatabase, Options: c.utilityOptions(),
			LoginMaxAge: c.loopbackLoginMaxAge()},
		Logins: []RoleLogin{
			{Role: c.ETLRole, Database: c.AppDatabase, Password: secrets.RequireSecret("etlPassword")},
			{Role: c.TileReaderRole, Database: c.AppDatabase, Password: secrets.RequireSecret("tileReaderPassword")},
			{Role: c.UtilityRole, Database: c.UtilityDatabase, Password: secrets.RequireSecret("utilityRolePassword")},
		},
	})
}

// appDatabase is the application database, closed to PUBLIC, with its
// least-privilege roles.
func appDatabase(ctx *pulumi.Context, c Config, secrets *config.Config, verifierKey pulumi.StringOutput, onPG pulumi.ResourceOption) (*postgresql.Database, error) {
	appDB, err := postgresql.NewDatabase(ctx, "app-db", &postgresql.DatabaseArgs{
		Name: pulumi.String(c.AppDatabase), Owner: pulumi.String(c.TableOwner),
	}, onPG, pulumi.Protect(true))
	if err != nil {
		return nil, err
	}
	if _, err := postgresql.NewGrant(ctx, "app-db-public", &postgresql.GrantArgs{
		Database: appDB.Name, Role: pulumi.String("public"), ObjectType: pulumi.String("database"), Privileges: pulumi.StringArray{},
	}, onPG); err != nil {
		return nil, err
	}
	_, err = dbroles.New(ctx, "app", dbroles.Args{
		Database:    c.AppDatabase,
		TableOwner:  c.TableOwner,
		Workflow:    dbroles.Role{Name: c.ETLRole, Password: secrets.RequireSecret("etlPassword")},
		ReadOnly:    &dbroles.Role{Name: c.TileReaderRole, Password: secrets.RequireSecret("tileReaderPassword")},
		PostGIS:     true,
		VerifierKey: verifierKey,
	}, onPG, pulumi.DependsOn([]pulumi.Resource{appDB}))
	return appDB, err
}

// utilityOptions are the utility functions' names and settings.
func (c Config) utilityOptions() sqlfuncs.Options {
	return sqlfuncs.Options{TemplateDB: c.TemplateDatabase, UtilityRole: c.UtilityRole, TenantConnectionLimit: c.TenantConnectionLimit}
}

// ownerRoles are the utility functions' owner and its two loopback logins.
func (c Config) ownerRoles() []string {
	o := c.utilityOptions().WithDefaults()
	l := o.LoopbackLogins()
	return []string{o.Owner, l[0], l[1]}
}

// loopbackLoginMaxAge is loopbackLoginMaxAgeDays as a duration.
func (c Config) loopbackLoginMaxAge() time.Duration {
	return time.Duration(c.LoopbackLoginMaxAgeDays) * 24 * time.Hour
}

// VerifierKey is the key the roles' SCRAM salts are derived with
// (DeriveVerifierKey over the stack's three role passwords), secret. A role's
// salt, which PostgreSQL shows any client before login, then tests no guess
// of its password without the other two passwords; changing one password
// changes every role's verifier (the same passwords, salted anew).
func VerifierKey(ctx *pulumi.Context, secrets *config.Config) pulumi.StringOutput {
	k := pulumi.All(secrets.RequireSecret("etlPassword"), secrets.RequireSecret("tileReaderPassword"), secrets.RequireSecret("utilityRolePassword")).
		ApplyT(func(v []any) string {
			pws := make([]string, len(v))
			for i, s := range v {
				pws[i], _ = s.(string)
			}
			return DeriveVerifierKey(ctx.Project(), ctx.Stack(), pws...)
		}).(pulumi.StringOutput)
	return pulumi.ToSecret(k).(pulumi.StringOutput)
}

// DeriveVerifierKey hashes the project, the stack and the role passwords (in
// the order etl, tile reader, utility) into the verifier key.
func DeriveVerifierKey(project, stack string, passwords ...string) string {
	h := sha256.New()
	h.Write([]byte("deployer verifier key\x00" + project + "\x00" + stack))
	for _, p := range passwords {
		h.Write([]byte("\x00" + p))
	}
	return hex.EncodeToString(h.Sum(nil))
}
