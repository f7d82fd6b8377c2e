package automation

import (
	"context"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// Fleets: the project's stacks, and one sequence run over many of them.

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
					out[i] = errorReport(name, at("run", fmt.Errorf("internal error: %v", r)))
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
