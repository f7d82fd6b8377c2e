package automation

import (
	"context"

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
	op, step, err := s.openRunnable(ctx, stack, program, o.logger(), false, &rep)
	if err != nil {
		return failed(rep, step, err)
	}
	if err := refreshState(ctx, op, &o.options, o.backupDir, stack, &rep, nil); err != nil {
		return failed(rep, "refresh", err)
	}
	rep.finish()
	rep.Result, rep.ExitCode = "done", ExitOK
	return rep
}
