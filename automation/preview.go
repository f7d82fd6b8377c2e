package automation

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/postgis-platform/deployer/baseline"
	"github.com/postgis-platform/deployer/policypack"
)

type previewOptions struct {
	options
	policyPack       string
	allow            Allow
	detailedExitCode bool
	savePlan         string
}

// SavePlan keeps the plan in path for up's WithPlan: the engine's update
// plan, the verdicts, and what it was made from. A plan over drift, one the
// gate or the guard blocks, and one that replaces a protected resource are
// not saved (exit 3).
func SavePlan(path string) PreviewOption {
	return previewFunc(func(o *previewOptions) { o.savePlan = path })
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
func Preview(ctx context.Context, s Settings, stack string, opts ...PreviewOption) StackReport {
	var o previewOptions
	for _, opt := range opts {
		opt.applyPreview(&o)
	}
	ss := s.session(ctx, stack, &o.options)
	ss.quietChanges = !o.detailedExitCode
	return ss.finish(ss.preview(&o))
}

func (ss *session) preview(o *previewOptions) error {
	if err := ss.open(); err != nil {
		return err
	}
	if err := ss.checkPause(false, false); err != nil {
		return err
	}
	ss.log.Info("previewing (refresh in memory, then plan)", "stack", ss.name)
	p, err := ss.previewPass(o)
	if err != nil {
		return at("preview", err)
	}
	p.drift.driftInto(&ss.rep)
	if len(ss.rep.Changes)+len(ss.rep.Unmanaged) > 0 {
		ss.note("the live state differs from the stack's state (see the drift entries); `deployer drift` shows the details")
	}
	ss.rep.Changes = append(ss.rep.Changes, p.changes...)
	ss.rep.Notes = append(ss.rep.Notes, p.overtaken()...)
	ss.rep.Violations = p.gate(ss.op.policy)
	found := Guard(p.steps, o.allow)
	for _, b := range found {
		ss.note("blocked: %s %s; allow with %s", b.Op, b.URN, b.Fix)
	}
	impossible := errors.Join(impossibleMoves(p.steps), deferredMajorUpgrade(p.changes, p.steps, p.inputs))
	if impossible != nil {
		ss.note("blocked: %v", impossible)
	}
	switch {
	case len(policypack.Blocking(ss.rep.Violations)) > 0 || len(found) > 0 || impossible != nil:
		return blocked("gate", nil) // the notes and violations say why
	case p.hasChanges():
		ss.result = ResultChanges
	default:
		ss.result = ResultClean
	}
	if o.savePlan != "" {
		return ss.savePlan(o, p)
	}
	return nil
}

// previewPass is the live plan (livePlan). A credential rotated since the
// last update is left for the next up to store (a preview writes nothing),
// and the report says so.
func (ss *session) previewPass(o *previewOptions) (*planPass, error) {
	p, err := ss.op.livePlan(ss.ctx, ss.o, o.policyPack)
	if err == nil {
		ss.noteRotated(p)
	}
	return p, err
}

// noteRotated says that the plan found the admin's credential rotated since
// the last update, which the next up stores.
func (ss *session) noteRotated(p *planPass) {
	if len(p.credentialUpdates) > 0 {
		ss.note("the admin's credential was rotated since the last update: the next up stores the current one in the postgresql providers' config (%s), changing nothing else", strings.Join(names(p.credentialUpdates), ", "))
	}
}

// savePlan is preview's pass B: the engine's update plan, made on the state
// as it is (the preview found no drift), sealed with the verdicts and what
// it was made from.
func (ss *session) savePlan(o *previewOptions, p *planPass) error {
	switch {
	case p.drift.hasDrift() || len(p.drift.applied) > 0:
		return blockedf("plan", "no plan saved: the live state differs from the stack's state, and up refuses to apply over drift; bring them together first (`deployer drift` shows it)")
	case len(p.protectedReplace) > 0 || replacesInstance(p.steps):
		return blockedf("plan", "no plan saved: it replaces a protected resource or an RDS instance, which up prepares by lifting protection first; run `deployer up --allow-replace …` instead")
	}
	ss.op.holdPending(p, &ss.rep)
	dir, err := os.MkdirTemp("", "deployer-plan-")
	if err != nil {
		return at("plan", err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "plan.json")
	if _, err := ss.op.runPlanPass(ss.ctx, ss.o, o.policyPack, file, noRefresh); err != nil {
		return at("plan", err)
	}
	engine, err := os.ReadFile(file)
	if err != nil {
		return at("plan", err)
	}
	if unpinned(engine) {
		return blockedf("plan", "no plan saved: the engine cannot pin every resource of this plan (a provider configured from values the update itself creates, as in a first deployment, or a value that looks like an unknown); deploy with `deployer up` instead")
	}
	basis, err := ss.basis()
	if err != nil {
		return at("plan", err)
	}
	project, _ := ss.s.ProjectName()
	saved := SavedPlan{Schema: PlanSchema, Project: project, Stack: ss.name, Deployer: ss.s.DeployerVersion, Created: time.Now().UTC().Truncate(time.Second),
		From: basis, Allow: o.allow, Changes: p.changes, Violations: ss.rep.Violations, Engine: engine}
	if err := ss.writePlan(o.savePlan, saved); err != nil {
		return at("plan", err)
	}
	ss.note("plan saved to %s: `deployer up --stack %s --plan %s` applies exactly it", o.savePlan, ss.name, o.savePlan)
	return nil
}

// replacesInstance reports a plan that replaces an RDS instance.
func replacesInstance(steps []Step) bool {
	for _, s := range steps {
		if replaceOps[s.Op] && s.Type == baseline.TypeDBInstance {
			return true
		}
	}
	return false
}
