package automation

import (
	"context"
	"errors"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/policypack"
)

type previewOptions struct {
	options
	policyPack       string
	allow            Allow
	detailedExitCode bool
}

type previewFunc func(*previewOptions)

func (f previewFunc) applyPreview(o *previewOptions) { f(o) }

// DetailedExitCode makes a preview with changes exit 2, as terraform plan's
// -detailed-exitcode does; without it a preview that plans changes exits 0
// (result "changes"), so a pull-request job does not fail on every change.
func DetailedExitCode() PreviewOption {
	return previewFunc(func(o *previewOptions) { o.detailedExitCode = true })
}

// PreviewOption configures Preview.
type PreviewOption interface{ applyPreview(*previewOptions) }

func (p progressOpt) applyPreview(o *previewOptions) { o.progress = p.w }
func (l loggerOpt) applyPreview(o *previewOptions)   { o.log = l.l }

type policyPackOpt string

func (p policyPackOpt) applyPreview(o *previewOptions) { o.policyPack = string(p) }
func (p policyPackOpt) applyUp(o *upOptions)           { o.policyPack = string(p) }

// WithPolicyPack also serves the policy pack in dir (PulumiPolicy.yaml) to
// the engine; its analyzer must be on PATH. The deployer's own gate runs
// either way.
func WithPolicyPack(dir string) interface {
	PreviewOption
	UpOption
} {
	return policyPackOpt(dir)
}

type allowOpt Allow

func (a allowOpt) applyPreview(o *previewOptions) { o.allow = Allow(a) }
func (a allowOpt) applyUp(o *upOptions)           { o.allow = Allow(a) }

// WithAllow lets the given URNs or types be replaced or deleted.
func WithAllow(a Allow) interface {
	PreviewOption
	UpOption
} {
	return allowOpt(a)
}

// Preview plans an update without changing anything: the engine refreshes in
// memory, plans against the live state, and the policy gate and the guard
// judge the plan. Exit 0 no changes, 2 changes, 3 blocked (a mandatory
// policy or a delete/replace not allowed), 1 error.
func Preview(ctx context.Context, s Settings, stack string, program pulumi.RunFunc, opts ...PreviewOption) StackReport {
	var o previewOptions
	for _, opt := range opts {
		opt.applyPreview(&o)
	}
	rep := StackReport{Stack: stack}
	op, err := s.open(ctx, stack, program, o.logger())
	if err != nil {
		return failed(rep, "open", err)
	}
	o.logger().Info("previewing (refresh in memory, then plan)", "stack", stack)
	p, err := op.runPlanPass(ctx, &o.options, o.policyPack, "", true)
	if err != nil {
		return failed(rep, "preview", err)
	}
	p.drift.driftInto(&rep)
	if len(rep.Changes)+len(rep.Unmanaged) > 0 {
		rep.Notes = append(rep.Notes, "the live state differs from the stack's state (see the drift entries); `deployer drift` shows the details")
	}
	rep.Changes = append(rep.Changes, p.changes...)
	rep.Notes = append(rep.Notes, p.overtaken()...)
	rep.Violations = p.gate(op.policy)
	blocked := Guard(p.steps, o.allow)
	for _, b := range blocked {
		rep.Notes = append(rep.Notes, "blocked: "+string(b.Op)+" "+b.URN+"; allow with "+b.Fix)
	}
	impossible := errors.Join(impossibleMoves(p.steps), deferredMajorUpgrade(p.changes, p.steps, p.inputs))
	if impossible != nil {
		rep.Notes = append(rep.Notes, "blocked: "+impossible.Error())
	}
	rep.finish()
	switch {
	case len(policypack.Blocking(rep.Violations)) > 0 || len(blocked) > 0 || impossible != nil:
		rep.Result, rep.ExitCode, rep.Step = "blocked", ExitBlocked, "gate"
	case p.hasChanges() && o.detailedExitCode:
		rep.Result, rep.ExitCode = "changes", ExitChanges
	case p.hasChanges():
		rep.Result, rep.ExitCode = "changes", ExitOK
	default:
		rep.Result, rep.ExitCode = "clean", ExitOK
	}
	return rep
}

func failed(rep StackReport, step string, err error) StackReport {
	rep.Result, rep.ExitCode, rep.Step, rep.Error = "error", ExitError, step, err.Error()
	rep.finish()
	return rep
}
