package automation

import (
	"context"
	"errors"
	"fmt"

	"github.com/postgis-platform/deployer/statestore"
)

// Unlock clears the stale locks of a stack, left by a killed CI runner, after
// checking that the process that took each one is not running. A lock taken
// on another host cannot be checked and is kept unless force is set.
func Unlock(ctx context.Context, s Settings, stack string, force bool) StackReport {
	ss := s.session(ctx, stack, &options{})
	return ss.finish(ss.unlock(force))
}

func (ss *session) unlock(force bool) error {
	if err := ss.checkName(); err != nil {
		return err
	}
	if err := ValidateBackendURL(ss.s.BackendURL); err != nil {
		return at("open", err)
	}
	st, err := statestore.Open(ss.ctx, ss.s.BackendURL)
	if err != nil {
		return at("lock", fmt.Errorf("open backend %s to read its locks: %w", Redact(ss.s.BackendURL), err))
	}
	defer st.Close()
	locks, err := readLocks(ss.ctx, st, ss.s.BackendURL, ss.name)
	if err != nil {
		return at("lock", err)
	}
	if len(locks) == 0 {
		ss.note("no lock: nothing to remove")
	}
	for _, l := range locks {
		alive, known := l.Alive()
		switch {
		case known && alive:
			return at("lock", fmt.Errorf("%s is held by a running process; not removed (wait for it, or stop pid %d first)", l, l.Pid))
		case !known && !force:
			return at("lock", fmt.Errorf("%s was taken on another host and cannot be checked; make sure that run is gone, then repeat with --force", l))
		}
		if err := st.Delete(ss.ctx, l.Key); err != nil && !errors.Is(err, statestore.ErrNotFound) {
			return at("lock", fmt.Errorf("remove %s: %w", l.Path, err))
		}
		ss.note("removed stale lock %s", l)
	}
	return nil
}
