package automation

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/postgis-platform/deployer/policypack"
)

// The reviewed plan is the applied plan: preview --save-plan keeps the
// engine's update plan with the gate's and the guard's verdicts and what the
// plan was made from; up --plan applies exactly that plan or refuses,
// naming what moved since.

// PlanSchema identifies the saved plan's format.
const PlanSchema = "deployer.plan/v1"

// ErrPlanStale is returned (wrapped) when up --plan refuses a plan because
// something it was made from moved, or the file was edited.
var ErrPlanStale = errors.New("the saved plan no longer applies")

// SavedPlan is what preview --save-plan writes. Secrets stay as the engine
// wrote them: ciphertext of the stack's secrets provider.
type SavedPlan struct {
	Schema   string    `json:"schema"`
	Project  string    `json:"project"`
	Stack    string    `json:"stack"`
	Deployer string    `json:"deployerVersion"`
	Created  time.Time `json:"createdAt"`
	// From is what the plan was made from.
	From PlanBasis `json:"from"`
	// Allow is the allow-list the guard judged the plan with.
	Allow Allow `json:"allow"`
	// Changes and Violations are the verdicts the reviewer saw.
	Changes    []ResourceChange       `json:"changes"`
	Violations []policypack.Violation `json:"violations"`
	// Engine is the engine's update plan (pulumi preview --save-plan).
	Engine json.RawMessage `json:"enginePlan"`
	// Digest covers every field above (HMAC-SHA256 keyed by the stack's
	// passphrase when there is one, else SHA-256), so an edit is refused.
	Digest string `json:"digest"`
}

// PlanBasis is what a plan was made from: digests of the stack's state, its
// config and the deployer, which holds the program (the git tree it was
// built from, as make build stamps it, so the pull request's build and the
// merge's match when their trees do; else the binary itself).
type PlanBasis struct {
	State   string `json:"state"`
	Config  string `json:"config"`
	Program string `json:"program"`
}

