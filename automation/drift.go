package automation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"

	"github.com/postgis-platform/deployer/baseline"
	"github.com/postgis-platform/deployer/components/securitygroup"
	"github.com/postgis-platform/deployer/policypack"
	"github.com/postgis-platform/deployer/sqlfuncs"
	"github.com/postgis-platform/deployer/stacks"
)

type driftOptions struct{ options }

// DriftOption configures Drift.
type DriftOption interface{ applyDrift(*driftOptions) }

// Drift audits a stack without changing anything: a preview-only refresh
// (never a state write) that runs the program, so the program reports the
// live rules of its security groups (securitygroup.ReportLiveRules) and configures
// its providers from current values (an RDS master password that AWS has
// rotated since the last update, for one) rather than from the state. It
// returns changed and missing resources with their property diffs, rules
// created outside the program, and the policies evaluated over the refreshed
// live state. Exit code: 0 clean, 2 drift, 1 error.
func Drift(ctx context.Context, s Settings, stack string, opts ...DriftOption) StackReport {
	var o driftOptions
	for _, opt := range opts {
		opt.applyDrift(&o)
	}
	ss := s.session(ctx, stack, &o.options)
	return ss.finish(ss.drift())
}

func (ss *session) drift() error {
	if err := ss.open(); err != nil {
		return err
	}
	if err := ss.checkPause(false, false); err != nil {
		return err
	}
	ignore, err := loadDriftIgnore(ss.s.ProjectDir, time.Now())
	if err != nil {
		return at("open", err)
	}
	c, err := ss.scan()
	if err != nil {
		return err
	}
	if err := c.checksError(); err != nil {
		return at("refresh", err)
	}
	rep := &ss.rep
	c.into(rep, ss.op.policy)
	ignore.apply(rep, time.Now())
	if missing := c.groupsWithoutLiveRules(); len(missing) > 0 {
		ss.note("the live rules of security group(s) %s were not reported (the program does not call securitygroup.ReportLiveRules for them); unmanaged rules were not checked there",
			strings.Join(missing, ", "))
	}
	if c.audit == nil && c.sawPostgres {
		ss.note("the program did not report the databases open to PUBLIC (stacks.ReportDatabaseAudit; the server's address is not known yet?): databases the stack does not name were not checked")
	}
	if due := c.loginDue(); due != "" {
		ss.note("the next deployer up gives the utility functions' owner a new loopback login: %s", due)
	}
	if len(rep.Pending) > 0 {
		ss.note("%d resource(s) with modifications RDS holds for the maintenance window (see pending): not drift; up does not ask for them again", len(rep.Pending))
	}
	rep.finish()
	ss.result = ResultClean
	if rep.Summary.Changed+rep.Summary.Missing+rep.Summary.Unmanaged+rep.Summary.BlockingViolations > 0 {
		ss.result = ResultDrift
	}
	ss.log.Info("drift audit done", "stack", ss.name, "result", ss.result, "changed", rep.Summary.Changed,
		"missing", rep.Summary.Missing, "unmanaged", rep.Summary.Unmanaged, "blocking", rep.Summary.BlockingViolations)
	return nil
}

// scan is the preview-only refresh that runs the program (step "refresh"),
// read into a collector; it changes nothing, the report included.
func (ss *session) scan() (*refreshCollector, error) {
	ss.log.Info("refreshing (preview only: the state is not written)", "stack", ss.name)
	c := newRefreshCollector()
	ch := make(chan events.EngineEvent)
	done := make(chan struct{})
	go func() { defer close(done); c.consume(ch) }()
	ropts := []optrefresh.Option{optrefresh.EventStreams(ch), optrefresh.RunProgram(true)}
	if ss.o.progress != nil {
		ropts = append(ropts, optrefresh.ProgressStreams(ss.o.progress))
	}
	_, err := ss.op.stack.PreviewRefresh(ss.ctx, ropts...)
	waitEvents(done, err)
	if err != nil {
		return nil, at("refresh", fmt.Errorf("preview-only refresh of %q: %w", ss.name, cliError(err)))
	}
	return c, nil
}

