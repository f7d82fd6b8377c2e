package automation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/postgis-platform/deployer/policypack"
)

// AnalyzerName is the plugin the engine runs for a policy pack whose
// PulumiPolicy.yaml says runtime: go.
const AnalyzerName = "pulumi-analyzer-policy-go"

// CheckPolicyPack refuses a --policy-pack that is not a pack's folder.
func CheckPolicyPack(pack string) (string, error) {
	dir, err := filepath.Abs(pack)
	if err != nil {
		return "", fmt.Errorf("%w: --policy-pack %q: %v", ErrSettings, pack, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "PulumiPolicy.yaml")); err != nil {
		return "", fmt.Errorf("%w: --policy-pack %q has no PulumiPolicy.yaml: give the pack's folder (policypack/pack in a checkout)", ErrSettings, pack)
	}
	return dir, nil
}

// usePolicyPack readies a pack for the engine: its analyzer found (PATH, the
// checkout's .tools/policy, or a build of the checkout's policypack/analyzer
// into the user cache) and put on the CLI's PATH, and the stack's policy
// config written to a private file. done removes the file.
func (op *opened) usePolicyPack(ctx context.Context, pack string, log *slog.Logger) (dir, configFile string, done func(), err error) {
	if dir, err = CheckPolicyPack(pack); err != nil {
		return "", "", nil, err
	}
	analyzer, err := findAnalyzer(ctx, dir, log)
	if err != nil {
		return "", "", nil, err
	}
	ws := op.stack.Workspace()
	path, ok := ws.GetEnvVars()["PATH"]
	if !ok {
		path = os.Getenv("PATH")
	}
	if !strings.HasPrefix(path, analyzer+string(os.PathListSeparator)) {
		ws.SetEnvVar("PATH", analyzer+string(os.PathListSeparator)+path)
	}
	if configFile, err = writePolicyConfig(op.policy); err != nil {
		return "", "", nil, err
	}
	return dir, configFile, func() { _ = os.Remove(configFile) }, nil
}

func findAnalyzer(ctx context.Context, packDir string, log *slog.Logger) (string, error) {
	if p, err := exec.LookPath(AnalyzerName); err == nil {
		return filepath.Dir(p), nil
	}
	root := checkoutRoot(packDir)
	if root != "" {
		if tools := filepath.Join(root, ".tools", "policy"); isExecutable(filepath.Join(tools, AnalyzerName)) {
			return tools, nil
		}
	}
	if exe, err := os.Executable(); err == nil {
		if tools := filepath.Join(filepath.Dir(filepath.Dir(exe)), ".tools", "policy"); isExecutable(filepath.Join(tools, AnalyzerName)) {
			return tools, nil
		}
	}
	if root == "" {
		return "", fmt.Errorf("%w: the policy pack needs its analyzer %s: put it on PATH (`make standins` builds it into .tools/policy), or run deployer from a checkout of the deployer repository, where it builds it", ErrSettings, AnalyzerName)
	}
	return buildAnalyzer(ctx, root, log)
}

// checkoutRoot is the deployer checkout a pack folder sits in, or "".
func checkoutRoot(packDir string) string {
	root := filepath.Dir(filepath.Dir(packDir))
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !strings.HasPrefix(string(mod), "module github.com/postgis-platform/deployer\n") {
		return ""
	}
	if _, err := os.Stat(filepath.Join(root, "policypack", "analyzer", "main.go")); err != nil {
		return ""
	}
	return root
}

// buildAnalyzer builds the checkout's analyzer into the user cache, keyed by
// its sources, so a fresh checkout works as the docs show.
func buildAnalyzer(ctx context.Context, root string, log *slog.Logger) (string, error) {
	key, err := analyzerKey(root)
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "deployer", "policy-analyzer", key)
	if isExecutable(filepath.Join(dir, AnalyzerName)) {
		return dir, nil
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("%w: the policy pack needs its analyzer %s and Go is not on PATH to build it: run `make standins` and put .tools/policy on PATH", ErrSettings, AnalyzerName)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	log.Info("building the policy pack's analyzer (once per version)", "into", dir)
	// A name of its own: a fleet's stacks, or two runs on one runner, may
	// build at once; the rename below is atomic, and every build the same.
	tmpDir, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", fmt.Errorf("build the policy analyzer in %s: %w", dir, err)
	}
	defer func() { _ = os.RemoveAll(tmpDir) }()
	tmp := filepath.Join(tmpDir, AnalyzerName)
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", tmp, "./policypack/analyzer")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the policy analyzer in %s: %v\n%s", root, err, out)
	}
	if err := os.Rename(tmp, filepath.Join(dir, AnalyzerName)); err != nil {
		return "", fmt.Errorf("install the policy analyzer: %w", err)
	}
	return dir, nil
}

// analyzerKey hashes what the analyzer is built from: go.mod, go.sum and the
// policypack sources.
func analyzerKey(root string) (string, error) {
	h := sha256.New()
	files, _ := filepath.Glob(filepath.Join(root, "policypack", "*.go"))
	more, _ := filepath.Glob(filepath.Join(root, "policypack", "analyzer", "*.go"))
	for _, f := range append(append([]string{filepath.Join(root, "go.mod"), filepath.Join(root, "go.sum")}, files...), more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", f, err)
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// writePolicyConfig writes the engine's policy config to a private file.
func writePolicyConfig(pol policypack.Config) (string, error) {
	raw, err := json.Marshal(policypack.EngineConfig(pol))
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp("", "deployer-policy-config-*.json")
	if err != nil {
		return "", fmt.Errorf("write the policy config: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(raw); err != nil {
		return "", fmt.Errorf("write the policy config: %w", err)
	}
	return f.Name(), nil
}
