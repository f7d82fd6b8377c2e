package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/stacks"
)

func (d *deployed) addUnmanagedRule(t *testing.T, id string) {
	t.Helper()
	err := d.AWSCloud().Update(func(c *standin.Cloud) error {
		g := enginetest.ManagedGroups(c)[0]
		c.Objects[id] = &standin.Object{Type: aws.TypeIngressRule, ID: id, Props: map[string]any{
			"securityGroupId": g.ID, "ipProtocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0, "cidrIpv4": "192.168.7.0/24", "description": "by hand",
		}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (d *deployed) cloudHas(t *testing.T, id string) bool {
	t.Helper()
	var ok bool
	_ = d.AWSCloud().View(func(c *standin.Cloud) error { _, ok = c.Objects[id]; return nil })
	return ok
}

func TestReconcileDeletesUnmanagedRule(t *testing.T) {
	d := deployLocal(t)
	d.addUnmanagedRule(t, "sgr-byhand")
	if code, s, _ := d.report(t, "drift"); code != 2 || s.Summary.Unmanaged != 1 {
		t.Fatalf("drift before: exit %d %+v", code, s.Summary)
	}
	backups := t.TempDir()
	code, s, text := d.report(t, "reconcile", "--delete-unmanaged", "sgr-byhand", "--backup-dir", backups)
	if code != 0 {
		t.Fatalf("reconcile: exit %d %+v\n%s", code, s, text)
	}
	if d.cloudHas(t, "sgr-byhand") {
		t.Fatal("the unmanaged rule is still in the cloud")
	}
	if files, _ := os.ReadDir(backups); len(files) != 1 || !strings.Contains(strings.Join(s.Notes, " "), files[0].Name()) {
		t.Fatalf("export not kept or not named: %v %v", files, s.Notes)
	}
	if code, s, _ := d.report(t, "drift"); code != 0 {
		t.Fatalf("drift after reconcile: exit %d %+v", code, s)
	}
}

func TestReconcileRemovesDeletedRuleFromState(t *testing.T) {
	d := deployLocal(t)
	var ruleID string
	_ = d.AWSCloud().Update(func(c *standin.Cloud) error {
		o := c.OfType(aws.TypeEgressRule)[0]
		ruleID = o.ID
		delete(c.Objects, o.ID)
		return nil
	})
	before := d.state(t)
	code, s, text := d.report(t, "reconcile", "--remove", ruleID, "--dry-run")
	if code != 2 || len(s.Changes) != 1 || s.Changes[0].Kind != "removed-from-state" || d.state(t) != before {
		t.Fatalf("dry run: exit %d %+v\n%s", code, s.Changes, text)
	}
	code, s, text = d.report(t, "reconcile", "--remove", ruleID)
	if code != 0 || strings.Contains(d.state(t), ruleID) {
		t.Fatalf("reconcile: exit %d %+v\n%s", code, s, text)
	}
	planned := false
	for _, c := range s.Changes {
		planned = planned || (c.Name == "postgis-out-patching" && c.Kind == "create")
	}
	if !planned {
		t.Fatalf("the preview after reconcile does not show the rule's re-creation: %+v", s.Changes)
	}
	// The next up re-creates it.
	if code, _, text := d.report(t, "up"); code != 0 {
		t.Fatalf("up: exit %d\n%s", code, text)
	}
}

func TestReconcileRefusals(t *testing.T) {
	d := deployLocal(t)
	before := d.state(t)
	var groupID string
	_ = d.AWSCloud().View(func(c *standin.Cloud) error { groupID = enginetest.ManagedGroups(c)[0].ID; return nil })
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.json")
	_ = os.WriteFile(garbage, []byte("{not json"), 0o600)

	// A hand edit that drops the group but keeps its rules.
	st := d.Stack(t, d.Name, stacks.Platform)
	dep, err := st.Export(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	_ = json.Unmarshal(dep.Deployment, &raw)
	var kept []any
	for _, r := range raw["resources"].([]any) {
		if r.(map[string]any)["id"] != groupID {
			kept = append(kept, r)
		}
	}
	raw["resources"] = kept
	b, _ := json.Marshal(raw)
	dep.Deployment = b
	edited := filepath.Join(dir, "edited.json")
	eb, _ := json.Marshal(dep)
	_ = os.WriteFile(edited, eb, 0o600)

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"dependents left", []string{"--remove", groupID}, "still depend"},
		{"unknown target", []string{"--remove", "sg-nope"}, "neither a URN nor a cloud ID"},
		{"corrupt export", []string{"--state-file", garbage}, "not an export"},
		{"hand-edited export", []string{"--state-file", edited}, "dangling references"},
		{"nothing asked", nil, "nothing to reconcile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, s, text := d.report(t, append([]string{"reconcile"}, tc.args...)...)
			if code != 1 || !strings.Contains(s.Error, tc.want) {
				t.Fatalf("exit %d error %q, want %q\n%s", code, s.Error, tc.want, text)
			}
			if d.state(t) != before {
				t.Fatal("a refused reconcile changed the state")
			}
		})
	}
}

func TestUnlockClearsOnlyStaleLocks(t *testing.T) {
	d := deployLocal(t)
	host, _ := os.Hostname()
	lockDir := filepath.Join(d.StateDir, ".pulumi", "locks", "organization", stacks.Project, d.Name)
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, pid int) string {
		p := filepath.Join(lockDir, name)
		b, _ := json.Marshal(map[string]any{"pid": pid, "username": "ci", "hostname": host, "timestamp": time.Now()})
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A live holder (this test process): up refuses, unlock keeps it.
	live := write("live.json", os.Getpid())
	code, s, _ := d.report(t, "up")
	if code != 1 || s.Step != "lock" || !strings.Contains(s.Error, "still running") || !strings.Contains(s.Error, "deployer unlock") {
		t.Fatalf("up on a locked stack: exit %d %+v", code, s)
	}
	if code, s, _ := d.report(t, "unlock"); code != 1 || !strings.Contains(s.Error, "running process") {
		t.Fatalf("unlock of a live lock: exit %d %+v", code, s)
	}
	_ = os.Remove(live)
	// A stale one (a pid that is not running), found through a backend URL
	// with `~`, expanded as the CLI expands it.
	stale := write("stale.json", deadPid(t))
	t.Setenv("HOME", filepath.Dir(d.StateDir))
	code, s, text := d.report(t, "unlock", "--backend", "file://~/"+filepath.Base(d.StateDir))
	if code != 0 || !strings.Contains(strings.Join(s.Notes, " "), "removed stale lock "+stale) {
		t.Fatalf("unlock: exit %d %+v\n%s", code, s, text)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatal("the stale lock is still there")
	}
	if code, _, text := d.report(t, "up"); code != 0 {
		t.Fatalf("up after unlock: exit %d\n%s", code, text)
	}
}

// deadPid returns a pid with no process.
func deadPid(t *testing.T) int {
	for pid := 4000000; pid > 3000000; pid -= 7919 {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
			return pid
		}
	}
	t.Fatal("no free pid found")
	return 0
}

func TestFleetReportsEveryStack(t *testing.T) {
	d := deployLocal(t)
	// A second stack whose config is broken: its error must not hide the first.
	if _, err := d.Settings.UpsertStack(context.Background(), "broken", stacks.Platform); err != nil {
		t.Fatal(err)
	}
	js := filepath.Join(t.TempDir(), "fleet.json")
	code, out, errOut := runDeployer(t, "drift", "--all", "--parallel", "2", "--project-dir", d.Settings.ProjectDir,
		"--backend", d.Settings.BackendURL, "--json", js)
	if code != 1 {
		t.Fatalf("fleet exit %d, want 1 (the worst)\n%s\n%s", code, out, errOut)
	}
	// In parallel, every progress and log line names its stack; the broken
	// stack's error goes to stderr.
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
		switch {
		case strings.HasPrefix(line, "[local] "), strings.HasPrefix(line, "[broken] "):
			seen[line[:strings.Index(line, "]")+1]] = true
		case strings.HasPrefix(line, "deployer: [broken] stopped at "):
			seen["error"] = true
		case strings.HasPrefix(line, "deployer: [broken] "): // the error's further lines
		case strings.Contains(line, "offline stack"): // before the stacks run
		default:
			t.Errorf("a stderr line without its stack: %q", line)
		}
	}
	if !seen["[local]"] || !seen["error"] || strings.Contains(out, "stopped at") {
		t.Fatalf("prefixed lines seen %v\nstdout:\n%s", seen, out)
	}
	r := validateReport(t, js)
	got := map[string]string{}
	for _, s := range r.Stacks {
		got[s.Stack] = string(s.Result)
	}
	if got["local"] != "clean" || got["broken"] != "error" || len(got) != 2 {
		t.Fatalf("stack results %v", got)
	}
	if code, _, text := runDeployer(t, "drift", "--all", "--stack", "x", "--project-dir", d.Settings.ProjectDir, "--backend", d.Settings.BackendURL); code != 1 || !strings.Contains(text, "exclude each other") {
		t.Fatalf("--all with --stack: exit %d %s", code, text)
	}
}

