package automation

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/postgis-platform/deployer/stacks"
)

// utilityDatabaseType is the utility database component's type token.
const utilityDatabaseType = "postgis:utilitydb:UtilityDatabase"

// rotatedMarker is in the program's log line after it gave the functions'
// owner a new loopback login (components/utilitydb).
const rotatedMarker = "the functions' owner logs in as "

type rotateOptions struct{ options }

// RotateOption configures Rotate.
type RotateOption interface{ applyRotate(*rotateOptions) }

func (p progressOpt) applyRotate(o *rotateOptions) { o.progress = p.w }
func (l loggerOpt) applyRotate(o *rotateOptions)   { o.log = l.l }

// Rotate gives the utility functions' owner a new loopback login now, and
// changes nothing else: the stack program's variant that asks for it
// (stacks.Options.RotateLoopbackLogin) runs as an update targeted at the
// utility database component alone (a component has no cloud state, so the
// target holds every resource where it is while the program's writer runs).
// Calls in flight keep working (sqlfuncs.RotateLoopbackLogin). It refuses a
// locked stack. Exit 0 rotated, 1 error.
func Rotate(ctx context.Context, s Settings, stack string, opts ...RotateOption) StackReport {
	var o rotateOptions
	for _, opt := range opts {
		opt.applyRotate(&o)
	}
	ss := s.session(ctx, stack, &o.options)
	return ss.finish(ss.rotate())
}

func (ss *session) rotate() error {
	if own, runtime := ss.s.OwnProgram(); own {
		return at("rotate", fmt.Errorf("the project's own %s program decides the functions' owner's login: set rotateLoopbackLogin (or loopbackLoginMaxAge) on its UtilityDatabase component and run `deployer up`", runtime))
	}
	if err := ss.openToChange(stacks.Options{RotateLoopbackLogin: true}, false); err != nil {
		return err
	}
	urns, err := ss.op.providerURNs(ss.ctx, utilityDatabaseType)
	if err == nil && len(urns) == 0 {
		err = errors.New("the stack has no utility database (deploy it with `deployer up` first)")
	}
	if err != nil {
		return at("rotate", err)
	}
	rotated, err := ss.op.rotate(ss.ctx, ss.o, urns)
	if err != nil {
		return at("rotate", err)
	}
	if len(rotated) == 0 {
		return at("rotate", errors.New("the program did not report a new login (is it the stack program with RotateLoopbackLogin?)"))
	}
	ss.rep.Notes = append(ss.rep.Notes, rotated...)
	return nil
}

// collectRotations reads the program's reports of a new loopback login
// (the writer's log line) from ch into out.
func collectRotations(ch <-chan events.EngineEvent, out *[]string) {
	for ev := range ch {
		if d := ev.DiagnosticEvent; d != nil && strings.Contains(d.Message, rotatedMarker) {
			*out = append(*out, strings.TrimSpace(d.Message))
		}
	}
}

// rotate runs the update targeted at urns and returns the program's reports
// of a new login.
func (op *opened) rotate(ctx context.Context, o *options, urns []string) ([]string, error) {
	var rotated []string
	ch := make(chan events.EngineEvent)
	done := make(chan struct{})
	go func() { defer close(done); collectRotations(ch, &rotated) }()
	uopts := []optup.Option{optup.Target(urns), optup.EventStreams(ch)}
	if o.progress != nil {
		uopts = append(uopts, optup.ProgressStreams(o.progress))
	}
	_, err := op.stack.Up(ctx, uopts...)
	waitEvents(done, err)
	if err != nil {
		return nil, fmt.Errorf("update targeted at %s: %w", strings.Join(names(urns), ", "), cliError(err))
	}
	return rotated, nil
}
