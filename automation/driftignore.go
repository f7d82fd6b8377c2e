package automation

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/postgis-platform/deployer/baseline"
	"github.com/postgis-platform/deployer/policypack"
)

// Known drift, on purpose: .driftignore.yaml in the project folder lists
// drift that `deployer drift` reports as ignored instead of drift, each
// entry with a reason and an expiry date. Patterns are driftctl's
// .driftignore patterns (TYPE.NAME[.PROPERTY], `*` matches within a part,
// `\.` is a literal dot); NAME is the resource's name in the program, or a
// rule's ID for a rule made by hand.

// DriftIgnoreFile is the ignore file's name in the project folder.
const DriftIgnoreFile = ".driftignore.yaml"

// maxIgnoreDays bounds an entry's life: known drift is reviewed again.
const maxIgnoreDays = 366

// IgnoreEntry is one entry of the ignore file.
type IgnoreEntry struct {
	Pattern string   `yaml:"pattern" json:"pattern"`
	Stacks  []string `yaml:"stacks,omitempty" json:"stacks,omitempty"`
	Reason  string   `yaml:"reason" json:"reason"`
	Expires string   `yaml:"expires" json:"expires"`

	parts   []string
	expires time.Time
}

// Ignored is drift a stack's audit left out on purpose: the resource (or
// rule), the property when the entry names one, and the entry's reason and
// expiry.
type Ignored struct {
	URN      string `json:"urn"`
	Property string `json:"property,omitempty"`
	Pattern  string `json:"pattern"`
	Reason   string `json:"reason"`
	Expires  string `json:"expires"`
}

// driftIgnore is the parsed file; expired entries are kept apart.
type driftIgnore struct {
	entries []IgnoreEntry
}

// loadDriftIgnore reads the project's ignore file (none: nil). Every
// problem names the entry and its field.
func loadDriftIgnore(projectDir string, now time.Time) (*driftIgnore, error) {
	file := filepath.Join(projectDir, DriftIgnoreFile)
	raw, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, DriftIgnoreFile, err)
	}
	var entries []IgnoreEntry
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true) // a misspelt key (stack: for stacks:) must not widen an entry
	if err := dec.Decode(&entries); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %s is not a list of entries (pattern, reason, expires, stacks): %v", ErrConfig, DriftIgnoreFile, err)
	}
	var errs []error
	for i := range entries {
		if err := entries[i].check(now); err != nil {
			errs = append(errs, fmt.Errorf("entry %d (%q): %w", i+1, entries[i].Pattern, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %s, nothing was run:\n%v", ErrConfig, DriftIgnoreFile, err)
	}
	return &driftIgnore{entries: entries}, nil
}

// check validates an entry and parses its pattern and date.
func (e *IgnoreEntry) check(now time.Time) error {
	var errs []error
	parts, err := splitPattern(e.Pattern)
	if err != nil {
		errs = append(errs, err)
	}
	e.parts = parts
	if strings.TrimSpace(e.Reason) == "" {
		errs = append(errs, errors.New("reason: say why this drift is known and accepted"))
	}
	d, err := time.Parse("2006-01-02", e.Expires)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("expires: %q is not a date (YYYY-MM-DD)", e.Expires))
	case d.After(now.AddDate(0, 0, maxIgnoreDays)):
		errs = append(errs, fmt.Errorf("expires: %s is more than %d days away; known drift is reviewed at least yearly", e.Expires, maxIgnoreDays))
	}
	e.expires = d
	return errors.Join(errs...)
}

// splitPattern reads TYPE.NAME[.PROPERTY]: dots split it, `\.` is a dot.
func splitPattern(p string) ([]string, error) {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '\\' && i+1 < len(p) && p[i+1] == '.':
			cur.WriteByte('.')
			i++
		case p[i] == '.' && len(parts) < 2:
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(p[i])
		}
	}
	parts = append(parts, cur.String())
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" || (len(parts) == 3 && parts[2] == "") {
		return nil, fmt.Errorf("pattern: %q is not TYPE.NAME or TYPE.NAME.PROPERTY (e.g. aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule.postgis-in-etl.description)", p)
	}
	for _, part := range parts {
		if _, err := path.Match(part, ""); err != nil {
			return nil, fmt.Errorf("pattern: %q: %v", part, err)
		}
	}
	return parts, nil
}

