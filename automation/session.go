package automation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/stacks"
)

// The step engine: every sequence is a session, a short script of steps.
// Each step returns an error; finish maps the first one to the stack's
// Result, its exit code and the step that stopped the run.

// Result is how one stack's run ended.
type Result string

// The results a report carries; ExitCode gives each one's exit code.
const (
	ResultClean     Result = "clean"     // nothing to do, nothing drifted
	ResultDrift     Result = "drift"     // drift found (drift)
	ResultChanges   Result = "changes"   // a plan with changes (preview, reconcile --dry-run)
	ResultBlocked   Result = "blocked"   // stopped on purpose: drift, the gate, the guard, a live finding
	ResultDone      Result = "done"      // the change ran
	ResultError     Result = "error"     // a step failed
	ResultCancelled Result = "cancelled" // a signal stopped the run (MarkCancelled)
)

// ExitCode is the result's exit code: 0 clean or done, 2 drift or changes,
// 3 blocked, 1 error; a cancelled run exits 128 plus the signal's number,
// of which this is the lowest.
func (r Result) ExitCode() int { return r.exitCode(false) }

// exitCode is ExitCode; quietChanges makes changes exit 0 (a preview
// without DetailedExitCode).
func (r Result) exitCode(quietChanges bool) int {
	switch r {
	case ResultClean, ResultDone:
		return ExitOK
	case ResultDrift:
		return ExitChanges
	case ResultChanges:
		if quietChanges {
			return ExitOK
		}
		return ExitChanges
	case ResultBlocked:
		return ExitBlocked
	case ResultCancelled:
		return ExitCancelled
	}
	return ExitError
}

// ErrDrift is returned (wrapped, by StackReport.Err) when up stops because
// the live state drifted from the stack's state.
var ErrDrift = errors.New("drift")

// stepError is an error with the step that stopped the run.
type stepError struct {
	step string
	err  error
}

func (e *stepError) Error() string { return e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// at marks err as stopping the run at step; nil stays nil, and an error
// marked already keeps its step.
func at(step string, err error) error {
	if err == nil {
		return nil
	}
	var se *stepError
	var be *blockedError
	if errors.As(err, &se) || errors.As(err, &be) {
		return err
	}
	return &stepError{step: step, err: err}
}

// blockedError is a run stopped on purpose at step (exit 3); err says why
// and may be nil when the report's notes say it.
type blockedError struct {
	step string
	err  error
}

func (e *blockedError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *blockedError) Unwrap() error { return e.err }

// blocked stops the run at step with result blocked.
func blocked(step string, err error) error { return &blockedError{step: step, err: err} }

// blockedf is blocked with a message.
func blockedf(step, format string, args ...any) error {
	return blocked(step, fmt.Errorf(format, args...))
}

// session is one stack's run of a sequence: what every step reads (the
// settings, the stack, the options, the logger) and what they write (the
// report).
type session struct {
	ctx  context.Context
	s    Settings
	name string
	o    *options
	log  *slog.Logger
	op   *opened
	rep  StackReport
	// result is the stack's result when no step fails.
	result Result
	// quietChanges makes ResultChanges exit 0 (a preview without
	// DetailedExitCode).
	quietChanges bool
	// drifted: up's first pass found drift.
	drifted bool
}

// session starts a run of stack name.
func (s Settings) session(ctx context.Context, name string, o *options) *session {
	return &session{ctx: ctx, s: s, name: name, o: o, log: o.logger(), rep: StackReport{Stack: name}, result: ResultDone}
}

// checkName refuses a stack name that is not one (step "open").
func (ss *session) checkName() error { return at("open", CheckStackName(ss.name)) }

// finish ends the run with err, the first step's error (nil: the session's
// result), and returns the report.
func (ss *session) finish(err error) StackReport {
	rep := ss.rep
	res := ss.result
	var be *blockedError
	var se *stepError
	switch {
	case err == nil:
	case errors.As(err, &be):
		res, rep.Step, rep.Error = ResultBlocked, be.step, be.Error()
	default:
		res, rep.Error = ResultError, err.Error()
		if errors.As(err, &se) {
			rep.Step = se.step
		}
	}
	rep.err = err
	rep.settle(res, res.exitCode(ss.quietChanges))
	return rep
}

// errorReport is the report of a stack whose run failed with err.
func errorReport(stack string, err error) StackReport {
	ss := &session{rep: StackReport{Stack: stack}}
	return ss.finish(err)
}

// note adds a line to the report's notes.
func (ss *session) note(format string, args ...any) {
	ss.rep.Notes = append(ss.rep.Notes, fmt.Sprintf(format, args...))
}

// program is the stack program variant opts name (Settings.Program).
func (ss *session) program(opts stacks.Options) pulumi.RunFunc { return ss.s.program(opts) }

// open opens the stack to read it (step "open"), with the plain program.
func (ss *session) open() error { return ss.openWith(stacks.Options{}) }

// openWith opens the stack with the program variant opts.
func (ss *session) openWith(opts stacks.Options) error {
	if err := ss.checkName(); err != nil {
		return err
	}
	op, err := ss.s.open(ss.ctx, ss.name, ss.program(opts), ss.log)
	ss.op = op
	return at("open", err)
}

// openToChange opens the stack to change it, with the program variant opts
// (create: make a stack that does not exist yet from its config file, as up
// does), and refuses one that is locked or has pending operations (step
// "lock").
func (ss *session) openToChange(opts stacks.Options, create bool) error {
	if err := ss.checkName(); err != nil {
		return err
	}
	op, step, err := ss.s.openRunnable(ss.ctx, ss.name, ss.program(opts), ss.log, create, &ss.rep)
	ss.op = op
	return at(step, err)
}

// verify runs the live database checks (step "verify") when on; otherwise
// the report says they were skipped.
func (ss *session) verify(on bool) error {
	if !on {
		ss.note("live database checks skipped on request")
		return nil
	}
	if own, runtime := ss.s.OwnProgram(); own {
		return at("verify", fmt.Errorf("%w: the project's own %s program runs no live database checks (only the deployer's platform program does): pass --skip-verify, and check the database with `deployer verify` on the platform stack", ErrNotVerified, runtime))
	}
	checks, err := runVerify(ss.ctx, ss.op, ss.program(stacks.Options{Verify: true}))
	ss.rep.Checks = checks
	if err != nil {
		return at("verify", err)
	}
	for _, c := range checks {
		if !c.OK {
			return at("verify", errors.New("live database checks failed (see checks)"))
		}
	}
	return nil
}
