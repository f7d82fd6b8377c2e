package aws_test

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/internal/testkit/testenv"
)

// spec is what the test program declares; tests edit it between runs.
type spec struct {
	groupDesc, ruleDesc, ruleCIDR, ruleRefSG string
	paramFamily, sslValue, subnetPrefix      string
	identifier, dbName                       string
	retention                                int
	encrypted                                bool
	tagEnv                                   string
}

func baseSpec() spec {
	return spec{groupDesc: "PostGIS", ruleDesc: "ETL", ruleCIDR: "10.20.30.0/24", paramFamily: "postgres16", sslValue: "1",
		subnetPrefix: "db-", identifier: "postgis-test", dbName: "gis", retention: 7, encrypted: true, tagEnv: "dev"}
}

func program(s *spec) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		tags := pulumi.StringMap{"Environment": pulumi.String(s.tagEnv)}
		sg, err := ec2.NewSecurityGroup(ctx, "db", &ec2.SecurityGroupArgs{
			VpcId: pulumi.String("vpc-1"), Description: pulumi.String(s.groupDesc), NamePrefix: pulumi.String("db-"), Tags: tags,
		})
		if err != nil {
			return err
		}
		in := &vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId: sg.ID(), IpProtocol: pulumi.String("tcp"), FromPort: pulumi.Int(5432), ToPort: pulumi.Int(5432),
			Description: pulumi.String(s.ruleDesc), Tags: tags,
		}
		if s.ruleRefSG != "" {
			in.ReferencedSecurityGroupId = sg.ID()
		} else {
			in.CidrIpv4 = pulumi.String(s.ruleCIDR)
		}
		if _, err := vpc.NewSecurityGroupIngressRule(ctx, "etl", in); err != nil {
			return err
		}
		if _, err := vpc.NewSecurityGroupEgressRule(ctx, "https", &vpc.SecurityGroupEgressRuleArgs{
			SecurityGroupId: sg.ID(), IpProtocol: pulumi.String("tcp"), FromPort: pulumi.Int(443), ToPort: pulumi.Int(443),
			CidrIpv4: pulumi.String("10.0.0.0/8"), Description: pulumi.String("patching"),
		}); err != nil {
			return err
		}
		pg, err := rds.NewParameterGroup(ctx, "db", &rds.ParameterGroupArgs{
			Family: pulumi.String(s.paramFamily), NamePrefix: pulumi.String("db-" + s.paramFamily + "-"),
			Parameters: rds.ParameterGroupParameterArray{rds.ParameterGroupParameterArgs{Name: pulumi.String("rds.force_ssl"), Value: pulumi.String(s.sslValue)}},
		})
		if err != nil {
			return err
		}
		sn, err := rds.NewSubnetGroup(ctx, "db", &rds.SubnetGroupArgs{NamePrefix: pulumi.String(s.subnetPrefix), SubnetIds: pulumi.ToStringArray([]string{"subnet-a", "subnet-b"})})
		if err != nil {
			return err
		}
		db, err := rds.NewInstance(ctx, "db", &rds.InstanceArgs{
			Identifier: pulumi.String(s.identifier), Engine: pulumi.String("postgres"), EngineVersion: pulumi.String("16.4"),
			InstanceClass: pulumi.String("db.t4g.micro"), AllocatedStorage: pulumi.Int(20), DbName: pulumi.String(s.dbName),
			Username: pulumi.String("postgis_admin"), ManageMasterUserPassword: pulumi.Bool(true),
			StorageEncrypted: pulumi.Bool(s.encrypted), BackupRetentionPeriod: pulumi.Int(s.retention),
			ParameterGroupName: pg.Name, DbSubnetGroupName: sn.Name, VpcSecurityGroupIds: pulumi.StringArray{sg.ID().ToStringOutput()},
			SkipFinalSnapshot: pulumi.Bool(true), Tags: tags,
		})
		if err != nil {
			return err
		}
		ctx.Export("groupId", sg.ID())
		ctx.Export("address", db.Address)
		ctx.Export("secretArn", db.MasterUserSecrets.Index(pulumi.Int(0)).SecretArn())
		return nil
	}
}