// matches reports whether the entry covers a resource of type typ named
// name in stack, and for which property ("" for the whole resource).
func (e IgnoreEntry) matches(stack, typ, name string) (property string, ok bool) {
	if len(e.Stacks) > 0 && !slices.Contains(e.Stacks, stack) {
		return "", false
	}
	t, _ := path.Match(e.parts[0], typ)
	n, _ := path.Match(e.parts[1], name)
	if !t || !n {
		return "", false
	}
	if len(e.parts) == 3 {
		return e.parts[2], true
	}
	return "", true
}

// apply moves the drift the active entries cover from rep's changes and
// unmanaged rules into rep.Ignored, and notes expired entries that match
// (their drift counts again) and ignored drift that still has a mandatory
// finding (never ignored: the violations stay).
func (d *driftIgnore) apply(rep *StackReport, now time.Time) {
	if d == nil {
		return
	}
	var kept []ResourceChange
	for _, c := range rep.Changes {
		if c.Kind != "changed" && c.Kind != "missing" {
			kept = append(kept, c)
			continue
		}
		if c, ok := d.filter(rep, c, now); ok {
			kept = append(kept, c)
		}
	}
	rep.Changes = kept
	var unmanaged []UnmanagedRule
	for _, u := range rep.Unmanaged {
		typ := unmanagedType(u)
		if e := d.entry(rep, typ, u.RuleID, "", now); e != nil {
			rep.Ignored = append(rep.Ignored, Ignored{URN: u.GroupURN + "$unmanaged:" + u.RuleID, Pattern: e.Pattern, Reason: e.Reason, Expires: e.Expires})
			continue
		}
		unmanaged = append(unmanaged, u)
	}
	rep.Unmanaged = unmanaged
	d.mandatoryStays(rep)
}

// filter is c without the properties the entries cover; ok is false when
// nothing of it is left.
func (d *driftIgnore) filter(rep *StackReport, c ResourceChange, now time.Time) (ResourceChange, bool) {
	if e := d.entry(rep, c.Type, c.Name, "", now); e != nil {
		rep.Ignored = append(rep.Ignored, Ignored{URN: c.URN, Pattern: e.Pattern, Reason: e.Reason, Expires: e.Expires})
		return c, false
	}
	if c.Kind == "missing" {
		return c, true
	}
	var props []PropertyChange
	for _, p := range c.Properties {
		if e := d.entry(rep, c.Type, c.Name, p.Path, now); e != nil {
			rep.Ignored = append(rep.Ignored, Ignored{URN: c.URN, Property: p.Path, Pattern: e.Pattern, Reason: e.Reason, Expires: e.Expires})
			continue
		}
		props = append(props, p)
	}
	c.Properties = props
	return c, len(props) > 0
}

// entry is the active entry covering the resource (and property: "" asks
// for an entry that covers the whole resource), or nil; an expired entry
// that would cover it is noted once.
func (d *driftIgnore) entry(rep *StackReport, typ, name, property string, now time.Time) *IgnoreEntry {
	for i := range d.entries {
		e := &d.entries[i]
		prop, ok := e.matches(rep.Stack, typ, name)
		if !ok || (property == "") != (prop == "") {
			continue
		}
		if property != "" {
			if m, _ := path.Match(prop, property); !m && !strings.HasPrefix(property, prop+".") {
				continue
			}
		}
		if !now.Before(e.expires.AddDate(0, 0, 1)) {
			note := fmt.Sprintf("%s entry %q expired on %s (%s): its drift counts again; renew it with a new date, or fix the drift", DriftIgnoreFile, e.Pattern, e.Expires, e.Reason)
			if !slices.Contains(rep.Notes, note) {
				rep.Notes = append(rep.Notes, note)
			}
			continue
		}
		return e
	}
	return nil
}

// mandatoryStays notes ignored drift whose resource still has a mandatory
// finding: the finding is reported, and the audit exits 2, whatever the file
// says (exemptions live in the stack's config, reviewed like code).
func (d *driftIgnore) mandatoryStays(rep *StackReport) {
	for _, ig := range rep.Ignored {
		for _, v := range rep.Violations {
			if v.URN == ig.URN && v.Level == policypack.Mandatory {
				rep.Notes = append(rep.Notes, fmt.Sprintf("%s ignores drift on %s, but its mandatory finding %s stands: mandatory findings are never ignored (exemptions live in the stack's config)",
					DriftIgnoreFile, urnName(ig.URN), v.Rule))
			}
		}
	}
}

// unmanagedType is the type token of a rule made by hand.
func unmanagedType(u UnmanagedRule) string {
	if u.Direction == "egress" {
		return baseline.TypeEgressRule
	}
	return baseline.TypeIngressRule
}
