package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
	"github.com/postgis-platform/deployer/stacks"
)

func (d *deployed) setConfig(t *testing.T, key, value string) {
	t.Helper()
	st := d.Stack(t, d.Name, stacks.Platform)
	if err := st.SetConfig(context.Background(), stacks.Project+":"+key, auto.ConfigValue{Value: value}); err != nil {
		t.Fatal(err)
	}
}

func (d *deployed) history(t *testing.T) int {
	t.Helper()
	st := d.Stack(t, d.Name, stacks.Platform)
	h, err := st.History(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(h)
}

func (d *deployed) report(t *testing.T, args ...string) (int, automation.StackReport, string) {
	t.Helper()
	return d.reportVia(t, func(args ...string) (int, string, string) { return d.deployer(t, args...) }, args...)
}

// reportVia runs args with --json and --quiet through run and returns the
// stack's report, checked against its schema and for secrets.
func (d *deployed) reportVia(t *testing.T, run func(args ...string) (int, string, string), args ...string) (int, automation.StackReport, string) {
	t.Helper()
	js := filepath.Join(t.TempDir(), "r.json")
	code, out, errOut := run(append(args, "--json", js, "--quiet")...)
	raw, err := os.ReadFile(js)
	if err != nil {
		t.Fatalf("no report (exit %d):\n%s\n%s", code, out, errOut)
	}
	r := validateReport(t, js)
	d.noSecrets(t, out, errOut, string(raw))
	return code, r.Stacks[0], out + errOut
}

func ruleCIDR(t *testing.T, d *deployed) string {
	t.Helper()
	var cidr string
	_ = d.AWSCloud().View(func(c *standin.Cloud) error {
		for _, o := range c.OfType(aws.TypeIngressRule) {
			if v, ok := o.Props["cidrIpv4"].(string); ok && o.Props["description"] == "ETL subnet to PostGIS" {
				cidr = v
			}
		}
		return nil
	})
	return cidr
}

func TestUpNoChangesRunsNoUpdateAndVerifies(t *testing.T) {
	d := deployLocal(t)
	t.Setenv("PGPASSWORD", "not-the-admin-password") // never read: the checks log in inside the program
	before := d.history(t)
	code, s, text := d.report(t, "up")
	if code != 0 || s.Result != "clean" {
		t.Fatalf("exit %d %+v\n%s", code, s, text)
	}
	if after := d.history(t); after != before {
		t.Fatalf("an unchanged stack's up added %d update(s) to the history", after-before)
	}
	if len(s.Checks) < 10 {
		t.Fatalf("live checks: %+v", s.Checks)
	}
	for _, c := range s.Checks {
		if !c.OK {
			t.Errorf("check failed: %+v", c)
		}
	}

	// verify alone, then a role given CREATEDB by hand fails it.
	if code, _, text := d.report(t, "verify"); code != 0 {
		t.Fatalf("verify: exit %d\n%s", code, text)
	}
	d.psql(t, "ALTER ROLE "+d.Names["etlRole"]+" CREATEDB")
	code, s, _ = d.report(t, "verify")
	if code != 1 {
		t.Fatalf("verify after ALTER ROLE CREATEDB: exit %d", code)
	}
	failed := ""
	for _, c := range s.Checks {
		if !c.OK {
			failed += c.Name + ": " + c.Found + "; "
		}
	}
	if !strings.Contains(failed, d.Names["etlRole"]) || !strings.Contains(failed, "CREATEDB") {
		t.Fatalf("failed checks: %s", failed)
	}
}

// verify never fails open: it logs in with the current master secret (after
// a rotation too), and without a credential it is an error, never a pass.
func TestVerifyLogsInWithTheCurrentSecret(t *testing.T) {
	d := deployLocal(t)
	t.Setenv("PGPASSWORD", "")
	d.RotateMasterSecret(t)
	if code, s, text := d.report(t, "verify"); code != 0 || s.Result != "clean" || len(s.Checks) < 10 {
		t.Fatalf("verify after a rotation: exit %d %+v\n%s", code, s, text)
	}
	if code, s, text := d.report(t, "up", "--skip-verify"); code != 0 || len(s.Checks) != 0 || !strings.Contains(strings.Join(s.Notes, "\n"), "checks skipped") {
		t.Fatalf("up --skip-verify: exit %d %+v\n%s", code, s, text)
	}
	// The master secret is gone (deleted in the console): no credential.
	if err := d.AWSCloud().Update(func(c *standin.Cloud) error {
		for arn := range c.Secrets {
			delete(c.Secrets, arn)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGPASSWORD", d.AdminPass) // a password in the environment is not a way around it
	code, s, text := d.report(t, "verify")
	if code != 1 || s.Result != "error" || s.Step != "verify" || !strings.Contains(s.Error, "did not run") ||
		!strings.Contains(s.Error, "can't find the specified secret") || len(s.Checks) != 0 {
		t.Fatalf("verify without a credential: want exit 1 naming the missing secret, got exit %d %+v\n%s", code, s, text)
	}
}

func TestDriftBlocksUpUntilAcceptedOrRefreshed(t *testing.T) {
	d := deployLocal(t)
	d.editCloud(t) // ETL rule opened to 0.0.0.0/0 + an unmanaged rule
	before := d.history(t)
	code, s, text := d.report(t, "up")
	if code != 3 || s.Step != "drift" || !strings.Contains(s.Error, "--refresh") {
		t.Fatalf("up over drift: exit %d step %q error %q\n%s", code, s.Step, s.Error, text)
	}
	if d.history(t) != before || ruleCIDR(t, d) != "0.0.0.0/0" {
		t.Fatal("a blocked up changed something")
	}
	backups := t.TempDir()
	code, s, text = d.report(t, "up", "--refresh", "--backup-dir", backups)
	if code != 0 || s.Result != "done" {
		t.Fatalf("up --refresh: exit %d %+v\n%s", code, s, text)
	}
	if got := ruleCIDR(t, d); got != "10.20.30.0/24" {
		t.Fatalf("the baseline was not restored: ETL rule CIDR %q", got)
	}
	files, _ := os.ReadDir(backups)
	if len(files) != 1 || !strings.Contains(strings.Join(s.Notes, " "), files[0].Name()) {
		t.Fatalf("backup %v, notes %v", files, s.Notes)
	}
	// The unmanaged rule is still there (reconcile removes it): up keeps refusing
	// without --accept-drift, and goes through with it.
	if code, s, _ := d.report(t, "up"); code != 3 || s.Summary.Unmanaged != 1 {
		t.Fatalf("unmanaged rule: exit %d %+v", code, s.Summary)
	}
	if code, s, text := d.report(t, "up", "--accept-drift"); code != 0 {
		t.Fatalf("up --accept-drift: exit %d %+v\n%s", code, s, text)
	}
}

func TestGuardBlocksReplacementUntilAllowed(t *testing.T) {
	d := deployLocal(t)
	// A new environment name changes the group's description, which AWS
	// cannot change in place: the group and its rules would be replaced.
	d.setConfig(t, "environment", "dev")
	before := d.history(t)
	code, s, text := d.report(t, "up")
	if code != 3 || s.Step != "guard" || !strings.Contains(s.Error, "--allow-replace") || !strings.Contains(s.Error, "postgis-in-etl") {
		t.Fatalf("replacement not blocked: exit %d %+v\n%s", code, s, text)
	}
	if d.history(t) != before {
		t.Fatal("a blocked up ran an update")
	}
	code, s, text = d.report(t, "preview")
	if code != 3 {
		t.Fatalf("preview of a blocked change: exit %d\n%s", code, text)
	}
	allow := []string{"up"}
	for _, typ := range []string{aws.TypeSecurityGroup, aws.TypeIngressRule, aws.TypeEgressRule} {
		allow = append(allow, "--allow-replace", typ)
	}
	code, s, text = d.report(t, allow...)
	if code != 0 || s.Result != "done" {
		t.Fatalf("allowed replacement: exit %d %+v\n%s", code, s, text)
	}
	if code, _, text := d.report(t, "preview", "--detailed-exitcode"); code != 0 {
		t.Fatalf("preview after the update shows changes: exit %d\n%s", code, text)
	}
}

func TestRDSReplacementLiftsProtectionOnlyThere(t *testing.T) {
	d := deployLocal(t)
	var oldID string
	_ = d.AWSCloud().View(func(c *standin.Cloud) error { oldID = c.OfType(aws.TypeInstance)[0].ID; return nil })
	d.setConfig(t, "kmsKeyId", "arn:aws:kms:eu-west-1:123456789012:key/rotated")
	urn := stacks.InstanceURN(d.Name)
	code, s, text := d.report(t, "up")
	if code != 3 || !strings.Contains(s.Error, urn) {
		t.Fatalf("RDS replacement not blocked: exit %d %+v\n%s", code, s, text)
	}
	code, s, text = d.report(t, "up", "--allow-replace", urn)
	if code != 0 {
		t.Fatalf("allowed RDS replacement: exit %d %+v\n%s", code, s, text)
	}
	var newID string
	var protected bool
	_ = d.AWSCloud().View(func(c *standin.Cloud) error {
		objs := c.OfType(aws.TypeInstance)
		if len(objs) == 1 {
			newID, protected = objs[0].ID, objs[0].Props["deletionProtection"] == true
		}
		return nil
	})
	if newID == "" || newID == oldID || !protected {
		t.Fatalf("instance %q (old %q), deletion protection %v", newID, oldID, protected)
	}
	// Pulumi protection: on again for the instance, never lifted elsewhere.
	st := d.Stack(t, d.Name, stacks.Platform)
	dep, err := st.Export(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Resources []struct {
			URN     string `json:"urn"`
			Protect bool   `json:"protect"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(dep.Deployment, &state); err != nil {
		t.Fatal(err)
	}
	protectedURNs := map[string]bool{}
	for _, r := range state.Resources {
		if r.Protect {
			protectedURNs[r.URN] = true
		}
	}
	if !protectedURNs[urn] || len(protectedURNs) < 4 {
		t.Fatalf("protected resources after the replacement: %v", protectedURNs)
	}
	if !strings.Contains(strings.Join(s.Notes, "\n"), "protection lifted for the allowed replacement of "+urn) {
		t.Fatalf("notes: %v", s.Notes)
	}
}

// A program that opens the database port to the world (not using the
// components, which would refuse it) is stopped by the deployer's gate.
func TestPolicyGateBlocksUp(t *testing.T) {
	d := deployLocal(t)
	bad := func(ctx *pulumi.Context) error {
		if err := stacks.Platform(ctx); err != nil {
			return err
		}
		sg, err := ec2.NewSecurityGroup(ctx, "rogue", &ec2.SecurityGroupArgs{VpcId: pulumi.String("vpc-1"), Description: pulumi.String("rogue"),
			Tags: pulumi.StringMap{"Environment": pulumi.String("local"), "ManagedBy": pulumi.String("x"), "CostCenter": pulumi.String("y")}})
		if err != nil {
			return err
		}
		_, err = vpc.NewSecurityGroupIngressRule(ctx, "world", &vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId: sg.ID(), IpProtocol: pulumi.String("tcp"), FromPort: pulumi.Int(5432), ToPort: pulumi.Int(5432),
			CidrIpv4: pulumi.String("0.0.0.0/0"), Description: pulumi.String("everyone"),
		})
		return err
	}
	withProgram(t, bad)
	before := d.history(t)
	code, s, text := d.report(t, "up")
	if code != 3 || s.Step != "policy" || s.Summary.BlockingViolations == 0 {
		t.Fatalf("exit %d %+v\n%s", code, s, text)
	}
	if d.history(t) != before {
		t.Fatal("a blocked up ran an update")
	}
	if code, _, _ := d.report(t, "preview"); code != 3 {
		t.Fatalf("preview: exit %d, want 3", code)
	}
}

func TestUpAppliesThePreviewedPlan(t *testing.T) {
	d := deployLocal(t)
	d.setConfig(t, "etlCidr", "10.20.31.0/24")
	code, p, text := d.report(t, "preview")
	if code != 0 || p.Result != "changes" {
		t.Fatalf("preview with changes, without --detailed-exitcode: exit %d result %q\n%s", code, p.Result, text)
	}
	code, p, text = d.report(t, "preview", "--detailed-exitcode")
	if code != 2 || len(p.Changes) != 1 || p.Changes[0].Name != "postgis-in-etl" || p.Changes[0].Kind != "update" {
		t.Fatalf("preview: exit %d %+v\n%s", code, p.Changes, text)
	}
	code, s, text := d.report(t, "up")
	if code != 0 || len(s.Changes) != 1 || s.Changes[0].URN != p.Changes[0].URN {
		t.Fatalf("up: exit %d %+v\n%s", code, s.Changes, text)
	}
	st := d.Stack(t, d.Name, stacks.Platform)
	h, err := st.History(context.Background(), 1, 1)
	if err != nil || len(h) != 1 {
		t.Fatal(err)
	}
	if rc := *h[0].ResourceChanges; rc["update"] != 1 || rc["create"]+rc["delete"]+rc["replace"] != 0 {
		t.Fatalf("the update did more than the plan: %v", rc)
	}
	if got := ruleCIDR(t, d); got != "10.20.31.0/24" {
		t.Fatalf("rule CIDR %q", got)
	}
}