func objects(t *testing.T, e *enginetest.Env) map[string]*standin.Object {
	t.Helper()
	var out map[string]*standin.Object
	if err := e.AWSCloud().View(func(c *standin.Cloud) error { out = c.Objects; return nil }); err != nil {
		t.Fatal(err)
	}
	maps.DeleteFunc(out, func(id string, _ *standin.Object) bool { return enginetest.Seeded(id) }) // the network the stack lands in
	return out
}

func idsByType(objs map[string]*standin.Object) map[string]string {
	out := map[string]string{}
	for id, o := range objs {
		out[o.Type] += id
	}
	return out
}

func TestLifecycleOfEveryType(t *testing.T) {
	e := enginetest.New(t)
	ctx := context.Background()
	s := baseSpec()
	st := e.Stack(t, "life", program(&s))

	up, err := st.Up(ctx)
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	if got := (*up.Summary.ResourceChanges)["create"]; got != 7 {
		t.Fatalf("created %d resources, want 7", got)
	}
	objs := objects(t, e)
	ids := idsByType(objs)
	for typ, prefix := range map[string]string{aws.TypeSecurityGroup: "sg-", aws.TypeIngressRule: "sgr-", aws.TypeEgressRule: "sgr-", aws.TypeInstance: "db-", aws.TypeParameterGroup: "db-postgres16-", aws.TypeSubnetGroup: "db-"} {
		if !strings.HasPrefix(ids[typ], prefix) {
			t.Errorf("%s id %q, want prefix %q", typ, ids[typ], prefix)
		}
	}
	if up.Outputs["groupId"].Value != ids[aws.TypeSecurityGroup] {
		t.Fatalf("groupId output %v", up.Outputs["groupId"].Value)
	}

	// Read: a refresh of an untouched cloud changes nothing.
	ref, err := st.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := (*ref.Summary.ResourceChanges)["update"]; n != 0 {
		t.Fatalf("refresh of an untouched cloud shows %d updates", n)
	}

	// In-place updates: every type changes without replacement; the RDS
	// identifier renames in place.
	s.ruleDesc, s.tagEnv, s.sslValue, s.retention, s.identifier = "ETL nightly", "prod", "0", 14, "postgis-renamed"
	s.ruleCIDR = "10.20.31.0/24" // same kind of source: in place
	up, err = st.Up(ctx)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	rc := *up.Summary.ResourceChanges
	if rc["replace"] != 0 || rc["update"] != 4 {
		t.Fatalf("in-place update summary: %v", rc)
	}
	after := objects(t, e)
	if got := idsByType(after); got[aws.TypeInstance] != ids[aws.TypeInstance] || got[aws.TypeIngressRule] != ids[aws.TypeIngressRule] {
		t.Fatalf("IDs changed on in-place update: %v -> %v", ids, got)
	}
	db := after[ids[aws.TypeInstance]]
	rule := after[ids[aws.TypeIngressRule]]
	if db.Props["identifier"] != "postgis-renamed" || db.Props["backupRetentionPeriod"] != 14.0 ||
		rule.Props["cidrIpv4"] != "10.20.31.0/24" || rule.Props["description"] != "ETL nightly" {
		t.Fatalf("cloud not updated: db %v rule %v", db.Props, rule.Props)
	}

	if _, err := st.Destroy(ctx); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if n := len(objects(t, e)); n != 0 {
		t.Fatalf("%d objects left in the cloud after destroy", n)
	}
}

