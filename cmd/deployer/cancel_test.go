package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/standin"
)

// A cancelled CI job: SIGTERM to the deployer's process group while the
// stand-in holds a create in flight. The engine stops, saves the state and
// releases the lock; the report says cancelled with exit 143 and names what
// is pending; no process of the run is left; the next up names the pending
// create (or is clean), and the work finishes without creating the rule twice.
func TestDrillSigtermMidUp(t *testing.T) {
	d := deployLocal(t)
	old := d.egressRules(t)[0]
	_ = d.AWSCloud().Update(func(c *standin.Cloud) error { delete(c.Objects, old); return nil })
	if code, _, text := d.report(t, "reconcile", "--remove", old); code != 0 {
		t.Fatalf("reconcile --remove: exit %d\n%s", code, text)
	}
	mark := fmt.Sprintf("DEPLOYER_DRILL_MARK=%d", time.Now().UnixNano())
	js := filepath.Join(t.TempDir(), "up.json")
	var errOut bytes.Buffer
	cmd := d.startWith(t, []string{standin.LatencyAfterEnv + "=3s", mark}, &errOut, "up", "--json", js)
	waitFor(t, "the new rule in the cloud", func() bool { return len(d.egressRules(t)) == 1 })
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 143 {
		t.Fatalf("after SIGTERM: %v, want exit 143\n%s", err, errOut.String())
	}
	r := validateReport(t, js)
	s := r.Stacks[0]
	if r.ExitCode != 143 || s.Result != "cancelled" || s.ExitCode != 143 || s.Step != "up" {
		t.Fatalf("report: exit %d, stack %+v", r.ExitCode, s)
	}
	notes := strings.Join(s.Notes, "\n")
	pending := strings.Contains(notes, "pending after the cancel: creating") && strings.Contains(notes, "postgis-out-patching")
	if !strings.Contains(notes, "cancelled by terminated") || !pending && !strings.Contains(notes, "no pending operation") {
		t.Fatalf("the report does not say what the cancel left: %q", notes)
	}
	if !strings.Contains(errOut.String(), "cancelling") {
		t.Fatalf("no log line for the signal:\n%s", errOut.String())
	}
	waitFor(t, "every process of the run to end", func() bool { return len(processesWith(mark)) == 0 })
	if locks, err := automation.Locks(context.Background(), d.Settings.BackendURL, d.Name); err != nil || len(locks) != 0 {
		t.Fatalf("the cancelled run left locks %v (%v)", locks, err)
	}
	t.Logf("pending operations after the cancel: %v", pending)
	if pending {
		// The engine cancels the in-flight call: the next up names it.
		code, s, text := d.report(t, "up")
		if code != 1 || !strings.Contains(s.Error, "pending operation") || !strings.Contains(s.Error, "postgis-out-patching") {
			t.Fatalf("up after the cancel does not name the pending create: exit %d %+v\n%s", code, s, text)
		}
		if code, _, text := d.report(t, "reconcile", "--pending"); code != 0 {
			t.Fatalf("reconcile --pending: exit %d\n%s", code, text)
		}
	}
	code, s, text := d.report(t, "up")
	if code != 0 || (s.Result != "done" && s.Result != "clean") {
		t.Fatalf("up after the cancel: exit %d %+v\n%s", code, s, text)
	}
	if got := d.egressRules(t); len(got) != 1 {
		t.Fatalf("egress rules %v after the cancel and the next up: want the one created", got)
	}
	if code, _, _ := d.report(t, "drift"); code != 0 {
		t.Fatalf("drift after the next up: exit %d", code)
	}
}

// startWith is start with the process's stderr kept.
func (d *deployed) startWith(t *testing.T, env []string, stderr *bytes.Buffer, args ...string) *exec.Cmd {
	t.Helper()
	args = append(args, "--stack", d.Name, "--project-dir", d.Settings.ProjectDir, "--backend", d.Settings.BackendURL, "--quiet")
	cmd := exec.Command(deployerBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	if stderr != nil {
		cmd.Stderr = stderr
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// processesWith lists the live processes whose environment holds kv (every
// process a run starts inherits it: the CLI, its plugins, the stand-ins).
func processesWith(kv string) []string {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []string
	for _, dir := range dirs {
		env, err := os.ReadFile(filepath.Join(dir, "environ"))
		if err != nil || !bytes.Contains(env, []byte("\x00"+kv+"\x00")) && !bytes.HasPrefix(env, []byte(kv+"\x00")) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join(dir, "stat"))
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		out = append(out, filepath.Base(dir)+" "+strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	return out
}
