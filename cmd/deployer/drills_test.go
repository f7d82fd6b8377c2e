package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
	"github.com/postgis-platform/deployer/internal/testkit/testenv"
	"github.com/postgis-platform/deployer/stacks"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// deployerBinary builds bin/deployer once per test run, for drills that need
// a real process to kill.
func deployerBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "deployer-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "deployer")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/deployer")
		cmd.Dir = testenv.RepoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = err
			t.Logf("%s", out)
		}
	})
	if binErr != nil {
		t.Fatalf("build deployer: %v", binErr)
	}
	return binPath
}

// start runs the deployer binary in its own process group.
func (d *deployed) start(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	return d.startWith(t, env, nil, args...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (d *deployed) egressRules(t *testing.T) []string {
	t.Helper()
	var ids []string
	_ = d.AWSCloud().View(func(c *standin.Cloud) error {
		for _, o := range c.OfType(aws.TypeEgressRule) {
			ids = append(ids, o.ID)
		}
		return nil
	})
	return ids
}

func (d *deployed) cloudCount(t *testing.T) int {
	t.Helper()
	n := 0
	_ = d.AWSCloud().View(func(c *standin.Cloud) error { n = len(c.Objects); return nil })
	return n
}

// The whole process group (deployer, CLI, plugins) killed with SIGKILL while
// the stand-in is inside an injected delay, just after a create reached the
// cloud: the next run names the lock and the pending operation; unlock and
// reconcile --pending resolve them; the rule is imported, not created twice.
func TestDrillKillMidUp(t *testing.T) {
	d := deployLocal(t)
	before := d.cloudCount(t)
	// A rule deleted by hand and dropped from the state: the next up creates it.
	old := d.egressRules(t)[0]
	_ = d.AWSCloud().Update(func(c *standin.Cloud) error { delete(c.Objects, old); return nil })
	if code, _, text := d.report(t, "reconcile", "--remove", old); code != 0 {
		t.Fatalf("reconcile --remove: exit %d\n%s", code, text)
	}

	started := time.Now()
	cmd := d.start(t, []string{standin.LatencyAfterEnv + "=5s"}, "up")
	waitFor(t, "the new rule in the cloud", func() bool { return len(d.egressRules(t)) == 1 })
	createdAfter := time.Since(started)
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	t.Logf("killed %.1fs after start, with the create in the cloud and its result not yet recorded", createdAfter.Seconds())
	created := d.egressRules(t)[0]
	stateAfterKill := d.state(t)

	code, s, _ := d.report(t, "up")
	if code != 1 || s.Step != "lock" || !strings.Contains(s.Error, "stale lock") || !strings.Contains(s.Error, "deployer unlock") {
		t.Fatalf("after the kill: exit %d %+v", code, s)
	}
	if d.state(t) != stateAfterKill {
		t.Fatal("the refused run changed the state")
	}
	if code, s, _ := d.report(t, "unlock"); code != 0 {
		t.Fatalf("unlock: exit %d %+v", code, s)
	}
	code, s, _ = d.report(t, "up")
	if code != 1 || !strings.Contains(s.Error, "pending operation") || !strings.Contains(s.Error, "postgis-out-patching") || !strings.Contains(s.Error, "reconcile --stack "+d.Name+" --pending") {
		t.Fatalf("pending operations not reported: exit %d %+v", code, s)
	}
	code, s, text := d.report(t, "reconcile", "--pending")
	if code != 0 || !strings.Contains(strings.Join(s.Notes, " "), "postgis-out-patching") {
		t.Fatalf("reconcile --pending: exit %d %+v\n%s", code, s, text)
	}
	code, s, text = d.report(t, "up")
	if code != 0 || s.Result != "clean" {
		t.Fatalf("up after recovery: exit %d %+v\n%s", code, s, text)
	}
	if got := d.egressRules(t); len(got) != 1 || got[0] != created {
		t.Fatalf("egress rules %v: the pending create %s was created twice or lost", got, created)
	}
	if n := d.cloudCount(t); n != before {
		t.Fatalf("cloud holds %d objects, %d before the drill", n, before)
	}
	if code, _, _ := d.report(t, "drift"); code != 0 {
		t.Fatalf("drift after recovery: exit %d", code)
	}
}

// A provider fault in the middle of an update: the partial state is saved,
// and the next run converges.
func TestDrillProviderFault(t *testing.T) {
	d := deployLocal(t)
	d.setConfig(t, "etlCidr", "10.20.31.0/24")
	// The tile servers moved to a new group of the same VPC.
	if err := d.AWSCloud().Update(func(c *standin.Cloud) error {
		return aws.Seed(c, aws.Network{VpcID: "vpc-0local", Groups: []string{"sg-0tiles2"}})
	}); err != nil {
		t.Fatal(err)
	}
	d.setConfig(t, "tileServerSecurityGroupId", "sg-0tiles2")
	t.Setenv(standin.FaultsEnv, "update:"+aws.TypeIngressRule+":1")
	code, s, text := d.report(t, "up")
	if code != 1 || !strings.Contains(s.Error, "injected fault") {
		t.Fatalf("faulted up: exit %d %+v\n%s", code, s, text)
	}
	st := d.Stack(t, d.Name, stacks.Platform)
	if _, err := st.Export(t.Context()); err != nil {
		t.Fatalf("state unreadable after the fault: %v", err)
	}
	code, s, text = d.report(t, "up")
	if code != 0 || s.Result != "done" {
		t.Fatalf("the next run did not converge: exit %d %+v\n%s", code, s, text)
	}
	if got := ruleCIDR(t, d); got != "10.20.31.0/24" {
		t.Fatalf("ETL rule %q", got)
	}
	if code, _, _ := d.report(t, "preview", "--detailed-exitcode"); code != 0 {
		t.Fatal("changes left after convergence")
	}
}

// Two ups on one stack: the second is refused at its start, naming the lock;
// the first finishes and the state is intact.
func TestDrillConcurrentUps(t *testing.T) {
	d := deployLocal(t)
	d.setConfig(t, "etlCidr", "10.20.32.0/24")
	lockDir := filepath.Join(d.StateDir, ".pulumi", "locks", "organization", stacks.Project, d.Name)
	first := d.start(t, []string{standin.LatencyEnv + "=1500ms"}, "up")
	waitFor(t, "the first run's lock", func() bool {
		entries, _ := os.ReadDir(lockDir)
		return len(entries) > 0
	})
	code, s, _ := d.report(t, "up")
	if code != 1 || s.Step != "lock" || !strings.Contains(s.Error, "is locked") || !strings.Contains(s.Error, "still running") {
		t.Fatalf("second up: exit %d %+v", code, s)
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("first up failed: %v", err)
	}
	if got := ruleCIDR(t, d); got != "10.20.32.0/24" {
		t.Fatalf("ETL rule %q after the first up", got)
	}
	if code, _, _ := d.report(t, "drift"); code != 0 {
		t.Fatal("state and cloud disagree after the concurrent runs")
	}
}

// The state backend unreachable, or the passphrase wrong: a clear error and
// nothing changed.
func TestDrillBackendAndPassphrase(t *testing.T) {
	d := deployLocal(t)
	d.setConfig(t, "etlCidr", "10.20.33.0/24")
	before, cloudBefore := d.state(t), ruleCIDR(t, d)
	code, s, _ := d.report(t, "up", "--backend", "postgres://deployer@127.0.0.1:1/state?sslmode=disable")
	if code != 1 || s.Error == "" {
		t.Fatalf("unreachable backend: exit %d %+v", code, s)
	}
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "wrong passphrase")
	code, s, _ = d.report(t, "up")
	if code != 1 || !strings.Contains(strings.ToLower(s.Error), "passphrase") {
		t.Fatalf("wrong passphrase: exit %d %+v", code, s)
	}
	if d.state(t) != before || ruleCIDR(t, d) != cloudBefore {
		t.Fatal("a failed run changed the state or the cloud")
	}
}
