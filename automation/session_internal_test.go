package automation

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// finish is the one place that maps a step's error to the result, its exit
// code and the step; the error stays reachable with errors.Is.
func TestFinishMapsErrors(t *testing.T) {
	guard := guardError([]Blocked{{Step: Step{Op: "delete", URN: "urn:pulumi:s::p::t::n"}, Fix: "--allow-delete x"}})
	cases := []struct {
		name     string
		result   Result
		quiet    bool
		err      error
		want     Result
		exit     int
		step     string
		is       error
		errorMsg bool
	}{
		{name: "done", result: ResultDone, want: ResultDone, exit: ExitOK},
		{name: "clean", result: ResultClean, want: ResultClean, exit: ExitOK},
		{name: "drift found", result: ResultDrift, want: ResultDrift, exit: ExitChanges},
		{name: "changes", result: ResultChanges, want: ResultChanges, exit: ExitChanges},
		{name: "changes, quiet", result: ResultChanges, quiet: true, want: ResultChanges, exit: ExitOK},
		{name: "a failed step", result: ResultDone, err: at("refresh", errors.New("boom")), want: ResultError, exit: ExitError, step: "refresh", errorMsg: true},
		{name: "the first step wins", result: ResultDone, err: at("verify", at("open", ErrConfig)), want: ResultError, exit: ExitError, step: "open", is: ErrConfig, errorMsg: true},
		{name: "guard", result: ResultDone, err: blocked("guard", guard), want: ResultBlocked, exit: ExitBlocked, step: "guard", is: ErrDestructiveChange, errorMsg: true},
		{name: "drift blocks up", result: ResultDone, err: blockedf("drift", "%w: drifted", ErrDrift), want: ResultBlocked, exit: ExitBlocked, step: "drift", is: ErrDrift, errorMsg: true},
		{name: "blocked, the notes say why", result: ResultChanges, quiet: true, err: blocked("gate", nil), want: ResultBlocked, exit: ExitBlocked, step: "gate"},
		{name: "wrapped later", result: ResultDone, err: fmt.Errorf("context: %w", at("lock", errors.New("held"))), want: ResultError, exit: ExitError, step: "lock", errorMsg: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ss := &session{rep: StackReport{Stack: "s"}, result: tc.result, quietChanges: tc.quiet}
			r := ss.finish(tc.err)
			if r.Result != tc.want || r.ExitCode != tc.exit || r.Step != tc.step {
				t.Fatalf("got %s/%d at %q, want %s/%d at %q", r.Result, r.ExitCode, r.Step, tc.want, tc.exit, tc.step)
			}
			if (r.Error != "") != tc.errorMsg {
				t.Fatalf("error text %q", r.Error)
			}
			if tc.is != nil && !errors.Is(r.Err(), tc.is) {
				t.Fatalf("Err() = %v, want it to wrap %v", r.Err(), tc.is)
			}
			if tc.err == nil && r.Err() != nil {
				t.Fatalf("Err() = %v on success", r.Err())
			}
			if r.Changes == nil || r.Unmanaged == nil || r.Violations == nil {
				t.Fatal("the report's lists must be empty, not null, in JSON")
			}
		})
	}
}

func TestResultExitCodes(t *testing.T) {
	for r, want := range map[Result]int{ResultClean: 0, ResultDone: 0, ResultDrift: 2, ResultChanges: 2, ResultBlocked: 3, ResultError: 1, ResultCancelled: ExitCancelled} {
		if got := r.ExitCode(); got != want {
			t.Errorf("%s: exit %d, want %d", r, got, want)
		}
	}
}

// A panic in one stack's run is that stack's error, at step run.
func TestForEachStackRecoversAPanic(t *testing.T) {
	out := ForEachStack(t.Context(), []string{"a", "b"}, 2, func(_ context.Context, name string) StackReport {
		if name == "a" {
			panic("boom")
		}
		return (&session{rep: StackReport{Stack: name}, result: ResultClean}).finish(nil)
	})
	if out[0].Result != ResultError || out[0].Step != "run" || out[1].Result != ResultClean {
		t.Fatalf("got %+v", out)
	}
}
