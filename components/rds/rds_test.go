package rds_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/baseline"
	"github.com/postgis-platform/deployer/components/rds"
	"github.com/postgis-platform/deployer/components/tags"
	"github.com/postgis-platform/deployer/internal/testkit/pulumimock"
)

const (
	instanceType = "aws:rds/instance:Instance"
	paramType    = "aws:rds/parameterGroup:ParameterGroup"
	subnetType   = "aws:rds/subnetGroup:SubnetGroup"
)

func baseArgs() rds.Args {
	return rds.Args{
		EngineVersion:    "16.4",
		DBName:           "gis",
		SubnetIDs:        pulumi.ToStringArray([]string{"subnet-a", "subnet-b"}),
		SecurityGroupIDs: pulumi.ToStringArray([]string{"sg-db"}),
		KMSKeyID:         pulumi.String("arn:aws:kms:eu-west-1:123:key/k"),
		Production:       true,
		Tags:             tags.Set{Environment: "prod", CostCenter: "gis-42"},
	}
}

// withOutputs makes the mock answer like AWS: the instance gets an endpoint
// and a managed master secret.
func withOutputs() *pulumimock.Recorder {
	return &pulumimock.Recorder{Outputs: map[string]func(resource.PropertyMap) resource.PropertyMap{
		instanceType: func(resource.PropertyMap) resource.PropertyMap {
			return resource.PropertyMap{
				"address":  resource.NewStringProperty("db.abc.eu-west-1.rds.amazonaws.com"),
				"endpoint": resource.NewStringProperty("db.abc.eu-west-1.rds.amazonaws.com:5432"),
				"masterUserSecrets": resource.NewArrayProperty([]resource.PropertyValue{
					resource.NewObjectProperty(resource.PropertyMap{"secretArn": resource.NewStringProperty("arn:aws:secretsmanager:eu-west-1:123:secret:rds!db")}),
				}),
			}
		},
		paramType: func(resource.PropertyMap) resource.PropertyMap {
			return resource.PropertyMap{"name": resource.NewStringProperty("db-postgres16-x")}
		},
		subnetType: func(resource.PropertyMap) resource.PropertyMap {
			return resource.PropertyMap{"name": resource.NewStringProperty("db-x")}
		},
	}}
}

func run(t *testing.T, args rds.Args) (*pulumimock.Recorder, *rds.PostgresInstance, error) {
	var c *rds.PostgresInstance
	rec, err := pulumimock.Run(t, func(ctx *pulumi.Context) error {
		var err error
		c, err = rds.New(ctx, "db", args)
		return err
	}, withOutputs())
	return rec, c, err
}