// refreshCollector reads a refresh's engine events.
type refreshCollector struct {
	changes    []ResourceChange
	live       []policypack.Resource
	groupURN   map[string]string                 // group ID -> URN
	stateRules map[string]map[string]bool        // group ID -> rule IDs in the state
	liveRules  map[string][]string               // group ID -> rule IDs the cloud holds
	ruleInfo   map[string]securitygroup.LiveRule // rule ID -> what the cloud holds
	audit      *stacks.DatabaseAudit             // the program's database audit, when it ran
	liveErrors []string                          // why the program could not list a group's live rules
	// sawPostgres is set when the stack has PostgreSQL resources (whose
	// program should audit the databases).
	sawPostgres bool
	// pending are modifications the cloud keeps for later (splitPending),
	// reported apart from drift.
	pending        pendingSet
	pendingChanges []ResourceChange
	// applied are instances whose pending modifications the cloud applied
	// since the state was written (windowApplied).
	applied []string
}

func newRefreshCollector() *refreshCollector {
	return &refreshCollector{groupURN: map[string]string{}, stateRules: map[string]map[string]bool{}, liveRules: map[string][]string{},
		ruleInfo: map[string]securitygroup.LiveRule{}, pending: pendingSet{}}
}

// checksError is the failure of the program's own checks (its database
// audit, its live-rules look-up), when they ran and failed: what they did
// not read cannot pass as clean.
func (c *refreshCollector) checksError() error {
	var errs []error
	if c.audit != nil && c.audit.Error != "" {
		errs = append(errs, fmt.Errorf("the program's database audit failed (nothing was checked beyond the refresh, so this is not a clean result): %s", c.audit.Error))
	}
	for _, e := range c.liveErrors {
		errs = append(errs, fmt.Errorf("the program could not read a security group's live rules (rules made by hand were not checked, so this is not a clean result): %s", e))
	}
	return errors.Join(errs...)
}

// groupsWithoutLiveRules lists the refreshed groups no live-rules line named.
func (c *refreshCollector) groupsWithoutLiveRules() []string {
	var out []string
	for gid := range c.groupURN {
		if _, ok := c.liveRules[gid]; !ok {
			out = append(out, gid)
		}
	}
	sort.Strings(out)
	return out
}

func (c *refreshCollector) consume(ch <-chan events.EngineEvent) {
	for ev := range ch {
		if d := ev.DiagnosticEvent; d != nil {
			c.diagnostic(d.Message)
		}
		if e := ev.ResOutputsEvent; e != nil {
			c.step(e.Metadata, true)
		}
	}
}

// diagnostic picks up the program's live-rules and database-audit lines.
func (c *refreshCollector) diagnostic(msg string) {
	if i := strings.Index(msg, stacks.DatabaseAuditPrefix); i >= 0 {
		var od stacks.DatabaseAudit
		if json.Unmarshal([]byte(strings.TrimSpace(msg[i+len(stacks.DatabaseAuditPrefix):])), &od) == nil {
			c.audit = &od
		}
		return
	}
	if lr, ok := securitygroup.ParseLiveRules(msg); ok {
		if lr.Error != "" {
			c.liveErrors = append(c.liveErrors, lr.Error)
			return
		}
		c.liveRules[lr.GroupID] = lr.RuleIDs
		for _, r := range lr.Rules {
			c.ruleInfo[r.ID] = r
		}
	}
}

// stepNoPolicy records drift without keeping live state for the policies
// (a plan pass evaluates the planned resources instead).
func (c *refreshCollector) stepNoPolicy(m apitype.StepEventMetadata) { c.step(m, false) }

