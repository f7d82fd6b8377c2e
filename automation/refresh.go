package automation

import (
	"context"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

type refreshOptions struct {
	options
	backupDir string
}

// RefreshOption configures Refresh.
type RefreshOption interface{ applyRefresh(*refreshOptions) }

func (p progressOpt) applyRefresh(o *refreshOptions) { o.progress = p.w }
func (l loggerOpt) applyRefresh(o *refreshOptions)   { o.log = l.l }

type backupDirOpt string

func (b backupDirOpt) applyRefresh(o *refreshOptions) { o.backupDir = string(b) }

// WithBackupDir sets where state backups go (default ~/.deployer/backups).
func WithBackupDir(dir string) RefreshOption { return backupDirOpt(dir) }

// Refresh writes the refreshed state (the read-only capture step of the
// drift recovery) after saving a backup of the state, whose path the report
// names. It refuses a locked stack or one with pending operations.
func Refresh(ctx context.Context, s Settings, stack string, program pulumi.RunFunc, opts ...RefreshOption) StackReport {
	var o refreshOptions
	for _, opt := range opts {
		opt.applyRefresh(&o)
	}
	rep := StackReport{Stack: stack}
	op, err := s.open(ctx, stack, program, o.logger())
	if err != nil {
		return failed(rep, "open", err)
	}
	notes, err := checkRunnable(ctx, s, stack, op.stack)
	rep.Notes = append(rep.Notes, notes...)
	if err != nil {
		return failed(rep, "lock", err)
	}
	path, err := backupState(ctx, op.stack, o.backupDir, stack)
	if err != nil {
		return failed(rep, "backup", err)
	}
	rep.Notes = append(rep.Notes, "state backup: "+path)
	o.logger().Info("refreshing the state (backup kept)", "stack", stack, "backup", path)
	ropts := []optrefresh.Option{}
	if o.progress != nil {
		ropts = append(ropts, optrefresh.ProgressStreams(o.progress))
	}
	res, err := op.stack.Refresh(ctx, ropts...)
	if err != nil {
		return failed(rep, "refresh", fmt.Errorf("refresh: %w", cliError(err)))
	}
	if rc := res.Summary.ResourceChanges; rc != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("refresh: %d updated from the live state, %d gone", (*rc)["update"], (*rc)["delete"]))
	}
	rep.finish()
	rep.Result, rep.ExitCode = "done", ExitOK
	return rep
}