// A rule that exists in the cloud but not in the state, where the program
// declares it, is adopted rather than created twice.
func TestReconcileAdoptsDeclaredRule(t *testing.T) {
	d := deployLocal(t)
	etl := ""
	_ = d.AWSCloud().View(func(c *standin.Cloud) error {
		for _, o := range c.OfType(aws.TypeIngressRule) {
			if o.Props["cidrIpv4"] == "10.20.30.0/24" {
				etl = o.ID
			}
		}
		return nil
	})
	// Drop it from the state only, as if it had been made by hand.
	if code, _, text := d.report(t, "reconcile", "--remove", etl); code != 0 {
		t.Fatalf("remove: exit %d\n%s", code, text)
	}
	if code, s, _ := d.report(t, "preview", "--detailed-exitcode"); code != 2 || !strings.Contains(fmt.Sprint(s.Changes), "postgis-in-etl") {
		t.Fatalf("before adopting, the preview should create the rule again: exit %d %+v", code, s.Changes)
	}
	urn := "urn:pulumi:" + d.Name + "::" + stacks.Project + "::postgis:securitygroup:SecurityGroup$" + aws.TypeIngressRule + "::postgis-in-etl"
	code, s, text := d.report(t, "reconcile", "--adopt", urn+"="+etl)
	if code != 0 {
		t.Fatalf("adopt: exit %d %+v\n%s", code, s, text)
	}
	if code, s, text := d.report(t, "preview", "--detailed-exitcode"); code != 0 {
		t.Fatalf("after adopting, the preview shows changes: exit %d %+v\n%s", code, s.Changes, text)
	}
	if !strings.Contains(d.state(t), etl) {
		t.Fatal("the adopted rule's ID is not in the state")
	}
	if code, _, _ := d.report(t, "reconcile", "--adopt", "not-a-urn=sgr-1"); code != 1 {
		t.Fatal("a bad --adopt was accepted")
	}
}
