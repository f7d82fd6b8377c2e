package automation

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrMerge is returned (wrapped) when reports cannot be merged into one.
var ErrMerge = errors.New("reports do not merge")

// ReportPart is one report to merge and where it came from (a file name),
// which the errors name.
type ReportPart struct {
	Source string
	Report Report
}

// MergeReports combines the reports of one command run in shards (or on
// separate runners) into one, whose exit code is the worst. It refuses
// reports of different commands or schema versions, a stack in two reports,
// and for sharded reports a shard given twice or missing, a stack outside its
// shard, and a stack of the fleet that no report holds.
func MergeReports(parts []ReportPart, deployerVersion string) (Report, error) {
	if len(parts) == 0 {
		return Report{}, fmt.Errorf("%w: no report given", ErrMerge)
	}
	first := parts[0].Report
	seen := map[string]string{} // stack -> source
	var stacks []StackReport
	for _, p := range parts {
		r := p.Report
		if r.SchemaVersion != SchemaVersion {
			return Report{}, fmt.Errorf("%w: %s has schema %q, not %q", ErrMerge, p.Source, r.SchemaVersion, SchemaVersion)
		}
		if err := consistentReport(r); err != nil {
			return Report{}, fmt.Errorf("%w: %s: %v", ErrMerge, p.Source, err)
		}
		if r.Command != first.Command || r.Project != first.Project {
			return Report{}, fmt.Errorf("%w: %s is a %s report of project %q, %s a %s report of project %q", ErrMerge,
				p.Source, r.Command, r.Project, parts[0].Source, first.Command, first.Project)
		}
		for _, s := range r.Stacks {
			if err := consistent(s); err != nil {
				return Report{}, fmt.Errorf("%w: %s: %v", ErrMerge, p.Source, err)
			}
			if other, ok := seen[s.Stack]; ok {
				return Report{}, fmt.Errorf("%w: stack %q is in %s and in %s (overlapping shards?)", ErrMerge, s.Stack, other, p.Source)
			}
			seen[s.Stack] = p.Source
			stacks = append(stacks, s)
		}
	}
	if err := checkShards(parts, seen); err != nil {
		return Report{}, err
	}
	slices.SortFunc(stacks, func(a, b StackReport) int { return strings.Compare(a.Stack, b.Stack) })
	out := NewReport(first.Command, deployerVersion, first.CLI, stacks)
	out.Project = first.Project
	out.GeneratedAt = time.Now().UTC().Truncate(time.Second)
	return out, nil
}

// checkShards checks that sharded reports cover their fleet exactly once:
// all sharded or none, one count and one fleet, each shard once, each stack
// in its own shard.
func checkShards(parts []ReportPart, seen map[string]string) error {
	first := parts[0].Report.Shard
	byIndex := map[int]string{}
	for _, p := range parts {
		sh := p.Report.Shard
		switch {
		case (sh == nil) != (first == nil):
			return fmt.Errorf("%w: %s and %s: some reports are shards (--shard) and some are not", ErrMerge, parts[0].Source, p.Source)
		case sh == nil:
			continue
		case sh.Count != first.Count || !slices.Equal(sh.Fleet, first.Fleet):
			return fmt.Errorf("%w: %s (shard %s of %d stacks) and %s (shard %s of %d stacks) shared out different fleets", ErrMerge,
				p.Source, sh, len(sh.Fleet), parts[0].Source, first, len(first.Fleet))
		}
		if other, ok := byIndex[sh.Index]; ok {
			return fmt.Errorf("%w: shard %s is both %s and %s", ErrMerge, sh, other, p.Source)
		}
		byIndex[sh.Index] = p.Source
		for _, s := range p.Report.Stacks {
			if want := ShardOf(s.Stack, sh.Count); want != sh.Index {
				return fmt.Errorf("%w: %s (shard %s) holds stack %q, which belongs to shard %d/%d", ErrMerge, p.Source, sh, s.Stack, want, sh.Count)
			}
		}
	}
	if first == nil {
		return nil
	}
	var missing []string
	for i := 1; i <= first.Count; i++ {
		if _, ok := byIndex[i]; !ok {
			missing = append(missing, fmt.Sprintf("shard %d/%d", i, first.Count))
		}
	}
	for _, name := range first.Fleet {
		if _, ok := seen[name]; !ok && len(missing) == 0 {
			missing = append(missing, fmt.Sprintf("stack %q", name))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: no report holds %s", ErrMerge, strings.Join(missing, ", "))
	}
	return nil
}

// consistent refuses a stack whose exit code is not its result's (a report
// edited by hand to pass): the merge's exit code comes from them.
func consistent(s StackReport) error {
	if err := CheckStackName(s.Stack); err != nil {
		return err
	}
	ok := s.ExitCode == s.Result.ExitCode()
	switch s.Result {
	case ResultChanges:
		ok = s.ExitCode == ExitOK || s.ExitCode == ExitChanges // preview without --detailed-exitcode
	case ResultCancelled:
		ok = s.ExitCode >= ExitCancelled
	case ResultClean, ResultDrift, ResultBlocked, ResultDone, ResultError:
	default:
		return fmt.Errorf("stack %q has result %q, which no deployer command writes", s.Stack, s.Result)
	}
	if !ok {
		return fmt.Errorf("stack %q has result %s with exit code %d, which do not go together (an edited report?)", s.Stack, s.Result, s.ExitCode)
	}
	return nil
}

// consistentReport refuses a report whose own exit code is not the worst of
// its stacks', and a shard that is not one (index outside 1..count, an
// empty fleet, a stack outside the fleet).
func consistentReport(r Report) error {
	codes := make([]int, len(r.Stacks))
	for i, s := range r.Stacks {
		codes[i] = s.ExitCode
	}
	if w := Worst(codes...); r.ExitCode != w && !(len(r.Stacks) == 0 && r.ExitCode == ExitOK) {
		return fmt.Errorf("its exit code %d is not the worst of its stacks' (%d): the run failed after the stacks, or the report was edited", r.ExitCode, w)
	}
	sh := r.Shard
	if sh == nil {
		return nil
	}
	if sh.Count < 1 || sh.Index < 1 || sh.Index > sh.Count || len(sh.Fleet) == 0 {
		return fmt.Errorf("shard %d/%d of a fleet of %d stacks is not a shard --shard writes", sh.Index, sh.Count, len(sh.Fleet))
	}
	for _, s := range r.Stacks {
		if !slices.Contains(sh.Fleet, s.Stack) {
			return fmt.Errorf("stack %q is not in the fleet the shard names", s.Stack)
		}
	}
	return nil
}
