package automation

import (
	"context"
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/postgis-platform/deployer/statestore"
)

// Unlock clears the stale locks of a stack, left by a killed CI runner, after
// checking that the process that took each one is not running. A lock taken
// on another host cannot be checked and is kept unless force is set.
func Unlock(ctx context.Context, s Settings, stack string, force bool) StackReport {
	rep := StackReport{Stack: stack}
	if err := ValidateBackendURL(s.BackendURL); err != nil {
		return failed(rep, "open", err)
	}
	st, err := statestore.Open(ctx, s.BackendURL)
	if err != nil {
		return failed(rep, "lock", fmt.Errorf("open backend %s to read its locks: %w", Redact(s.BackendURL), err))
	}
	defer st.Close()
	locks, err := readLocks(ctx, st, s.BackendURL, stack)
	if err != nil {
		return failed(rep, "lock", err)
	}
	if len(locks) == 0 {
		rep.Notes = append(rep.Notes, "no lock: nothing to remove")
	}
	for _, l := range locks {
		alive, known := l.Alive()
		switch {
		case known && alive:
			return failed(rep, "lock", fmt.Errorf("%s is held by a running process; not removed (wait for it, or stop pid %d first)", l, l.Pid))
		case !known && !force:
			return failed(rep, "lock", fmt.Errorf("%s was taken on another host and cannot be checked; make sure that run is gone, then repeat with --force", l))
		}
		if err := st.Delete(ctx, l.Key); err != nil && !errors.Is(err, statestore.ErrNotFound) {
			return failed(rep, "lock", fmt.Errorf("remove %s: %w", l.Path, err))
		}
		rep.Notes = append(rep.Notes, "removed stale lock "+l.String())
	}
	rep.finish()
	rep.Result, rep.ExitCode = "done", ExitOK
	return rep
}

// ListStacks names the project's stacks in the backend.
func ListStacks(ctx context.Context, s Settings) ([]string, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	ws, err := auto.NewLocalWorkspace(ctx, s.workspaceOptions(nil)...)
	if err != nil {
		return nil, fmt.Errorf("open workspace: %w", err)
	}
	list, err := ws.ListStacks(ctx)
	if err != nil {
		return nil, fmt.Errorf("list stacks: %w", cliError(err))
	}
	var out []string
	for _, st := range list {
		out = append(out, st.Name)
	}
	return out, nil
}

// ForEachStack runs f for every stack, at most parallel at a time, and
// returns the reports in the order of names. A failing stack never hides the
// others' results.
func ForEachStack(ctx context.Context, names []string, parallel int, f func(ctx context.Context, name string) StackReport) []StackReport {
	if parallel < 1 {
		parallel = 1
	}
	out := make([]StackReport, len(names))
	sem := make(chan struct{}, parallel)
	done := make(chan struct{})
	for i, name := range names {
		go func(i int, name string) {
			sem <- struct{}{}
			defer func() {
				if r := recover(); r != nil {
					out[i] = failed(StackReport{Stack: name}, "run", fmt.Errorf("internal error: %v", r))
				}
				<-sem
				done <- struct{}{}
			}()
			out[i] = f(ctx, name)
		}(i, name)
	}
	for range names {
		<-done
	}
	return out
}
