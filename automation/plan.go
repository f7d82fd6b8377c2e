package automation

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/postgis-platform/deployer/policypack"
)

// planPass is one engine pass: a preview that refreshes in memory first (so
// drift shows on the refresh steps) and plans against the live state, with
// the policy gate over the planned resources. It serves both the drift check
// and the plan, so a no-op up costs about one preview.
type planPass struct {
	drift      *refreshCollector
	steps      []Step
	planned    []policypack.Resource
	engineDeny []policypack.Violation
	changes    []ResourceChange
	// protectedReplace are protected resources the engine refused to plan a
	// replacement of; the guard decides whether to lift their protection.
	protectedReplace []string
	// inputs are the program's inputs per planned resource.
	inputs map[string]map[string]any
	// pendingOnly are the resources whose only change would ask again for
	// modifications the cloud holds pending (dropPending).
	pendingOnly []string
	// credentialUpdates are the postgresql providers whose planned update
	// changes their password alone (a rotated admin credential);
	// providerChanges any other provider step that is not "same".
	credentialUpdates, providerChanges []string
}

// passRefresh is what a plan pass reads the live state with before it plans.
type passRefresh int

const (
	// noRefresh plans against the stored state.
	noRefresh passRefresh = iota
	// refreshFromState refreshes with the providers' config stored in the
	// state (the admin's password of the last update).
	refreshFromState
	// refreshByProgram runs the program to refresh: its providers log in
	// with the admin's current credential (the current master secret).
	refreshByProgram
)

// replaceProtectedMsg starts the engine's diagnostic for a replacement of a
// protected resource (pkg resource/deploy step_generator.go at v3.230).
const replaceProtectedMsg = "unable to replace resource \""

func (p *planPass) consume(ch <-chan events.EngineEvent) {
	for ev := range ch {
		switch {
		case ev.DiagnosticEvent != nil:
			d := ev.DiagnosticEvent
			p.drift.diagnostic(d.Message)
			if i := strings.Index(d.Message, replaceProtectedMsg); i >= 0 && strings.HasPrefix(d.Severity, "error") {
				rest := d.Message[i+len(replaceProtectedMsg):]
				if j := strings.Index(rest, "\""); j > 0 {
					p.protectedReplace = append(p.protectedReplace, rest[:j])
				}
			}
		case ev.ResOutputsEvent != nil && ev.ResOutputsEvent.Metadata.Op == apitype.OpRefresh:
			m := ev.ResOutputsEvent.Metadata
			switch {
			case m.New == nil && m.Old != nil:
				m.Op = apitype.OpDelete
			case len(m.Diffs) > 0 || len(m.DetailedDiff) > 0:
				m.Op = apitype.OpUpdate
			default:
				m.Op = apitype.OpSame
			}
			m2 := m
			p.drift.stepNoPolicy(m2)
		case ev.ResourcePreEvent != nil && ev.ResourcePreEvent.Metadata.Op != apitype.OpRefresh:
			p.providerStep(ev.ResourcePreEvent.Metadata)
			p.step(ev.ResourcePreEvent.Metadata)
		case ev.PolicyEvent != nil:
			e := ev.PolicyEvent
			lvl := policypack.Advisory
			if e.EnforcementLevel == "mandatory" {
				lvl = policypack.Mandatory
			}
			p.engineDeny = append(p.engineDeny, policypack.Violation{Rule: e.PolicyName, Level: lvl, URN: e.ResourceURN, Message: strings.TrimSpace(e.Message) + " (engine policy pack)"})
		}
	}
}