// sum is the hex SHA-256 of the parts, each length-prefixed.
func sum(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// basis digests the stack's current state, config and program.
func (ss *session) basis() (PlanBasis, error) {
	raw, _, err := exportState(ss.ctx, ss.op.stack)
	if err != nil {
		return PlanBasis{}, fmt.Errorf("export the state to digest it: %w", err)
	}
	stackFile, err := os.ReadFile(filepath.Join(ss.s.ProjectDir, "stacks", "Pulumi."+ss.name+".yaml"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return PlanBasis{}, err
	}
	project, err := os.ReadFile(filepath.Join(ss.s.ProjectDir, "Pulumi.yaml"))
	if err != nil {
		return PlanBasis{}, err
	}
	program, err := ss.s.programBasis()
	if err != nil {
		return PlanBasis{}, err
	}
	return PlanBasis{State: sum(raw), Config: sum(project, stackFile, envReferenced(stackFile)), Program: program}, nil
}

// envDeployer finds the $DEPLOYER_… variables a stack file reads its values
// from (stacks: only those, and none that holds a secret).
var envDeployer = regexp.MustCompile(`\$\{?(DEPLOYER_[A-Z0-9_]+)\}?`)

// envReferenced is NAME=value of each variable the stack file reads, so a
// plan knows when one changed.
func envReferenced(stackFile []byte) []byte {
	var out []string
	for _, m := range envDeployer.FindAllSubmatch(stackFile, -1) {
		out = append(out, string(m[1])+"="+os.Getenv(string(m[1])))
	}
	sort.Strings(out)
	return []byte(strings.Join(out, "\n"))
}

// programBasis names the program: the source tree the deployer was built
// from, or without one the binary itself.
func (s Settings) programBasis() (string, error) {
	if s.Source != "" {
		return "source:" + s.Source, nil
	}
	d, err := programDigest()
	return "binary:" + d, err
}

// programDigest digests the running binary, which holds the stack program.
func programDigest() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the deployer's binary to digest the program: %w", err)
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", fmt.Errorf("digest the program: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("digest the program: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// digest is the plan's integrity digest over everything but Digest.
func (p SavedPlan) digest(key string) (string, error) {
	p.Digest = ""
	raw, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	if key == "" {
		return "sha256:" + sum(raw), nil
	}
	m := hmac.New(sha256.New, []byte("deployer.plan/v1\x00"+key))
	m.Write(raw)
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil)), nil
}

// planKey is the stack's passphrase, which keys the plan's digest (none for
// a KMS secrets provider: then the digest is a plain SHA-256). A passphrase
// file that cannot be read is an error, never a weaker seal.
func (s Settings) planKey() (string, error) {
	if p := s.getenv(PassphraseEnv); p != "" {
		return p, nil
	}
	if f := s.getenv(PassphraseFileEnv); f != "" {
		b, err := os.ReadFile(f)
		if err != nil || strings.TrimSpace(string(b)) == "" {
			return "", fmt.Errorf("%w: %s=%s cannot be read, and it keys the plan's seal: %v", ErrSettings, PassphraseFileEnv, f, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}

// writePlan seals the plan and writes it to path (0600: it holds the
// engine's plan).
func (ss *session) writePlan(path string, p SavedPlan) error {
	key, err := ss.s.planKey()
	if err != nil {
		return err
	}
	d, err := p.digest(key)
	if err != nil {
		return err
	}
	p.Digest = d
	raw, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(raw, '\n'), 0o600); err != nil {
		return fmt.Errorf("--save-plan: %w", err)
	}
	return nil
}

// ReadPlan reads a saved plan and checks it was not edited; key is the
// stack's passphrase ("" for a KMS secrets provider).
func ReadPlan(path, key string) (SavedPlan, error) {
	var p SavedPlan
	raw, err := os.ReadFile(path)
	if err != nil {
		return p, fmt.Errorf("--plan: %w", err)
	}
	if err := json.Unmarshal(raw, &p); err != nil || p.Schema != PlanSchema {
		return p, fmt.Errorf("--plan %s is not a plan deployer preview --save-plan wrote (%s)", path, PlanSchema)
	}
	want, err := p.digest(key)
	if err != nil {
		return p, err
	}
	if !hmac.Equal([]byte(want), []byte(p.Digest)) {
		return p, fmt.Errorf("%w: %s was edited after preview --save-plan wrote it (or the stack's passphrase differs): make the plan again", ErrPlanStale, path)
	}
	return p, nil
}

// moved names what changed since the plan was made, or "".
func (b PlanBasis) moved(now PlanBasis) string {
	var what []string
	if b.State != now.State {
		what = append(what, "the stack's state (another update or refresh ran since)")
	}
	if b.Config != now.Config {
		what = append(what, "the stack's config (Pulumi.yaml or its stack file)")
	}
	if b.Program != now.Program {
		what = append(what, "the deployer and its program (another build)")
	}
	return strings.Join(what, "; ")
}

// readPlan reads the saved plan for up (step "plan"): an edited file is
// refused as stale (exit 3), another stack's plan as an error.
func (ss *session) readPlan(path string) (*SavedPlan, error) {
	key, err := ss.s.planKey()
	if err != nil {
		return nil, at("plan", err)
	}
	p, err := ReadPlan(path, key)
	switch {
	case errors.Is(err, ErrPlanStale):
		return nil, blocked("plan", err)
	case err != nil:
		return nil, at("plan", err)
	case p.Stack != ss.name:
		return nil, at("plan", fmt.Errorf("--plan %s is the plan of stack %q, not of %q", path, p.Stack, ss.name))
	}
	return &p, nil
}

// upWithPlan applies the saved plan: what it was made from must be what
// runs now, the live state must not have drifted, and the gate and the
// guard judge again; then the update is held to the engine's saved plan.
func (ss *session) upWithPlan(o *upOptions, saved SavedPlan) error {
	basis, err := ss.basis()
	if err != nil {
		return at("plan", err)
	}
	if moved := saved.From.moved(basis); moved != "" {
		return blockedf("plan", "%w: since the plan was made (%s), %s changed; make it again with `deployer preview --stack %s --save-plan FILE`",
			ErrPlanStale, saved.Created.Format(time.RFC3339), moved, ss.name)
	}
	o.allow = saved.Allow
	p, err := ss.judgeLive(o)
	if err != nil {
		return err
	}
	if len(p.protectedReplace) > 0 {
		return blockedf("plan", "%w: the plan now replaces protected resources (%s)", ErrPlanStale, strings.Join(p.protectedReplace, ", "))
	}
	if err := ss.gate(o, p); err != nil {
		return err
	}
	if !ss.updateNeeded(p) {
		ss.result = ResultClean
		return ss.verify(o.verify)
	}
	dir, err := os.MkdirTemp("", "deployer-plan-")
	if err != nil {
		return at("plan", err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(file, saved.Engine, 0o600); err != nil {
		return at("plan", err)
	}
	step, err := ss.op.apply(ss.ctx, ss.s, o, p, file, &ss.rep)
	if err != nil {
		return at(step, err)
	}
	ss.note("applied the plan saved at %s, as reviewed", saved.Created.Format(time.RFC3339))
	ss.result = ResultDone
	return ss.verify(o.verify)
}
