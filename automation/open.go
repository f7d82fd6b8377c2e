package automation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/policypack"
	"github.com/postgis-platform/deployer/stacks"
)

// options are shared by the sequences; each sequence accepts only the
// options that implement its interface.
type options struct {
	progress io.Writer
	log      *slog.Logger
}

func (o *options) logger() *slog.Logger {
	if o.log == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o.log
}

// Option configures any sequence.
type Option interface {
	DriftOption
	PreviewOption
	UpOption
	RefreshOption
	VerifyOption
	ReconcileOption
	RotateOption
}

type progressOpt struct{ w io.Writer }

func (p progressOpt) applyDrift(o *driftOptions) { o.progress = p.w }

// WithProgress streams the engine's own progress output (secrets masked) to w.
func WithProgress(w io.Writer) Option { return progressOpt{w} }

type loggerOpt struct{ l *slog.Logger }

func (l loggerOpt) applyDrift(o *driftOptions) { o.log = l.l }

// WithLogger sends the deployer's step log to l.
func WithLogger(l *slog.Logger) Option { return loggerOpt{l} }

// opened is a selected stack with its typed config.
type opened struct {
	stack  auto.Stack
	config stacks.Config
	policy policypack.Config
	// exclude are resources the update leaves alone (holdPending).
	exclude []string
}

// ErrConfig is returned (wrapped) when the stack's config is invalid.
var ErrConfig = errors.New("invalid stack config")

// open validates the settings, selects the existing stack, reads and checks
// its config through the CLI, and wires the offline stand-ins for an offline
// stack. Nothing is changed anywhere.
func (s Settings) open(ctx context.Context, name string, program pulumi.RunFunc, log *slog.Logger) (*opened, error) {
	return s.openStack(ctx, name, program, log, false)
}

// openRunnable opens a stack to change it (create: make it when it does
// not exist, as up does) and refuses one that is locked or has pending
// operations (checkRunnable), adding their notes to rep; on an error, step
// names the one that failed ("open" or "lock").
func (s Settings) openRunnable(ctx context.Context, name string, program pulumi.RunFunc, log *slog.Logger, create bool, rep *StackReport) (op *opened, step string, err error) {
	if op, err = s.openStack(ctx, name, program, log, create); err != nil {
		return nil, "open", err
	}
	notes, err := checkRunnable(ctx, s, name, op.stack)
	rep.Notes = append(rep.Notes, notes...)
	if err != nil {
		return nil, "lock", err
	}
	return op, "", nil
}

// openStack is open; create makes the stack when it does not exist (up).
func (s Settings) openStack(ctx context.Context, name string, program pulumi.RunFunc, log *slog.Logger, create bool) (*opened, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSettings, err)
	}
	if err := ValidateBackendURL(s.BackendURL); err != nil {
		return nil, err
	}
	if err := checkSecretsProvider(s.SecretsProvider, s.getenv); err != nil {
		return nil, err
	}
	// The config is checked first, from the stack's file: before the
	// workspace, before any CLI call, and before `up` creates a new stack.
	values, inFile, err := s.stackFileConfig(name)
	if err != nil {
		return nil, err
	}
	var cfg stacks.Config
	if inFile {
		if cfg, err = checkConfig(name, s.ownConfig(values)); err != nil {
			return nil, err
		}
	}
	if stackInFileBackend(s.BackendURL, name) {
		s.CLI.Command = knownStack{s.CLI.Command}
	}
	ws, err := auto.NewLocalWorkspace(ctx, s.workspaceOptions(program)...)
	if err != nil {
		return nil, fmt.Errorf("open workspace in %s: %w", s.ProjectDir, err)
	}
	st, err := auto.SelectStack(ctx, name, ws)
	if err != nil && create && inFile && auto.IsSelectStack404Error(err) {
		log.Info("creating the stack from its config file", "stack", name, "file", "stacks/Pulumi."+name+".yaml")
		st, err = auto.NewStack(ctx, name, ws)
	}
	if err != nil {
		if auto.IsSelectStack404Error(err) {
			return nil, s.unknownStack(name, inFile, create)
		}
		return nil, fmt.Errorf("select stack %q: %w", name, cliError(err))
	}
	if !inFile || stacks.NeedsDecryption(values) {
		// No file, or secrets whose ciphertext does not tell their length
		// (another secrets provider): the CLI decrypts, once.
		if values, err = cliConfig(ctx, st, name, values); err != nil {
			return nil, err
		}
		if cfg, err = checkConfig(name, s.ownConfig(values)); err != nil {
			return nil, err
		}
	}
	pol := cfg.Policy()
	if err := pol.Validate(); err != nil { // checked by stacks.Check already; kept as a guard
		return nil, configError(name, []error{&stacks.ConfigError{Key: "policyLevels", Stack: name, Problem: "is refused: " + err.Error(),
			Fix: fmt.Sprintf("`pulumi config set policyLevels rds-iam-auth=mandatory --stack %s` (or edit %s:policyLevels in stacks/Pulumi.%s.yaml)", name, stacks.Project, name)}})
	}
	if cfg.Offline {
		dir, err := StandinDir()
		if err != nil {
			return nil, err
		}
		env := map[string]string{"PATH": dir + string(os.PathListSeparator) + os.Getenv("PATH"), StandinEnableEnv: "1"}
		for k, v := range s.Env {
			if k != "PATH" {
				env[k] = v
			}
		}
		if err := ws.SetEnvVars(env); err != nil {
			return nil, err
		}
		log.Warn("offline stack: using the project's stand-in providers (a local JSON cloud and the local PostgreSQL); nothing here touches AWS", "stack", name, "standins", dir)
	}
	return &opened{stack: st, config: cfg, policy: pol}, nil
}

