package automation

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

// State backups and state-writing refreshes.

// refreshState writes the live state into the stack's state after a backup.
// The record of modifications RDS holds pending (on the instances in keep;
// with keep nil, wherever the state records a deferred setting asked but not
// running) survives it: a refresh would overwrite what was asked with the
// running value, and the next update would ask again.
func refreshState(ctx context.Context, op *opened, o *options, backupDir, stack string, rep *StackReport, keep []string) error {
	raw, exported, err := exportState(ctx, op.stack)
	if err != nil {
		return fmt.Errorf("export state of %q for the backup: %w", stack, err)
	}
	path, err := writeBackup(backupDir, stack, raw)
	if err != nil {
		return err
	}
	rep.Notes = append(rep.Notes, "state backup before refresh: "+path)
	dep, err := parseDeployment(exported)
	if err != nil {
		return fmt.Errorf("read the state export of %q: %w", stack, err)
	}
	before := askedDeferred(dep)
	if keep != nil {
		maps.DeleteFunc(before, func(urn string, _ map[string]asked) bool { return !slices.Contains(keep, urn) })
	}
	if err := refresh(ctx, op, o, stack, path, rep); err != nil {
		return err
	}
	if len(before) == 0 {
		return nil
	}
	return keepAsked(ctx, op, before, path, rep)
}

// refresh runs a state-writing refresh that runs the program, so the
// providers read current credentials (a rotated master password) rather
// than the ones in the state.
func refresh(ctx context.Context, op *opened, o *options, stack, backup string, rep *StackReport) error {
	o.logger().Info("refreshing the state (backup kept)", "stack", stack, "backup", backup)
	// The program's writer runs in a refresh too, and may give the
	// functions' owner a new login (a broken mapping, or one due): said.
	var rotated []string
	ch := make(chan events.EngineEvent)
	done := make(chan struct{})
	go func() { defer close(done); collectRotations(ch, &rotated) }()
	ropts := []optrefresh.Option{optrefresh.RunProgram(true), optrefresh.EventStreams(ch)}
	if o.progress != nil {
		ropts = append(ropts, optrefresh.ProgressStreams(o.progress))
	}
	res, err := op.stack.Refresh(ctx, ropts...)
	waitEvents(done, err)
	for _, r := range rotated {
		rep.Notes = append(rep.Notes, "the refresh ran the program, which gave the utility functions' owner a new loopback login: "+r)
	}
	if err != nil {
		return fmt.Errorf("refresh: %w", cliError(err))
	}
	if rc := res.Summary.ResourceChanges; rc != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("refresh: %d updated from the live state, %d gone", (*rc)["update"], (*rc)["delete"]))
	}
	return nil
}

// backupState exports the stack's state to dir and returns the file. The
// backup holds secrets as the state does, encrypted with the stack's secrets
// provider; `pulumi stack import --file <backup>` restores it.
func backupState(ctx context.Context, st auto.Stack, dir, stack string) (string, error) {
	raw, _, err := exportState(ctx, st)
	if err != nil {
		return "", fmt.Errorf("export state of %q for the backup: %w", stack, err)
	}
	return writeBackup(dir, stack, raw)
}

// writeBackup writes an export (as exportState returns it) to dir, a 0600
// file in a 0700 folder (default ~/.deployer/backups), and returns the file.
func writeBackup(dir, stack string, raw []byte) (string, error) {
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".deployer", "backups")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("backup folder: %w", err)
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%s.json", stack, time.Now().UTC().Format("20060102T150405.000Z")))
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return "", fmt.Errorf("write backup: %w", err)
	}
	return path, nil
}

// exportState runs the CLI's `stack export` without --show-secrets, so every
// secret stays ciphertext, exactly as in the state. (The Automation API's
// Stack.Export passes --show-secrets: its export holds them in plaintext, and
// must never be written anywhere.) It returns the export as the CLI wrote it
// and parsed.
func exportState(ctx context.Context, st auto.Stack) ([]byte, apitype.UntypedDeployment, error) {
	var dep apitype.UntypedDeployment
	ws := st.Workspace()
	var env []string
	if home := ws.PulumiHome(); home != "" {
		env = append(env, "PULUMI_HOME="+home)
	}
	env = append(env, envList(ws.GetEnvVars())...)
	stdout, stderr, _, err := ws.PulumiCommand().Run(ctx, ws.WorkDir(), nil, nil, nil, env, "stack", "export", "--stack", st.Name())
	if err != nil {
		return nil, dep, fmt.Errorf("stack export: %v: %s", err, strings.TrimSpace(stderr))
	}
	if err := json.Unmarshal([]byte(stdout), &dep); err != nil || dep.Version == 0 {
		// The output is never quoted: it is the state.
		return nil, dep, fmt.Errorf("stack export wrote no state export (%d bytes)", len(stdout))
	}
	return []byte(stdout), dep, nil
}