func (p *planPass) step(m apitype.StepEventMetadata) {
	if strings.HasPrefix(m.Type, "pulumi:") {
		return
	}
	protected := m.Old != nil && m.Old.Protect
	p.steps = append(p.steps, Step{Op: m.Op, URN: m.URN, Type: m.Type, Protected: protected, Diffs: append([]string{}, m.Diffs...)})
	// A replacement is three engine steps (create-replacement, replace,
	// delete-replaced): the report lists it once, as replace.
	if m.Op != apitype.OpSame && m.Op != apitype.OpRead && m.Op != apitype.OpCreateReplacement && m.Op != apitype.OpDeleteReplaced {
		name := urnName(m.URN)
		ch := ResourceChange{URN: m.URN, Type: m.Type, Name: name, Kind: string(m.Op)}
		if m.Old != nil {
			ch.ID = m.Old.ID
		}
		for _, path := range diffPaths(m) {
			pc := PropertyChange{Path: path, Kind: diffKind(m, path)}
			if m.Old != nil {
				pc.State = clean(lookup(m.Old.Inputs, path))
			}
			if m.New != nil {
				pc.Live = clean(lookup(m.New.Inputs, path))
			}
			ch.Properties = append(ch.Properties, pc)
		}
		p.changes = append(p.changes, ch)
	}
	if m.New != nil && m.New.Custom {
		if p.inputs == nil {
			p.inputs = map[string]map[string]any{}
		}
		p.inputs[m.URN] = m.New.Inputs
	}
	if m.New != nil && m.New.Custom && m.Op != apitype.OpDelete && m.Op != apitype.OpDeleteReplaced {
		id := m.New.ID
		if id == "" && m.Old != nil {
			id = m.Old.ID
		}
		p.planned = append(p.planned, policypack.Resource{URN: m.URN, Type: m.Type, ID: id, Properties: policypack.FromJSON(m.New.Inputs)})
	}
}

// providerStep records a provider's planned step other than "same".
func (p *planPass) providerStep(m apitype.StepEventMetadata) {
	if !strings.HasPrefix(m.Type, "pulumi:providers:") || m.Op == apitype.OpSame || m.Op == apitype.OpRead {
		return
	}
	if credentialOnly(m) {
		p.credentialUpdates = append(p.credentialUpdates, m.URN)
		return
	}
	p.providerChanges = append(p.providerChanges, string(m.Op)+" "+m.URN)
}

// readsLive reports whether a pass that refreshed by running the program
// read what the plan stands on: no provider is reconfigured beyond its
// password, and nothing is deleted or replaced. A planned replacement (of the
// database instance, say) leaves a provider's config unknown, and the
// program's refresh then cannot read what that provider manages; a resource
// the program no longer declares is planned for deletion without being read.
func (p *planPass) readsLive() bool {
	if len(p.providerChanges)+len(p.protectedReplace) > 0 {
		return false
	}
	for _, s := range p.steps {
		switch s.Op {
		case apitype.OpSame, apitype.OpRead, apitype.OpCreate, apitype.OpUpdate:
		default:
			return false
		}
	}
	return true
}

// standsAlone reports whether a pass that refreshed by running the program
// stands for one that refreshes with the stored providers: it reads live
// (readsLive), and nothing drifted or is pending.
func (p *planPass) standsAlone() bool {
	d := p.drift
	return p.readsLive() && len(p.pendingOnly) == 0 &&
		!d.hasDrift() && len(d.pendingChanges) == 0 && len(d.applied) == 0
}

// errRotatedPlan: the admin's credential was rotated since the last update,
// and the plan needs the refresh with the stored providers, whose password no
// longer logs in; nothing tried it.
var errRotatedPlan = errors.New("the admin's credential was rotated since the last update, and this plan replaces or deletes resources or reconfigures a provider, which is judged on a refresh with the stored providers' old password (not tried: a failed login is what alerting watches for): run a plain `deployer up` on the deployed config first (it stores the current credential and changes nothing else), then run this again")

// livePlan is the preview that refreshes in memory and plans: refreshing by
// running the program first, so the providers log in with the admin's
// current credential, and again with the stored providers when that pass
// cannot stand alone (standsAlone). After a rotation the stored providers
// cannot log in: the program's pass stands when it reads live (drift is
// reported from it), and errRotatedPlan when it does not. It writes nothing.
func (op *opened) livePlan(ctx context.Context, o *options, policyPack string) (*planPass, error) {
	p, err := op.runPlanPass(ctx, o, policyPack, "", refreshByProgram)
	switch {
	case err != nil:
	case p.standsAlone():
		return p, nil
	case len(p.credentialUpdates) > 0 && p.readsLive():
		return p, nil
	case len(p.credentialUpdates) > 0:
		return p, fmt.Errorf("%w (%s)", errRotatedPlan, strings.Join(names(p.credentialUpdates), ", "))
	}
	// When the program's pass could not tell (it failed, or a replacement
	// hides the providers' config), ask the providers alone before the
	// stored ones log in.
	if err != nil || !p.readsLive() {
		if rotated, rerr := op.rotatedProviders(ctx, o); rerr == nil && len(rotated) > 0 {
			return p, fmt.Errorf("%w (%s)", errRotatedPlan, strings.Join(names(rotated), ", "))
		}
	}
	return op.runPlanPass(ctx, o, policyPack, "", refreshFromState)
}

