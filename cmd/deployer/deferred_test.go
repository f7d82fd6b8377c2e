package main

import (
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
)

// instanceState is the stand-in instance's running class and its pending
// modifications.
func (d *deployed) instanceState(t *testing.T) (class string, pending map[string]any) {
	t.Helper()
	err := d.AWSCloud().View(func(c *standin.Cloud) error {
		o := c.OfType(aws.TypeInstance)[0]
		class, pending = standin.Str(o.Props, "instanceClass"), aws.Pending(c, o.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return class, pending
}

func (d *deployed) maintenanceWindow(t *testing.T) {
	t.Helper()
	err := d.AWSCloud().Update(func(c *standin.Cloud) error {
		_, err := aws.RunMaintenance(c, c.OfType(aws.TypeInstance)[0].ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func onlyPending(t *testing.T, what string, code int, pending, changes int, text string) {
	t.Helper()
	if code != 0 || pending != 1 || changes != 0 {
		t.Fatalf("%s: exit %d, %d pending, %d changes (want 0, 1, 0)\n%s", what, code, pending, changes, text)
	}
}

// A class change without applyImmediately waits for the maintenance window,
// as on AWS: drift and up report it as pending (exit 0), up never asks for it
// again (RDS refuses that: "No modifications were requested"), neither an up
// with other changes nor up --refresh loses it, and after the window it is
// simply gone.
func TestDeferredChangeIsPendingNotDrift(t *testing.T) {
	d := deployLocal(t)
	d.setConfig(t, "instanceClass", "db.r6g.large")
	if code, s, text := d.report(t, "up"); code != 0 || s.Result != "done" {
		t.Fatalf("up with a new class: exit %d %+v\n%s", code, s, text)
	}
	if class, pending := d.instanceState(t); class != "db.t4g.medium" || pending["instanceClass"] != "db.r6g.large" {
		t.Fatalf("the stand-in applied the class now: running %s, pending %v", class, pending)
	}

	code, s, text := d.report(t, "drift")
	onlyPending(t, "drift", code, len(s.Pending), len(s.Changes), text)
	if p := s.Pending[0].Properties; len(p) != 1 || p[0].Path != "instanceClass" || p[0].State != "db.r6g.large" || p[0].Live != "db.t4g.medium" {
		t.Fatalf("pending properties: %+v", p)
	}

	code, s, text = d.report(t, "preview", "--detailed-exitcode")
	onlyPending(t, "preview", code, len(s.Pending), len(s.Changes), text)
	if !strings.Contains(text, "pending  postgis (aws:rds/instance:Instance) instanceClass: db.r6g.large asked, db.t4g.medium running") {
		t.Fatalf("the preview's summary does not show the pending class:\n%s", text)
	}

	before := d.history(t)
	code, s, text = d.report(t, "up")
	onlyPending(t, "up with only a pending change", code, len(s.Pending), len(s.Changes), text)
	if s.Result != "clean" || d.history(t) != before {
		t.Fatalf("up asked for the pending class again: result %s\n%s", s.Result, text)
	}

	// Another change beside it applies, without asking for the class again.
	d.setConfig(t, "etlCidr", "10.20.31.0/24")
	if code, s, text := d.report(t, "up"); code != 0 || s.Result != "done" || len(s.Pending) != 1 {
		t.Fatalf("up with another change: exit %d %s pending %d\n%s", code, s.Result, len(s.Pending), text)
	}
	// ... and leaves nothing behind that hides the pending class or makes
	// the next run ask again.
	code, s, text = d.report(t, "drift")
	onlyPending(t, "drift after an up with another change", code, len(s.Pending), len(s.Changes), text)
	before = d.history(t)
	if code, s, text := d.report(t, "up"); code != 0 || s.Result != "clean" || d.history(t) != before {
		t.Fatalf("up after an up with another change: exit %d %s %s\n%s", code, s.Result, s.Error, text)
	}
	// Another class while one is pending replaces the pending one.
	d.setConfig(t, "instanceClass", "db.r6g.xlarge")
	if code, s, text := d.report(t, "up"); code != 0 || s.Result != "done" {
		t.Fatalf("up with another class while one is pending: exit %d %s %s\n%s", code, s.Result, s.Error, text)
	}
	if class, pending := d.instanceState(t); class != "db.t4g.medium" || pending["instanceClass"] != "db.r6g.xlarge" {
		t.Fatalf("another class while one is pending: running %s, pending %v", class, pending)
	}
	// A state-writing refresh keeps the record of what was asked.
	if code, s, text := d.report(t, "up", "--refresh", "--backup-dir", t.TempDir()); code != 0 || len(s.Pending) != 1 {
		t.Fatalf("up --refresh: exit %d pending %d %s %q %q\n%s", code, len(s.Pending), s.Step, s.Error, s.Notes, text)
	}
	code, s, text = d.report(t, "drift")
	onlyPending(t, "drift after up --refresh", code, len(s.Pending), len(s.Changes), text)
	if code, _, text := d.report(t, "refresh", "--backup-dir", t.TempDir()); code != 0 {
		t.Fatalf("refresh: exit %d\n%s", code, text)
	}
	code, s, text = d.report(t, "drift")
	onlyPending(t, "drift after deployer refresh", code, len(s.Pending), len(s.Changes), text)

	// Asking for the running class back does not cancel what RDS holds:
	// no plan shows it (program and instance agree), so deployer says so.
	d.setConfig(t, "instanceClass", "db.t4g.medium")
	code, s, text = d.report(t, "preview")
	if code != 0 || !strings.Contains(strings.Join(s.Notes, "\n"), "RDS holds instanceClass = db.r6g.xlarge pending") {
		t.Fatalf("preview with the old class asked back: exit %d notes %q\n%s", code, s.Notes, text)
	}
	d.setConfig(t, "instanceClass", "db.r6g.xlarge")

	d.maintenanceWindow(t)
	if class, _ := d.instanceState(t); class != "db.r6g.xlarge" {
		t.Fatalf("after the window the instance runs %s", class)
	}
	if code, s, text := d.report(t, "drift"); code != 0 || len(s.Pending)+len(s.Changes) != 0 {
		t.Fatalf("drift after the window: exit %d %+v %+v\n%s", code, s.Pending, s.Changes, text)
	}
	before = d.history(t)
	if code, s, text := d.report(t, "up"); code != 0 || s.Result != "clean" || d.history(t) != before {
		t.Fatalf("up after the window: exit %d %s\n%s", code, s.Result, text)
	}
	// Back to the old class after the window: asked for (the state is
	// refreshed first, its outputs held the class before the window).
	d.setConfig(t, "instanceClass", "db.t4g.medium")
	if code, s, text := d.report(t, "up"); code != 0 || s.Result != "done" {
		t.Fatalf("up back to the old class after the window: exit %d %s %s\n%s", code, s.Result, s.Error, text)
	}
	if class, pending := d.instanceState(t); class != "db.r6g.xlarge" || pending["instanceClass"] != "db.t4g.medium" {
		t.Fatalf("back to the old class after the window: running %s, pending %v", class, pending)
	}
	d.maintenanceWindow(t)
	// A class changed by hand in the console is drift, not pending.
	err := d.AWSCloud().Update(func(c *standin.Cloud) error {
		c.OfType(aws.TypeInstance)[0].Props["instanceClass"] = "db.m5.large"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	code, s, text = d.report(t, "drift")
	if code != 2 || len(s.Pending) != 0 || len(s.Changes) != 1 || s.Changes[0].Properties[0].Path != "instanceClass" {
		t.Fatalf("drift after a hand edit of the class: exit %d pending %+v changes %+v\n%s", code, s.Pending, s.Changes, text)
	}
}

// A run killed right after RDS accepted a deferred change leaves a state
// that never recorded it: the next up asks again and RDS refuses ("No
// modifications were requested"). That up records what RDS holds, says so,
// and the one after it reports the change pending and succeeds.
func TestPendingFromAnInterruptedRunIsRecorded(t *testing.T) {
	d := deployLocal(t)
	err := d.AWSCloud().Update(func(c *standin.Cloud) error {
		return aws.AskDeferred(c, c.OfType(aws.TypeInstance)[0].ID, map[string]any{"instanceClass": "db.r6g.large"})
	})
	if err != nil {
		t.Fatal(err)
	}
	d.setConfig(t, "instanceClass", "db.r6g.large")
	code, s, text := d.report(t, "up")
	if code != 1 || !strings.Contains(s.Error, "No modifications were requested") || !strings.Contains(strings.Join(s.Notes, "\n"), "now recorded as pending") {
		t.Fatalf("up over an unrecorded pending change: exit %d %s notes %q\n%s", code, s.Error, s.Notes, text)
	}
	code, s, text = d.report(t, "up")
	onlyPending(t, "the next up", code, len(s.Pending), len(s.Changes), text)
	code, s, text = d.report(t, "drift")
	onlyPending(t, "drift", code, len(s.Pending), len(s.Changes), text)
}

// A major version upgrade without applyImmediately would stop half-way on
// AWS (the old parameter group deleted while the instance still uses it):
// up refuses it before anything changes, naming the fix; with
// applyImmediately it runs, and the stack is clean after.
func TestMajorUpgradeNeedsApplyImmediately(t *testing.T) {
	d := deployLocal(t)
	before := d.cloudIDs(t)
	d.setConfig(t, "engineVersion", "17")
	allow := []string{"--allow-replace", aws.TypeParameterGroup}
	code, s, text := d.report(t, append([]string{"up"}, allow...)...)
	if code != 3 || s.Step != "guard" || !strings.Contains(s.Error, "applyImmediately: true") || !strings.Contains(s.Error, "InvalidDBParameterGroupState") {
		t.Fatalf("a deferred major upgrade: exit %d step %s %s\n%s", code, s.Step, s.Error, text)
	}
	if after := d.cloudIDs(t); after != before {
		t.Fatalf("the refused upgrade changed the cloud:\n%s\n->\n%s", before, after)
	}
	d.setConfig(t, "applyImmediately", "true")
	if code, s, text := d.report(t, append([]string{"up"}, allow...)...); code != 0 || s.Result != "done" {
		t.Fatalf("the upgrade with applyImmediately: exit %d %s %s\n%s", code, s.Result, s.Error, text)
	}
	var running string
	_ = d.AWSCloud().View(func(c *standin.Cloud) error {
		running = standin.Str(c.OfType(aws.TypeInstance)[0].Props, "engineVersionActual")
		return nil
	})
	if !strings.HasPrefix(running, "17.") {
		t.Fatalf("the instance runs %s after the upgrade", running)
	}
	d.setConfig(t, "applyImmediately", "false")
	if code, s, text := d.report(t, "up"); code != 0 {
		t.Fatalf("applyImmediately back off: exit %d %s\n%s", code, s.Error, text)
	}
	if code, s, text := d.report(t, "drift"); code != 0 {
		t.Fatalf("drift after the upgrade: exit %d %+v\n%s", code, s.Changes, text)
	}
}
