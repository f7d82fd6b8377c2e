package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
)

// parse runs the command made by newCmd with args, its run replaced by
// runF: the flags are parsed and checked, nothing runs.
func parse(t *testing.T, newCmd func(a *app) *cobra.Command, args ...string) error {
	t.Helper()
	var out bytes.Buffer
	cmd := newCmd(&app{stdout: &out, stderr: &out})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	return cmd.Execute()
}

// Each command's flags land in its Options struct; nothing runs.
func TestCommandFlagsFillOptions(t *testing.T) {
	var up *upOptions
	err := parse(t, func(a *app) *cobra.Command {
		return newUpCmd(a, func(_ *cobra.Command, o *upOptions) error { up = o; return nil })
	}, "--stack", "prod", "--allow-replace", "urn:a", "--allow-delete", "aws:ec2/x:X", "--refresh", "--backup-dir", "/b", "--skip-verify", "-q")
	if err != nil || up == nil {
		t.Fatalf("up: %v", err)
	}
	if !reflect.DeepEqual(up.stacks.stacks, []string{"prod"}) || !up.refresh || up.backupDir != "/b" || !up.skipVerify || up.acceptDrift || !up.stacks.quiet ||
		!reflect.DeepEqual(up.guard.allow().Replace, []string{"urn:a"}) || !reflect.DeepEqual(up.guard.allow().Delete, []string{"aws:ec2/x:X"}) {
		t.Fatalf("up options: %+v", up)
	}

	var rec *reconcileOptions
	err = parse(t, func(a *app) *cobra.Command {
		return newReconcileCmd(a, func(_ *cobra.Command, o *reconcileOptions) error { rec = o; return nil })
	}, "--stack", "s", "--remove", "sgr-1", "--adopt", "urn:x=sgr-2", "--pending", "--import-pending", "urn:y=sgr-3", "--dry-run")
	if err != nil || rec == nil {
		t.Fatalf("reconcile: %v", err)
	}
	if !reflect.DeepEqual(rec.req.Remove, []string{"sgr-1"}) || rec.req.Adopt["urn:x"] != "sgr-2" || !rec.req.Pending ||
		rec.req.ImportPending["urn:y"] != "sgr-3" || !rec.req.DryRun {
		t.Fatalf("reconcile request: %+v", rec.req)
	}

	var drift *driftOptions
	err = parse(t, func(a *app) *cobra.Command {
		return newDriftCmd(a, func(_ *cobra.Command, o *driftOptions) error { drift = o; return nil })
	}, "--all", "--parallel", "4", "--json", "-")
	if err != nil || drift == nil || !drift.stacks.all || drift.stacks.parallel != 4 || drift.report.json != "-" {
		t.Fatalf("drift: %v %+v", err, drift)
	}

	var unlock *unlockOptions
	err = parse(t, func(a *app) *cobra.Command {
		return newUnlockCmd(a, func(_ *cobra.Command, o *unlockOptions) error { unlock = o; return nil })
	}, "--stack", "s", "--force")
	if err != nil || unlock == nil || !unlock.force {
		t.Fatalf("unlock: %v %+v", err, unlock)
	}
}

// Flags that exclude each other are refused before anything runs, in the
// deployer's words.
func TestExclusiveFlags(t *testing.T) {
	ran := false
	for _, newCmd := range []func(a *app) *cobra.Command{
		func(a *app) *cobra.Command {
			return newDriftCmd(a, func(*cobra.Command, *driftOptions) error { ran = true; return nil })
		},
		func(a *app) *cobra.Command {
			return newPreviewCmd(a, func(*cobra.Command, *previewOptions) error { ran = true; return nil })
		},
	} {
		err := parse(t, newCmd, "--all", "--stack", "x")
		if err == nil || ran {
			t.Fatalf("--all with --stack: err %v, ran %v", err, ran)
		}
		if got := flagGroupError(err).Error(); got != "--all and --stack exclude each other: use one" {
			t.Fatalf("message %q", got)
		}
	}
	if err := flagGroupError(errFixed("other")); err.Error() != "other" || !strings.Contains(err.Error(), "other") {
		t.Fatalf("other errors pass unchanged: %v", err)
	}
}

type errFixed string

func (e errFixed) Error() string { return string(e) }