func TestReplacementsFollowTheProvider(t *testing.T) {
	e := enginetest.New(t)
	s := baseSpec()
	st := e.Stack(t, "replace", program(&s))
	if _, err := st.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*spec)
		want string // "<type>/<name>" that must be replaced
	}{
		{"security group description", func(s *spec) { s.groupDesc = "PostGIS v2" }, aws.TypeSecurityGroup + "/db"},
		{"rule source kind (CIDR to group)", func(s *spec) { s.ruleRefSG = "self" }, aws.TypeIngressRule + "/etl"},
		{"parameter group family", func(s *spec) { s.paramFamily = "postgres17" }, aws.TypeParameterGroup + "/db"},
		{"subnet group name prefix", func(s *spec) { s.subnetPrefix = "db2-" }, aws.TypeSubnetGroup + "/db"},
		{"instance storage encryption", func(s *spec) { s.encrypted = false }, aws.TypeInstance + "/db"},
		{"instance database name", func(s *spec) { s.dbName = "gis2" }, aws.TypeInstance + "/db"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s = baseSpec()
			tc.edit(&s)
			ops := enginetest.PreviewOps(t, st)
			joined := strings.Join(ops[tc.want], ",")
			if !strings.Contains(joined, "replace") && !strings.Contains(joined, "create-replacement") {
				t.Fatalf("%s: ops %q, want a replacement (all: %v)", tc.want, joined, ops)
			}
		})
	}
	t.Run("in-place edits do not replace", func(t *testing.T) {
		s = baseSpec()
		s.ruleCIDR, s.identifier, s.retention = "10.99.0.0/16", "renamed-in-place", 30
		for res, op := range enginetest.PreviewOps(t, st) {
			for _, o := range op {
				if strings.Contains(o, "replace") || o == "delete" {
					t.Errorf("%s: %s", res, o)
				}
			}
		}
	})
	t.Run("a replacement really happens", func(t *testing.T) {
		before := idsByType(objects(t, e))
		s = baseSpec()
		s.groupDesc = "PostGIS v2"
		if _, err := st.Up(context.Background()); err != nil {
			t.Fatal(err)
		}
		after := idsByType(objects(t, e))
		if after[aws.TypeSecurityGroup] == before[aws.TypeSecurityGroup] || after[aws.TypeIngressRule] == before[aws.TypeIngressRule] {
			t.Fatalf("group (and its rules, which reference it) not replaced: %v -> %v", before, after)
		}
	})
}