func TestInstanceSecurityProperties(t *testing.T) {
	rec, _, err := run(t, baseArgs())
	if err != nil {
		t.Fatal(err)
	}
	db := rec.Get(t, instanceType, "db")
	bools := map[string]bool{
		"storageEncrypted":                 true,
		"publiclyAccessible":               false,
		"deletionProtection":               true,
		"manageMasterUserPassword":         true,
		"iamDatabaseAuthenticationEnabled": true,
		"multiAz":                          true,
		"performanceInsightsEnabled":       true,
		"copyTagsToSnapshot":               true,
		"skipFinalSnapshot":                false,
		"applyImmediately":                 false,
		"allowMajorVersionUpgrade":         false,
	}
	for k, want := range bools {
		if got, ok := db.Bool(k); !ok || got != want {
			t.Errorf("%s = %v (set %v), want %v", k, got, ok, want)
		}
	}
	if db.Has("password") {
		t.Error("a master password is in the inputs; AWS must manage it")
	}
	strs := map[string]string{
		"engine":                      "postgres",
		"engineVersion":               "16.4",
		"caCertIdentifier":            "rds-ca-rsa2048-g1",
		"kmsKeyId":                    "arn:aws:kms:eu-west-1:123:key/k",
		"performanceInsightsKmsKeyId": "arn:aws:kms:eu-west-1:123:key/k",
		"finalSnapshotIdentifier":     "db-final",
		"parameterGroupName":          "db-postgres16-x",
		"dbSubnetGroupName":           "db-x",
	}
	for k, want := range strs {
		if got := db.Str(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if db.Num("backupRetentionPeriod") != 7 {
		t.Errorf("backupRetentionPeriod = %v", db.Num("backupRetentionPeriod"))
	}
	if got := db.Strings("enabledCloudwatchLogsExports"); !reflect.DeepEqual(got, []string{"postgresql", "upgrade"}) {
		t.Errorf("log exports = %v", got)
	}
	if got := db.Strings("vpcSecurityGroupIds"); !reflect.DeepEqual(got, []string{"sg-db"}) {
		t.Errorf("security groups = %v", got)
	}
	if !db.Opts.Custom || !protected(db) {
		t.Error("instance is not protected")
	}
	if _, ok := db.Map("tags")[baseline.ExemptTag]; ok {
		t.Error("exempt tag set without exemptions")
	}
}

func protected(r pulumimock.Resource) bool { return r.Opts.RegisterRPC.GetProtect() }

func TestParameterGroupEnforcesTLS(t *testing.T) {
	rec, _, err := run(t, baseArgs())
	if err != nil {
		t.Fatal(err)
	}
	pg := rec.Get(t, paramType, "db")
	if pg.Str("family") != "postgres16" || pg.Str("namePrefix") != "db-postgres16-" || pg.Has("name") {
		t.Fatalf("family/name: %v", pg.Inputs)
	}
	got := map[string]string{}
	for _, p := range pg.Objects("parameters") {
		got[p["name"].StringValue()] = p["value"].StringValue() + "/" + p["applyMethod"].StringValue()
	}
	want := map[string]string{
		"rds.force_ssl":            "1/immediate",
		"ssl_min_protocol_version": "TLSv1.2/immediate",
		"password_encryption":      "scram-sha-256/immediate",
		"log_connections":          "1/immediate",
		"log_disconnections":       "1/immediate",
		"pgaudit.log":              "role,ddl/immediate",
		"pgaudit.log_parameter":    "0/immediate",
		"shared_preload_libraries": "pgaudit/pending-reboot",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parameters = %v, want %v", got, want)
	}
	sn := rec.Get(t, subnetType, "db")
	if !reflect.DeepEqual(sn.Strings("subnetIds"), []string{"subnet-a", "subnet-b"}) || sn.Str("namePrefix") != "db-" {
		t.Fatalf("subnet group: %v", sn.Inputs)
	}
}

func TestMajorUpgradeGetsNewParameterGroup(t *testing.T) {
	args := baseArgs()
	args.EngineVersion = "17.2"
	args.AllowMajorVersionUpgrade = true
	rec, _, err := run(t, args)
	if err != nil {
		t.Fatal(err)
	}
	pg := rec.Get(t, paramType, "db")
	if pg.Str("family") != "postgres17" || pg.Str("namePrefix") != "db-postgres17-" {
		t.Fatalf("want a postgres17 group with its own prefix, got %v", pg.Inputs)
	}
	if v, _ := rec.Get(t, instanceType, "db").Bool("allowMajorVersionUpgrade"); !v {
		t.Fatal("allowMajorVersionUpgrade not passed")
	}
}

func TestOutputs(t *testing.T) {
	_, c, err := run(t, baseArgs())
	if err != nil {
		t.Fatal(err)
	}
	type got struct{ endpoint, address, arn, ca string }
	ch := make(chan got, 1)
	// Resolve the outputs inside a second mocked run is not possible; read them here.
	pulumi.All(c.Endpoint, c.Address, c.MasterSecretARN, c.CACertIdentifier).ApplyT(func(v []any) error {
		ch <- got{v[0].(string), v[1].(string), v[2].(string), v[3].(string)}
		return nil
	})
	g := <-ch
	if g.address != "db.abc.eu-west-1.rds.amazonaws.com" || !strings.HasSuffix(g.endpoint, ":5432") ||
		!strings.Contains(g.arn, "secretsmanager") || g.ca != "rds-ca-rsa2048-g1" {
		t.Fatalf("outputs: %+v", g)
	}
}

func TestExemptionsAreRecorded(t *testing.T) {
	args := baseArgs()
	args.PubliclyAccessible = true
	args.BackupRetentionDays = 1
	args.Production = false
	args.Exempt = []string{baseline.RDSNotPublic, baseline.RDSBackupRetention}
	rec, _, err := run(t, args)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{instanceType, paramType, subnetType} {
		if got := rec.Get(t, typ, "db").Map("tags")[baseline.ExemptTag]; got != "rds-backup-retention rds-not-public" {
			t.Fatalf("%s exempt tag = %q", typ, got)
		}
	}
	db := rec.Get(t, instanceType, "db")
	if v, _ := db.Bool("publiclyAccessible"); !v || db.Num("backupRetentionPeriod") != 1 {
		t.Fatal("relaxed settings not applied")
	}
	if v, _ := db.Bool("multiAz"); v {
		t.Fatal("non-production instance defaulted to Multi-AZ")
	}
}

func TestValidationErrors(t *testing.T) {
	f := false
	tests := []struct {
		name string
		edit func(*rds.Args)
		want []string
	}{
		{"not postgres", func(a *rds.Args) { a.Engine = "mysql" }, []string{"Engine", "mysql"}},
		{"bad version", func(a *rds.Args) { a.EngineVersion = "latest" }, []string{"EngineVersion", "16.4"}},
		{"unencrypted", func(a *rds.Args) { a.StorageEncrypted = &f }, []string{"StorageEncrypted", "encrypted"}},
		{"weak TLS", func(a *rds.Args) { a.MinTLSVersion = "TLSv1.1" }, []string{"MinTLSVersion", "TLSv1.2"}},
		{"public", func(a *rds.Args) { a.PubliclyAccessible = true }, []string{"PubliclyAccessible", `"rds-not-public"`, "to Exempt"}},
		{"short retention", func(a *rds.Args) { a.BackupRetentionDays = 3 }, []string{"BackupRetentionDays 3", `"rds-backup-retention"`}},
		{"retention out of range", func(a *rds.Args) { a.BackupRetentionDays = 40 }, []string{"1-35"}},
		{"single AZ in production", func(a *rds.Args) { a.MultiAZ = &f }, []string{"MultiAZ", `"rds-multi-az-production"`}},
		{"no deletion protection", func(a *rds.Args) { a.DeletionProtection = &f }, []string{"DeletionProtection", `"rds-deletion-protection"`}},
		{"no PI key", func(a *rds.Args) { a.KMSKeyID = nil }, []string{"Performance Insights", `"rds-performance-insights-kms"`}},
		{"old CA", func(a *rds.Args) { a.CACertIdentifier = "rds-ca-2019" }, []string{"CACertIdentifier", "rds-ca-rsa2048-g1"}},
		{"unrelaxable exemption", func(a *rds.Args) { a.Exempt = []string{baseline.RDSStorageEncrypted} }, []string{"cannot be relaxed"}},
		{"override enforced parameter", func(a *rds.Args) { a.ExtraParameters = map[string]string{"rds.force_ssl": "0"} }, []string{"rds.force_ssl", "enforces"}},
		{"enforced parameter in capitals", func(a *rds.Args) { a.ExtraParameters = map[string]string{"RDS.FORCE_SSL": "0"} }, []string{`"RDS.FORCE_SSL" is not a parameter name`, "lower case"}},
		{"enforced parameter with a space", func(a *rds.Args) { a.ExtraParameters = map[string]string{"rds.force_ssl ": "0"} }, []string{"is not a parameter name"}},
		{"ssl switched off", func(a *rds.Args) { a.ExtraParameters = map[string]string{"ssl": "0"} }, []string{`"ssl"`, "enforces"}},
		{"ssl_ciphers", func(a *rds.Args) { a.ExtraParameters = map[string]string{"ssl_ciphers": "NULL"} }, []string{`"ssl_ciphers"`, "enforces"}},
		{"preload library", func(a *rds.Args) { a.ExtraParameters = map[string]string{"shared_preload_libraries": ""} }, []string{"shared_preload_libraries", "enforces"}},
		{"negative port", func(a *rds.Args) { a.Port = -1 }, []string{"Port -1 is out of range", "1150 to 65535"}},
		{"reserved port", func(a *rds.Args) { a.Port = 80 }, []string{"Port 80 is out of range"}},
		{"no subnets", func(a *rds.Args) { a.SubnetIDs = nil }, []string{"SubnetIDs"}},
		{"no security groups", func(a *rds.Args) { a.SecurityGroupIDs = nil }, []string{"SecurityGroupIDs", "securitygroup"}},
		{"no cost center", func(a *rds.Args) { a.Tags.CostCenter = "" }, []string{"Tags.CostCenter"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := baseArgs()
			tc.edit(&args)
			rec, _, err := run(t, args)
			pulumimock.Refused(t, rec, err, tc.want...)
		})
	}
}
