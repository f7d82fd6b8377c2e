package automation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/dbcheck"
	"github.com/postgis-platform/deployer/stacks"
)

// ErrNotVerified is returned (wrapped) when the live database checks could not
// run: no login, or a program that did not report them. It is never a pass.
var ErrNotVerified = errors.New("the live database checks did not run")

// runVerify runs the live checks through program, a variant of the stack's
// program that reports them (stacks.Options.Verify): a preview that changes
// nothing, in which the program logs in with the credential its provider uses
// (the current RDS master secret). No password passes through deployer.
func runVerify(ctx context.Context, op *opened, program pulumi.RunFunc) ([]dbcheck.Result, error) {
	ws := op.stack.Workspace()
	orig := ws.Program()
	ws.SetProgram(program)
	defer ws.SetProgram(orig)
	var got *stacks.VerifyReport
	reports := 0
	ch := make(chan events.EngineEvent)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range ch {
			if d := ev.DiagnosticEvent; d != nil {
				if r := parseVerify(d.Message); r != nil {
					got = r
					reports++
				}
			}
		}
	}()
	_, err := op.stack.Preview(ctx, optpreview.EventStreams(ch))
	waitEvents(done, err)
	if err != nil {
		return nil, fmt.Errorf("%w: the program's run failed: %w", ErrNotVerified, cliError(err))
	}
	if reports > 1 {
		return nil, fmt.Errorf("%w: the program reported them %d times (one program run reports them once)", ErrNotVerified, reports)
	}
	if got == nil {
		return nil, fmt.Errorf("%w: the program did not report them (the instance's address or its master secret is not known: is the stack deployed, and is no replacement of it pending?)", ErrNotVerified)
	}
	if got.Error != "" {
		return got.Results, fmt.Errorf("%w: %s", ErrNotVerified, got.Error)
	}
	if len(got.Results) == 0 {
		return nil, fmt.Errorf("%w: the program reported no checks", ErrNotVerified)
	}
	return got.Results, nil
}

// parseVerify reads a diagnostic that is a stacks.VerifyPrefix line (the
// prefix first), or nil.
func parseVerify(msg string) *stacks.VerifyReport {
	rest, ok := strings.CutPrefix(strings.TrimSpace(msg), stacks.VerifyPrefix)
	if !ok {
		return nil
	}
	var r stacks.VerifyReport
	if json.Unmarshal([]byte(strings.TrimSpace(rest)), &r) != nil {
		return &stacks.VerifyReport{Error: "the program's report of the checks is not valid JSON"}
	}
	return &r
}

type verifyOptions struct{ options }

// VerifyOption configures Verify.
type VerifyOption interface{ applyVerify(*verifyOptions) }

func (p progressOpt) applyVerify(o *verifyOptions) { o.progress = p.w }
func (l loggerOpt) applyVerify(o *verifyOptions)   { o.log = l.l }

// Verify runs the live database checks of a deployed stack alone, through
// the stack program's variant that reports them (see runVerify).
// Exit 0 all pass; 1 a check failed, or the checks could not run.
func Verify(ctx context.Context, s Settings, stack string, opts ...VerifyOption) StackReport {
	var o verifyOptions
	for _, opt := range opts {
		opt.applyVerify(&o)
	}
	ss := s.session(ctx, stack, &o.options)
	ss.result = ResultClean
	return ss.finish(ss.checkAlone())
}

func (ss *session) checkAlone() error {
	if err := ss.openWith(stacks.Options{Verify: true}); err != nil {
		return err
	}
	return ss.verify(true)
}
