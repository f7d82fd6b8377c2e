package automation

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// DefaultMarkdownLimit keeps a report under GitHub's 65,536-character limit
// for a comment (a step summary takes 1 MiB).
const DefaultMarkdownLimit = 60000

// Markdown renders the report for a CI step summary, cut to limit characters
// with a note saying so and where the full report is (FullReport). Each
// stack's section starts with its hidden marker (Marker).
func (r Report) Markdown(limit int) string { return r.markdown(r.Stacks, limit) }

// StackMarkdown renders one stack's part of the report, its marker first: a
// pull-request comment a workflow finds by the marker and edits in place.
// ok is false when the report has no such stack.
// A comment is cut to DefaultMarkdownLimit at most, below GitHub's 65,536
// characters, whatever limit says.
func (r Report) StackMarkdown(stack string, limit int) (md string, ok bool) {
	if limit <= 0 || limit > DefaultMarkdownLimit {
		limit = DefaultMarkdownLimit
	}
	for _, s := range r.Stacks {
		if s.Stack == stack {
			marker := Marker(r.Project, stack)
			return marker + "\n" + r.markdown([]StackReport{s}, max(limit-len(marker)-1, 200)), true
		}
	}
	return "", false
}

// Marker is the hidden line that names a stack's comment: stable across
// runs and commands, one per project and stack.
func Marker(project, stack string) string {
	if project == "" {
		return "<!-- deployer:stack=" + stack + " -->"
	}
	return "<!-- deployer:stack=" + project + "/" + stack + " -->"
}

var icon = map[Result]string{"clean": "✅", "done": "✅", "drift": "⚠️", "changes": "📝", "blocked": "⛔", "error": "❌", "cancelled": "🛑"}

func (r Report) markdown(stacks []StackReport, limit int) string {
	if limit <= 0 {
		limit = DefaultMarkdownLimit
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## deployer %s — exit %d\n\n", r.Command, r.ExitCode)
	b.WriteString("| stack | result | create | update | replace | delete | drifted | missing | unmanaged | violations (blocking) |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range stacks {
		k := countKinds(s.Changes)
		fmt.Fprintf(&b, "| `%s` | %s %s | %d | %d | %d | %d | %d | %d | %d | %d (%d) |\n", s.Stack, icon[s.Result], s.Result,
			k["create"], k["update"], k["replace"], k["delete"], k["changed"], s.Summary.Missing, s.Summary.Unmanaged,
			s.Summary.Violations, s.Summary.BlockingViolations)
	}
	for _, s := range stacks {
		fmt.Fprintf(&b, "\n%s\n### `%s`: %s\n", Marker(r.Project, s.Stack), s.Stack, s.Result)
		if s.Error != "" {
			fmt.Fprintf(&b, "\n**Error%s:** %s\n", stepSuffix(s.Step), mdEscape(s.Error))
		}
		if len(s.Violations) > 0 {
			b.WriteString("\n**Policy findings**\n\n| level | rule | resource | finding |\n|---|---|---|---|\n")
			for _, v := range s.Violations {
				lvl := string(v.Level)
				if v.Downgraded != "" {
					lvl += " (" + v.Downgraded + ")"
				}
				fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s |\n", lvl, v.Rule, urnName(v.URN), mdEscape(v.Message))
			}
		}
		if len(s.Changes) > 0 {
			b.WriteString("\n**Resources**\n\n| resource | kind | properties |\n|---|---|---|\n")
			for _, c := range s.Changes {
				var props []string
				for _, p := range c.Properties {
					props = append(props, mdProperty(p))
				}
				fmt.Fprintf(&b, "| `%s` (%s) | %s | %s |\n", c.Name, c.Type, c.Kind, strings.Join(props, "<br>"))
			}
		}
		mdPending(&b, s.Pending)
		mdIgnored(&b, s.Ignored)
		if len(s.Unmanaged) > 0 {
			b.WriteString("\n**Rules not in the state** (created outside the program)\n\n")
			for _, u := range s.Unmanaged {
				fmt.Fprintf(&b, "- %s\n", mdEscape(u.String()))
			}
		}
		if len(s.Checks) > 0 {
			b.WriteString("\n**Live database checks**\n\n")
			for _, c := range s.Checks {
				if c.OK {
					fmt.Fprintf(&b, "- ✅ %s\n", mdEscape(c.Name))
				} else {
					fmt.Fprintf(&b, "- ❌ %s: found %s; fix: %s\n", mdEscape(c.Name), mdEscape(c.Found), mdEscape(c.Fix))
				}
			}
		}
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "\n> %s\n", mdEscape(n))
		}
	}
	return r.cut(b.String(), limit)
}

