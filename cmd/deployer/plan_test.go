package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
)

// planCanary is a secret the plan program passes to a resource: a saved plan
// must hold it as ciphertext only.
const planCanary = "plan-canary-s3cr3t-51d2"

// planDescription is the description of every rule but the first.
var planDescription = "plan"

// planProgram is a group and one rule per port; the first rule's
// description is the secret config value etlPassword (planCanary).
func planProgram(ports ...int) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		sg, err := ec2.NewSecurityGroup(ctx, "g", &ec2.SecurityGroupArgs{VpcId: pulumi.String("vpc-1"), Description: pulumi.String("plan")})
		if err != nil {
			return err
		}
		for i, p := range ports {
			desc := pulumi.String(planDescription).ToStringOutput()
			if i == 0 {
				desc = config.RequireSecret(ctx, "etlPassword")
			}
			if _, err := vpc.NewSecurityGroupIngressRule(ctx, fmt.Sprintf("r%d", p), &vpc.SecurityGroupIngressRuleArgs{
				SecurityGroupId: sg.ID(), IpProtocol: pulumi.String("tcp"), FromPort: pulumi.Int(p), ToPort: pulumi.Int(p),
				CidrIpv4: pulumi.String("10.1.0.0/24"), Description: desc,
			}); err != nil {
				return err
			}
		}
		return nil
	}
}

// The reviewed plan is the applied plan: up --plan applies exactly what
// preview --save-plan kept, and refuses (exit 3) once another update, a
// config change, an edit of the file or drift moved anything.
func TestSavedPlanIsTheAppliedPlan(t *testing.T) {
	e := enginetest.New(t)
	st := e.Stack(t, "shop", planProgram(5432))
	e.SmallStack(t, st)
	if err := st.SetConfig(context.Background(), "etlPassword", auto.ConfigValue{Value: planCanary, Secret: true}); err != nil {
		t.Fatal(err)
	}
	run := runsIn(t, e, planProgram(5432))
	dir := t.TempDir()
	save := func(name string, ports ...int) string {
		t.Helper()
		testProgram = planProgram(ports...)
		path := filepath.Join(dir, name)
		if code, out, errOut := run("preview", "--stack", "shop", "--save-plan", path); code != 0 || !strings.Contains(out, "plan saved") {
			t.Fatalf("preview --save-plan: exit %d\n%s\n%s", code, out, errOut)
		}
		raw, err := os.ReadFile(path)
		if fi, _ := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 || strings.Contains(string(raw), planCanary) || !strings.Contains(string(raw), "ciphertext") {
			t.Fatalf("the plan file: %v, mode %v, canary in clear %v", err, fi.Mode().Perm(), strings.Contains(string(raw), planCanary))
		}
		return path
	}
	refused := func(plan, want string) {
		t.Helper()
		js := filepath.Join(dir, "refused.json")
		code, out, errOut := run("up", "--stack", "shop", "--skip-verify", "--plan", plan, "--json", js)
		r := validateReport(t, js).Stacks[0]
		if code != automation.ExitBlocked || !strings.Contains(r.Error, want) {
			t.Fatalf("up --plan %s: exit %d %+v, want 3 and %q\n%s\n%s", filepath.Base(plan), code, r, want, out, errOut)
		}
	}
	rules := func() int {
		n := 0
		_ = e.AWSCloud().View(func(c *standin.Cloud) error {
			for _, o := range c.Objects {
				if o.Type == "vpc-rule" || strings.HasPrefix(o.ID, "sgr-") {
					n++
				}
			}
			return nil
		})
		return n
	}

	// Applied exactly: the second rule appears.
	plan := save("add-5433.json", 5432, 5433)
	testProgram = planProgram(5432, 5433)
	if code, out, errOut := run("up", "--stack", "shop", "--skip-verify", "--plan", plan); code != 0 || !strings.Contains(out, "as reviewed") || rules() != 2 {
		t.Fatalf("up --plan: exit %d, %d rules\n%s\n%s", code, rules(), out, errOut)
	}

	// Another up since: the state moved.
	stale := save("add-5434.json", 5432, 5433, 5434)
	testProgram = planProgram(5432, 5433, 5435)
	if code, out, errOut := run("up", "--stack", "shop", "--skip-verify"); code != 0 {
		t.Fatalf("another up: exit %d\n%s\n%s", code, out, errOut)
	}
	refused(stale, "the stack's state")

	// A config change since.
	testProgram = planProgram(5432, 5433, 5435)
	changed := save("config.json", 5432, 5433, 5435, 5436)
	cfg := filepath.Join(e.Settings.ProjectDir, "stacks", "Pulumi.shop.yaml")
	raw, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatalf("the stack's config file: %v", err)
	}
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(raw), "costCenter: test", "costCenter: gis", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	refused(changed, "the stack's config")
	if err := os.WriteFile(cfg, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	// The file edited: one byte of the engine's plan.
	edited := save("edited.json", 5432, 5433, 5435, 5437)
	body, _ := os.ReadFile(edited)
	if err := os.WriteFile(edited, []byte(strings.Replace(string(body), "5437", "5438", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	refused(edited, "was edited")

	// A value that looks like the engine's unknown cannot switch the saved
	// plan off: such a plan is not saved.
	planDescription = "x ::04da6b54-80e4-46f7-96ec-b56ff0331ba9"
	testProgram = planProgram(5432, 5433, 5435, 5437)
	code, out, errOut := run("preview", "--stack", "shop", "--save-plan", filepath.Join(dir, "unknown.json"))
	planDescription = "plan"
	if code != automation.ExitBlocked || !strings.Contains(out+errOut, "cannot pin") {
		t.Fatalf("a plan holding the unknown marker: exit %d\n%s\n%s", code, out, errOut)
	}

	// The program does more than the plan (the same source, another input):
	// the engine holds the update to the plan, and up says the plan is stale.
	port := func(p int) bool {
		found := false
		_ = e.AWSCloud().View(func(c *standin.Cloud) error {
			for _, o := range c.Objects {
				if v, ok := o.Props["fromPort"].(float64); ok && int(v) == p {
					found = true
				}
			}
			return nil
		})
		return found
	}
	more := save("more.json", 5432, 5433, 5435, 5437, 5440)
	testProgram = planProgram(5432, 5433, 5435, 5437, 5440, 5441)
	refused(more, "left the saved plan")
	if port(5441) {
		t.Fatal("the update applied a rule the plan does not hold")
	}
	testProgram = planProgram(5432, 5433, 5435, 5437, 5440)
	if code, out, errOut := run("up", "--stack", "shop", "--skip-verify"); code != 0 {
		t.Fatalf("up back to the program: exit %d\n%s\n%s", code, out, errOut)
	}

	// Drift since: a rule's description changed by hand.
	drifted := save("drift.json", 5432, 5433, 5435, 5437, 5440, 5439)
	if err := e.AWSCloud().Update(func(c *standin.Cloud) error {
		for _, o := range c.Objects {
			if strings.HasPrefix(o.ID, "sgr-") {
				o.Props["cidrIpv4"] = "10.9.0.0/24"
				return nil
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before := rules()
	refused(drifted, "drifted")
	if rules() != before {
		t.Fatalf("a refused plan changed the cloud: %d rules, %d before", rules(), before)
	}
}
