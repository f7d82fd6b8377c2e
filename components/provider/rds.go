package provider

import (
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/components/rds"
)

// PostgresInstanceArgs stands for rds.Args. LiftDeletionProtection is the
// deployer's own step before an allowed replacement and is not an input.
type PostgresInstanceArgs struct {
	Engine                      string                  `pulumi:"engine,optional"`
	EngineVersion               string                  `pulumi:"engineVersion,optional"`
	AllowMajorVersionUpgrade    bool                    `pulumi:"allowMajorVersionUpgrade,optional"`
	InstanceClass               string                  `pulumi:"instanceClass,optional"`
	AllocatedStorage            int                     `pulumi:"allocatedStorage,optional"`
	MaxAllocatedStorage         int                     `pulumi:"maxAllocatedStorage,optional"`
	DBName                      string                  `pulumi:"dbName,optional"`
	MasterUsername              string                  `pulumi:"masterUsername,optional"`
	Port                        int                     `pulumi:"port,optional"`
	SubnetIDs                   pulumi.StringArrayInput `pulumi:"subnetIds"`
	SecurityGroupIDs            pulumi.StringArrayInput `pulumi:"securityGroupIds"`
	KMSKeyID                    pulumi.StringInput      `pulumi:"kmsKeyId,optional"`
	PerformanceInsightsKMSKeyID pulumi.StringInput      `pulumi:"performanceInsightsKmsKeyId,optional"`
	StorageEncrypted            *bool                   `pulumi:"storageEncrypted,optional"`
	MinTLSVersion               string                  `pulumi:"minTlsVersion,optional"`
	CACertIdentifier            string                  `pulumi:"caCertIdentifier,optional"`
	Production                  bool                    `pulumi:"production,optional"`
	MultiAZ                     *bool                   `pulumi:"multiAz,optional"`
	PubliclyAccessible          bool                    `pulumi:"publiclyAccessible,optional"`
	DeletionProtection          *bool                   `pulumi:"deletionProtection,optional"`
	BackupRetentionDays         int                     `pulumi:"backupRetentionDays,optional"`
	BackupWindow                string                  `pulumi:"backupWindow,optional"`
	MaintenanceWindow           string                  `pulumi:"maintenanceWindow,optional"`
	ApplyImmediately            bool                    `pulumi:"applyImmediately,optional"`
	LogExports                  []string                `pulumi:"logExports,optional"`
	ExtraParameters             map[string]string       `pulumi:"extraParameters,optional"`
	Exempt                      []string                `pulumi:"exempt,optional"`
	Unprotected                 bool                    `pulumi:"unprotected,optional"`
	Tags                        Tags                    `pulumi:"tags"`
}

// Annotate documents the inputs.
func (r *PostgresInstanceArgs) Annotate(a infer.Annotator) { describe(a, r, "rds.Args") }

func (r PostgresInstanceArgs) goArgs() rds.Args {
	return rds.Args{
		Engine: r.Engine, EngineVersion: r.EngineVersion, AllowMajorVersionUpgrade: r.AllowMajorVersionUpgrade,
		InstanceClass: r.InstanceClass, AllocatedStorage: r.AllocatedStorage, MaxAllocatedStorage: r.MaxAllocatedStorage,
		DBName: r.DBName, MasterUsername: r.MasterUsername, Port: r.Port,
		SubnetIDs: r.SubnetIDs, SecurityGroupIDs: r.SecurityGroupIDs,
		KMSKeyID: r.KMSKeyID, PerformanceInsightsKMSKeyID: r.PerformanceInsightsKMSKeyID, StorageEncrypted: r.StorageEncrypted,
		MinTLSVersion: r.MinTLSVersion, CACertIdentifier: r.CACertIdentifier,
		Production: r.Production, MultiAZ: r.MultiAZ, PubliclyAccessible: r.PubliclyAccessible, DeletionProtection: r.DeletionProtection,
		BackupRetentionDays: r.BackupRetentionDays, BackupWindow: r.BackupWindow, MaintenanceWindow: r.MaintenanceWindow,
		ApplyImmediately: r.ApplyImmediately, LogExports: r.LogExports, ExtraParameters: r.ExtraParameters,
		Exempt: r.Exempt, Unprotected: r.Unprotected, Tags: r.Tags.goSet(),
	}
}

// PostgresInstance is the instance component's outputs.
type PostgresInstance struct {
	pulumi.ResourceState
	Endpoint         pulumi.StringOutput `pulumi:"endpoint"`
	Address          pulumi.StringOutput `pulumi:"address"`
	Port             pulumi.IntOutput    `pulumi:"port"`
	MasterSecretARN  pulumi.StringOutput `pulumi:"masterSecretArn"`
	CACertIdentifier pulumi.StringOutput `pulumi:"caCertIdentifier"`
}

// Annotate documents the outputs.
func (r *PostgresInstance) Annotate(a infer.Annotator) { describe(a, r, "rds.PostgresInstance") }

// goComponent names the Go component.
func (*PostgresInstance) goComponent() (token, doc string) { return rds.Type, "rds" }

func instanceComponent() component {
	return componentOf[PostgresInstanceArgs, *PostgresInstance](constructWith(rds.New, PostgresInstanceArgs.goArgs, func(c *rds.PostgresInstance) pulumi.Map {
		return pulumi.Map{
			"endpoint": c.Endpoint, "address": c.Address, "port": c.Port,
			"masterSecretArn": c.MasterSecretARN, "caCertIdentifier": c.CACertIdentifier,
		}
	}))
}
