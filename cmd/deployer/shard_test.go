package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
)

// fleetProgram is a small stack: one group and one rule whose description
// names the stack, so a hand edit can drift one stack alone.
func fleetProgram(ctx *pulumi.Context) error {
	sg, err := ec2.NewSecurityGroup(ctx, "g", &ec2.SecurityGroupArgs{VpcId: pulumi.String("vpc-1"), Description: pulumi.String("fleet")})
	if err != nil {
		return err
	}
	_, err = vpc.NewSecurityGroupIngressRule(ctx, "r", &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId: sg.ID(), IpProtocol: pulumi.String("tcp"), FromPort: pulumi.Int(5432), ToPort: pulumi.Int(5432),
		CidrIpv4: pulumi.String("10.1.0.0/24"), Description: pulumi.String("fleet " + ctx.Stack()),
	})
	return err
}

// runsIn points the deployer this test runs in-process at e (its CLI,
// stand-ins and passphrase) with program as the stack program, until the
// test ends; run calls it on e's project and backend, quietly.
func runsIn(t *testing.T, e *enginetest.Env, program pulumi.RunFunc) (run func(args ...string) (int, string, string)) {
	t.Helper()
	e.ExportEnv(t)
	t.Setenv("PATH", e.Settings.Env["PATH"])
	old := testProgram
	testProgram = program
	t.Cleanup(func() { testProgram = old })
	return func(args ...string) (int, string, string) {
		return runDeployer(t, append(args, "--project-dir", e.Settings.ProjectDir, "--backend", e.Settings.BackendURL, "-q")...)
	}
}

// findings is what a report says of each stack, comparable across runs.
func findings(r automation.Report) map[string]string {
	out := map[string]string{}
	for _, s := range r.Stacks {
		var changes []string
		for _, c := range s.Changes {
			for _, p := range c.Properties {
				changes = append(changes, c.Name+"."+p.Path)
			}
		}
		sort.Strings(changes)
		out[s.Stack] = fmt.Sprintf("%s %d %v", s.Result, s.ExitCode, changes)
	}
	return out
}

// Three shards over twelve stacks give exactly the findings of one run, and
// their merge is that run's report.
func TestShardedDriftMergesToOneRun(t *testing.T) {
	e := enginetest.New(t)
	run := runsIn(t, e, fleetProgram)
	var fleet []string
	for i := 0; i < 12; i++ {
		name := fmt.Sprintf("shop%02d", i)
		fleet = append(fleet, name)
		e.SmallStack(t, e.Stack(t, name, fleetProgram))
	}
	drifted := map[string]bool{"shop03": true, "shop07": true, "shop10": true}
	if err := e.AWSCloud().Update(func(c *standin.Cloud) error {
		for _, o := range c.Objects {
			if d, _ := o.Props["description"].(string); strings.HasPrefix(d, "fleet ") && drifted[strings.TrimPrefix(d, "fleet ")] {
				o.Props["description"] = "edited by hand"
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.json")
	if code, out, errOut := run("drift", "--all", "--json", whole, "--parallel", "3"); code != automation.ExitChanges {
		t.Fatalf("one run: exit %d\n%s\n%s", code, out, errOut)
	}
	one := validateReport(t, whole)
	var parts []string
	seen := 0
	for i := 1; i <= 3; i++ {
		p := filepath.Join(dir, fmt.Sprintf("drift-%d.json", i))
		parts = append(parts, p)
		code, out, errOut := run("drift", "--all", "--shard", fmt.Sprintf("%d/3", i), "--json", p, "--parallel", "3")
		r := validateReport(t, p)
		if r.Shard == nil || r.Shard.Index != i || r.Shard.Count != 3 || !reflect.DeepEqual(r.Shard.Fleet, fleet) || code != r.ExitCode {
			t.Fatalf("shard %d: exit %d, shard %+v\n%s\n%s", i, code, r.Shard, out, errOut)
		}
		seen += len(r.Stacks)
	}
	if seen != 12 {
		t.Fatalf("the shards ran %d stacks, want 12", seen)
	}
	merged := filepath.Join(dir, "merged.json")
	code, out, errOut := runDeployer(t, append([]string{"report", "merge", "--json", merged}, parts...)...)
	all := validateReport(t, merged)
	if code != one.ExitCode || all.ExitCode != one.ExitCode || !reflect.DeepEqual(findings(all), findings(one)) || all.Project != "postgis-platform" {
		t.Fatalf("merged: exit %d\n%v\nwant\n%v\n%s\n%s", code, findings(all), findings(one), out, errOut)
	}
	for name := range drifted {
		if !strings.HasPrefix(findings(all)[name], "drift 2 [r.description]") {
			t.Fatalf("%s: %s", name, findings(all)[name])
		}
	}

	// A shard run twice and one missing: refused, nothing written.
	bad := filepath.Join(dir, "bad.json")
	code, _, errOut = runDeployer(t, "report", "merge", "--json", bad, parts[0], parts[1], parts[1])
	if code != automation.ExitError || !strings.Contains(errOut, "is in "+parts[1]+" and in "+parts[1]) {
		t.Fatalf("overlap: exit %d %s", code, errOut)
	}
	code, _, errOut = runDeployer(t, "report", "merge", "--json", bad, parts[0], parts[2])
	if code != automation.ExitError || !strings.Contains(errOut, "no report holds shard 2/3") {
		t.Fatalf("missing shard: exit %d %s", code, errOut)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Fatal("a refused merge wrote a report")
	}
}

// The merge's refusals of bad input, each naming the file and the problem.
func TestReportMergeRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, _ := json.Marshal(automation.NewReport("drift", "test", "", []automation.StackReport{{Stack: "a", Result: "clean"}}))
	preview, _ := json.Marshal(automation.NewReport("preview", "test", "", []automation.StackReport{{Stack: "b", Result: "clean"}}))
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no files":     {nil, "requires at least 1 arg"},
		"missing file": {[]string{filepath.Join(dir, "nope.json")}, "nope.json: open"},
		"not a report": {[]string{write("text.json", "hello")}, "text.json is not a deployer JSON report"},
		"two commands": {[]string{write("a.json", string(good)), write("b.json", string(preview))}, "is a preview report"},
		"bad output":   {[]string{"--json", "/nonexistent/x.json", write("c.json", string(good))}, "--json /nonexistent/x.json"},
	} {
		code, _, errOut := runDeployer(t, append([]string{"report", "merge"}, tc.args...)...)
		if code != automation.ExitError || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, %q; want 1 and %q", name, code, errOut, tc.want)
		}
	}
}