func (c *refreshCollector) step(m apitype.StepEventMetadata, keepLive bool) {
	if strings.HasPrefix(m.Type, "pulumi:") {
		return // stacks and providers
	}
	c.sawPostgres = c.sawPostgres || strings.HasPrefix(m.Type, "postgresql:")
	state, live := m.Old, m.New
	if state == nil {
		state = live
	}
	if state == nil || !state.Custom {
		// A component holds no live state: newer CLIs report every component
		// as updated in a refresh that runs the program, with no diffs.
		return
	}
	switch m.Type {
	case baseline.TypeSecurityGroup:
		c.groupURN[state.ID] = m.URN
	case baseline.TypeIngressRule, baseline.TypeEgressRule:
		gid, _ := state.Outputs["securityGroupId"].(string)
		if c.stateRules[gid] == nil {
			c.stateRules[gid] = map[string]bool{}
		}
		c.stateRules[gid][state.ID] = true
	}
	if m.Op != apitype.OpDelete && windowApplied(m.Type, state, live) {
		c.applied = append(c.applied, m.URN)
	}
	name := urnName(m.URN)
	switch m.Op {
	case apitype.OpDelete:
		c.changes = append(c.changes, ResourceChange{URN: m.URN, Type: m.Type, Name: name, ID: state.ID, Kind: "missing"})
		return
	case apitype.OpUpdate:
		pending, drift := splitPending(m.Type, state, live, diffPaths(m))
		prop := func(path, kind string) PropertyChange {
			return PropertyChange{Path: path, Kind: kind, State: clean(lookup(state.Inputs, path)), Live: clean(lookup(live.Inputs, path))}
		}
		if len(pending) > 0 {
			ch := ResourceChange{URN: m.URN, Type: m.Type, Name: name, ID: state.ID, Kind: "pending"}
			c.pending[m.URN] = map[string]any{}
			for _, path := range pending {
				ch.Properties = append(ch.Properties, prop(path, "pending"))
				c.pending[m.URN][path] = lookup(state.Inputs, path)
			}
			c.pendingChanges = append(c.pendingChanges, ch)
		}
		if len(drift) > 0 {
			ch := ResourceChange{URN: m.URN, Type: m.Type, Name: name, ID: state.ID, Kind: "changed"}
			for _, path := range drift {
				ch.Properties = append(ch.Properties, prop(path, diffKind(m, path)))
			}
			c.changes = append(c.changes, ch)
		}
	}
	if keepLive && live != nil && live.Custom {
		props := map[string]any{}
		for k, v := range live.Inputs {
			props[k] = v
		}
		for k, v := range live.Outputs {
			props[k] = v
		}
		if m.Type == baseline.TypeSecurityGroup {
			// The provider lists every live rule in the group's ingress and
			// egress outputs, standalone ones included; only rules declared
			// inline (inputs) are inline rules.
			for _, k := range []string{"ingress", "egress"} {
				if v, ok := live.Inputs[k]; ok {
					props[k] = v
				} else {
					delete(props, k)
				}
			}
		}
		c.live = append(c.live, policypack.Resource{URN: m.URN, Type: m.Type, ID: live.ID, Properties: policypack.FromJSON(props)})
	}
}

func (c *refreshCollector) into(rep *StackReport, pol policypack.Config) {
	c.driftInto(rep)
	rep.Violations = append(pendingFixes(c.live, c.pending, policypack.Evaluate(c.live, pol), pol), judgeUnmanaged(rep.Unmanaged, pol)...)
	rep.Violations = append(rep.Violations, policypack.Evaluate(c.openDatabases(), pol)...)
}

// openDatabases turns the program's database audit into database resources
// for the policies: one per database open to PUBLIC, per setting made by
// hand, and per utility problem no update repairs.
func (c *refreshCollector) openDatabases() []policypack.Resource {
	if c.audit == nil {
		return nil
	}
	var out []policypack.Resource
	for _, d := range c.audit.Databases {
		privs := make([]any, len(d.Privileges))
		for i, p := range d.Privileges {
			privs[i] = p
		}
		out = append(out, policypack.Resource{URN: "database::" + d.Name, Type: baseline.TypePGDatabase, ID: d.Name,
			Properties: policypack.FromJSON(map[string]any{"name": d.Name, "owner": d.Owner, "publicPrivileges": privs})})
	}
	for _, l := range c.audit.Logins {
		out = append(out, policypack.Resource{URN: "login::" + l, Type: baseline.TypePGDatabase, ID: l,
			Properties: policypack.FromJSON(map[string]any{"name": l, "loginProblem": l})})
	}
	for _, p := range c.audit.AdminProblems {
		out = append(out, policypack.Resource{URN: "admin::" + c.audit.Admin + "::" + p, Type: baseline.TypePGDatabase, ID: c.audit.Admin,
			Properties: policypack.FromJSON(map[string]any{"name": c.audit.Admin, "adminProblem": p})})
	}
	for _, set := range c.audit.Settings {
		out = append(out, policypack.Resource{URN: "settings::" + set, Type: baseline.TypePGDatabase, ID: set,
			Properties: policypack.FromJSON(map[string]any{"name": set, "handSetting": set})})
	}
	for _, f := range c.audit.Utility {
		out = append(out, policypack.Resource{URN: "utility::" + f.Check, Type: baseline.TypePGFunction, ID: f.Check,
			Properties: policypack.FromJSON(map[string]any{"name": f.Check, "auditProblem": f.Found + " (fix: " + f.Fix + ")"})})
	}
	return out
}

