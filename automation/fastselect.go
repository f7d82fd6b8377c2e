package automation

import (
	"context"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/postgis-platform/deployer/stacks"
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
	u, err := url.Parse(backendURL)
	if err != nil || u.Scheme != "file" {
		return false
	}
	base := filepath.Join(u.Path, ".pulumi", "stacks", stacks.Project, stack+".json")
	for _, p := range []string{base, base + ".gz"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}
