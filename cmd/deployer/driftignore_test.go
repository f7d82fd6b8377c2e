package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
)

// Known drift in .driftignore.yaml is listed as ignored, not drift, until
// its entry expires; a bad file stops the audit before it runs.
func TestDriftIgnoreFile(t *testing.T) {
	e := enginetest.New(t)
	run := runsIn(t, e, fleetProgram)
	e.SmallStack(t, e.Stack(t, "shop", fleetProgram))
	if err := e.AWSCloud().Update(func(c *standin.Cloud) error {
		for _, o := range c.Objects {
			if d, _ := o.Props["description"].(string); d == "fleet shop" {
				o.Props["description"] = "renamed by the ETL team"
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(e.Settings.ProjectDir, automation.DriftIgnoreFile)
	drift := func(body string) (int, automation.StackReport, string) {
		t.Helper()
		if body == "" {
			_ = os.Remove(file)
		} else if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		js := filepath.Join(t.TempDir(), "drift.json")
		code, out, errOut := run("drift", "--stack", "shop", "--json", js)
		if code == automation.ExitError {
			return code, automation.StackReport{}, errOut
		}
		return code, validateReport(t, js).Stacks[0], out
	}
	if code, r, out := drift(""); code != automation.ExitChanges || len(r.Changes) != 1 {
		t.Fatalf("no ignore file: exit %d %+v\n%s", code, r, out)
	}
	until := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
	entry := "- pattern: 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule.r.description'\n  reason: the ETL team renames its rules during the migration\n  expires: "
	code, r, out := drift(entry + until)
	if code != automation.ExitOK || len(r.Changes) != 0 || len(r.Ignored) != 1 || r.Ignored[0].Property != "description" || !strings.Contains(out, "ignored") {
		t.Fatalf("the entry ignores it: exit %d %+v\n%s", code, r, out)
	}
	yesterday := time.Now().AddDate(0, 0, -1).Format("2006-01-02")
	code, r, _ = drift(entry + yesterday)
	if code != automation.ExitChanges || len(r.Changes) != 1 || len(r.Ignored) != 0 || !strings.Contains(strings.Join(r.Notes, "\n"), "expired on "+yesterday) {
		t.Fatalf("an expired entry: exit %d %+v", code, r)
	}
	code, _, errOut := drift("- pattern: 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule.r'\n  expires: " + until)
	if code != automation.ExitError || !strings.Contains(errOut, "entry 1") || !strings.Contains(errOut, "reason:") || !strings.Contains(errOut, automation.DriftIgnoreFile) {
		t.Fatalf("an entry without a reason: exit %d %s", code, errOut)
	}
}
