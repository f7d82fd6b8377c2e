package automation

import (
	"context"

	"github.com/postgis-platform/deployer/stacks"
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
func Refresh(ctx context.Context, s Settings, stack string, opts ...RefreshOption) StackReport {
	var o refreshOptions
	for _, opt := range opts {
		opt.applyRefresh(&o)
	}
	ss := s.session(ctx, stack, &o.options)
	return ss.finish(ss.refresh(&o))
}

func (ss *session) refresh(o *refreshOptions) error {
	if err := ss.openToChange(stacks.Options{}, false); err != nil {
		return err
	}
	if err := ss.checkPause(false, false); err != nil {
		return err
	}
	return ss.refreshWithBackup(o.backupDir, nil)
}
