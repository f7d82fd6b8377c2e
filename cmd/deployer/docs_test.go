package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/internal/testkit/testenv"
)

// Every deployer command the docs show must be accepted by the binary's own
// flag parsing: the subcommand exists and every flag is known and well formed.
func TestDocsCommandsParse(t *testing.T) {
	root := testenv.RepoRoot(t)
	files, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	more, _ := filepath.Glob(filepath.Join(root, "docs", "examples", "*"))
	files = append(append(files, more...), filepath.Join(root, "README.md"))
	seen := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		code := !strings.HasSuffix(f, ".md") // workflow files are all code
		for i, line := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "```") && strings.HasSuffix(f, ".md") {
				code = !code
				continue
			}
			for _, cmd := range commandsIn(line, code) {
				if len(cmd) == 0 || cmd[0] == "…" {
					continue // "deployer …": a placeholder
				}
				seen++
				if err := parseOnly(cmd); err != nil {
					t.Errorf("%s:%d: %q: %v", filepath.Base(f), i+1, strings.Join(cmd, " "), err)
				}
			}
		}
	}
	if seen < 20 {
		t.Fatalf("only %d deployer commands found in the docs", seen)
	}
}

var inline = regexp.MustCompile("`((?:bin/)?deployer [^`]+)`")

var codeCmd = regexp.MustCompile(`(?:^|[\s;(|&:])((?:bin/)?deployer [a-z].*)$`)

// commandsIn returns the deployer commands on a line: inline code spans in
// prose, or a command word in a code block or workflow step.
func commandsIn(line string, code bool) [][]string {
	var out [][]string
	if !code {
		for _, m := range inline.FindAllStringSubmatch(line, -1) {
			out = append(out, words(m[1]))
		}
		return out
	}
	l := strings.TrimSpace(line)
	if strings.HasPrefix(l, "#") {
		return nil
	}
	if m := codeCmd.FindStringSubmatch(l); m != nil {
		out = append(out, words(m[1]))
	}
	return out
}

// words splits a shell command (quotes respected, env assignments and
// comments dropped).
func words(s string) []string {
	var out []string
	var cur strings.Builder
	quote := byte(0)
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '#' && cur.Len() == 0:
			flush()
			return trimCmd(out)
		case c == ' ' || c == '\t':
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return trimCmd(out)
}

func trimCmd(w []string) []string {
	for len(w) > 0 && (strings.HasSuffix(w[0], "deployer") == false) {
		w = w[1:]
	}
	if len(w) > 0 {
		w = w[1:]
	}
	for i, x := range w {
		if x == "|" || x == "&&" || x == ";" || x == "\\" {
			return w[:i]
		}
	}
	return w
}

// parseOnly resolves the subcommand and parses its flags without running it.
func parseOnly(args []string) error {
	var out bytes.Buffer
	root := newRootCmd(&app{stdout: &out, stderr: &out})
	cmd, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if cmd == root && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		return fmt.Errorf("unknown command %q", rest[0])
	}
	return cmd.ParseFlags(rest)
}