// A bad --shard is refused before anything runs, naming the flag and the
// form it takes.
func TestShardFlagRefusesBadSpecs(t *testing.T) {
	for _, spec := range []string{"0/3", "4/3", "3", "a/b", "1/0"} {
		code, _, errOut := runDeployer(t, "drift", "--stack", "dev", "--shard", spec, "--project-dir", t.TempDir())
		if code != 1 || !strings.Contains(errOut, "--shard") || !strings.Contains(errOut, "i/n") {
			t.Errorf("--shard %s: exit %d %q", spec, code, errOut)
		}
	}
}

// --markdown-dir writes one comment per stack, its marker first, replacing
// the file of an earlier run.
func TestMarkdownDirWritesOneCommentPerStack(t *testing.T) {
	dir := t.TempDir()
	rf := reportFlags{markdownDir: dir, limit: automation.DefaultMarkdownLimit, json: filepath.Join(t.TempDir(), "preview.json")}
	r := automation.NewReport("preview", "test", "", []automation.StackReport{{Stack: "dev", Result: "changes"}, {Stack: "prod", Result: "clean"}})
	r.Project = "postgis-platform"
	if err := os.WriteFile(filepath.Join(dir, "dev.md"), []byte(strings.Repeat("old ", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := rf.write(r, &out); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"dev", "prod"} {
		b, err := os.ReadFile(filepath.Join(dir, s+".md"))
		if err != nil || !strings.HasPrefix(string(b), automation.Marker("postgis-platform", s)+"\n") || strings.Contains(string(b), "old ") {
			t.Fatalf("%s.md: %v\n%s", s, err, b)
		}
	}
	t.Setenv("GITHUB_SERVER_URL", "https://github.com")
	t.Setenv("GITHUB_REPOSITORY", "team/postgis")
	t.Setenv("GITHUB_RUN_ID", "42")
	if got := rf.fullReport(); got != "the JSON report (preview.json) in the workflow run https://github.com/team/postgis/actions/runs/42" {
		t.Fatalf("full report: %q", got)
	}
}

// A saved plan carries its own allow-list and is made on a state without
// drift: up --plan takes none of the flags that would change either, and a
// plan is one stack's.
func TestPlanFlagsExcludeTheirOverrides(t *testing.T) {
	for _, flags := range [][]string{{"--allow-replace", "x"}, {"--allow-delete", "x"}, {"--accept-drift"}, {"--refresh"}} {
		err := parse(t, func(a *app) *cobra.Command {
			return newUpCmd(a, func(*cobra.Command, *upOptions) error { t.Fatal("ran"); return nil })
		}, append([]string{"--stack", "prod", "--plan", "plan.json"}, flags...)...)
		if err == nil || !strings.Contains(flagGroupError(err).Error(), "exclude each other") {
			t.Errorf("--plan with %v: %v", flags, err)
		}
	}
	err := parse(t, func(a *app) *cobra.Command {
		return newPreviewCmd(a, func(*cobra.Command, *previewOptions) error { t.Fatal("ran"); return nil })
	}, "--all", "--save-plan", "plan.json")
	if err == nil || flagGroupError(err).Error() != "--all and --save-plan exclude each other: use one" {
		t.Errorf("--save-plan with --all: %v", err)
	}
	code, _, errOut := runDeployer(t, "up", "--stack", "a", "--stack", "b", "--plan", "plan.json", "--project-dir", t.TempDir())
	if code != 1 || !strings.Contains(errOut, "one stack's plan") {
		t.Errorf("--plan with two stacks: exit %d %s", code, errOut)
	}
}

// A stack name is never a path: it names backups, pauses and per-stack
// Markdown files.
func TestStackNamesAreNotPaths(t *testing.T) {
	for _, name := range []string{"../etc", "a/b", "..", ".", "", "a b", "prod;rm", strings.Repeat("x", 101)} {
		for _, cmd := range []string{"drift", "pause"} {
			args := []string{cmd, "--stack", name, "--project-dir", t.TempDir()}
			if cmd == "pause" {
				args = append(args, "--reason", "r")
			}
			code, _, errOut := runDeployer(t, args...)
			if code != 1 || !strings.Contains(errOut, "--stack") || !strings.Contains(errOut, "stack name") {
				t.Errorf("%s --stack %q: exit %d %q", cmd, name, code, errOut)
			}
		}
	}
}
