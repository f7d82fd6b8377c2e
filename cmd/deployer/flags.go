package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
)

// stackFlags are the flags every stack command takes.
type stackFlags struct {
	projectDir      string
	backend         string
	secretsProvider string
	stacks          []string
	quiet           bool
	// fleet: --all, --parallel and --shard (drift and preview only).
	fleet    bool
	all      bool
	parallel int
	shard    string
}

func (f *stackFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVarP(&f.stacks, "stack", "s", nil, "stack to work on (repeat for several)")
	cmd.Flags().StringVar(&f.projectDir, "project-dir", "", "folder with Pulumi.yaml and stacks/ (default: found upwards from the working directory)")
	cmd.Flags().StringVar(&f.backend, "backend", "", "state backend: file://<dir>, s3://<bucket> or postgres://<host>/<db> (no password: use PGPASSWORD; default $PULUMI_BACKEND_URL or file://~/.deployer/state)")
	cmd.Flags().StringVar(&f.secretsProvider, "secrets-provider", "", "passphrase (default; PULUMI_CONFIG_PASSPHRASE or _FILE) or a KMS URL such as awskms://alias/deployer")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "no engine progress on stderr")
	if f.fleet {
		cmd.Flags().BoolVar(&f.all, "all", false, "every stack of the project in the backend")
		cmd.Flags().IntVar(&f.parallel, "parallel", 2, "stacks run at once")
		cmd.Flags().StringVar(&f.shard, "shard", "", "i/n: run only this runner's share of the stacks (a stable hash of each name); `deployer report merge` combines the shards' reports")
		cmd.MarkFlagsMutuallyExclusive("all", "stack")
	}
}

// names resolves --stack / --all into the stacks to run, and --shard into
// this runner's share of them (shard is nil without --shard).
func (f *stackFlags) names(cmd *cobra.Command, s automation.Settings) (names []string, shard *automation.Shard, err error) {
	names = f.stacks
	if f.all {
		if names, err = automation.ListStacks(cmd.Context(), s); err != nil {
			return nil, nil, err
		}
		if len(names) == 0 {
			return nil, nil, fmt.Errorf("--all: no stacks of this project in %s", automation.Redact(s.BackendURL))
		}
	}
	if f.shard == "" {
		return names, nil, nil
	}
	sh, err := automation.ParseShard(f.shard)
	if err != nil {
		return nil, nil, err
	}
	return sh.Of(names), &sh, nil
}

// settings checks the output paths and resolves the flags into automation
// settings; nothing runs yet.
func (f *stackFlags) settings(cmd *cobra.Command) (automation.Settings, error) {
	if err := checkOutputs(cmd); err != nil {
		return automation.Settings{}, err
	}
	for _, name := range f.stacks {
		if err := automation.CheckStackName(name); err != nil {
			return automation.Settings{}, fmt.Errorf("--stack: %w", err)
		}
	}
	if len(f.stacks) == 0 && !f.all {
		return automation.Settings{}, fmt.Errorf("--stack is required: name the stack (e.g. --stack prod)%s", map[bool]string{true: ", or use --all", false: ""}[f.fleet])
	}
	if f.fleet && f.parallel < 1 {
		return automation.Settings{}, fmt.Errorf("--parallel %d: run at least 1 stack at a time", f.parallel)
	}
	if f.shard != "" {
		if _, err := automation.ParseShard(f.shard); err != nil {
			return automation.Settings{}, err
		}
	}
	dir := f.projectDir
	if dir == "" {
		var err error
		if dir, err = findProject(); err != nil {
			return automation.Settings{}, err
		}
	}
	backend := f.backend
	if backend == "" {
		backend = os.Getenv("PULUMI_BACKEND_URL")
	}
	if backend == "" {
		backend = automation.DefaultBackendURL()
		if err := os.MkdirAll(backend[len("file://"):], 0o700); err != nil {
			return automation.Settings{}, fmt.Errorf("create the default state folder: %w", err)
		}
	}
	if err := automation.ValidateBackendURL(backend); err != nil {
		return automation.Settings{}, err
	}
	if err := automation.CheckSecretsProvider(f.secretsProvider); err != nil {
		return automation.Settings{}, err
	}
	cli, err := automation.FindCLI(cmd.Context())
	if err != nil {
		return automation.Settings{}, err
	}
	return automation.Settings{ProjectDir: dir, BackendURL: backend, SecretsProvider: f.secretsProvider, CLI: cli, Env: map[string]string{}}, nil
}

