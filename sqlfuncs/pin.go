package sqlfuncs

import (
	"fmt"
	"regexp"
	"strings"
)

// PinStatement is the first statement of every utility function body: it
// pins search_path for the rest of the call (the provider's function resource
// has no SET clause, so the pin lives in the body).
const PinStatement = "PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true)"

// ErrNotPinned describes a body that does not pin search_path as required.
type ErrNotPinned struct{ Reason string }

func (e *ErrNotPinned) Error() string { return "search_path not pinned: " + e.Reason }

var (
	wordReturn  = regexp.MustCompile(`(?i)\bRETURN\b`)
	setPathCall = regexp.MustCompile(`(?i)set_config\s*\(\s*'search_path'`)
	declLine    = regexp.MustCompile(`(?is)^([a-z_][a-z0-9_]*)\s+([a-z_][a-z0-9_.\[\] ]*?)(?:\s*(?::=|=|\bDEFAULT\b)\s*(.*))?$`)
	safeInit    = regexp.MustCompile(`(?i)^('([^']|'')*'|-?[0-9]+(\.[0-9]+)?|true|false|null)$`)
	dollarTag   = regexp.MustCompile(`^\$[A-Za-z_]*\$`)
	savePath    = "pg_catalog.current_setting('search_path')"
)

// CheckPinned reports whether a PL/pgSQL body pins search_path the way the
// utility functions define it:
//   - the DECLARE section initialises variables only with literals, or one
//     variable with pg_catalog.current_setting('search_path') (the caller's path);
//   - the first statement after BEGIN is PinStatement;
//   - every RETURN is a statement of its own, directly preceded by
//     PERFORM pg_catalog.set_config('search_path', <that variable>, true);
//   - search_path is set nowhere else.
//
// The checker, the policy pack and the live checks all use this one test.
func CheckPinned(body string) error {
	stmts := splitStatements(body)
	if len(stmts) == 0 {
		return &ErrNotPinned{"empty body"}
	}
	i := 0
	saved := ""
	if first := stmts[0]; hasPrefixFold(first.code, "DECLARE") {
		stmts[0].norm = strings.TrimSpace(first.norm[len("DECLARE"):])
		stmts[0].code = strings.TrimSpace(first.code[len("DECLARE"):])
		for ; i < len(stmts) && !hasPrefixFold(stmts[i].code, "BEGIN"); i++ {
			m := declLine.FindStringSubmatch(stmts[i].norm)
			if m == nil {
				return &ErrNotPinned{fmt.Sprintf("cannot read declaration %q", stmts[i].norm)}
			}
			if typ := strings.TrimSpace(m[2]); !strings.HasPrefix(strings.ToLower(typ), "pg_catalog.") {
				// plpgsql resolves declared types when it compiles the
				// function, under the caller's search_path, before the pin:
				// a pg_temp.text domain would run the caller's code.
				return &ErrNotPinned{fmt.Sprintf("declaration of %s has type %q: qualify it (pg_catalog.%s)", m[1], typ, typ)}
			}
			init := strings.TrimSpace(m[3])
			switch {
			case init == "" || safeInit.MatchString(init):
			case strings.EqualFold(init, savePath) && saved == "":
				saved = m[1]
			default:
				return &ErrNotPinned{fmt.Sprintf("declaration of %s runs %q before search_path is pinned", m[1], init)}
			}
		}
	}
	if i >= len(stmts) || !hasPrefixFold(stmts[i].code, "BEGIN") {
		return &ErrNotPinned{"no BEGIN"}
	}
	firstStmt := strings.TrimSpace(stmts[i].norm[len("BEGIN"):])
	if !strings.EqualFold(firstStmt, PinStatement) {
		return &ErrNotPinned{fmt.Sprintf("first statement is %q, want %q", firstStmt, PinStatement)}
	}
	if saved == "" {
		return &ErrNotPinned{"the caller's search_path is never saved (declare a variable := " + savePath + ")"}
	}
	restore := "PERFORM pg_catalog.set_config('search_path', " + saved + ", true)"
	returns := 0
	for j := i + 1; j < len(stmts); j++ {
		s := stmts[j]
		if wordReturn.MatchString(s.code) {
			returns++
			if !hasPrefixFold(s.code, "RETURN") {
				return &ErrNotPinned{fmt.Sprintf("RETURN inside %q: make it a statement of its own after the restore", s.norm)}
			}
			if !hasSuffixFold(stmts[j-1].norm, restore) {
				return &ErrNotPinned{fmt.Sprintf("%q is not directly preceded by %q", s.norm, restore)}
			}
		}
		if setPathCall.MatchString(s.norm) {
			restores := hasSuffixFold(s.norm, restore) && j+1 < len(stmts) && hasPrefixFold(stmts[j+1].code, "RETURN")
			if !restores {
				return &ErrNotPinned{fmt.Sprintf("search_path changed at %q", s.norm)}
			}
		}
	}
	if returns == 0 {
		return &ErrNotPinned{"no RETURN restores the caller's search_path"}
	}
	return nil
}

func hasPrefixFold(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) &&
		(len(s) == len(p) || !isWordByte(s[len(p)]))
}

func hasSuffixFold(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[len(s)-len(p):], p)
}

func isWordByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// statement is one ';'-terminated piece of a body: norm has comments removed
// and white space folded; code is norm with string literals emptied, for
// keyword searches.
type statement struct{ norm, code string }

// splitStatements splits PL/pgSQL on ';' outside literals, quoted names,
// dollar quotes and comments.
func splitStatements(body string) []statement {
	var out []statement
	var norm, code strings.Builder
	flush := func() {
		n, c := fold(norm.String()), fold(code.String())
		if n != "" {
			out = append(out, statement{n, c})
		}
		norm.Reset()
		code.Reset()
	}
	both := func(s string) { norm.WriteString(s); code.WriteString(s) }
	for i := 0; i < len(body); {
		c := body[i]
		switch {
		case strings.HasPrefix(body[i:], "--"):
			end := strings.IndexByte(body[i:], '\n')
			if end < 0 {
				end = len(body) - i
			}
			both(" ")
			i += end
		case strings.HasPrefix(body[i:], "/*"):
			end := strings.Index(body[i+2:], "*/")
			if end < 0 {
				end = len(body) - i - 2
			}
			both(" ")
			i += end + 4
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(body) {
				if body[j] == c {
					if j+1 < len(body) && body[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			lit := body[i:min(j+1, len(body))]
			norm.WriteString(lit)
			if c == '\'' {
				code.WriteString("''")
			} else {
				code.WriteString(lit)
			}
			i = j + 1
		case c == '$':
			tag := dollarTag.FindString(body[i:])
			if tag == "" {
				both("$")
				i++
				continue
			}
			end := strings.Index(body[i+len(tag):], tag)
			if end < 0 {
				end = len(body) - i - len(tag)
			}
			lit := body[i:min(i+len(tag)+end+len(tag), len(body))]
			norm.WriteString(lit)
			code.WriteString("''")
			i += len(lit)
		case c == ';':
			flush()
			i++
		default:
			both(string(c))
			i++
		}
	}
	flush()
	return out
}

// fold collapses white space and trims, and drops spaces just inside
// parentheses and before commas so formatting does not matter.
func fold(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for _, r := range [][2]string{{"( ", "("}, {" )", ")"}, {" ,", ","}} {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	return s
}