// driftInto adds the changed, missing and unmanaged resources.
func (c *refreshCollector) driftInto(rep *StackReport) {
	rep.Changes = append(rep.Changes, c.changes...)
	rep.Pending = append(rep.Pending, c.pendingChanges...)
	if m := c.mappingChange(); m != nil {
		rep.Changes = append(rep.Changes, *m)
	}
	for gid, urn := range c.groupURN {
		for _, rid := range c.liveRules[gid] {
			if !c.stateRules[gid][rid] {
				info, ok := c.ruleInfo[rid]
				if !ok {
					info = securitygroup.LiveRule{ID: rid}
				}
				u := unmanagedRule(gid, urn, info)
				if !ok {
					u.Direction = ""
				}
				rep.Unmanaged = append(rep.Unmanaged, u)
			}
		}
	}
}

// mappingChange is the loopback user mapping when the program's audit found
// it missing or not holding the owner's current login: no provider resource
// reads it, and create_database fails until an update writes it.
func (c *refreshCollector) mappingChange() *ResourceChange {
	if c.audit == nil || c.audit.Mapping == nil || c.audit.Mapping.State == sqlfuncs.MappingCurrent {
		return nil
	}
	m := c.audit.Mapping
	kind := "missing"
	if m.State == sqlfuncs.MappingDiffers {
		kind = "changed"
	}
	return &ResourceChange{URN: "utility::user-mapping::" + m.User + "@" + m.Server, Type: "user mapping (written by the program)",
		Name: "user mapping for " + m.User + " on " + m.Server, Kind: kind,
		Properties: []PropertyChange{{Path: "options", Kind: string(m.State), State: "[secret]", Live: mappingLive(m)}}}
}

// loginDue says why the owner's loopback login is due for a new one (its
// age), or "": not drift, but a reason for up to run its update.
func (c *refreshCollector) loginDue() string {
	if c.audit == nil || c.audit.Mapping == nil {
		return ""
	}
	return c.audit.Mapping.Due
}

// mappingLive says what the audit found, never a password.
func mappingLive(m *stacks.MappingAudit) string {
	if m.Detail == "" {
		return string(m.State)
	}
	return string(m.State) + ": " + m.Detail
}

// hasDrift reports changed, missing or unmanaged resources.
func (c *refreshCollector) hasDrift() bool {
	var r StackReport
	c.driftInto(&r)
	return len(r.Changes)+len(r.Unmanaged) > 0 // pending is not drift
}

func diffPaths(m apitype.StepEventMetadata) []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, d := range m.Diffs {
		add(d)
	}
	for p := range m.DetailedDiff {
		add(p)
	}
	sort.Strings(out)
	return out
}

func diffKind(m apitype.StepEventMetadata, path string) string {
	if d, ok := m.DetailedDiff[path]; ok {
		// A refresh's diff is inverted: it reads from the live side.
		return strings.ToLower(string(d.Kind))
	}
	return "update"
}

// lookup reads a top-level or dotted property path.
func lookup(m map[string]any, path string) any {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if i := strings.Index(part, "["); i >= 0 {
			part = part[:i]
		}
		cur = obj[part]
	}
	return cur
}

// clean replaces secret values by "[secret]" anywhere inside v.
func clean(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if t[sig.Key] == sig.Secret {
			return "[secret]"
		}
		out := map[string]any{}
		for k, e := range t {
			out[k] = clean(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = clean(e)
		}
		return out
	}
	return v
}
