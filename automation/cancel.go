package automation

import (
	"context"
	"fmt"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// cancelGrace bounds the bookkeeping a cancelled run still does (putting
// protection back, reading what it left behind): a CI runner kills the job
// about ten seconds after its first signal.
const cancelGrace = 5 * time.Second

// afterCancel is ctx, or when ctx is cancelled a short context of its own
// for the bookkeeping that must still run.
func afterCancel(ctx context.Context) context.Context {
	if ctx.Err() == nil {
		return ctx
	}
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelGrace)
	time.AfterFunc(cancelGrace, cancel)
	return c
}

// leftBehind says what a cancelled update left in the backend: a lock the
// engine did not release, and operations it did not finish.
func leftBehind(ctx context.Context, s Settings, name string, st auto.Stack) []string {
	var notes []string
	if locks, err := Locks(ctx, s.BackendURL, name); err == nil && len(locks) > 0 {
		notes = append(notes, fmt.Sprintf("the stack is still locked (%d lock(s)); once no run is left, clear it with `deployer unlock --stack %s`", len(locks), name))
	}
	pending, err := pendingOperations(ctx, s.BackendURL, st)
	switch {
	case err != nil:
		notes = append(notes, "could not read the pending operations after the cancel: "+err.Error())
	case len(pending) > 0:
		for _, p := range pending {
			notes = append(notes, fmt.Sprintf("pending after the cancel: %s %s %s; resolve with `deployer reconcile --stack %s --pending`", p.Op, p.URN, p.ID, name))
		}
	default:
		notes = append(notes, "the engine stopped cleanly: no pending operation, the state is saved")
	}
	return notes
}