// cut shortens out to limit characters with a note saying where the whole
// report is; never inside a character or a marker.
func (r Report) cut(out string, limit int) string {
	if len(out) <= limit {
		return out
	}
	where := "the JSON report (`--json`)"
	if r.FullReport != "" {
		where = r.FullReport
	}
	note := fmt.Sprintf("\n\n_… cut at %d characters; %s has everything._\n", limit, where)
	cut := max(limit-len(note), 0)
	for cut > 0 && !utf8Start(out[cut]) {
		cut--
	}
	if open := strings.LastIndex(out[:cut], "<!--"); open > strings.LastIndex(out[:cut], "-->") {
		cut = open // never inside a marker: the note would be hidden in it
	}
	return out[:cut] + note
}

// mdPending renders the modifications the cloud holds for later.
func mdPending(b *strings.Builder, pending []ResourceChange) {
	if len(pending) == 0 {
		return
	}
	b.WriteString("\n**Pending** (accepted by the cloud, applied in the next maintenance window; not drift, not asked again)\n\n| resource | properties (asked → running) |\n|---|---|\n")
	for _, c := range pending {
		var props []string
		for _, p := range c.Properties {
			props = append(props, fmt.Sprintf("`%s`: %s → %s", p.Path, mdValue(p.State), mdValue(p.Live)))
		}
		fmt.Fprintf(b, "| `%s` (%s) | %s |\n", c.Name, c.Type, strings.Join(props, "<br>"))
	}
}

// countKinds counts a stack's changes by kind (create, update, replace,
// delete for a plan; changed, missing for drift).
func countKinds(changes []ResourceChange) map[string]int {
	n := map[string]int{}
	for _, c := range changes {
		n[c.Kind]++
	}
	return n
}

// mdProperty renders one property change. A map (tags, parameters) shows the
// keys that changed, each with its old and new value, instead of both whole
// maps cut short.
func mdProperty(p PropertyChange) string {
	old, oldMap := p.State.(map[string]any)
	cur, curMap := p.Live.(map[string]any)
	if !oldMap && !curMap || (p.State != nil && !oldMap) || (p.Live != nil && !curMap) {
		return fmt.Sprintf("`%s`: %s → %s", p.Path, mdValue(p.State), mdValue(p.Live))
	}
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range cur {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		ov, oin := old[k]
		nv, nin := cur[k]
		if oin && nin && fmt.Sprint(ov) == fmt.Sprint(nv) {
			continue
		}
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("`%s.%s`: %s → %s", p.Path, mdEscape(k), mdValue(old[k]), mdValue(cur[k])))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("`%s`: (same keys and values)", p.Path)
	}
	return strings.Join(parts, "<br>")
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func stepSuffix(step string) string {
	if step == "" {
		return ""
	}
	return " at step " + step
}

// mdEscape keeps a value from breaking the table or opening HTML (a `<!--`
// in a rule's description would hide the rest of a comment).
func mdEscape(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

func mdValue(v any) string {
	if v == nil {
		return "∅"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	s := string(b)
	if len(s) > 80 {
		s = s[:77] + "…"
	}
	return "`" + mdEscape(s) + "`"
}

// mdIgnored renders the drift the ignore file left out on purpose.
func mdIgnored(b *strings.Builder, ignored []Ignored) {
	if len(ignored) == 0 {
		return
	}
	b.WriteString("\n**Known drift, ignored on purpose** (" + DriftIgnoreFile + ")\n\n| resource | property | reason | until |\n|---|---|---|---|\n")
	for _, ig := range ignored {
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", urnName(ig.URN), mdEscape(ig.Property), mdEscape(ig.Reason), ig.Expires)
	}
}
