package automation

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/postgis-platform/deployer/stacks"
)

// Settings says where a stack lives and how to reach it. Every sequence
// takes one.
type Settings struct {
	// ProjectDir holds Pulumi.yaml; stack config lives in its stacks/ folder
	// (stackConfigDir), which only the CLI honours, so config is read through it.
	ProjectDir string
	// BackendURL is the state backend: file://…, s3://… or postgres://… (never
	// with a password in it: the CLI prints it in lock errors).
	BackendURL string
	// SecretsProvider is "passphrase" (default) or a KMS URL.
	SecretsProvider string
	// Env is extra environment for the CLI (PULUMI_CONFIG_PASSPHRASE, PGPASSWORD, …).
	Env map[string]string
	CLI CLI
	// DeployerVersion is the deployer's own version, recorded in saved plans.
	DeployerVersion string
	// Source names the source the deployer (and so the stack program) was
	// built from, a git tree hash; empty, saved plans digest the binary.
	Source string
	// Program makes the stack program each run needs (nil: stacks.Program,
	// or, for a project whose Pulumi.yaml names another runtime than go, the
	// project's own program: see OwnProgram). Tests give their own.
	Program Program
}

// Program makes the stack program for a run: opts name the variant (the
// plain program, or the one that runs the live checks, gives the functions'
// owner a new login, or lifts an instance's deletion protection).
type Program func(opts stacks.Options) pulumi.RunFunc

// OneProgram serves p for every variant: a program that does not tell them
// apart (a test's).
func OneProgram(p pulumi.RunFunc) Program {
	return func(stacks.Options) pulumi.RunFunc { return p }
}

// WithProgram is s running p for every variant (OneProgram).
func (s Settings) WithProgram(p pulumi.RunFunc) Settings {
	s.Program = OneProgram(p)
	return s
}

// program is the program variant opts name; nil runs the project's own
// program (OwnProgram).
func (s Settings) program(opts stacks.Options) pulumi.RunFunc {
	if s.Program != nil {
		return s.Program(opts)
	}
	if own, _ := s.OwnProgram(); own {
		return nil
	}
	return stacks.Program(opts)
}

// OwnProgram reports whether the project runs its own program: its
// Pulumi.yaml names a runtime other than go (yaml, nodejs, python, …), so
// the Pulumi CLI runs it with that language's host, and the deployer's
// steps (refresh, plan check, policy, guard, drift) apply to what it
// declares, as they do to the platform program. The platform program's
// variants do not exist there: the live database checks (verify) and the
// owner's login rotation are refused with an error. runtime is the name.
func (s Settings) OwnProgram() (own bool, runtime string) {
	raw, err := os.ReadFile(filepath.Join(s.ProjectDir, "Pulumi.yaml"))
	if err != nil {
		return false, ""
	}
	var p struct {
		Runtime yaml.Node `yaml:"runtime"`
	}
	if yaml.Unmarshal(raw, &p) != nil {
		return false, ""
	}
	runtime = p.Runtime.Value
	if p.Runtime.Kind == yaml.MappingNode {
		var r struct {
			Name string `yaml:"name"`
		}
		_ = p.Runtime.Decode(&r)
		runtime = r.Name
	}
	return runtime != "" && runtime != "go", runtime
}

// Validate checks the settings before any CLI call.
func (s Settings) Validate() error {
	if s.ProjectDir == "" {
		return fmt.Errorf("project dir is empty: point it at the folder holding Pulumi.yaml")
	}
	if _, err := os.Stat(filepath.Join(s.ProjectDir, "Pulumi.yaml")); err != nil {
		return fmt.Errorf("project dir %s has no Pulumi.yaml: point it at the deployer checkout", s.ProjectDir)
	}
	if s.BackendURL == "" {
		return fmt.Errorf("backend URL is empty: use file://<dir>, s3://<bucket> or postgres://<host>/<db>")
	}
	if s.CLI.Command == nil {
		return fmt.Errorf("no Pulumi CLI: locate one with automation.FindCLI")
	}
	return nil
}

func (s Settings) workspaceOptions(program pulumi.RunFunc) []auto.LocalWorkspaceOption {
	env := map[string]string{
		"PULUMI_BACKEND_URL":       s.BackendURL,
		"PULUMI_SKIP_UPDATE_CHECK": "true",
	}
	for k, v := range s.Env {
		env[k] = v
	}
	opts := []auto.LocalWorkspaceOption{
		auto.WorkDir(s.ProjectDir),
		auto.Pulumi(s.CLI.Command),
		auto.EnvVars(env),
	}
	if program != nil {
		opts = append(opts, auto.Program(program))
	}
	if s.SecretsProvider != "" {
		opts = append(opts, auto.SecretsProvider(s.SecretsProvider))
	}
	return opts
}

// UpsertStack selects the stack, creating it when missing, with program as its
// inline program (the deployer never compiles Go during a deploy).
func (s Settings) UpsertStack(ctx context.Context, name string, program pulumi.RunFunc) (auto.Stack, error) {
	if err := s.Validate(); err != nil {
		return auto.Stack{}, err
	}
	ws, err := auto.NewLocalWorkspace(ctx, s.workspaceOptions(program)...)
	if err != nil {
		return auto.Stack{}, fmt.Errorf("open workspace in %s: %w", s.ProjectDir, err)
	}
	st, err := auto.UpsertStack(ctx, name, ws)
	if err != nil {
		return auto.Stack{}, fmt.Errorf("select stack %q: %w", name, err)
	}
	return st, nil
}

// withEnv is env with k set to v unless env sets k.
func withEnv(env map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for key, val := range env {
		out[key] = val
	}
	return out
}

func envList(maps ...map[string]string) []string {
	merged := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			merged[k] = v
		}
	}
	var out []string
	for k, v := range merged {
		out = append(out, k+"="+v)
	}
	return out
}

// ProjectName is the name Pulumi.yaml gives the project.
func (s Settings) ProjectName() (string, error) {
	raw, err := os.ReadFile(filepath.Join(s.ProjectDir, "Pulumi.yaml"))
	if err != nil {
		return "", fmt.Errorf("read the project's name: %w", err)
	}
	var p struct {
		Name string `yaml:"name"`
	}
	if err := yaml.Unmarshal(raw, &p); err != nil || p.Name == "" {
		return "", fmt.Errorf("read the project's name: %s has no name", filepath.Join(s.ProjectDir, "Pulumi.yaml"))
	}
	return p.Name, nil
}

// stackNamePattern is what a stack name may hold: the Pulumi CLI's rule for
// a stack of a self-managed backend (letters, digits, '-', '_', '.'), never
// a path.
var stackNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// CheckStackName refuses a stack name the CLI would not accept, and one that
// is a path (it names files: backups, pauses, per-stack Markdown).
func CheckStackName(name string) error {
	if !stackNamePattern.MatchString(name) || name == "." || name == ".." || len(name) > 100 {
		return fmt.Errorf("%w: stack name %q: use letters, digits, '-', '_' and '.', at most 100 characters (no '/')", ErrSettings, name)
	}
	return nil
}
