package automation

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/postgis-platform/deployer/stacks"
	"github.com/postgis-platform/deployer/statestore"
)

// knownStack wraps the CLI for a stack the deployer has already found in a
// file backend: it answers `stack select` without starting the CLI (about a
// quarter of a second here), since every later command names the stack with
// --stack. Every other command runs the CLI as usual.
type knownStack struct{ auto.PulumiCommand }

func (k knownStack) Run(ctx context.Context, workdir string, stdin io.Reader, out, errOut []io.Writer,
	env []string, args ...string) (string, string, int, error) {
	if len(args) == 4 && args[0] == "stack" && args[1] == "select" && args[2] == "--stack" {
		return "", "", 0, nil
	}
	return k.PulumiCommand.Run(ctx, workdir, stdin, out, errOut, env, args...)
}

// stackInFileBackend reports whether a file backend holds the stack's state.
func stackInFileBackend(backendURL, stack string) bool {
	_, ok := fileStatePath(backendURL, stack)
	return ok
}

// fileStatePath is the stack's state file in a file backend (plain, or
// gzipped when PULUMI_DIY_BACKEND_GZIP wrote it); ok is false for any other
// backend or when there is no such file.
func fileStatePath(backendURL, stack string) (string, bool) {
	root, ok := fileBackendRoot(backendURL)
	if !ok {
		return "", false
	}
	base := filepath.Join(root, "stacks", stacks.Project, stack+".json")
	for _, p := range []string{base, base + ".gz"} {
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return "", false
}

// fileBackendRoot is the .pulumi folder of a file backend (`~` expanded as
// the CLI expands it); ok is false for any other backend.
func fileBackendRoot(backendURL string) (string, bool) {
	u, err := url.Parse(backendURL)
	if err != nil || u.Scheme != "file" {
		return "", false
	}
	root, err := statestore.FileRoot(backendURL)
	if err != nil {
		return "", false
	}
	return filepath.Join(root, ".pulumi"), true
}

// fileDeployment reads the stack's latest deployment straight from a file
// backend's plain state file, without starting the CLI (`pulumi stack export`
// costs a CLI start); ok is false when it cannot (another backend, a
// compressed state file), and the caller asks the CLI.
func fileDeployment(backendURL, stack string) (json.RawMessage, bool) {
	p, ok := fileStatePath(backendURL, stack)
	if !ok || !strings.HasSuffix(p, ".json") {
		return nil, false
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	var cp struct {
		Checkpoint struct {
			Latest json.RawMessage `json:"latest"`
		} `json:"checkpoint"`
	}
	if json.Unmarshal(raw, &cp) != nil {
		return nil, false
	}
	return cp.Checkpoint.Latest, true
}