func TestDriftShowsExactlyTheEditedProperty(t *testing.T) {
	e := enginetest.New(t)
	ctx := context.Background()
	s := baseSpec()
	st := e.Stack(t, "drift", program(&s))
	if _, err := st.Up(ctx); err != nil {
		t.Fatal(err)
	}
	statePath := filepath.Join(e.StateDir, ".pulumi", "stacks", "postgis-platform", "drift.json")
	before, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	// A console edit: the ETL rule opened to the world.
	err = e.AWSCloud().Update(func(c *standin.Cloud) error {
		for _, o := range c.OfType(aws.TypeIngressRule) {
			o.Props["cidrIpv4"] = "0.0.0.0/0"
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	diffs, res := enginetest.Drift(t, st)
	if res.ChangeSummary[apitype.OpUpdate] != 1 || len(diffs) != 1 {
		t.Fatalf("drift %v (summary %v), want exactly one update", diffs, res.ChangeSummary)
	}
	if got := strings.Join(diffs[aws.TypeIngressRule+"/etl"], ","); got != "cidrIpv4" {
		t.Fatalf("drifted properties %q (all %v), want cidrIpv4", got, diffs)
	}
	after, _ := os.ReadFile(statePath)
	if string(after) != string(before) {
		t.Fatal("a preview-only refresh changed the state file")
	}

	// A deleted resource shows as a delete.
	err = e.AWSCloud().Update(func(c *standin.Cloud) error {
		for _, o := range c.OfType(aws.TypeEgressRule) {
			delete(c.Objects, o.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	diffs, res = enginetest.Drift(t, st)
	if res.ChangeSummary[apitype.OpDelete] != 1 || diffs[aws.TypeEgressRule+"/https"][0] != "(deleted)" {
		t.Fatalf("missing resource: %v (summary %v), want one delete", diffs, res.ChangeSummary)
	}
}

func TestInvokes(t *testing.T) {
	e := enginetest.New(t)
	ctx := context.Background()
	s := baseSpec()
	st := e.Stack(t, "invoke", program(&s))
	e.Settings.Env[aws.DBMasterPasswordEnv] = "master-pw-XYZ"
	st = e.Stack(t, "invoke", program(&s))
	up, err := st.Up(ctx)
	if err != nil {
		t.Fatal(err)
	}
	groupID, secretArn := up.Outputs["groupId"].Value.(string), up.Outputs["secretArn"].Value.(string)
	// An unmanaged rule added by hand.
	err = e.AWSCloud().Update(func(c *standin.Cloud) error {
		c.Objects["sgr-byhand"] = &standin.Object{Type: aws.TypeIngressRule, ID: "sgr-byhand", Props: map[string]any{"securityGroupId": groupID, "cidrIpv4": "0.0.0.0/0"}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	lookup := e.Stack(t, "lookup", func(ctx *pulumi.Context) error {
		rules, err := vpc.GetSecurityGroupRules(ctx, &vpc.GetSecurityGroupRulesArgs{
			Filters: []vpc.GetSecurityGroupRulesFilter{{Name: "group-id", Values: []string{groupID}}},
		})
		if err != nil {
			return err
		}
		ctx.Export("ids", pulumi.ToStringArray(rules.Ids))
		sec := secretsmanager.LookupSecretVersionOutput(ctx, secretsmanager.LookupSecretVersionOutputArgs{SecretId: pulumi.String(secretArn)})
		ctx.Export("secret", sec.SecretString())
		return nil
	})
	out, err := lookup.Up(ctx, optup.SuppressOutputs())
	if err != nil {
		t.Fatal(err)
	}
	ids := out.Outputs["ids"].Value.([]any)
	if len(ids) != 3 || !strings.Contains(strings.Join(toStrings(ids), ","), "sgr-byhand") {
		t.Fatalf("rules of the group: %v", ids)
	}
	sec := out.Outputs["secret"]
	if !sec.Secret || !strings.Contains(sec.Value.(string), `"password":"master-pw-XYZ"`) || !strings.Contains(sec.Value.(string), `"username":"postgis_admin"`) {
		t.Fatalf("secret output: secret=%v", sec.Secret)
	}
}

func toStrings(a []any) []string {
	out := make([]string, len(a))
	for i, v := range a {
		out[i], _ = v.(string)
	}
	return out
}

func TestInjectedFault(t *testing.T) {
	e := enginetest.New(t)
	e.Settings.Env[standin.FaultsEnv] = "create:" + aws.TypeInstance + ":1"
	s := baseSpec()
	st := e.Stack(t, "fault", program(&s))
	_, err := st.Up(context.Background())
	if err == nil || !strings.Contains(err.Error(), "injected fault") {
		t.Fatalf("want the injected fault, got %v", err)
	}
	// Partial progress is kept: everything but the instance exists.
	if ids := idsByType(objects(t, e)); ids[aws.TypeInstance] != "" || ids[aws.TypeSecurityGroup] == "" {
		t.Fatalf("cloud after the fault: %v", ids)
	}
	// The second create is not faulted: the next run converges.
	if _, err := st.Up(context.Background()); err != nil {
		t.Fatalf("second up: %v", err)
	}
}

// The plugin exits when the engine it serves goes away.
func TestExitsWithoutEngine(t *testing.T) {
	bin := filepath.Join(testenv.ToolsDir(t, "providers", "pulumi-resource-aws"), "pulumi-resource-aws")
	cmd := exec.Command(bin, "127.0.0.1:1")
	cmd.Env = append(os.Environ(), aws.DirEnv+"="+t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("plugin still running 20s after its engine went away")
	}
	// And it refuses to start at all without its cloud folder.
	out, err := exec.Command(bin).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "stand-in") {
		t.Fatalf("started without %s: %v %s", aws.DirEnv, err, out)
	}
}

// An injected crash kills the plugin mid-create: the run fails, and the next
// one (the crash fires once) completes.
func TestInjectedCrash(t *testing.T) {
	e := enginetest.New(t)
	e.Settings.Env[standin.FaultsEnv] = "create:" + aws.TypeParameterGroup + ":1:crash"
	s := baseSpec()
	st := e.Stack(t, "crash", program(&s))
	if _, err := st.Up(context.Background()); err == nil {
		t.Fatal("an up whose provider crashed succeeded")
	}
	if ids := idsByType(objects(t, e)); ids[aws.TypeParameterGroup] != "" {
		t.Fatalf("the crashed create reached the cloud: %v", ids)
	}
	if _, err := st.Up(context.Background()); err != nil {
		t.Fatalf("the run after the crash: %v", err)
	}
}