// waitEvents waits for the event reader to drain the engine's events. When
// the command failed before streaming any, the SDK may never close the
// channel: then it waits only briefly.
func waitEvents(done <-chan struct{}, err error) {
	if err == nil {
		<-done
		return
	}
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
}

// getenv reads a variable from the settings' environment, else the process's.
func (s Settings) getenv(k string) string {
	if v, ok := s.Env[k]; ok {
		return v
	}
	return os.Getenv(k)
}

// ownConfig is values without the keys a project's own program gives its
// providers (postgresql:…, the default postgresql provider of the roles
// component), which the platform program never reads and its config check
// refuses (OwnProgram).
func (s Settings) ownConfig(values map[string]stacks.Value) map[string]stacks.Value {
	if own, _ := s.OwnProgram(); !own {
		return values
	}
	out := map[string]stacks.Value{}
	for k, v := range values {
		if !strings.HasPrefix(k, "postgresql:") {
			out[k] = v
		}
	}
	return out
}

// checkConfig checks a stack's whole config (see stacks.Check); every
// problem is in the one error, each naming its key and its fix.
func checkConfig(stack string, values map[string]stacks.Value) (stacks.Config, error) {
	cfg, errs := stacks.Check(stack, values)
	if len(errs) > 0 {
		return cfg, configError(stack, errs)
	}
	return cfg, nil
}

func configError(stack string, errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	n := fmt.Sprintf("%d problems", len(errs))
	if len(errs) == 1 {
		n = "1 problem"
	}
	return fmt.Errorf("%w in stacks/Pulumi.%s.yaml, %s (nothing was run):\n  %s", ErrConfig, stack, n, strings.Join(msgs, "\n  "))
}

// stackFileConfig reads the stack's config from stacks/Pulumi.<stack>.yaml
// (the stackConfigDir the CLI honours) without a CLI call; inFile is false
// when there is no such file. Secrets are not decrypted: stacks.ReadStackFile
// reads whether each is empty from its ciphertext's length.
func (s Settings) stackFileConfig(name string) (values map[string]stacks.Value, inFile bool, err error) {
	path := filepath.Join(s.ProjectDir, "stacks", "Pulumi."+name+".yaml")
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%w: read stacks/Pulumi.%s.yaml: %v", ErrConfig, name, errors.Unwrap(err))
	}
	values, err = stacks.ReadStackFile(raw)
	if err != nil {
		return nil, false, fmt.Errorf("%w: stacks/Pulumi.%s.yaml: %v", ErrConfig, name, err)
	}
	return values, true, nil
}

// cliConfig reads the stack's config through the CLI (one call, which
// decrypts): all of it when there is no file (values nil), else only the
// lengths of secrets the file cannot tell. No plaintext secret is kept.
func cliConfig(ctx context.Context, st auto.Stack, name string, values map[string]stacks.Value) (map[string]stacks.Value, error) {
	all, err := st.GetAllConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("read config of stack %q: %w", name, cliError(err))
	}
	if values != nil {
		stacks.SecretLengths(values, func(key string) (string, bool) {
			v, ok := all[key]
			return v.Value, ok && v.Secret
		})
		return values, nil
	}
	values = map[string]stacks.Value{}
	for k, v := range all {
		if v.Secret {
			values[k] = stacks.Value{Secret: true, SecretLen: len(v.Value)}
			continue
		}
		values[k] = stacks.Value{Value: v.Value}
	}
	return values, nil
}

// cliError keeps the CLI's own explanation (its stderr) and drops the rest,
// which repeats stdout.
func cliError(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "stderr:"); i >= 0 {
		if s := strings.TrimSpace(msg[i+len("stderr:"):]); s != "" {
			return errors.New(lockAdvice.Replace(s))
		}
	}
	if s := lockAdvice.Replace(msg); s != msg {
		return errors.New(s)
	}
	return err
}

// lockAdvice rewrites the CLI's lock message (upstream: pkg/backend/diy/lock.go
// checkForLock), whose `pulumi cancel` is a Pulumi Cloud command, to the
// command that clears a stale lock on a self-managed backend.
var lockAdvice = strings.NewReplacer(
	"delete the lock file with `pulumi cancel`", "clear a stale lock with `deployer unlock --stack NAME` (it checks that the run is gone)",
)

// isLockError reports whether the CLI refused to run because another run
// holds the stack lock: nothing was applied.
func isLockError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "the stack is currently locked")
}

// unknownStack explains a stack the backend does not have: up creates a
// stack only from its config file (a typo must not create one), and the
// other commands never create; the known stacks are listed.
func (s Settings) unknownStack(name string, inFile, create bool) error {
	known := strings.Join(s.knownStacks(), ", ")
	if known == "" {
		known = "none"
	}
	switch {
	case create && !inFile:
		return fmt.Errorf("stack %q does not exist and has no stacks/Pulumi.%s.yaml: up creates a stack only from its config file (known stacks: %s)", name, name, known)
	case inFile:
		return fmt.Errorf("stack %q does not exist in backend %s: deploy it first with `deployer up --stack %s`", name, Redact(s.BackendURL), name)
	}
	return fmt.Errorf("stack %q does not exist (known stacks: %s)", name, known)
}

// knownStacks are the stacks with a config file in stacks/.
func (s Settings) knownStacks() []string {
	files, _ := filepath.Glob(filepath.Join(s.ProjectDir, "stacks", "Pulumi.*.yaml"))
	var out []string
	for _, f := range files {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml"))
	}
	sort.Strings(out)
	return out
}