// findProject walks up from the working directory to a folder with Pulumi.yaml.
func findProject() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "Pulumi.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no Pulumi.yaml here or above: run in the deployer checkout or pass --project-dir")
		}
		dir = parent
	}
}

// reportFlags are the report outputs of a command.
type reportFlags struct {
	json, markdown string
	// markdownDir gets one Markdown file per stack, <stack>.md, its marker
	// first: the pull-request comment for that stack.
	markdownDir string
	limit       int
}

func (f *reportFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.json, "json", "", "write the report as JSON (schema "+automation.SchemaVersion+", docs/report.schema.json) to this file; - for stdout (the summary then goes to stderr)")
	cmd.Flags().StringVar(&f.markdown, "markdown", "", "write the report as Markdown (e.g. $GITHUB_STEP_SUMMARY) to this file")
	cmd.Flags().StringVar(&f.markdownDir, "markdown-dir", "", "write each stack's report as DIR/<stack>.md, starting with a hidden marker for the project and stack: the pull-request comment a workflow edits in place")
	cmd.Flags().IntVar(&f.limit, "markdown-limit", automation.DefaultMarkdownLimit, "cut the Markdown report to this many characters, with a note")
}

// fullReport says where the whole report is, for the note of a cut
// Markdown report: the JSON file, and on GitHub Actions the run's page.
func (f *reportFlags) fullReport() string {
	var where []string
	if f.json != "" && f.json != "-" {
		where = append(where, "the JSON report ("+filepath.Base(f.json)+")")
	}
	if srv, repo, run := os.Getenv("GITHUB_SERVER_URL"), os.Getenv("GITHUB_REPOSITORY"), os.Getenv("GITHUB_RUN_ID"); srv != "" && repo != "" && run != "" {
		where = append(where, "the workflow run "+srv+"/"+repo+"/actions/runs/"+run)
	}
	if len(where) == 0 {
		return ""
	}
	return strings.Join(where, " in ")
}

// write writes every report it can; the errors of those it could not are
// joined.
func (f *reportFlags) write(r automation.Report, stdout io.Writer) error {
	var errs []error
	if f.json == "-" {
		if err := r.WriteJSON(stdout); err != nil {
			errs = append(errs, fmt.Errorf("--json -: %w", err))
		}
	} else if f.json != "" {
		if err := writeFile(f.json, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, func(w io.Writer) error { return r.WriteJSON(w) }); err != nil {
			errs = append(errs, fmt.Errorf("--json: %w", err))
		}
	}
	if err := f.writeStackMarkdown(r); err != nil {
		errs = append(errs, fmt.Errorf("--markdown-dir: %w", err))
	}
	if f.markdown != "" {
		// A step summary file is appended to.
		if err := writeFile(f.markdown, os.O_CREATE|os.O_WRONLY|os.O_APPEND, func(w io.Writer) error {
			_, err := io.WriteString(w, r.Markdown(f.limit))
			return err
		}); err != nil {
			errs = append(errs, fmt.Errorf("--markdown: %w", err))
		}
	}
	return errors.Join(errs...)
}

func writeFile(path string, flag int, write func(io.Writer) error) error {
	out, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		return err
	}
	if err := write(out); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// writeStackMarkdown writes each stack's comment into --markdown-dir,
// replacing the file of an earlier run.
func (f *reportFlags) writeStackMarkdown(r automation.Report) error {
	if f.markdownDir == "" {
		return nil
	}
	var errs []error
	for _, s := range r.Stacks {
		md, _ := r.StackMarkdown(s.Stack, f.limit)
		path := filepath.Join(f.markdownDir, s.Stack+".md")
		errs = append(errs, writeFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, func(w io.Writer) error {
			_, err := io.WriteString(w, md)
			return err
		}))
	}
	return errors.Join(errs...)
}
