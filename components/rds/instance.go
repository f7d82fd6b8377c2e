package rds

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// New validates args and registers the parameter group, the subnet group and
// the instance. Invalid input is refused before any resource is registered.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*PostgresInstance, error) {
	fam, err := args.validate()
	if err != nil {
		return nil, fmt.Errorf("rds %q: %w", name, err)
	}
	c := &PostgresInstance{}
	if err := ctx.RegisterComponentResource(Type, name, c, opts...); err != nil {
		return nil, err
	}
	tagMap := args.Tags.Map(args.Exempt)
	if c.ParameterGroup, err = parameterGroup(ctx, name, args, fam, tagMap, pulumi.Parent(c)); err != nil {
		return nil, fmt.Errorf("rds %q parameter group: %w", name, err)
	}
	if c.SubnetGroup, err = rds.NewSubnetGroup(ctx, name, &rds.SubnetGroupArgs{
		NamePrefix:  pulumi.StringPtr(name + "-"),
		Description: pulumi.StringPtr("PostGIS private subnets"),
		SubnetIds:   args.SubnetIDs,
		Tags:        tagMap,
	}, pulumi.Parent(c)); err != nil {
		return nil, fmt.Errorf("rds %q subnet group: %w", name, err)
	}
	inst := instanceArgs(name, args, c.SubnetGroup, c.ParameterGroup, tagMap)
	instOpts := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.Protect(!args.Unprotected)}
	if args.LiftDeletionProtection {
		// The instance is about to be replaced with the user's leave: both
		// protections come off for this one update, nothing else changes.
		inst.DeletionProtection = pulumi.BoolPtr(false)
		instOpts = append(instOpts, pulumi.Protect(false), pulumi.IgnoreChanges(instancePropertiesExcept("deletionProtection")))
	}
	if c.Instance, err = rds.NewInstance(ctx, name, inst, instOpts...); err != nil {
		return nil, fmt.Errorf("rds %q instance: %w", name, err)
	}
	if err := c.outputs(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// parameterGroup registers the parameter group. The enforced parameters
// are dynamic and apply at once; extra ones may be static, which RDS only
// accepts with pending-reboot. The family is in the name prefix: a major
// upgrade creates a new group (create-before-delete), the instance moves to
// it, then the old one goes.
func parameterGroup(ctx *pulumi.Context, name string, args Args, fam string, tagMap pulumi.StringMap, parent pulumi.ResourceOption) (*rds.ParameterGroup, error) {
	params := rds.ParameterGroupParameterArray{}
	for _, set := range []struct {
		values map[string]string
		apply  string
	}{{enforced(args.MinTLSVersion), "immediate"}, {staticParameters(args.ExtraParameters), "pending-reboot"}} {
		for _, k := range sortedKeys(set.values) {
			params = append(params, rds.ParameterGroupParameterArgs{
				Name: pulumi.String(k), Value: pulumi.String(set.values[k]), ApplyMethod: pulumi.StringPtr(set.apply),
			})
		}
	}
	return rds.NewParameterGroup(ctx, name, &rds.ParameterGroupArgs{
		Family:      pulumi.String(fam),
		NamePrefix:  pulumi.StringPtr(name + "-" + fam + "-"),
		Description: pulumi.StringPtr("PostGIS " + fam + ": TLS enforced, scram-sha-256"),
		Parameters:  params,
		Tags:        tagMap,
	}, parent)
}

// instanceArgs are the instance's inputs: the baseline's settings and the
// caller's choices.
func instanceArgs(name string, args Args, sn *rds.SubnetGroup, pg *rds.ParameterGroup, tagMap pulumi.StringMap) *rds.InstanceArgs {
	inst := &rds.InstanceArgs{
		Engine:                             pulumi.StringPtr(args.Engine),
		EngineVersion:                      pulumi.StringPtr(args.EngineVersion),
		AllowMajorVersionUpgrade:           pulumi.BoolPtr(args.AllowMajorVersionUpgrade),
		AutoMinorVersionUpgrade:            pulumi.BoolPtr(true),
		InstanceClass:                      pulumi.String(args.InstanceClass),
		AllocatedStorage:                   pulumi.IntPtr(args.AllocatedStorage),
		StorageType:                        pulumi.StringPtr("gp3"),
		StorageEncrypted:                   pulumi.BoolPtr(true),
		Username:                           pulumi.StringPtr(args.MasterUsername),
		ManageMasterUserPassword:           pulumi.BoolPtr(true),
		Port:                               pulumi.IntPtr(args.Port),
		DbSubnetGroupName:                  sn.Name,
		VpcSecurityGroupIds:                args.SecurityGroupIDs,
		ParameterGroupName:                 pg.Name,
		PubliclyAccessible:                 pulumi.BoolPtr(args.PubliclyAccessible),
		MultiAz:                            pulumi.BoolPtr(boolOr(args.MultiAZ, args.Production)),
		DeletionProtection:                 pulumi.BoolPtr(boolOr(args.DeletionProtection, true)),
		IamDatabaseAuthenticationEnabled:   pulumi.BoolPtr(true),
		CaCertIdentifier:                   pulumi.StringPtr(args.CACertIdentifier),
		BackupRetentionPeriod:              pulumi.IntPtr(args.BackupRetentionDays),
		CopyTagsToSnapshot:                 pulumi.BoolPtr(true),
		SkipFinalSnapshot:                  pulumi.BoolPtr(false),
		FinalSnapshotIdentifier:            pulumi.StringPtr(name + "-final"),
		DeleteAutomatedBackups:             pulumi.BoolPtr(false),
		ApplyImmediately:                   pulumi.BoolPtr(args.ApplyImmediately),
		EnabledCloudwatchLogsExports:       pulumi.ToStringArray(args.LogExports),
		PerformanceInsightsEnabled:         pulumi.BoolPtr(true),
		PerformanceInsightsRetentionPeriod: pulumi.IntPtr(7),
		Tags:                               tagMap,
	}
	piKey := args.PerformanceInsightsKMSKeyID
	if piKey == nil {
		piKey = args.KMSKeyID
	}
	if args.KMSKeyID != nil {
		inst.KmsKeyId = toPtr(args.KMSKeyID)
		inst.MasterUserSecretKmsKeyId = toPtr(args.KMSKeyID)
	}
	if piKey != nil {
		inst.PerformanceInsightsKmsKeyId = toPtr(piKey)
	}
	optional := []struct {
		set bool
		dst *pulumi.StringPtrInput
		val string
	}{{args.DBName != "", &inst.DbName, args.DBName}, {args.BackupWindow != "", &inst.BackupWindow, args.BackupWindow},
		{args.MaintenanceWindow != "", &inst.MaintenanceWindow, args.MaintenanceWindow}}
	for _, o := range optional {
		if o.set {
			*o.dst = pulumi.StringPtr(o.val)
		}
	}
	if args.MaxAllocatedStorage > 0 {
		inst.MaxAllocatedStorage = pulumi.IntPtr(args.MaxAllocatedStorage)
	}
	return inst
}

// outputs sets the component's outputs from its instance and registers them.
func (c *PostgresInstance) outputs(ctx *pulumi.Context) error {
	db := c.Instance
	c.Endpoint = db.Endpoint
	c.Address = db.Address
	c.Port = db.Port
	c.CACertIdentifier = db.CaCertIdentifier
	// Index(0) would panic on an empty list (a provider that has not filled it).
	c.MasterSecretARN = db.MasterUserSecrets.ApplyT(func(s []rds.InstanceMasterUserSecret) string {
		if len(s) == 0 || s[0].SecretArn == nil {
			return ""
		}
		return *s[0].SecretArn
	}).(pulumi.StringOutput)
	return ctx.RegisterResourceOutputs(c, pulumi.Map{
		"endpoint":         c.Endpoint,
		"address":          c.Address,
		"port":             c.Port,
		"masterSecretArn":  c.MasterSecretARN,
		"caCertIdentifier": c.CACertIdentifier,
	})
}

// instancePropertiesExcept lists the instance's properties (from the SDK's
// pulumi tags) but keep.
func instancePropertiesExcept(keep string) []string {
	var out []string
	t := reflect.TypeOf(rds.Instance{})
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("pulumi"); tag != "" && tag != keep {
			out = append(out, tag)
		}
	}
	return out
}

func toPtr(in pulumi.StringInput) pulumi.StringPtrInput {
	return in.ToStringOutput().ToStringPtrOutput()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