// hasChanges reports whether the plan changes anything.
func (p *planPass) hasChanges() bool {
	for _, s := range p.steps {
		if s.Op != apitype.OpSame && s.Op != apitype.OpRead {
			return true
		}
	}
	return false
}

// runPlanPass runs the preview, refreshing in memory first as refresh says.
// planFile, when set, saves the update plan.
func (op *opened) runPlanPass(ctx context.Context, o *options, policyPack, planFile string, refresh passRefresh) (*planPass, error) {
	p := &planPass{drift: newRefreshCollector()}
	var packDir, packConfig string
	if policyPack != "" {
		dir, cfg, done, err := op.usePolicyPack(ctx, policyPack, o.logger())
		if err != nil {
			return p, err
		}
		defer done()
		packDir, packConfig = dir, cfg
	}
	ch := make(chan events.EngineEvent)
	done := make(chan struct{})
	go func() { defer close(done); p.consume(ch) }()
	popts := []optpreview.Option{optpreview.EventStreams(ch), optpreview.Diff()}
	switch refresh {
	case refreshFromState:
		popts = append(popts, optpreview.Refresh())
	case refreshByProgram:
		popts = append(popts, optpreview.Refresh(), optpreview.RunProgram(true))
	}
	if o.progress != nil {
		popts = append(popts, optpreview.ProgressStreams(o.progress))
	}
	if policyPack != "" {
		popts = append(popts, optpreview.PolicyPacks(packDir), optpreview.PolicyPackConfigs(packConfig))
	}
	if planFile != "" {
		popts = append(popts, optpreview.Plan(planFile))
	}
	if refresh == noRefresh && len(op.exclude) > 0 {
		popts = append(popts, optpreview.Exclude(op.exclude))
	}
	_, err := op.stack.Preview(ctx, popts...)
	waitEvents(done, err)
	if aerr := p.drift.checksError(); aerr != nil {
		return p, fmt.Errorf("preview: %w", aerr)
	}
	p.dropPending()
	if err != nil && len(p.protectedReplace) > 0 {
		return p, nil // the guard handles it
	}
	if err != nil && len(policypack.Blocking(p.engineDeny)) == 0 {
		return p, fmt.Errorf("preview: %w%s", cliError(err), staleLoginHint(err))
	}
	return p, nil
}

// staleLoginHint explains a failed PostgreSQL login during the preview's
// refresh, which reads with the provider config stored in the state.
func staleLoginHint(err error) string {
	if !staleLogin(err) {
		return ""
	}
	return "\nA PostgreSQL login failed while refreshing with the credential stored in the state. If AWS rotated " +
		"the RDS master password since the last update, a plain `deployer up` brings the stored credential up to date " +
		"(changing nothing else); `deployer drift` and `deployer verify` always log in with the current one. If the " +
		"admin's password was changed by hand, set it back, or put it into the master secret."
}

// gate evaluates the policies over the planned resources and merges the
// engine pack's findings.
func (p *planPass) gate(pol policypack.Config) []policypack.Violation {
	return append(policypack.Evaluate(p.planned, pol), p.engineDeny...)
}

// refusalHint explains cloud refusals that only an update meets, naming
// the config key to change.
func refusalHint(err error) string {
	switch msg := err.Error(); {
	case strings.Contains(msg, "SubnetAlreadyInUse"):
		return "\nconfig subnetIds: the new list drops the subnet the database instance runs in (named above), which RDS refuses; keep that subnet in subnetIds (nothing else was changed)"
	case strings.Contains(msg, "InvalidPermission.Duplicate"):
		return "\na rule with the same protocol, ports and peer already exists on the security group (made by hand, or another of the program's rules): " +
			"`deployer drift` lists rules made by hand and `deployer reconcile --delete-unmanaged RULE-ID` removes one; or change etlCidr / tileServerSecurityGroupId so the rules differ"
	}
	return ""
}
