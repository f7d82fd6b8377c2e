package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/postgis-platform/deployer/internal/testkit/testenv"
)

// The example workflow's contract (make lint runs actionlint on it too).
const exampleWorkflow = "docs/examples/github-actions.yml"

func readWorkflow(t *testing.T) *yaml.Node {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), exampleWorkflow))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", exampleWorkflow, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		t.Fatalf("%s: not a YAML mapping", exampleWorkflow)
	}
	return doc.Content[0]
}

// yamlGet returns the value of key in mapping m, or nil.
func yamlGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

var (
	pinnedUses = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@]+)?@[0-9a-f]{40}$`)
	versionTag = regexp.MustCompile(`^#\s*v\d+\.\d+\.\d+$`)
)

// Every action is pinned to a full commit SHA, with the release it is in a
// comment beside it; the token's permissions are set at the top, read-only.
func TestWorkflowPinsActionsAndSetsPermissions(t *testing.T) {
	root := readWorkflow(t)
	perms := yamlGet(root, "permissions")
	if perms == nil {
		t.Fatalf("%s: no top-level permissions block", exampleWorkflow)
	}
	if perms.Kind != yaml.MappingNode {
		t.Fatalf("%s: top-level permissions is %q, want a mapping (contents: read)", exampleWorkflow, perms.Value)
	}
	for i := 0; i+1 < len(perms.Content); i += 2 {
		if k, v := perms.Content[i].Value, perms.Content[i+1].Value; v != "read" && v != "none" {
			t.Errorf("%s: top-level permission %s: %s; grant write per job, where needed", exampleWorkflow, k, v)
		}
	}
	if v := yamlGet(perms, "contents"); v == nil || v.Value != "read" {
		t.Errorf("%s: top-level permissions lack contents: read", exampleWorkflow)
	}

	seen := 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Value == "uses" && v.Kind == yaml.ScalarNode {
					seen++
					if strings.HasPrefix(v.Value, "./") {
						continue // an action of this repository
					}
					if !pinnedUses.MatchString(v.Value) {
						t.Errorf("%s:%d: uses: %s is not pinned to a 40-hex commit SHA", exampleWorkflow, v.Line, v.Value)
					}
					if !versionTag.MatchString(strings.TrimSpace(v.LineComment)) {
						t.Errorf("%s:%d: uses: %s has no `# vX.Y.Z` comment (got %q)", exampleWorkflow, v.Line, v.Value, v.LineComment)
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(root)
	if seen < 4 {
		t.Fatalf("%s: only %d uses: found", exampleWorkflow, seen)
	}
}

var secretRef = regexp.MustCompile(`secrets\.([A-Za-z0-9_]+)`)

// Secrets live in environments: a job without one (the offline checks) gets
// none, a production environment is only for main or the schedule, and no
// job reads a database password from a secret (the master password rotates:
// it comes from the RDS-managed secret at run time).
func TestWorkflowKeepsProductionSecretsOutOfPullRequests(t *testing.T) {
	root := readWorkflow(t)
	jobs := yamlGet(root, "jobs")
	if jobs == nil || jobs.Kind != yaml.MappingNode || len(jobs.Content) == 0 {
		t.Fatalf("%s: no jobs", exampleWorkflow)
	}
	for i := 0; i+1 < len(jobs.Content); i += 2 {
		name, job := jobs.Content[i].Value, jobs.Content[i+1]
		var text strings.Builder
		if err := yaml.NewEncoder(&text).Encode(job); err != nil {
			t.Fatal(err)
		}
		env := ""
		if e := yamlGet(job, "environment"); e != nil {
			env = e.Value
			if e.Kind == yaml.MappingNode {
				env = yamlGet(e, "name").Value
			}
		}
		cond := ""
		if c := yamlGet(job, "if"); c != nil {
			cond = c.Value
		}
		for _, m := range secretRef.FindAllStringSubmatch(text.String(), -1) {
			if env == "" {
				t.Errorf("job %s: uses secrets.%s without an environment", name, m[1])
			}
			if strings.Contains(strings.ToUpper(m[1]), "PASSWORD") {
				t.Errorf("job %s: a password from secrets.%s: read the RDS-managed secret at run time instead", name, m[1])
			}
		}
		prodEnv := strings.Contains(env, "prod") || strings.Contains(env, "matrix.")
		if prodEnv && !strings.Contains(cond, "github.ref == 'refs/heads/main'") && cond != "github.event_name == 'schedule'" {
			t.Errorf("job %s: environment %q may run on a pull request (if: %q)", name, env, cond)
		}
		if strings.Contains(cond, "pull_request") && strings.Contains(cond, "==") && strings.Contains(text.String(), "--stack prod") {
			t.Errorf("job %s: a pull-request job works on the prod stack", name)
		}
	}
}
